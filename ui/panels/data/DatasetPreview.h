#pragma once

#include "data/Dataset.h"
#include "data/TextDataset.h"
#include "data/Tokenizer.h"

#include <QList>
#include <QString>
#include <QStringList>
#include <QVector>

#include <vector>

namespace ms::ui {

// What the Data panel shows of a dataset, condensed on the worker that read it: sizes, shape,
// class names, the class histogram of every split and the first samples of each, plus the first
// rows of the file for a CSV. Holding this rather than the ms::Dataset keeps the window from
// holding 200 MB of Fashion-MNIST features to draw 120 thumbnails.
struct DatasetPreview
{
    struct Split
    {
        QString name;                      // "train", "validation", "test"
        qint64 count = 0;                  // samples in the split
        std::vector<qint64> classCounts;   // one per class, sums to count
        std::vector<float> features;       // the first samples, row-major
        std::vector<qint64> labels;        // their labels
        QStringList texts;                 // a text dataset: records evenly spaced through it
        std::vector<qint64> tokenCounts;   // and their lengths in tokens
    };

    QString source;
    QString name;
    QString readerName;
    std::vector<qint64> sampleShape;
    QStringList classNames;
    QVector<Split> splits;                 // train, validation, test (test may be empty)
    QList<QStringList> csvRows;            // CSV only: the file's first rows, header included
    // A text dataset: the tokenizer its lengths are counted in ("byte"; empty for tensors),
    // and the token-length histogram of all its records: bin i counts the records with
    // lengthEdges[i] <= tokens < lengthEdges[i + 1], up to the 99th percentile; with
    // lengthOverflow, the last bin also counts the longer records.
    QString tokenizer;
    std::vector<qint64> lengthEdges;
    std::vector<qint64> lengthCounts;
    qint64 medianTokens = 0;
    qint64 longestTokens = 0;
    bool lengthOverflow = false;

    bool isText() const { return !tokenizer.isEmpty(); }

    // Images are C x H x W with one or three channels; anything else shows as a table.
    bool isImage() const;
};

// Condenses a loaded dataset: every split's histogram, the first `samplesPerSplit` samples.
DatasetPreview previewOf(const ms::Dataset &dataset, int samplesPerSplit);
// The same for a text dataset, its records' lengths counted by `tokenizer`: about 30 bins of
// a round width from 0 past the 99th percentile of the lengths; `samplesPerSplit` records
// evenly spaced through each split.
DatasetPreview previewOfText(const ms::TextDataset &dataset, const ms::Tokenizer &tokenizer,
                             int samplesPerSplit);

} // namespace ms::ui
