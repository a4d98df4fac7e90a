#pragma once

#include "jobs/Job.h"
#include "jobs/MetricPoint.h"
#include "registry/Registry.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QString>

#include <functional>
#include <memory>

namespace ms {

// Writes a training run into the workspace's registry while it happens: the run row when it
// starts, its metric points in one transaction about once a second (a crash loses at most the
// last second), and at the end the trained model as a new version with its recipe, signature
// and metrics. Lives on the job's worker thread, which owns its Registry connection.
//
// A busy registry (another process holding its write lock) never stops the training: every
// write waits briefly, and when the lock stays taken the recorder holds the run row and the
// points, says so through the wait handler, and tries again with a growing delay (1 s, 2 s,
// ... 8 s). Only finish() insists: it keeps trying for finishPatience_ms, and then fails with
// a message saying where the run's model and checkpoint are.
class RunRecorder
{
public:
    // Opens the registry; throws ms::Error at once when it cannot be opened for any reason
    // but a busy lock (which is waited out later).
    RunRecorder(const QString &workspaceRoot, QString modelName);
    ~RunRecorder();

    // Called on the worker thread when the recorder starts waiting for the registry (true)
    // and when the held writes went through (false), with a line to show.
    void setWaitHandler(std::function<void(bool waiting, const QString &message)> handler)
    {
        m_onWait = std::move(handler);
    }
    // How long finish() keeps trying a busy registry (default 10 minutes).
    void setFinishPatience_ms(qint64 patience_ms) { m_finishPatience_ms = patience_ms; }

    // A fresh run, or the run recorded in `runDir` when resuming after `checkpointStep`.
    void begin(const QString &runDir, const QJsonObject &recipe, bool resume,
               qint64 checkpointStep);
    void add(const MetricPoint &point);
    // Writes the held points now unless the registry is busy (then they stay held).
    void flush();
    // Registers the trained model and closes the run as finished, waiting out a busy registry.
    VersionRecord finish(const NewVersion &version);
    // Closes the run with `status`; gives up quietly after a short wait on a busy registry
    // (the run is then marked interrupted when the registry is next opened).
    void end(JobStatus status, const QString &message);

    QString modelName() const { return m_modelName; }
    qint64 runId() const { return m_runId; }
    bool isWaiting() const { return m_waiting; }

    // The model name and run id a run folder was recorded under, for --resume.
    static bool readRunFile(const QString &runDir, QString *modelName, qint64 *runId);

private:
    // Runs `write` on the registry unless a busy registry's retry delay is still running;
    // true when it went through. A busy registry makes it false and schedules the next try;
    // any other failure throws.
    bool tryWrite(const std::function<void(Registry &)> &write);
    bool tryStart();
    bool tryFlush();
    // Keeps trying `step` (with the retry delays) for up to `patience_ms`; false on time-out.
    bool insist(const std::function<bool()> &step, qint64 patience_ms);
    void openRegistry();

    QString m_root;
    std::unique_ptr<Registry> m_registry;
    QString m_modelName;
    qint64 m_runId = 0;
    MetricBatch m_pending;
    QElapsedTimer m_sinceFlush;

    // The run row to write (begin() may meet a busy registry).
    bool m_begun = false;
    QString m_runDir;
    QJsonObject m_recipe;
    qint64 m_resumeRunId = 0;
    qint64 m_checkpointStep = 0;

    // Waiting for a busy registry.
    std::function<void(bool, const QString &)> m_onWait;
    bool m_waiting = false;
    QElapsedTimer m_sinceBusy;
    QElapsedTimer m_waitingFor;
    qint64 m_retryDelay_ms = 0;
    qint64 m_finishPatience_ms = 10 * 60 * 1000;
};

} // namespace ms
