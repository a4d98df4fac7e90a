#include "train/TrainLoop_p.h"

#include "common/Error.h"
#include "jobs/JobContext.h"

#include <torch/nn/functional/loss.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <QElapsedTimer>

#include <algorithm>
#include <cmath>

namespace ms::trainloop {

quint64 epochSeed(quint64 seed, int epoch)
{
    return seed * 1000003ULL + quint64(epoch) + 1;
}

int64_t stepsPerEpoch(int64_t n, int64_t batchSize)
{
    const int64_t steps = (n + batchSize - 1) / batchSize;
    return steps > 1 && n % batchSize == 1 ? steps - 1 : steps;
}

int64_t EpochLoop::stepsPerEpoch() const
{
    return trainloop::stepsPerEpoch(x.size(0), batchSize);
}

namespace {

// A failure inside the model's forward or backward (a TorchScript module that raises, an op's
// own check) as one line a person can act on: the exception's own last line, not the two
// tracebacks of the interpreter.
[[noreturn]] void stepFailed(const QString &what, int epoch, qint64 step, const QString &text)
{
    const QStringList lines = text.trimmed().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QString reason = lines.isEmpty() ? text : lines.last().trimmed();
    for (const QString &line : lines) {
        if (line.contains(QLatin1String("Error: ")) || line.contains(QLatin1String("Exception: ")))
            reason = line.trimmed();
    }
    throw Error(QStringLiteral("%1 failed at epoch %2, step %3: the model refused the batch: %4")
                    .arg(what, QString::number(epoch + 1), QString::number(step + 1), reason));
}

} // namespace

EpochOutcome EpochLoop::run(int epoch, qint64 &step, JobContext &context)
{
    EpochOutcome out;
    const int64_t n = x.size(0);
    const int64_t steps = stepsPerEpoch();
    const qint64 total = totalSteps();
    torch::manual_seed(epochSeed(seed, epoch));
    const at::Tensor order = torch::randperm(n, torch::kInt64);
    QElapsedTimer clock;
    clock.start();
    double paused_s = 0.0;
    for (int64_t b = 0; b < steps; ++b) {
        if (context.isPaused()) {
            QElapsedTimer pauseClock;
            pauseClock.start();
            context.checkPoint();
            paused_s += double(pauseClock.nsecsElapsed()) / 1e9;
        }
        if (context.isCancelled()) {
            out.end = EpochOutcome::End::Cancelled;
            break;
        }
        double lr = 0.0;
        if (lrAt) {
            lr = lrAt(epoch, step);
            for (auto &group : optimizer.param_groups())
                group.options().set_lr(lr);
        } else if (!optimizer.param_groups().empty()) {
            lr = optimizer.param_groups().front().options().get_lr();
        }
        if (hooks.beforeStep)
            hooks.beforeStep(step, total);

        // The last step takes what is left (a single leftover sample joins it).
        const int64_t end = b + 1 == steps ? n : (b + 1) * batchSize;
        const at::Tensor idx = order.slice(0, b * batchSize, end);
        const at::Tensor xb = x.index_select(0, idx);
        const at::Tensor yb = y.index_select(0, idx);
        at::Tensor logits;
        at::Tensor loss;
        try {
            logits = module.forward({xb}).toTensor();
            loss = hooks.loss ? hooks.loss(xb, logits, yb)
                              : torch::nn::functional::cross_entropy(logits, yb);
            optimizer.zero_grad();
            loss.backward();
        } catch (const Error &) {
            throw;
        } catch (const c10::Error &e) {
            stepFailed(what, epoch, step, QString::fromStdString(e.what_without_backtrace()));
        } catch (const std::exception &e) {
            stepFailed(what, epoch, step, QString::fromUtf8(e.what()));
        }
        const double lossValue = loss.item<double>();
        if (!std::isfinite(lossValue)) {
            out.end = EpochOutcome::End::Diverged;
            out.message = QStringLiteral("%1 diverged: the loss became %2 at epoch %3, step %4 "
                                         "(learning rate %5). Lower the learning rate (--lr) "
                                         "and start again.")
                              .arg(what,
                                   std::isnan(lossValue) ? QStringLiteral("NaN")
                                                         : QStringLiteral("infinite"),
                                   QString::number(epoch + 1), QString::number(step + 1),
                                   QString::number(lr));
            break;
        }
        optimizer.step();
        if (hooks.afterStep)
            hooks.afterStep();
        ++step;
        out.lossSum += lossValue * double(idx.size(0));
        out.correct += logits.argmax(1).eq(yb).sum().item<int64_t>();
        out.samples += idx.size(0);
        if (onStep)
            onStep(epoch, step, b, lossValue, lr);
    }
    out.seconds = double(clock.nsecsElapsed()) / 1e9 - paused_s;
    return out;
}

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
