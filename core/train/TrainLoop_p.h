#pragma once

// Private: the pieces of a training loop that the trainer and the compression methods
// (fine-tuning after pruning, distillation) share. Core .cpp files only (torch headers).

#include "common/Error.h"
#include "data/Dataset.h"
#include "train/TrainConfig.h"

#include <torch/optim/optimizer.h>
#include <torch/script.h>

#include <functional>
#include <memory>
#include <vector>

namespace ms {
class JobContext;
}

namespace ms::trainloop {

// Optimizer steps of one epoch over n samples in batches of batchSize: ceil(n / batchSize),
// except that a last batch of a single sample joins the one before it. One sample cannot
// train a batch norm (its variance over the batch is undefined; PyTorch refuses it), and a
// dataset of k * batchSize + 1 samples would otherwise fail on its last step.
int64_t stepsPerEpoch(int64_t n, int64_t batchSize);

// Rows [first, second) of n that part `part` of `parts` takes: contiguous, sizes differing by
// at most one, in rank order (the split torch.tensor_split makes).
std::pair<int64_t, int64_t> shardRange(int64_t n, int part, int parts);

// The seed of epoch `epoch`'s batch order (and dropout). Reseeding per epoch makes epoch k the
// same whether or not the process restarted before it, which is what makes a resumed run equal
// an uninterrupted one without saving generator state.
quint64 epochSeed(quint64 seed, int epoch);

// `x` (N,C,H,W) with the rows where `flip` is true mirrored left-right and, when `offsets`
// (N,2: dy, dx in [0, 2*shift]) is defined, each row moved down by shift - dy and right by
// shift - dx pixels with zero fill. Either draw may be undefined (that change is off).
at::Tensor augmentImages(at::Tensor x, const at::Tensor &flip, const at::Tensor &offsets,
                         int shift);

// What a training adds to the plain step (distillation's loss, pruning's masks, later an
// all-reduce of the gradients).
struct StepHooks
{
    // The loss of one batch; default: cross-entropy of the logits against the labels.
    std::function<at::Tensor(const at::Tensor &x, const at::Tensor &logits,
                             const at::Tensor &labels)> loss;
    // Before each step (0-based, of totalSteps): a gradual pruning schedule moves its masks.
    std::function<void(qint64 step, qint64 totalSteps)> beforeStep;
    // After each optimizer step: pruning re-applies its masks so pruned weights stay zero.
    std::function<void()> afterStep;
    // A data-parallel run (train/Distributed_p.h) sums the ranks' gradients around backward.
    // Before it: this rank's mean loss, its rows of the global batch of `batchRows`, and
    // whether this rank was asked to stop. After it, before the loss is checked and the
    // optimizer steps: the global batch's mean loss, which every rank then checks and reports
    // alike, and whether any rank was asked to stop (then every rank ends the epoch cancelled
    // at this step, without stepping). With it set, the loop leaves cancel to these two.
    std::function<void(double loss, int64_t rows, int64_t batchRows, bool stop)> beforeBackward;
    std::function<std::pair<double, bool>()> afterBackward;
};

// What one epoch of steps did. A sample is a label: one per row for a classifier, one per
// target token for a language model.
struct EpochOutcome
{
    enum class End { Done, Cancelled, Diverged };
    End end = End::Done;
    QString message;          // Diverged: what happened and what to do
    double lossSum = 0.0;     // the batch losses weighted by their sizes
    int64_t correct = 0;      // samples the model got right while training on them
    int64_t samples = 0;
    double seconds = 0.0;     // wall time, pauses excluded
};

// The step loop of every training in the studio (TrainJob, fine-tuning after pruning,
// distillation): one epoch of optimizer steps over (x, y) in the order epochSeed() gives.
// Before each step it honours cancel and pause (a pause is not counted in `seconds`), sets the
// learning rate from `lrAt` and calls hooks.beforeStep; after each, hooks.afterStep and
// `onStep` (metrics, progress). One policy for a loss that becomes NaN or infinite: the epoch
// ends as Diverged with a message that names `what`, the epoch, step and learning rate.
struct EpochLoop
{
    EpochLoop(torch::jit::Module &module_, torch::optim::Optimizer &optimizer_, at::Tensor x_,
              at::Tensor y_)
        : module(module_), optimizer(optimizer_), x(std::move(x_)), y(std::move(y_))
    {}

    torch::jit::Module &module;
    torch::optim::Optimizer &optimizer;
    at::Tensor x;
    at::Tensor y;
    int64_t batchSize = 128;
    quint64 seed = 0;
    int epochs = 1;             // of the whole run: step and lr schedules span them
    // Where batches come from when set (a language model's random windows of a token stream):
    // `batches` calls per epoch, drawn with the global generator the epoch seeded, so a resumed
    // run draws what the uninterrupted one did. Empty: rows of x and y in a random order.
    std::function<std::pair<at::Tensor, at::Tensor>()> drawBatch;
    int64_t batches = 0;
    // The gradients' total norm is clipped to this before each step; 0 = off.
    double clipGradNorm = 0.0;
    // Random flips and shifts of each training batch (rows of x only; TrainConfig::augment).
    TrainConfig::Augmentation augment;
    StepHooks hooks;
    // A data-parallel run: this rank takes part `shardRank` of `shardCount` contiguous parts of
    // every global batch (shardRange), the rows a single process would train on together.
    int shardRank = 0;
    int shardCount = 1;
    // The learning rate of a step (0-based epoch and step); empty: the optimizer's own.
    std::function<double(int epoch, qint64 step)> lrAt;
    // After each step: `step` counts from 1 across epochs, `batch` from 0 within the epoch.
    std::function<void(int epoch, qint64 step, int64_t batch, double loss, double lr)> onStep;
    QString what = QStringLiteral("Training");

    int64_t stepsPerEpoch() const;
    qint64 totalSteps() const { return stepsPerEpoch() * epochs; }
    // Runs epoch `epoch` (0-based); `step` is the optimizer steps done so far, in and out.
    EpochOutcome run(int epoch, qint64 &step, JobContext &context);
};

// Thrown by a compression method's training when its loss became NaN or infinite: the job
// ends as diverged, not failed, as a training run does.
class DivergedError final : public Error
{
public:
    using Error::Error;
};

// The optimizer a config names (sgd, adam, adamw) over `params`, at the config's lr. AdamW's
// decoupled weight decay applies to matrices (parameters of 2+ dimensions, embeddings
// included) only, as nanoGPT and lm_peer.py do: biases and LayerNorm gains are not decayed.
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

// The learning rate of optimizer step `step` (0-based) of epoch `epoch` (0-based) out of
// `totalSteps`: the schedule (constant, step, cosine from lr to minLr), with a linear warm-up
// over the first warmupSteps steps (cosine then spans the steps after the warm-up).
double learningRate(const TrainConfig &c, int epoch, qint64 step, qint64 totalSteps);

// What a run's config sets on its loop, one way for `train` and for a distilled language
// model: batch size, seed, epochs, gradient clipping and the learning rate of each step
// (learningRate over the loop's totalSteps(), so `batches` of a drawBatch loop is set first).
// `c` must outlive the loop.
void useConfig(EpochLoop &loop, const TrainConfig &c);

// Mean cross-entropy and accuracy in eval mode, in chunks of 1000; leaves the module in
// training mode. An empty split scores {0, 0}.
Score evaluate(torch::jit::Module &module, const at::Tensor &x, const at::Tensor &y);

} // namespace ms::trainloop
