#include "panels/data/DatasetPreview.h"

#include <algorithm>

namespace ms::ui {

bool DatasetPreview::isImage() const
{
    return sampleShape.size() == 3 && (sampleShape[0] == 1 || sampleShape[0] == 3);
}

DatasetPreview previewOf(const ms::Dataset &dataset, int samplesPerSplit)
{
    DatasetPreview preview;
    preview.source = dataset.source;
    preview.name = dataset.name;
    preview.readerName = dataset.readerName;
    preview.sampleShape = dataset.sampleShape;
    preview.classNames = dataset.classNames;
    const qint64 sampleSize = dataset.sampleSize();
    const auto condense = [&](const QString &name, const ms::DatasetSplit &split) {
        DatasetPreview::Split out;
        out.name = name;
        out.count = split.count();
        out.classCounts = split.classCounts(dataset.numClasses());
        const qint64 shown = std::min<qint64>(samplesPerSplit, split.count());
        out.labels.assign(split.labels.begin(), split.labels.begin() + shown);
        out.features.assign(split.features.begin(),
                            split.features.begin() + shown * sampleSize);
        preview.splits.append(std::move(out));
    };
    condense(QStringLiteral("train"), dataset.train);
    condense(QStringLiteral("validation"), dataset.validation);
    condense(QStringLiteral("test"), dataset.test);
    return preview;
}

} // namespace ms::ui
