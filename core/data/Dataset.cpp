#include "data/Dataset.h"

#include "common/Cancelled.h"
#include "common/Error.h"
#include "common/Limits.h"
#include "common/ShapeText.h"

#include <QJsonArray>

#include <algorithm>
#include <limits>

namespace ms {

std::vector<qint64> DatasetSplit::classCounts(int numClasses) const
{
    std::vector<qint64> counts(size_t(std::max(0, numClasses)), 0);
    for (const qint64 label : labels) {
        if (label >= 0 && label < qint64(counts.size()))
            ++counts[size_t(label)];
    }
    return counts;
}

qint64 Dataset::sampleSize() const
{
    // An empty shape describes no sample at all, not a scalar: readers always give a rank.
    if (sampleShape.empty())
        return 0;
    qint64 size = 1;
    for (const qint64 dim : sampleShape)
        size *= dim;
    return size;
}

QJsonObject Dataset::describe() const
{
    QJsonArray shape;
    for (const qint64 dim : sampleShape)
        shape.append(dim);
    QJsonArray classes;
    for (const QString &className : classNames)
        classes.append(className);

    QJsonObject json;
    json.insert(QStringLiteral("name"), name);
    json.insert(QStringLiteral("source"), source);
    json.insert(QStringLiteral("reader"), readerName);
    json.insert(QStringLiteral("sample_shape"), shape);
    json.insert(QStringLiteral("classes"), classes);
    json.insert(QStringLiteral("num_classes"), numClasses());
    json.insert(QStringLiteral("train"), train.count());
    json.insert(QStringLiteral("validation"), validation.count());
    json.insert(QStringLiteral("test"), test.count());
    return json;
}

void throwIfCancelled(const DatasetOptions &options, const QString &doing)
{
    if (options.isCancelled && options.isCancelled())
        throw Cancelled(QStringLiteral("Stopped while %1.").arg(doing));
}

void warnAbout(const DatasetOptions &options, const QString &message)
{
    if (options.warn)
        options.warn(message);
}

qint64 checkFeatureBytes(const DatasetOptions &options, quint64 values, const QString &source)
{
    const qint64 limit = options.maxFeatureBytes > 0 ? options.maxFeatureBytes
                                                     : Limits::maxDatasetBytes();
    const quint64 bytes = values > quint64(std::numeric_limits<qint64>::max()) / sizeof(float)
                              ? quint64(std::numeric_limits<qint64>::max())
                              : values * sizeof(float);
    if (bytes > quint64(limit))
        throw Error(QStringLiteral("%1: %2 as floats in memory, more than the limit of %3. Use "
                                   "a smaller dataset, or raise the limit with "
                                   "MODELSTUDIO_MAX_DATASET_BYTES (or \"max_dataset_bytes\" in "
                                   "the workspace's settings.json) if this machine has the "
                                   "memory.")
                        .arg(source, Limits::formatBytes(qint64(bytes)),
                             Limits::formatBytes(limit)));
    return qint64(bytes);
}

QString sampleShapeText(const std::vector<qint64> &shape)
{
    return shapeText(shape, ShapeStyle::Compact);
}

void checkDataFitsModel(const std::vector<qint64> &modelShape, int modelClasses,
                        const QString &model, const std::vector<qint64> &dataShape,
                        int dataClasses, const QString &dataset)
{
    // A negative dimension (a signature's -1) takes any size.
    bool fits = modelShape.size() == dataShape.size();
    for (size_t i = 0; fits && i < modelShape.size(); ++i)
        fits = modelShape[i] < 0 || modelShape[i] == dataShape[i];
    if (!modelShape.empty() && !fits) {
        const bool images = modelShape.size() == 3 && dataShape.size() == 3;
        const QString hint =
            images && modelShape[0] != dataShape[0]
                ? QStringLiteral(" The channels differ (%1 against %2): give the images the "
                                 "model's colour mode (an image folder's imagefolder.json "
                                 "\"color\": \"%3\").")
                      .arg(modelShape[0])
                      .arg(dataShape[0])
                      .arg(modelShape[0] == 1 ? QStringLiteral("gray") : QStringLiteral("rgb"))
                : QStringLiteral(" Use the data it was made for, or data of its shape.");
        throw Error(QStringLiteral("%1 takes samples of shape %2, but %3 has samples of shape "
                                   "%4.%5")
                        .arg(model, sampleShapeText(modelShape), dataset,
                             sampleShapeText(dataShape), hint));
    }
    if (modelClasses > 0 && dataClasses > 0 && modelClasses != dataClasses)
        throw Error(QStringLiteral("%1 tells %2 classes apart, but %3 has %4 classes. Use the "
                                   "data it was made for.")
                        .arg(model, QString::number(modelClasses), dataset,
                             QString::number(dataClasses)));
}

} // namespace ms
