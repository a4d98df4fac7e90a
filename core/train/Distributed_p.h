#pragma once

// Private: the process group of a data-parallel run, on PyTorch's own c10d (a TCPStore on rank
// 0's host for the rendezvous, ProcessGroupGloo for the collectives). Core .cpp files only.
// The c10d headers stay inside Distributed.cpp (they need USE_C10D_GLOO, set on that file).

#include "train/Distributed.h"
#include "train/TrainLoop_p.h"

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <vector>

namespace ms::dist {

class Group
{
public:
    // The rendezvous: rank 0 hosts the store, every rank checks in with its recipe hash, rank
    // 0 waits for all of them (up to the timeout) and tells every rank the verdict, then the
    // Gloo group connects. Throws ms::Error, on every rank alike where it can, for a port in
    // use, an unreachable master, a rank started twice, ranks missing or ranks started with a
    // different recipe.
    // `listening`, when set (rank 0 of a job that starts its own workers), is called once the
    // store listens, with its port, before the ranks check in; a port of 0 then takes a free
    // one (no race with another program between choosing and binding it).
    Group(const DistributedSetup &setup, const QString &recipeHash,
          const std::function<void(int port)> &listening = {});
    ~Group();
    Group(const Group &) = delete;
    Group &operator=(const Group &) = delete;

    int rank() const;
    int size() const;

    // Rank 0's values into every rank's `tensors` (parameters, buffers), in place.
    void broadcast(const std::vector<at::Tensor> &tensors, const char *during);
    // Starts summing `flat` (float32, contiguous) over the ranks in place; Gloo works on it in
    // its own threads. The call returned waits for it, and throws what failed() throws when a
    // peer is gone. Every rank must start its sums in the same order (GradientReducer does).
    std::function<void()> startSum(at::Tensor flat);
    // Wall time a step spent on the gradients' sum and not hidden behind backward, since the
    // last take (the all-reduce's share of a step, bench/dist_bench.sh).
    void addGradientSeconds(double seconds);
    double takeGradientSeconds();
    // Element-wise sums over the ranks.
    std::vector<double> sum(std::vector<double> values, const char *during);

private:
    // A collective that threw (a peer died: Gloo's IoException; or it timed out): finds which
    // ranks are gone through the store and throws the one message naming them.
    [[noreturn]] void failed(const std::exception &e, const char *during);

    struct Impl;
    std::unique_ptr<Impl> d;
};

// The step loop's part in a data-parallel run (DataParallel.cpp).
// Starts from rank 0's weights and buffers (as DDP does), makes `loop` train this rank's
// shard of each global batch, and sums the gradients of `params` weighted by the shard's share
// of the batch: the single process's mean over the batch, up to summation order.
// Every rank stops at the same step when any rank is cancelled (the stop flag rides in the
// gradients' sum): the run ends as cancelled everywhere, not as a rank that stopped answering.
void joinLoop(Group &group, torch::jit::Module &module, trainloop::EpochLoop &loop,
              const std::vector<at::Tensor> &params);
// The epoch's training sums (loss, correct, samples) over every rank; `group` may be null.
trainloop::EpochOutcome sumOutcome(Group *group, trainloop::EpochOutcome outcome);
// Batch norm's running statistics saw only this rank's shards: every rank evaluates (and rank
// 0 saves) rank 0's. No-op without a group.
void shareBuffers(Group *group, torch::jit::Module &module);
// A split's score: each rank scores its contiguous shard and the sums are added up, so every
// rank gets the whole split's score. Without a group, trainloop::evaluate.
trainloop::Score score(Group *group, torch::jit::Module &module, const at::Tensor &x,
                       const at::Tensor &y);

// Sums the ranks' gradients of `params` the way PyTorch DDP's Reducer does, smaller: the
// gradients go into buckets of whole parameters in reverse order (the order backward produces
// them), and a gradient hook per parameter starts a bucket's all-reduce as soon as its last
// gradient is there, while backward goes on with the layers before it. Buckets start in index
// order on every rank (Gloo pairs collectives by their order). Own code rather than DDP's:
// Debian's LibTorch exports no C++ Reducer usable on a torch::jit::Module.
class GradientReducer
{
public:
    // Registers the hooks unless MODELSTUDIO_DIST_OVERLAP=0 (then every bucket starts after
    // backward: the peer bench/dist_bench.sh measures the overlap against).
    GradientReducer(Group &group, std::vector<at::Tensor> params);
    ~GradientReducer();   // removes the hooks
    GradientReducer(const GradientReducer &) = delete;
    GradientReducer &operator=(const GradientReducer &) = delete;

    // Before backward: this rank's gradients are multiplied by `weight` (its share of the
    // global batch); `value` and `stop` (1: this rank was asked to stop) ride in the last
    // bucket, summed alongside.
    void prepare(double weight, double value, bool stop);
    // After backward: starts the buckets no hook started (a parameter without a gradient adds
    // zeros), waits for all, and puts the sums into the parameters' gradients. Returns the sum
    // of `value` and whether any rank asked to stop.
    std::pair<double, bool> finish();

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

// Bucket size of GradientReducer, bytes: PyTorch DDP's first bucket is 1 MB, the others
// 25 MB; a few MB keeps the copies small next to the all-reduce on a CPU (bench/README.md).
inline constexpr int64_t kBucketBytes = 4 << 20;

} // namespace ms::dist
