#pragma once

// Private to core/train: the per-epoch checkpoint of a training run.

#include "train/TrainConfig.h"

#include <QJsonObject>
#include <QString>

namespace torch::optim {
class Optimizer;
}

namespace ms {

class Model;

// Layout of a run folder:
//   config.json                      the TrainConfig (the recipe), written when the run starts
//   checkpoint/state.json            which epoch is complete, and its files; written last
//   checkpoint/epoch-NNN.model.pt    the model after epoch NNN
//   checkpoint/epoch-NNN.optim.pt    the optimizer state after epoch NNN
//   model.pt                         the final model
// Each file is written to a temporary name and renamed, and state.json is committed only after
// the epoch's files are complete, so a process killed at any moment leaves the previous
// checkpoint usable.
namespace Checkpoint {

struct State
{
    int epochsDone = 0;
    qint64 step = 0;
    QJsonObject metrics;   // the last epoch's metrics
    QString modelPath;
    QString optimizerPath;
};

void writeConfig(const QString &runDir, const TrainConfig &config);
// Throws ms::Error when runDir has no readable config.json.
TrainConfig readConfig(const QString &runDir);

void write(const QString &runDir, int epochsDone, qint64 step, const QJsonObject &metrics,
           const Model &model, torch::optim::Optimizer &optimizer);
// False when no epoch has completed yet. Throws ms::Error when the checkpoint is damaged.
bool readState(const QString &runDir, State *state);
void loadOptimizer(const QString &path, torch::optim::Optimizer &optimizer);

} // namespace Checkpoint
} // namespace ms
