#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <vector>

namespace ms {

// One split of a dataset: `count` samples, features row-major (count x sampleSize).
// Plain vectors rather than tensors so readers (and reader plugins) need no torch; the trainer
// wraps them with torch::from_blob, without a copy.
struct DatasetSplit
{
    std::vector<float> features;
    std::vector<qint64> labels;

    qint64 count() const { return qint64(labels.size()); }
    // Samples per class, index = label (labels outside [0, numClasses) are not counted).
    std::vector<qint64> classCounts(int numClasses) const;
};

// A labelled dataset held in memory, read once. Features stay raw (images as floats in [0, 1]);
// the normalisation statistics computed on the training split travel into the model, which
// normalises its own input, so every client of a model feeds it raw features.
struct Dataset
{
    QString name;                    // "fashion-mnist", or the file/folder name
    QString source;                  // the path it was read from
    QString readerName;              // "idx", "csv", ...
    std::vector<qint64> sampleShape; // {1, 28, 28} for images, {F} for tables
    QStringList classNames;          // one per class, index = label
    DatasetSplit train;
    DatasetSplit validation;
    DatasetSplit test;               // empty when the format has no test split
    // Per channel for images (size C), per feature for tables (size F); from `train`.
    std::vector<float> mean;
    std::vector<float> stdev;

    qint64 sampleSize() const;
    int numClasses() const { return int(classNames.size()); }
    // Sizes, shape and class names, for listings and the registry (no sample data). Keys:
    // name, source, reader, sample_shape, classes, num_classes, train, validation, test
    // (the last three are sample counts).
    QJsonObject describe() const;
};

struct DatasetOptions
{
    QString source = QStringLiteral("fashion-mnist"); // a built-in name or a path
    qint64 limit = 0;                  // at most this many training samples (0 = all);
                                       // the test split is capped to the same number
    double validationFraction = 0.1;   // carved from the training samples, seeded
    quint64 seed = 0;
    QString labelColumn;               // CSV: header name or 0-based index; default last column
};

} // namespace ms
