#pragma once

#include "data/Dataset.h"

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
    };

    QString source;
    QString name;
    QString readerName;
    std::vector<qint64> sampleShape;
    QStringList classNames;
    QVector<Split> splits;                 // train, validation, test (test may be empty)
    QList<QStringList> csvRows;            // CSV only: the file's first rows, header included

    // Images are C x H x W with one or three channels; anything else shows as a table.
    bool isImage() const;
};

// Condenses a loaded dataset: every split's histogram, the first `samplesPerSplit` samples.
DatasetPreview previewOf(const ms::Dataset &dataset, int samplesPerSplit);

} // namespace ms::ui
