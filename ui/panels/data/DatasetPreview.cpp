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

namespace {

// The smallest of 1, 2, 5, 10, 20, 50, ... at least `x`: a bin width a reader can add up.
qint64 roundWidth(double x)
{
    qint64 scale = 1;
    while (true) {
        for (const qint64 m : {1, 2, 5}) {
            if (double(m * scale) >= x)
                return m * scale;
        }
        scale *= 10;
    }
}

} // namespace

DatasetPreview previewOfText(const ms::TextDataset &dataset, const ms::Tokenizer &tokenizer,
                             int samplesPerSplit)
{
    constexpr int kBins = 30;
    constexpr int kShownChars = 600;   // of a record, in the list (the tooltip has it all)
    DatasetPreview preview;
    preview.source = dataset.source;
    preview.name = dataset.name;
    preview.readerName = dataset.readerName;
    preview.classNames = dataset.classNames;
    preview.tokenizer = tokenizer.kind();
    std::vector<qint64> lengths;
    const auto condense = [&](const QString &name, const ms::TextSplit &split) {
        DatasetPreview::Split out;
        out.name = name;
        out.count = split.count();
        out.classCounts.assign(size_t(dataset.numClasses()), 0);
        // Records evenly spaced through the split: its classes come one after the other, and
        // the first records would all be of the first class.
        const qint64 shown = std::min<qint64>(samplesPerSplit, split.count());
        qint64 nextShown = 0;
        for (qint64 i = 0; i < split.count(); ++i) {
            const qint64 label = split.labels[size_t(i)];
            if (label >= 0 && label < dataset.numClasses())
                ++out.classCounts[size_t(label)];
            const qint64 tokens = qint64(tokenizer.encode(split.records[size_t(i)]).size());
            lengths.push_back(tokens);
            if (nextShown < shown && i == nextShown * split.count() / shown) {
                ++nextShown;
                out.labels.push_back(label);
                out.texts << QString::fromUtf8(split.records[size_t(i)].left(kShownChars * 4))
                                 .left(kShownChars);
                out.tokenCounts.push_back(tokens);
            }
        }
        preview.splits.append(std::move(out));
    };
    condense(QStringLiteral("train"), dataset.train);
    condense(QStringLiteral("validation"), dataset.validation);
    if (lengths.empty())
        return preview;
    std::sort(lengths.begin(), lengths.end());
    preview.longestTokens = lengths.back();
    preview.medianTokens = lengths[lengths.size() / 2];
    // Bins up to the 99th percentile; the last one also holds the few longer records, which
    // would otherwise squeeze the bars into a corner.
    const qint64 upper = lengths[(lengths.size() - 1) * 99 / 100];
    const qint64 width = roundWidth(double(upper + 1) / kBins);
    const qint64 bins = upper / width + 1;
    preview.lengthCounts.assign(size_t(bins), 0);
    for (qint64 b = 0; b <= bins; ++b)
        preview.lengthEdges.push_back(b * width);
    for (const qint64 n : lengths)
        ++preview.lengthCounts[size_t(std::min(n / width, bins - 1))];
    preview.lengthOverflow = preview.longestTokens >= preview.lengthEdges.back();
    return preview;
}

} // namespace ms::ui
