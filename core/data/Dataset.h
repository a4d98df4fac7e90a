#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <functional>
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
    QString labelColumn;               // CSV: header name or 0-based index; default the column
                                       // named label/target/class, else the last
    // Members below were added after the plugin interface's first version: appended, so a
    // reader built against it still finds the ones above where it expects them.

    // Asked by every reader between chunks and files (throwIfCancelled): a job's Stop, Ctrl-C
    // or SIGTERM ends a read of gigabytes within a chunk, not after it. Empty: never.
    std::function<bool()> isCancelled;
    // What is odd but not wrong (a label column that looks continuous), one line each.
    std::function<void(const QString &)> warn;
    // Limits on untrusted input, 0 = the default: a CSV line and a CSV cell in bytes
    // (64 MiB, 64 KiB), and the features in memory as floats (Limits::maxDatasetBytes).
    qint64 maxLineBytes = 0;
    qint64 maxCellBytes = 0;
    qint64 maxFeatureBytes = 0;
    // A CSV of text (TextCsvReader): the text column, by header name or 0-based index;
    // default the one column of text the label column leaves.
    QString textColumn;
};

// Throws ms::Cancelled ("Stopped while <doing>.") when options.isCancelled says so.
void throwIfCancelled(const DatasetOptions &options, const QString &doing);
// Hands `message` to options.warn, when there is one.
void warnAbout(const DatasetOptions &options, const QString &message);
// Throws ms::Error, before anything is allocated, when `values` floats of features (as
// `source` declares them, e.g. "train-images-idx3-ubyte declares 60000 images of 28x28")
// pass options.maxFeatureBytes. Returns the bytes they take.
qint64 checkFeatureBytes(const DatasetOptions &options, quint64 values, const QString &source);
// Throws ms::Error naming both shapes when samples of `dataShape` (per sample, e.g. {1,28,28})
// cannot feed a model that takes `modelShape` (per sample; empty = unknown, anything goes), or
// when the class counts differ (modelClasses <= 0: unknown). `model` and `dataset` name the
// two sides ("cnn:3", "the dataset photos"). Called wherever a dataset meets an existing
// model, before any work.
void checkDataFitsModel(const std::vector<qint64> &modelShape, int modelClasses,
                        const QString &model, const std::vector<qint64> &dataShape,
                        int dataClasses, const QString &dataset);
// `keep` of the indices 0..count-1, ascending, chosen at random by `seed` the same way on every
// platform (the sample limit's choice); all of them when keep >= count.
std::vector<qint64> seededSubset(qint64 count, qint64 keep, quint64 seed);
// "1x28x28": a sample's shape as dataset messages write it (ShapeStyle::Compact).
QString sampleShapeText(const std::vector<qint64> &shape);

} // namespace ms
