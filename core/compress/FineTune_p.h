#pragma once

// Private: the training loop the compression methods share (fine-tuning a pruned model,
// training a distilled student). Core .cpp files only (torch headers).

#include "compress/CompressionMethod.h"
#include "data/Dataset.h"
#include "train/TrainConfig.h"

#include <torch/script.h>

#include <QJsonObject>
#include <QString>

#include <functional>

namespace ms {

class JobContext;

struct FineTuneHooks
{
    // The loss of one batch; default cross-entropy of the logits against the labels.
    std::function<at::Tensor(const at::Tensor &x, const at::Tensor &logits,
                             const at::Tensor &labels)> loss;
    // Before each step (0-based, of totalSteps): a gradual pruning schedule moves its masks.
    std::function<void(qint64 step, qint64 totalSteps)> beforeStep;
    // After each optimizer step: pruning re-applies its masks so pruned weights stay zero.
    std::function<void()> afterStep;
};

// Trains `module` in place for config.epochs epochs on data.train (batch size, lr, optimizer
// and seed from `config`), reporting per-step "loss" and per-epoch "val_acc" through the
// context, with progress mapped into [progressFrom, progressTo]. Returns false when cancelled
// (the module is then half-trained and must be thrown away). Throws ms::Error when the loss
// becomes NaN or infinite.
bool fineTune(torch::jit::Module &module, Dataset &data, const TrainConfig &config,
              const FineTuneHooks &hooks, JobContext &context, const QString &label,
              double progressFrom, double progressTo);

// The parameters every fine-tuning method offers: its epochs (named `epochsName`), lr and
// batch-size; and the config they make (Adam, constant lr, the "seed" parameter or 0).
QList<CompressParameter> fineTuneParameters(const QString &epochsName, int defaultEpochs,
                                            const QString &epochsHelp);
TrainConfig fineTuneConfig(const QJsonObject &params, const QString &epochsName);

// The dataset the job loaded, for from_blob: the loop only reads it.
Dataset &mutableData(const Dataset &data);

// Test accuracy of `module` on data.test (NaN when the dataset has no test split).
double testAccuracy(torch::jit::Module &module, Dataset &data);

} // namespace ms
