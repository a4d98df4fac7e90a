#pragma once

#include "jobs/Job.h"
#include "jobs/MetricPoint.h"
#include "registry/Registry.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QMetaObject>
#include <QString>

#include <functional>
#include <memory>

namespace ms {

class JobContext;

// The one writer of a job's run into the workspace's registry, for every kind of job that
// records runs (train, compress): the run row when it starts, its metric points as they come,
// and at the end the job's model as a new version with its recipe, signature and metrics.
//
// The job never hands points to it: it listens to the JobContext's metricsReady, so the
// registry holds exactly the points the plots, the CLI and the tests saw. The points are
// written in one transaction about once a second (a crash loses at most the last second), and
// flush() writes at once (a training run calls it with each checkpoint).
//
// Lives on the job's worker thread, which owns its Registry connection; the JobContext's
// signals are emitted there (only the worker adds points and flushes), and the recorder takes
// them directly.
//
// A busy registry (another process holding its write lock) never stops the job: every write
// waits briefly, and when the lock stays taken the recorder holds the run row and the points,
// says so on the context (a log line and a "registry" event with a `status_note`), and tries
// again with a growing delay (1 s, 2 s, ... 8 s). Only finish() insists: it keeps trying for
// ten minutes, and then fails with a message saying where the run's model is.
class RunRecorder
{
public:
    // `kind` is the run's kind ("train", "compress"); `modelName` the model the version will
    // be of. Opens the registry; throws ms::Error at once when it cannot be opened for any
    // reason but a busy lock (which is waited out later).
    RunRecorder(const QString &workspaceRoot, QString kind, QString modelName,
                JobContext &context);
    // Stops listening to the context.
    ~RunRecorder();
    RunRecorder(const RunRecorder &) = delete;
    RunRecorder &operator=(const RunRecorder &) = delete;

    // A fresh run, or (resume) the run recorded in `runDir`, whose points after
    // `checkpointStep` are dropped. Writes the run row, and `registry.json` into the folder
    // naming the run and the model.
    void begin(const QString &runDir, const QJsonObject &recipe, bool resume = false,
               qint64 checkpointStep = 0);
    // Writes every point observed so far now, unless the registry is busy (then they stay
    // held). Throws ms::Error when the registry failed (not busy) since the last call.
    void flush();
    // Registers the model (a version of the recorder's model, made by this run) and closes the run as finished,
    // waiting out a busy registry.
    VersionRecord finish(const NewVersion &version);
    // Closes the run with `status`, writing its points first; gives up quietly after a short
    // wait on a busy registry (the run is then marked interrupted when the registry is next
    // opened). Never throws: a failing registry is logged, and the job's own outcome stands.
    void end(JobStatus status, const QString &message);

    // The model name and run id a run folder was recorded under, for --resume.
    static bool readRunFile(const QString &runDir, QString *modelName, qint64 *runId);

private:
    void add(const MetricBatch &points);
    // Takes the points the context still holds; throws what a write from add() met.
    void takeObserved();
    // Runs `write` on the registry unless a busy registry's retry delay is still running;
    // true when it went through. A busy registry makes it false and schedules the next try;
    // any other failure throws.
    bool tryWrite(const std::function<void(Registry &)> &write);
    bool tryStart();
    bool tryFlush();
    // Keeps trying `step` (with the retry delays) for up to `patience_ms`; false on time-out.
    bool insist(const std::function<bool()> &step, qint64 patience_ms);
    void openRegistry();
    void reportWaiting(bool waiting);

    QString m_root;
    QString m_kind;
    JobContext &m_context;
    QMetaObject::Connection m_feed;
    std::unique_ptr<Registry> m_registry;
    QString m_modelName;
    qint64 m_runId = 0;
    MetricBatch m_pending;
    QString m_failure;   // a write from add() that failed, thrown by the next flush()/finish()
    QElapsedTimer m_sinceFlush;

    // The run row to write (begin() may meet a busy registry).
    bool m_begun = false;
    QString m_runDir;
    QJsonObject m_recipe;
    qint64 m_resumeRunId = 0;
    qint64 m_checkpointStep = 0;

    // Waiting for a busy registry.
    bool m_waiting = false;
    QElapsedTimer m_sinceBusy;
    QElapsedTimer m_waitingFor;
    qint64 m_retryDelay_ms = 0;
};

} // namespace ms
