#pragma once

// Private: the training loop the compression methods share (fine-tuning a pruned model,
// training a distilled student). Core .cpp files only (torch headers).

#include "compress/CompressionMethod.h"
#include "data/Dataset.h"
#include "train/TrainConfig.h"
#include "train/TrainLoop_p.h"

#include <torch/script.h>

#include <QJsonObject>
#include <QString>

#include <functional>

namespace ms {

class JobContext;

// What a method adds to the plain step: the one loop's hooks (train/TrainLoop_p.h).
using FineTuneHooks = trainloop::StepHooks;

// Trains `module` in place for config.epochs epochs on data.train (batch size, lr, optimizer
// and seed from `config`), reporting per-step "loss" and per-epoch "val_acc" through the
// context, with progress mapped into [progressFrom, progressTo], on the studio's one step loop
// (trainloop::EpochLoop). Returns false when cancelled (the module is then half-trained and
// must be thrown away). Throws trainloop::DivergedError when the loss becomes NaN or infinite.
bool fineTune(torch::jit::Module &module, Dataset &data, const TrainConfig &config,
              const FineTuneHooks &hooks, JobContext &context, const QString &label,
              double progressFrom, double progressTo);

// The parameters every fine-tuning method offers: its epochs (named `epochsName`), lr and
// batch-size; and the config they make (Adam, constant lr, the "seed" parameter or 0).
QList<CompressParameter> fineTuneParameters(const QString &epochsName, int defaultEpochs,
                                            const QString &epochsHelp);
// What distill adds to them: train's optimizer, schedule and clipping flags (optimizer,
// weight-decay, beta2, schedule, warmup-steps, min-lr, clip-grad-norm) and a language model's
// steps-per-epoch. Their defaults are fineTune's plain loop: Adam at a constant rate, no clip.
QList<CompressParameter> scheduleParameters();
TrainConfig fineTuneConfig(const QJsonObject &params, const QString &epochsName);

// The dataset the job loaded, for from_blob: the loop only reads it.
Dataset &mutableData(const Dataset &data);

// Test accuracy of `module` on data.test (NaN when the dataset has no test split).
double testAccuracy(torch::jit::Module &module, Dataset &data);

} // namespace ms
