#pragma once

#include "train/Distributed.h"

#include <QCommandLineParser>
#include <QString>
#include <QStringList>

namespace cli {

// torchrun's launch flags on `train`: --nproc-per-node, --nnodes, --node-rank, --master-addr,
// --master-port, --timeout-s.
void addLaunchOptions(QCommandLineParser &parser);

struct LaunchPlan
{
    int nprocPerNode = 1;
    int nnodes = 1;
    int nodeRank = 0;
    QString masterAddr;     // empty: not given
    int masterPort = 0;     // 0: not given
    int timeout_s = 60;

    // This process starts nprocPerNode workers (children of the same binary) and waits.
    bool spawns() const { return nprocPerNode > 1; }
    // Any launch flag but --timeout-s was given.
    bool given = false;
};

// Reads the launch flags; throws ms::Error on a malformed or out-of-range value.
LaunchPlan readLaunchPlan(const QCommandLineParser &parser);

// What this process is in the job: from the flags when given (a worker of one host's
// --nnodes job), else from torchrun's environment variables (torchrun, srun, a Kubernetes
// job, or this launcher's children), else a single process. For a launcher (spawns()), the
// setup of its first worker, so that bad input is refused once, before any child starts.
// Throws ms::Error with the one message for bad input.
ms::DistributedSetup workerSetup(const LaunchPlan &plan);

// The note a rank other than 0 prints when given --out (srun and Kubernetes give every rank
// the same command line, so it is not refused): rank 0 alone writes it, on its own host.
// `ranks`: "rank 1 of 2".
QString outNote(const QString &ranks);

// Starts the plan's workers as children of this binary running `arguments` (the verb's
// arguments) without the launch flags (and without --out for ranks other than 0), with
// MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK and LOCAL_RANK set; a free port when none was
// given. Rank 0's standard output is this process's, the others' is dropped (their errors
// still show). Waits for all; when one fails the others get the timeout to notice and stop on
// their own, then are killed. SIGTERM is forwarded (Ctrl-C reaches them from the terminal);
// then the ranks stop together and it only waits. Returns the exit code of the first worker
// that failed or stopped, else 0.
int launchWorkers(const QStringList &arguments, const LaunchPlan &plan);

} // namespace cli
