#include "train/Preload.h"
#include "train/Preload_p.h"

#include "common/Limits.h"
#include "data/DatasetRegistry.h"
#include "data/TextDataset.h"

#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QMutex>

#include <algorithm>
#include <optional>

namespace ms {

namespace {

// What a preloaded copy must still match when the run starts: that file or folder with the
// same size and modification time (a folder's own: an image replaced inside a class folder
// goes unseen between a trial process's read and its trials, which may be minutes).
QString sourceStamp(const QString &source)
{
    const QFileInfo info(DatasetRegistry::instance().sourcePath(source));
    return QStringLiteral("%1|%2|%3")
        .arg(info.absoluteFilePath())
        .arg(info.lastModified().toMSecsSinceEpoch())
        .arg(info.size());
}

// The bytes on disk a dataset is read from (a folder's files summed, stopping once past
// `cap`): checked before reading, so that a trial process never reads a large dataset beside
// the trials that already hold it.
qint64 bytesOnDisk(const QString &path, qint64 cap)
{
    const QFileInfo info(path);
    if (!info.isDir())
        return info.size();
    qint64 total = 0;
    QDirIterator it(path, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext() && total <= cap) {
        it.next();
        total += it.fileInfo().size();
    }
    return total;
}

bool sameRead(const DatasetOptions &a, const DatasetOptions &b)
{
    return a.source == b.source && a.limit == b.limit
           && a.validationFraction == b.validationFraction && a.seed == b.seed
           && a.labelColumn == b.labelColumn && a.textColumn == b.textColumn
           && a.maxLineBytes == b.maxLineBytes && a.maxCellBytes == b.maxCellBytes
           && a.maxFeatureBytes == b.maxFeatureBytes;
}

struct Entry
{
    DatasetOptions options;
    QString stamp;
    QStringList warnings;
    std::optional<Dataset> data;   // empty while a run has it
};

struct Cache
{
    QMutex mutex;
    std::optional<Entry> entry;
};

Cache &cache()
{
    static Cache c;
    return c;
}

} // namespace

DatasetOptions trainingDataOptions(const TrainConfig &config, const QString &workspaceRoot)
{
    DatasetOptions options;
    options.source = config.dataset;
    options.limit = config.limit;
    options.validationFraction = config.validationFraction;
    options.seed = config.seed;
    options.labelColumn = config.labelColumn;
    options.textColumn = config.textColumn;
    if (!workspaceRoot.isEmpty())
        options.maxFeatureBytes = Limits::maxDatasetBytes(workspaceRoot);
    return options;
}

// The keys of the TrainConfig fields trainingDataOptions() copies: change one, change both.
bool changesDataRead(const QString &trainSpecKey)
{
    static const QStringList keys{
        QStringLiteral("dataset"), QStringLiteral("limit"), QStringLiteral("validation_fraction"),
        QStringLiteral("seed"), QStringLiteral("label_column"), QStringLiteral("text_column")};
    return keys.contains(trainSpecKey);
}

void preloadTrainingData(const QJsonObject &trainSpec, const QString &workspaceRoot)
{
    try {
        const TrainConfig config = TrainConfig::fromJson(trainSpec);
        DatasetOptions options = trainingDataOptions(config, workspaceRoot);
        if (config.task == QLatin1String("lm") || TextDatasetRegistry::instance().accepts(options))
            return;   // their readers tokenize with the run's tokenizer: left to the run
        // A sweep keeps a trial process per parallel slot, each with its own copy:
        // a copy ahead is worth it for data that is small next to the memory (Fashion-MNIST:
        // 30 MB on disk, 220 MB as floats), not for a dataset that is a good part of it.
        const qint64 memory = Limits::physicalMemoryBytes();
        if (bytesOnDisk(DatasetRegistry::instance().sourcePath(options.source), memory / 64)
            > memory / 64)
            return;
        QStringList warnings;
        DatasetOptions capped = options;   // `options` stays the key the run compares
        capped.warn = [&warnings](const QString &message) { warnings << message; };
        // The readers refuse features over this before they allocate them (caught below).
        capped.maxFeatureBytes = options.maxFeatureBytes > 0
                                     ? std::min(options.maxFeatureBytes, memory / 16)
                                     : memory / 16;
        const QString stamp = sourceStamp(options.source);
        Dataset data = DatasetRegistry::instance().load(capped);
        Cache &c = cache();
        QMutexLocker lock(&c.mutex);
        c.entry = Entry{options, stamp, warnings, std::move(data)};
    } catch (...) {
        // Whatever went wrong happens again in the run, which reports it as its own.
    }
}

std::optional<PreloadedData> borrowPreloadedData(const DatasetOptions &options)
{
    Cache &c = cache();
    QMutexLocker lock(&c.mutex);
    if (!c.entry || !c.entry->data)
        return std::nullopt;
    if (!sameRead(c.entry->options, options) || c.entry->stamp != sourceStamp(options.source)) {
        c.entry.reset();   // read with other options, or its source has changed: of no use
        return std::nullopt;
    }
    PreloadedData lent{std::move(*c.entry->data), c.entry->warnings};
    c.entry->data.reset();
    return lent;
}

void returnPreloadedData(Dataset data)
{
    Cache &c = cache();
    QMutexLocker lock(&c.mutex);
    if (c.entry && !c.entry->data)
        c.entry->data = std::move(data);
}

} // namespace ms
