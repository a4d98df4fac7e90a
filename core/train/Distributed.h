#pragma once

#include <QString>

namespace ms {

struct TrainConfig;

// Where this process stands in a data-parallel training job, in torchrun's vocabulary, so
// that torchrun, Slurm's srun or a Kubernetes job can start workers the way they start
// PyTorch's. Torch-free: the process group itself is train/Distributed_p.h.
struct DistributedSetup
{
    int worldSize = 1;          // WORLD_SIZE: processes in the job
    int rank = 0;               // RANK: 0 .. worldSize-1; rank 0 hosts the store and records
    int localRank = 0;          // LOCAL_RANK: among the processes of this host
    QString masterAddr = QStringLiteral("127.0.0.1");   // MASTER_ADDR: rank 0's host
    int masterPort = 29500;     // MASTER_PORT: the store's port on rank 0's host
    int timeout_s = 60;         // a rank missing this long stops the others

    // One process is an ordinary run: nothing to connect to.
    bool enabled() const { return worldSize > 1; }
    // From MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK; without WORLD_SIZE, a
    // single process. Throws ms::Error naming the variable that is malformed or out of range.
    static DistributedSetup fromEnvironment(int timeout_s);
    // Throws ms::Error on a world size below 1, a rank outside it, a port outside 1..65535, an
    // empty address or a timeout below 1 s.
    void validate() const;
    // "rank 1 of 4"
    QString describe() const;
};

// Throws ms::Error when `config` cannot train data-parallel (a language model, for now).
void checkDistributable(const TrainConfig &config);

// What every rank must agree on (the recipe without its thread count, which may differ by
// host), hashed: compared at the rendezvous so that ranks started with different recipes
// stop before a step.
QString recipeHash(const TrainConfig &config);

} // namespace ms
