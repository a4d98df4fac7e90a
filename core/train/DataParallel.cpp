// The step loop's part in a data-parallel run: what TrainJob adds around trainloop::EpochLoop
// when it is one rank of a job (train/Distributed_p.h). No c10d here: the Group does that.
#include "train/Distributed_p.h"

#include "jobs/JobContext.h"
#include "train/Checkpoint_p.h"
#include "train/LocalWorkers_p.h"
#include "train/TrainJob.h"

#include <torch/script.h>

#include <QtGlobal>

namespace ms::dist {

void joinLoop(Group &group, torch::jit::Module &module, trainloop::EpochLoop &loop,
              const std::vector<at::Tensor> &params)
{
    std::vector<at::Tensor> state;
    for (const at::Tensor &p : module.parameters())
        state.push_back(p);
    for (const at::Tensor &b : module.buffers())
        state.push_back(b);
    group.broadcast(state, "starting");
    loop.shardRank = group.rank();
    loop.shardCount = group.size();
    // Shared by the two hooks; removes its gradient hooks when the loop is gone.
    auto reducer = std::make_shared<GradientReducer>(group, params);
    loop.hooks.beforeBackward = [reducer](double loss, int64_t rows, int64_t batchRows,
                                          bool stop) {
        const double share = double(rows) / double(batchRows);
        reducer->prepare(share, loss * share, stop);
    };
    loop.hooks.afterBackward = [reducer] { return reducer->finish(); };
}

trainloop::EpochOutcome sumOutcome(Group *group, trainloop::EpochOutcome outcome)
{
    if (!group || outcome.end != trainloop::EpochOutcome::End::Done)
        return outcome;
    const std::vector<double> sums = group->sum(
        {outcome.lossSum, double(outcome.correct), double(outcome.samples)}, "training");
    outcome.lossSum = sums[0];
    outcome.correct = qRound64(sums[1]);
    outcome.samples = qRound64(sums[2]);
    return outcome;
}

void shareBuffers(Group *group, torch::jit::Module &module)
{
    if (!group)
        return;
    std::vector<at::Tensor> buffers;
    for (const at::Tensor &b : module.buffers())
        buffers.push_back(b);
    group->broadcast(buffers, "evaluating");
}

trainloop::Score score(Group *group, torch::jit::Module &module, const at::Tensor &x,
                       const at::Tensor &y)
{
    if (!group)
        return trainloop::evaluate(module, x, y);
    const int64_t n = x.size(0);
    const auto [first, last] = trainloop::shardRange(n, group->rank(), group->size());
    const trainloop::Score local =
        trainloop::evaluate(module, x.slice(0, first, last), y.slice(0, first, last));
    const double rows = double(last - first);
    const std::vector<double> sums =
        group->sum({local.loss * rows, local.accuracy * rows}, "evaluating");
    if (n == 0)
        return {};
    return {sums[0] / double(n), sums[1] / double(n)};
}

} // namespace ms::dist

namespace ms {

// TrainJob's data-parallel members (TrainJob.h), beside the rest of its distribution.
void TrainJob::runLocalWorkers(int processes, const QString &cli)
{
    m_dist = DistributedSetup();
    m_dist.worldSize = std::max(1, processes);
    m_dist.masterPort = 0;   // the store picks a free one
    m_workerCli = processes > 1 ? cli : QString();
}

std::unique_ptr<dist::Group> TrainJob::rendezvous(JobContext &context,
                                                  LocalWorkers &workers)
{
    if (!m_dist.enabled())
        return nullptr;
    checkDistributable(m_config);
    // The ranks must agree on the recipe and, resuming, on the epoch they continue after.
    QString agreement = recipeHash(m_config);
    Checkpoint::State state;
    if (m_resume && Checkpoint::readState(m_runDir, &state))
        agreement += QStringLiteral("@%1").arg(state.epochsDone);
    context.setProgress(0.0, QStringLiteral("Waiting for the other ranks (%1)")
                                 .arg(m_dist.describe()));
    context.log(QStringLiteral("Joining the job at %1:%2 as %3")
                    .arg(m_dist.masterAddr, QString::number(m_dist.masterPort),
                         m_dist.describe()));
    if (m_workerCli.isEmpty())
        return std::make_unique<dist::Group>(m_dist, agreement);
    return std::make_unique<dist::Group>(m_dist, agreement, [&](int port) {
        workers.start(m_workerCli, m_dist.worldSize, port, m_dist.timeout_s, m_config.toJson(),
                      m_workspace, m_runDir, m_resume);
    });
}

} // namespace ms
