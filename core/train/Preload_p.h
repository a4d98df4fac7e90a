#pragma once

#include "data/Dataset.h"
#include "train/TrainConfig.h"

#include <QStringList>

#include <optional>

namespace ms {

// The options a training run reads its data with (no callbacks): TrainSession and the
// preload build them the same way, so a preloaded copy is found by comparing them.
DatasetOptions trainingDataOptions(const TrainConfig &config, const QString &workspaceRoot);

// The preloaded data (preloadTrainingData) when it was read with the same options from a
// file or folder that has not changed since, with the warnings its reader gave; otherwise
// nothing. The run gets a copy (Fashion-MNIST with --limit 12000: 70 MB, a few ms): a sweep's
// worker process runs one trial after another from the same read.
struct PreloadedData
{
    Dataset data;
    QStringList warnings;
};
std::optional<PreloadedData> preloadedData(const DatasetOptions &options);

} // namespace ms
