#include "train/TrainLoop_p.h"

#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <algorithm>

namespace ms::trainloop {

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const TrainConfig &c,
                                                       std::vector<at::Tensor> params)
{
    if (c.optimizer == QLatin1String("sgd"))
        return std::make_unique<torch::optim::SGD>(
            params, torch::optim::SGDOptions(c.lr).momentum(c.momentum)
                        .weight_decay(c.weightDecay));
    if (c.optimizer == QLatin1String("adamw"))
        return std::make_unique<torch::optim::AdamW>(
            params, torch::optim::AdamWOptions(c.lr).weight_decay(c.weightDecay));
    return std::make_unique<torch::optim::Adam>(
        params, torch::optim::AdamOptions(c.lr).weight_decay(c.weightDecay));
}

at::Tensor splitFeatures(DatasetSplit &split, const std::vector<qint64> &sampleShape)
{
    std::vector<int64_t> shape{split.count()};
    shape.insert(shape.end(), sampleShape.begin(), sampleShape.end());
    if (split.count() == 0)
        return torch::empty(shape, torch::kFloat32);
    // No copy: the dataset outlives every tensor made from it within run().
    return torch::from_blob(split.features.data(), shape, torch::kFloat32);
}

at::Tensor splitLabels(DatasetSplit &split)
{
    if (split.count() == 0)
        return torch::empty({0}, torch::kInt64);
    return torch::from_blob(split.labels.data(), {split.count()}, torch::kInt64);
}

Score evaluate(torch::jit::Module &module, const at::Tensor &x, const at::Tensor &y)
{
    const int64_t n = x.size(0);
    if (n == 0)
        return {};
    torch::NoGradGuard noGrad;
    module.eval();
    double lossSum = 0.0;
    int64_t correct = 0;
    const int64_t chunk = 1000;
    for (int64_t i = 0; i < n; i += chunk) {
        const int64_t end = std::min(n, i + chunk);
        const at::Tensor logits = module.forward({x.slice(0, i, end)}).toTensor();
        const at::Tensor target = y.slice(0, i, end);
        lossSum += torch::nn::functional::cross_entropy(
                       logits, target,
                       torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                       .item<double>();
        correct += logits.argmax(1).eq(target).sum().item<int64_t>();
    }
    module.train();
    return {lossSum / double(n), double(correct) / double(n)};
}

} // namespace ms::trainloop
