#include "train/RunRecorder.h"

#include "common/Error.h"

#include <QFile>
#include <QJsonDocument>
#include <QSaveFile>

namespace ms {

namespace {

const int kFlushInterval_ms = 1000;

QString runFile(const QString &runDir)
{
    return runDir + QStringLiteral("/registry.json");
}

RunStatus runStatusOf(JobStatus status)
{
    switch (status) {
    case JobStatus::Finished: return RunStatus::Finished;
    case JobStatus::Cancelled: return RunStatus::Cancelled;
    case JobStatus::Diverged: return RunStatus::Diverged;
    case JobStatus::Failed: break;
    }
    return RunStatus::Failed;
}

} // namespace

RunRecorder::RunRecorder(const QString &workspaceRoot, QString modelName)
    : m_registry(std::make_unique<Registry>(workspaceRoot))
    , m_modelName(std::move(modelName))
{
    m_sinceFlush.start();
}

void RunRecorder::begin(const QString &runDir, const QJsonObject &recipe, bool resume,
                        qint64 checkpointStep)
{
    QString recordedName;
    qint64 recordedRun = 0;
    if (resume && readRunFile(runDir, &recordedName, &recordedRun)) {
        m_modelName = recordedName;
        m_runId = recordedRun;
        m_registry->reopenRun(m_runId, checkpointStep);
        return;
    }
    m_runId = m_registry->startRun(QStringLiteral("train"), recipe, runDir);
    QSaveFile file(runFile(runDir));
    const QJsonObject json{{QStringLiteral("run_id"), QString::number(m_runId)},
                           {QStringLiteral("model"), m_modelName}};
    if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(json).toJson()) < 0
        || !file.commit())
        throw Error(QStringLiteral("Cannot write %1: %2. Check free disk space.")
                        .arg(runFile(runDir), file.errorString()));
}

void RunRecorder::add(const MetricPoint &point)
{
    m_pending.append(point);
    if (m_sinceFlush.elapsed() >= kFlushInterval_ms)
        flush();
}

void RunRecorder::flush()
{
    m_sinceFlush.restart();
    if (m_pending.isEmpty() || m_runId == 0)
        return;
    m_registry->appendMetrics(m_runId, m_pending);
    m_pending.clear();
}

VersionRecord RunRecorder::finish(const NewVersion &version)
{
    flush();
    NewVersion v = version;
    v.modelName = m_modelName;
    v.runId = m_runId;
    const VersionRecord record = m_registry->addVersion(v);
    m_registry->finishRun(m_runId, RunStatus::Finished, QString(), record.id);
    return record;
}

void RunRecorder::end(JobStatus status, const QString &message)
{
    flush();
    if (m_runId != 0)
        m_registry->finishRun(m_runId, runStatusOf(status), message);
}

bool RunRecorder::readRunFile(const QString &runDir, QString *modelName, qint64 *runId)
{
    QFile file(runFile(runDir));
    if (!file.open(QIODevice::ReadOnly))
        return false;
    const QJsonObject json = QJsonDocument::fromJson(file.readAll()).object();
    *modelName = json.value(QStringLiteral("model")).toString();
    *runId = json.value(QStringLiteral("run_id")).toString().toLongLong();
    return !modelName->isEmpty() && *runId > 0;
}

} // namespace ms
