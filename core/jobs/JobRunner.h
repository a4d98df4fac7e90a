#pragma once

#include "jobs/Job.h"
#include "jobs/MetricPoint.h"

#include <QHash>
#include <QObject>

#include <memory>

class QThread;

namespace ms {

class JobContext;

using JobId = quint64;

// Starts jobs on worker threads and reports them through queued signals, so the window plots,
// the CLI prints and the tests wait (QSignalSpy) on the same stream. Lives in the thread that
// creates it; every signal is delivered there.
class JobRunner final : public QObject
{
    Q_OBJECT

public:
    explicit JobRunner(QObject *parent = nullptr);
    // Cancels what is still running and waits for it: no worker outlives the runner.
    ~JobRunner() override;

    JobId start(std::unique_ptr<Job> job);

    // How much lower than the caller's thread the workers run (a Linux nice increment, 0-19;
    // ignored elsewhere). The threads a job starts (LibTorch's OpenMP team) inherit it. The
    // window sets it so a training run never starves the event loop of a CPU; the CLI keeps 0.
    void setWorkerNiceness(int niceness) { m_workerNiceness = niceness; }
    int workerNiceness() const { return m_workerNiceness; }

    void cancel(JobId id);
    void pause(JobId id);
    void resume(JobId id);

    bool isRunning(JobId id) const { return m_jobs.contains(id); }
    bool isPaused(JobId id) const;
    int runningCount() const { return int(m_jobs.size()); }

Q_SIGNALS:
    void started(ms::JobId id, const QString &title);
    void progress(ms::JobId id, double fraction, const QString &text);
    void metrics(ms::JobId id, const ms::MetricBatch &points);
    void logLine(ms::JobId id, const QString &line);
    void event(ms::JobId id, const QJsonObject &event);
    void pausedChanged(ms::JobId id, bool paused);
    void finished(ms::JobId id, const ms::JobResult &result);

private:
    struct Running
    {
        std::shared_ptr<Job> job;
        JobContext *context = nullptr;
        QThread *thread = nullptr;
        std::shared_ptr<JobResult> result;
    };

    void onThreadFinished(JobId id);

    QHash<JobId, Running> m_jobs;
    int m_workerNiceness = 0;
    JobId m_nextId = 1;
};

} // namespace ms
