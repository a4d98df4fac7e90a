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
// nothing. It is lent, not copied: the run gives it back unchanged when it ends
// (returnPreloadedData), and a sweep's worker process runs its next trial from the same read.
// (A copy of Fashion-MNIST with --limit 12000, 70 MB, was 20-40 ms of every trial.) While it
// is lent, another run of the process reads its data itself.
struct PreloadedData
{
    Dataset data;
    QStringList warnings;
};
std::optional<PreloadedData> borrowPreloadedData(const DatasetOptions &options);
void returnPreloadedData(Dataset data);

} // namespace ms
