#pragma once

// Private: the other ranks of a data-parallel run that the window starts on this host
// (TrainJob::runLocalWorkers): modelstudio-cli workers, rank 0 being the job itself.

#include <QJsonObject>
#include <QString>

#include <memory>
#include <vector>

class QProcess;

namespace ms {

class LocalWorkers
{
public:
    LocalWorkers();
    // Kills whatever still runs: a rank other than 0 writes nothing, so nothing is lost.
    ~LocalWorkers();
    LocalWorkers(const LocalWorkers &) = delete;
    LocalWorkers &operator=(const LocalWorkers &) = delete;

    // Starts ranks 1 .. worldSize-1 of `cli` train with torchrun's variables for a job on
    // 127.0.0.1:port. `recipe` is the run's config (written to the run folder for them) or,
    // when `resume`, they read the run folder's checkpoint. Their standard error goes to
    // <runDir>/workers/rank-N.log. Throws ms::Error when one cannot start.
    void start(const QString &cli, int worldSize, int port, int timeout_s,
               const QJsonObject &recipe, const QString &workspace, const QString &runDir,
               bool resume);
    // Waits up to timeout_ms for every worker to end; kills those that did not.
    void finish(int timeout_ms);

private:
    std::vector<std::unique_ptr<QProcess>> m_workers;
};

} // namespace ms
