#include "data/DatasetRegistry.h"

#include "common/Error.h"
#include "data/CsvReader.h"
#include "data/IdxReader.h"
#include "data/TextDataset.h"

#include <QDir>
#include <QFileInfo>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace ms {

namespace {

// Constant features (a border pixel that is always 0, a column that never changes) would
// divide by zero when normalised; dividing by 1 leaves them centred and harmless.
constexpr double kMinStdev = 1e-6;

// Uniform in [0, bound) by rejection: unlike std::uniform_int_distribution and std::shuffle,
// whose algorithms each standard library chooses, this gives the same split on every
// platform for a seed, so a run recorded in the registry replays byte for byte.
quint64 uniformBelow(std::mt19937_64 &rng, quint64 bound)
{
    const quint64 threshold = (quint64(0) - bound) % bound;
    quint64 value = rng();
    while (value < threshold)
        value = rng();
    return value % bound;
}

std::vector<qint64> permutation(qint64 count, std::mt19937_64 &rng)
{
    std::vector<qint64> order(size_t(count), 0);
    std::iota(order.begin(), order.end(), qint64(0));
    for (qint64 i = count - 1; i > 0; --i)
        std::swap(order[size_t(i)], order[size_t(uniformBelow(rng, quint64(i) + 1))]);
    return order;
}

DatasetSplit gather(const DatasetSplit &split, const std::vector<qint64> &indices,
                    qint64 sampleSize)
{
    DatasetSplit result;
    result.labels.reserve(indices.size());
    result.features.resize(indices.size() * size_t(sampleSize));
    float *target = result.features.data();
    for (const qint64 index : indices) {
        result.labels.push_back(split.labels[size_t(index)]);
        const float *source = split.features.data() + index * sampleSize;
        target = std::copy(source, source + sampleSize, target);
    }
    return result;
}

// Keeps the samples at `indices` (ascending), moving them forward within the split's own
// buffers: no second copy of a dataset that may fill most of the memory. The capacity stays;
// giving it back would mean exactly that copy.
void keepInPlace(DatasetSplit &split, const std::vector<qint64> &indices, qint64 sampleSize)
{
    float *features = split.features.data();
    for (size_t k = 0; k < indices.size(); ++k) {
        const qint64 index = indices[k];
        if (index == qint64(k))
            continue;
        // index > k: the source lies after the target, never overwritten before it is read.
        std::copy(features + index * sampleSize, features + (index + 1) * sampleSize,
                  features + qint64(k) * sampleSize);
        split.labels[k] = split.labels[size_t(index)];
    }
    split.labels.resize(indices.size());
    split.features.resize(indices.size() * size_t(sampleSize));
}

void truncate(DatasetSplit &split, qint64 count, qint64 sampleSize)
{
    split.labels.resize(size_t(count));
    split.features.resize(size_t(count * sampleSize));
    split.features.shrink_to_fit();
}

// A reader (perhaps a plugin) that breaks its contract should fail here, with the dataset's
// name, rather than later inside the trainer as an out-of-range index.
void validate(const Dataset &dataset)
{
    const QString where = QStringLiteral("Dataset \"%1\" (%2, read by \"%3\")")
                              .arg(dataset.name, dataset.source, dataset.readerName);
    if (dataset.numClasses() < 2)
        throw Error(QStringLiteral("%1 has %2 class(es): a classifier needs at least two. "
                                   "Check the label column.")
                        .arg(where, QString::number(dataset.numClasses())));
    const qint64 sampleSize = dataset.sampleSize();
    if (sampleSize <= 0)
        throw Error(QStringLiteral("%1 has samples of size 0.").arg(where));
    if (dataset.train.count() == 0)
        throw Error(QStringLiteral("%1 has no training samples.").arg(where));
    const std::pair<const DatasetSplit *, const char *> splits[] = {
        {&dataset.train, "training"}, {&dataset.validation, "validation"},
        {&dataset.test, "test"}};
    for (const auto &[split, splitName] : splits) {
        if (qint64(split->features.size()) != split->count() * sampleSize)
            throw Error(QStringLiteral("%1: the %2 split holds %3 values for %4 samples of "
                                       "size %5.")
                            .arg(where, QLatin1String(splitName),
                                 QString::number(qint64(split->features.size())),
                                 QString::number(split->count()), QString::number(sampleSize)));
        for (const qint64 label : split->labels) {
            if (label < 0 || label >= dataset.numClasses())
                throw Error(QStringLiteral("%1: the %2 split has the label %3, outside the %4 "
                                           "classes.")
                                .arg(where, QLatin1String(splitName), QString::number(label),
                                     QString::number(dataset.numClasses())));
        }
    }
}

// A random subset keeps the class mix of the whole set (up to sampling noise), where the
// first `limit` samples would follow whatever order the file happens to have.
void applyLimit(Dataset &dataset, qint64 limit, std::mt19937_64 &rng)
{
    const qint64 sampleSize = dataset.sampleSize();
    if (limit < dataset.train.count()) {
        std::vector<qint64> chosen = permutation(dataset.train.count(), rng);
        chosen.resize(size_t(limit));
        std::sort(chosen.begin(), chosen.end()); // keep file order: easier to reason about
        // A small subset is copied out so the whole set's memory goes back; a large one is
        // compacted in place, which never needs the set twice.
        if (limit * 2 < dataset.train.count())
            dataset.train = gather(dataset.train, chosen, sampleSize);
        else
            keepInPlace(dataset.train, chosen, sampleSize);
    }
    // The test split stays the published one (its first samples), so that two runs with the
    // same limit are compared on the same images.
    if (limit < dataset.test.count())
        truncate(dataset.test, limit, sampleSize);
}

void splitValidation(Dataset &dataset, double fraction, std::mt19937_64 &rng)
{
    const qint64 count = dataset.train.count();
    const qint64 validationCount = std::llround(fraction * double(count));
    if (validationCount == 0)
        return;
    if (validationCount >= count)
        throw Error(QStringLiteral("A validation fraction of %1 leaves none of the %2 training "
                                   "samples of \"%3\" for training: choose a smaller fraction.")
                        .arg(QString::number(fraction), QString::number(count),
                             dataset.name));
    const std::vector<qint64> order = permutation(count, rng);
    std::vector<qint64> trainIndices(order.begin(), order.end() - validationCount);
    std::vector<qint64> validationIndices(order.end() - validationCount, order.end());
    std::sort(trainIndices.begin(), trainIndices.end());
    std::sort(validationIndices.begin(), validationIndices.end());
    const qint64 sampleSize = dataset.sampleSize();
    dataset.validation = gather(dataset.train, validationIndices, sampleSize);
    keepInPlace(dataset.train, trainIndices, sampleSize);
}

// Per channel for images {C, H, W}, per feature for tables {F}; any other shape gets one
// mean and stdev over all its values. Two passes in double: a table's large values would
// lose the variance to cancellation in a sum of squares.
void computeStatistics(Dataset &dataset)
{
    const qint64 sampleSize = dataset.sampleSize();
    const std::vector<qint64> &shape = dataset.sampleShape;
    qint64 groups = 1;          // channels or features
    qint64 run = sampleSize;    // consecutive values that share a group within a sample
    if (shape.size() == 3) {
        groups = shape[0];
        run = shape[1] * shape[2];
    } else if (shape.size() == 1) {
        groups = shape[0];
        run = 1;
    }
    const qint64 count = dataset.train.count();
    const float *values = dataset.train.features.data();
    const double perGroup = double(count) * double(run);

    std::vector<double> sums(size_t(groups), 0.0);
    for (qint64 sample = 0; sample < count; ++sample) {
        const float *x = values + sample * sampleSize;
        for (qint64 group = 0; group < groups; ++group) {
            double partial = 0.0; // per sample first: smaller sums, smaller rounding error
            for (qint64 i = 0; i < run; ++i)
                partial += x[group * run + i];
            sums[size_t(group)] += partial;
        }
    }
    std::vector<double> means(size_t(groups), 0.0);
    for (qint64 group = 0; group < groups; ++group)
        means[size_t(group)] = sums[size_t(group)] / perGroup;

    std::vector<double> squares(size_t(groups), 0.0);
    for (qint64 sample = 0; sample < count; ++sample) {
        const float *x = values + sample * sampleSize;
        for (qint64 group = 0; group < groups; ++group) {
            const double mean = means[size_t(group)];
            double partial = 0.0;
            for (qint64 i = 0; i < run; ++i) {
                const double deviation = double(x[group * run + i]) - mean;
                partial += deviation * deviation;
            }
            squares[size_t(group)] += partial;
        }
    }

    dataset.mean.assign(size_t(groups), 0.0f);
    dataset.stdev.assign(size_t(groups), 1.0f);
    for (qint64 group = 0; group < groups; ++group) {
        const double stdev = std::sqrt(squares[size_t(group)] / perGroup);
        dataset.mean[size_t(group)] = float(means[size_t(group)]);
        dataset.stdev[size_t(group)] = stdev < kMinStdev ? 1.0f : float(stdev);
    }
}

// A text dataset given where tensors are expected: say what it is and what takes it.
void refuseText(const DatasetOptions &options, const QString &source)
{
    DatasetOptions named = options;
    named.source = source;
    if (TextDatasetRegistry::instance().accepts(named))
        throw Error(QStringLiteral("\"%1\" is a text dataset: train a text classifier "
                                   "(modelstudio-cli train --dataset %1 --arch text-classifier) "
                                   "or a language model (--task lm --arch gpt) on it.")
                        .arg(source));
}

} // namespace

std::vector<qint64> seededSubset(qint64 count, qint64 keep, quint64 seed)
{
    std::mt19937_64 rng(seed);
    std::vector<qint64> chosen = permutation(count, rng);
    chosen.resize(size_t(std::clamp<qint64>(keep, 0, count)));
    std::sort(chosen.begin(), chosen.end());
    return chosen;
}

DatasetRegistry::DatasetRegistry()
{
    // Registered exactly as a plugin registers its own.
    m_readers.add(std::make_shared<IdxReader>());
    m_readers.add(std::make_shared<CsvReader>());

    BuiltinDataset fashion;
    fashion.name = QStringLiteral("fashion-mnist");
    fashion.description = QStringLiteral("Fashion-MNIST: 70,000 28x28 grey images of clothing "
                                         "in 10 classes (Zalando)");
    fashion.path = QStringLiteral("/usr/share/datasets/fashion-mnist");
    fashion.reader = QStringLiteral("idx");
    fashion.debianPackage = QStringLiteral("dataset-fashion-mnist");
    fashion.sampleShape = {1, 28, 28};
    fashion.numClasses = 10;
    m_builtins.add(std::make_shared<BuiltinDatasetProvider>(fashion));
    // Debian 12 packages no plain MNIST; a "mnist" entry would only ever say "not installed".
}

DatasetRegistry &DatasetRegistry::instance()
{
    static DatasetRegistry registry;
    return registry;
}

QString DatasetRegistry::sourcePath(const QString &source) const
{
    const QString trimmed = source.trimmed();
    if (const auto builtin = m_builtins.find(trimmed))
        return builtin->info().path;
    if (trimmed == QStringLiteral("~") || trimmed.startsWith(QStringLiteral("~/")))
        return QDir::homePath() + trimmed.mid(1);
    return trimmed;
}

Dataset DatasetRegistry::load(const DatasetOptions &options) const
{
    if (options.limit < 0)
        throw Error(QStringLiteral("The sample limit must be 0 (all) or more, not %1.")
                        .arg(options.limit));
    if (!(options.validationFraction >= 0.0 && options.validationFraction < 1.0))
        throw Error(QStringLiteral("The validation fraction must be at least 0 and below 1, "
                                   "not %1.")
                        .arg(options.validationFraction));

    const QString source = options.source.trimmed();
    std::shared_ptr<DatasetReader> reader;
    QString path;
    Dataset dataset;
    if (const auto builtin = m_builtins.find(source)) {
        const BuiltinDataset &info = builtin->info();
        path = info.path;
        if (!QFileInfo::exists(path)) {
            const QString remedy = info.debianPackage.isEmpty()
                ? QStringLiteral("Put the dataset there.")
                : QStringLiteral("Install it with: sudo apt-get install %1")
                      .arg(info.debianPackage);
            throw Error(QStringLiteral("Dataset \"%1\" is not installed: %2 is missing. %3")
                            .arg(info.name, QDir::toNativeSeparators(path), remedy));
        }
        reader = m_readers.find(info.reader);
        if (!reader)
            throw Error(QStringLiteral("Dataset \"%1\" needs the reader \"%2\", which is not "
                                       "registered (is its plugin missing?).")
                            .arg(info.name, info.reader));
        dataset = reader->read(path, options);
        dataset.name = info.name;
    } else {
        path = sourcePath(source);
        QStringList accepted;
        for (const auto &candidate : m_readers.all())
            accepted.append(candidate->name() + QStringLiteral(": ") + candidate->description());
        if (path.isEmpty() || !QFileInfo::exists(path))
            refuseText(options, source);
        if (path.isEmpty() || !QFileInfo::exists(path))
            throw Error(QStringLiteral("No dataset \"%1\": it is neither a built-in dataset nor "
                                       "an existing file or folder. --dataset takes a built-in "
                                       "name (%2) or a path to an IDX folder or a CSV file "
                                       "(readers: %3).")
                            .arg(source, m_builtins.names().join(QStringLiteral(", ")),
                                 m_readers.names().join(QStringLiteral(", "))));
        // Before the numeric readers: a CSV of text is a CSV too, and would fail on its
        // first cell of text rather than say what it is.
        refuseText(options, path);
        for (const auto &candidate : m_readers.all()) {
            if (candidate->canRead(path)) {
                reader = candidate;
                break;
            }
        }
        if (!reader)
            throw Error(QStringLiteral("No dataset reader accepts %1. Accepted: %2.")
                            .arg(QDir::toNativeSeparators(path),
                                 accepted.join(QStringLiteral("; "))));
        dataset = reader->read(path, options);
    }
    if (dataset.source.isEmpty())
        dataset.source = QFileInfo(path).absoluteFilePath();
    dataset.readerName = reader->name();
    validate(dataset);

    // One generator for both steps, in a fixed order: the seed alone decides the split.
    std::mt19937_64 rng(options.seed);
    if (options.limit > 0)
        applyLimit(dataset, options.limit, rng);
    splitValidation(dataset, options.validationFraction, rng);
    computeStatistics(dataset);
    return dataset;
}

} // namespace ms
