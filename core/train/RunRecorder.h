#pragma once

#include "jobs/Job.h"
#include "jobs/MetricPoint.h"
#include "registry/Registry.h"

#include <QElapsedTimer>
#include <QString>

#include <memory>

namespace ms {

// Writes a training run into the workspace's registry while it happens: the run row when it
// starts, its metric points in one transaction about once a second (a crash loses at most the
// last second), and at the end the trained model as a new version with its recipe, signature
// and metrics. Lives on the job's worker thread, which owns its Registry connection.
class RunRecorder
{
public:
    RunRecorder(const QString &workspaceRoot, QString modelName);

    // A fresh run, or the run recorded in `runDir` when resuming after `checkpointStep`.
    void begin(const QString &runDir, const QJsonObject &recipe, bool resume,
               qint64 checkpointStep);
    void add(const MetricPoint &point);
    void flush();
    // Registers the trained model and closes the run as finished.
    VersionRecord finish(const NewVersion &version);
    void end(JobStatus status, const QString &message);

    QString modelName() const { return m_modelName; }
    qint64 runId() const { return m_runId; }

    // The model name and run id a run folder was recorded under, for --resume.
    static bool readRunFile(const QString &runDir, QString *modelName, qint64 *runId);

private:
    std::unique_ptr<Registry> m_registry;
    QString m_modelName;
    qint64 m_runId = 0;
    MetricBatch m_pending;
    QElapsedTimer m_sinceFlush;
};

} // namespace ms
