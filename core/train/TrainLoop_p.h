#pragma once

// Private: the pieces of a training loop that the trainer and the compression methods
// (fine-tuning after pruning, distillation) share. Core .cpp files only (torch headers).

#include "data/Dataset.h"
#include "train/TrainConfig.h"

#include <torch/optim/optimizer.h>
#include <torch/script.h>

#include <memory>
#include <vector>

namespace ms::trainloop {

// The optimizer a config names (sgd, adam, adamw) over `params`, at the config's lr.
std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const TrainConfig &c,
                                                       std::vector<at::Tensor> params);

// A split's features as an (N, *sampleShape) tensor and its labels as (N), without a copy:
// the dataset must outlive them.
at::Tensor splitFeatures(DatasetSplit &split, const std::vector<qint64> &sampleShape);
at::Tensor splitLabels(DatasetSplit &split);

struct Score
{
    double loss = 0.0;
    double accuracy = 0.0;
};

// Mean cross-entropy and accuracy in eval mode, in chunks of 1000; leaves the module in
// training mode. An empty split scores {0, 0}.
Score evaluate(torch::jit::Module &module, const at::Tensor &x, const at::Tensor &y);

} // namespace ms::trainloop
