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
    // Every rank's gradients of `params`, each multiplied by `weight` (its share of the global
    // batch), summed into every rank's gradients; `value` summed alongside (in the last
    // bucket: no extra round trip). Bucketed: the gradients are flattened into buckets of a
    // few MB, all buckets' all-reduces are started before the first is waited for (Gloo works
    // on them in its own threads), then copied back. Returns the sum of `value`.
    double sumGradients(const std::vector<at::Tensor> &params, double weight, double value);
    // Wall time spent in sumGradients since the last call (the all-reduce's share of a step,
    // bench/dist_bench.sh), and resets it.
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

// Bucket size of sumGradients, bytes: PyTorch DDP's first bucket is 1 MB, the others 25 MB; a
// few MB keeps the flattening copies small next to the all-reduce on a CPU (bench/README.md).
inline constexpr int64_t kBucketBytes = 4 << 20;

} // namespace ms::dist
