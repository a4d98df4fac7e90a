#include "data/Dataset.h"

#include <QJsonArray>

#include <algorithm>

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

} // namespace ms
