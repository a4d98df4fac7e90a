#include "train/TrainLoop_p.h"

#include "train/Augment.h"

#include "common/Error.h"
#include "common/ShapeText.h"
#include "jobs/JobContext.h"

#include <torch/nn/functional/loss.h>
#include <torch/nn/utils/clip_grad.h>
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

std::pair<int64_t, int64_t> shardRange(int64_t n, int part, int parts)
{
    const int64_t base = n / parts, extra = n % parts;
    const int64_t first = part * base + std::min<int64_t>(part, extra);
    return {first, first + base + (part < extra ? 1 : 0)};
}

int64_t EpochLoop::stepsPerEpoch() const
{
    return drawBatch ? batches : trainloop::stepsPerEpoch(x.size(0), batchSize);
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
    const int64_t n = drawBatch ? 0 : x.size(0);
    const int64_t steps = stepsPerEpoch();
    const qint64 total = totalSteps();
    torch::manual_seed(epochSeed(seed, epoch));
    const at::Tensor order = drawBatch ? at::Tensor() : torch::randperm(n, torch::kInt64);
    std::vector<at::Tensor> clipped;
    if (clipGradNorm > 0.0) {
        for (const auto &group : optimizer.param_groups())
            clipped.insert(clipped.end(), group.params().begin(), group.params().end());
    }
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
        if (!hooks.afterBackward && context.isCancelled()) {
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

        at::Tensor xb, yb;
        int64_t batchRows = 0;
        if (drawBatch) {
            std::tie(xb, yb) = drawBatch();
            batchRows = yb.numel();
        } else {
            // The last step takes what is left (a single leftover sample joins it).
            const int64_t end = b + 1 == steps ? n : (b + 1) * batchSize;
            at::Tensor idx = order.slice(0, b * batchSize, end);
            batchRows = idx.size(0);
            // Augmentation draws for the whole global batch, then this rank's rows of them: a
            // data-parallel run sees the images a single process would.
            at::Tensor flip, offsets;
            if (augment.hflip)
                flip = at::rand({batchRows}).lt(0.5);
            if (augment.shift > 0)
                offsets = at::randint(0, 2 * augment.shift + 1, {batchRows, 2}, at::kLong);
            const auto [first, last] = shardRange(batchRows, shardRank, shardCount);
            idx = idx.slice(0, first, last);
            xb = x.index_select(0, idx);
            yb = y.index_select(0, idx);
            if (augment.any())
                xb = augmentImages(xb, flip.defined() ? flip.slice(0, first, last) : flip,
                                   offsets.defined() ? offsets.slice(0, first, last) : offsets,
                                   augment.shift);
        }
        at::Tensor logits;
        at::Tensor loss;
        double localLoss = 0.0;
        try {
            optimizer.zero_grad();
            // A rank whose share of a short last batch is empty adds nothing but takes part
            // in the gradients' sum.
            if (yb.numel() > 0) {
                logits = module.forward({xb}).toTensor();
                loss = hooks.loss ? hooks.loss(xb, logits, yb)
                                  : torch::nn::functional::cross_entropy(logits, yb);
                localLoss = loss.item<double>();
            }
            if (hooks.beforeBackward)
                hooks.beforeBackward(localLoss, yb.numel(), batchRows, context.isCancelled());
            if (loss.defined())
                loss.backward();
        } catch (const Error &) {
            throw;
        } catch (const c10::Error &e) {
            stepFailed(what, epoch, step, QString::fromStdString(e.what_without_backtrace()));
        } catch (const std::exception &e) {
            stepFailed(what, epoch, step, QString::fromUtf8(e.what()));
        }
        double lossValue = localLoss;
        if (hooks.afterBackward) {
            bool stop = false;
            std::tie(lossValue, stop) = hooks.afterBackward();
            if (stop) {
                out.end = EpochOutcome::End::Cancelled;
                break;
            }
        }
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
        if (!clipped.empty())
            torch::nn::utils::clip_grad_norm_(clipped, clipGradNorm);
        optimizer.step();
        if (hooks.afterStep)
            hooks.afterStep();
        ++step;
        out.lossSum += localLoss * double(yb.numel());
        if (logits.defined())
            out.correct += logits.argmax(-1).eq(yb).sum().item<int64_t>();
        out.samples += yb.numel();
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
    const std::tuple<double, double> betas{c.beta1, c.beta2};
    if (c.optimizer == QLatin1String("adamw")) {
        std::vector<at::Tensor> matrices, others;
        for (const at::Tensor &p : params)
            (p.dim() >= 2 ? matrices : others).push_back(p);
        std::vector<torch::optim::OptimizerParamGroup> groups;
        for (auto *group : {&matrices, &others}) {
            if (group->empty())
                continue;
            const double decay = group == &matrices ? c.weightDecay : 0.0;
            groups.emplace_back(*group, std::make_unique<torch::optim::AdamWOptions>(
                                            torch::optim::AdamWOptions(c.lr).betas(betas)
                                                .weight_decay(decay)));
        }
        return std::make_unique<torch::optim::AdamW>(
            std::move(groups), torch::optim::AdamWOptions(c.lr).betas(betas)
                                   .weight_decay(c.weightDecay));
    }
    return std::make_unique<torch::optim::Adam>(
        params, torch::optim::AdamOptions(c.lr).betas(betas).weight_decay(c.weightDecay));
}

at::Tensor augmentImages(at::Tensor x, const at::Tensor &flip, const at::Tensor &offsets,
                         int shift)
{
    if (flip.defined())
        x = at::where(flip.view({-1, 1, 1, 1}), x.flip({3}), x);
    if (offsets.defined() && x.size(0) > 0) {
        // A crop of the zero-padded batch per row: torchvision's RandomCrop(padding=shift).
        const int64_t h = x.size(2), w = x.size(3);
        const at::Tensor padded = at::constant_pad_nd(x, {shift, shift, shift, shift}, 0.0);
        at::Tensor out = at::empty_like(x);
        const auto o = offsets.accessor<int64_t, 2>();
        for (int64_t i = 0; i < x.size(0); ++i)
            out[i].copy_(padded[i].narrow(1, o[i][0], h).narrow(2, o[i][1], w));
        x = out;
    }
    return x;
}

void useConfig(EpochLoop &loop, const TrainConfig &c)
{
    loop.augment = c.augmentation();
    if (loop.augment.any() && (loop.drawBatch || loop.x.dim() != 4)) {
        const std::vector<qint64> sample(loop.x.sizes().begin() + (loop.x.dim() > 0 ? 1 : 0),
                                         loop.x.sizes().end());
        throw Error(QStringLiteral("Augmentation (--augment %1) changes images: it needs samples "
                                   "of shape channels x height x width, and this data's samples "
                                   "are %2. Train without --augment.")
                        .arg(c.augment, loop.drawBatch
                                            ? QStringLiteral("windows of text")
                                            : QStringLiteral("of shape ")
                                                  + shapeText(sample, ShapeStyle::Compact)));
    }
    loop.batchSize = c.batchSize;
    loop.seed = c.seed;
    loop.epochs = c.epochs;
    loop.clipGradNorm = c.clipGradNorm;
    const qint64 totalSteps = loop.totalSteps();
    loop.lrAt = [&c, totalSteps](int epoch, qint64 step) {
        return learningRate(c, epoch, step, totalSteps);
    };
}

double learningRate(const TrainConfig &c, int epoch, qint64 step, qint64 totalSteps)
{
    const double kPi = 3.14159265358979323846;
    const qint64 warmup = c.warmupSteps;
    if (step < warmup && c.schedule != QLatin1String("cosine")) {
        const double scheduled = c.schedule == QLatin1String("step")
                                     ? c.lr * std::pow(c.gamma, epoch / c.stepEpochs)
                                     : c.lr;
        return scheduled * double(step + 1) / double(warmup);
    }
    if (c.schedule == QLatin1String("step"))
        return c.lr * std::pow(c.gamma, epoch / c.stepEpochs);
    if (c.schedule == QLatin1String("cosine")) {
        if (step < warmup)
            return c.lr * double(step + 1) / double(warmup);
        const double span = double(std::max<qint64>(1, totalSteps - warmup));
        return c.minLr
               + (c.lr - c.minLr) * 0.5 * (1.0 + std::cos(kPi * double(step - warmup) / span));
    }
    return c.lr;
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

namespace ms {

std::vector<float> augmentImages(const std::vector<float> &images, int n, int c, int h, int w,
                                 const std::vector<bool> &flip, int shift,
                                 const std::vector<int> &dy, const std::vector<int> &dx)
{
    if (images.size() != size_t(n) * size_t(c) * size_t(h) * size_t(w) || flip.size() != size_t(n)
        || (shift > 0 && (dy.size() != size_t(n) || dx.size() != size_t(n))))
        throw Error(QStringLiteral("augmentImages: the images and the draws disagree in size."));
    for (size_t i = 0; shift > 0 && i < dy.size(); ++i)
        if (dy[i] < 0 || dy[i] > 2 * shift || dx[i] < 0 || dx[i] > 2 * shift)
            throw Error(QStringLiteral("augmentImages: a shift draw is outside [0, 2 x shift]."));
    at::Tensor x = at::from_blob(const_cast<float *>(images.data()), {n, c, h, w}, at::kFloat);
    at::Tensor flips = at::empty({n}, at::kBool);
    for (int i = 0; i < n; ++i)
        flips[i] = bool(flip[size_t(i)]);
    at::Tensor offsets;
    if (shift > 0) {
        offsets = at::empty({n, 2}, at::kLong);
        for (int i = 0; i < n; ++i) {
            offsets[i][0] = int64_t(dy[size_t(i)]);
            offsets[i][1] = int64_t(dx[size_t(i)]);
        }
    }
    const at::Tensor out = trainloop::augmentImages(x, flips, offsets, shift).contiguous();
    return std::vector<float>(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
}

} // namespace ms
