#include "train/Preload.h"
#include "train/Preload_p.h"

#include "common/Limits.h"
#include "data/DatasetRegistry.h"
#include "data/TextDataset.h"

#include <QDateTime>
#include <QFileInfo>
#include <QMutex>

namespace ms {

namespace {

// What a preloaded copy must still match when the run starts: the file or folder it was
// read from (a built-in dataset's own path), with the same size and modification time.
QString sourceStamp(const QString &source)
{
    QString path = source.trimmed();
    if (const auto builtin = DatasetRegistry::instance().builtins().find(path))
        path = builtin->info().path;
    const QFileInfo info(path);
    return QStringLiteral("%1|%2|%3")
        .arg(info.absoluteFilePath())
        .arg(info.lastModified().toMSecsSinceEpoch())
        .arg(info.size());
}

bool sameRead(const DatasetOptions &a, const DatasetOptions &b)
{
    return a.source == b.source && a.limit == b.limit
           && a.validationFraction == b.validationFraction && a.seed == b.seed
           && a.labelColumn == b.labelColumn && a.textColumn == b.textColumn
           && a.maxLineBytes == b.maxLineBytes && a.maxCellBytes == b.maxCellBytes
           && a.maxFeatureBytes == b.maxFeatureBytes;
}

struct Cache
{
    QMutex mutex;
    bool full = false;
    DatasetOptions options;
    QString stamp;
    PreloadedData preloaded;
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

void preloadTrainingData(const QJsonObject &trainSpec, const QString &workspaceRoot)
{
    try {
        const TrainConfig config = TrainConfig::fromJson(trainSpec);
        DatasetOptions options = trainingDataOptions(config, workspaceRoot);
        if (config.task == QLatin1String("lm") || TextDatasetRegistry::instance().accepts(options))
            return;   // their readers tokenize with the run's tokenizer: left to the run
        QStringList warnings;
        options.warn = [&warnings](const QString &message) { warnings << message; };
        const QString stamp = sourceStamp(options.source);
        Dataset data = DatasetRegistry::instance().load(options);
        options.warn = nullptr;
        Cache &c = cache();
        QMutexLocker lock(&c.mutex);
        c.options = options;
        c.stamp = stamp;
        c.preloaded = PreloadedData{std::move(data), warnings};
        c.full = true;
    } catch (...) {
        // Whatever went wrong happens again in the run, which reports it as its own.
    }
}

std::optional<PreloadedData> takePreloadedData(const DatasetOptions &options)
{
    Cache &c = cache();
    QMutexLocker lock(&c.mutex);
    if (!c.full)
        return std::nullopt;
    c.full = false;
    PreloadedData taken = std::move(c.preloaded);
    c.preloaded = PreloadedData{};
    if (!sameRead(c.options, options) || c.stamp != sourceStamp(options.source))
        return std::nullopt;
    return taken;
}

} // namespace ms
