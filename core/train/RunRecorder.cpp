#include "train/RunRecorder.h"

#include "common/Error.h"

#include <QFile>
#include <QJsonDocument>
#include <QSaveFile>
#include <QThread>

#include <algorithm>
#include <optional>

namespace ms {

namespace {

const int kFlushInterval_ms = 1000;
// A statement's own wait for the write lock: long enough for any ordinary transaction of
// another process, short enough that a step of training is never held up for long.
const int kBusyTimeout_ms = 500;
const qint64 kFirstRetry_ms = 1000;
const qint64 kMaxRetry_ms = 8000;
// end() after a stop: the user is waiting for the process to exit.
const qint64 kEndPatience_ms = 5000;

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
    : m_root(workspaceRoot)
    , m_modelName(std::move(modelName))
{
    m_sinceFlush.start();
    try {
        openRegistry();
    } catch (const RegistryBusy &) {
        // Opening wrote (interrupted runs of other processes) and met the lock: later.
        m_registry.reset();
    }
}

RunRecorder::~RunRecorder() = default;

void RunRecorder::openRegistry()
{
    auto registry = std::make_unique<Registry>(m_root);
    registry->setBusyTimeout(kBusyTimeout_ms);
    m_registry = std::move(registry);
}

bool RunRecorder::tryWrite(const std::function<void(Registry &)> &write)
{
    if (m_waiting && m_sinceBusy.elapsed() < m_retryDelay_ms)
        return false;
    try {
        if (!m_registry)
            openRegistry();
        write(*m_registry);
    } catch (const RegistryBusy &) {
        m_sinceBusy.restart();
        if (m_waiting) {
            m_retryDelay_ms = std::min(m_retryDelay_ms * 2, kMaxRetry_ms);
            return false;
        }
        m_waiting = true;
        m_waitingFor.start();
        m_retryDelay_ms = kFirstRetry_ms;
        if (m_onWait)
            m_onWait(true, QStringLiteral("Waiting for the registry: another process holds its "
                                          "write lock. Training goes on; the run's points are "
                                          "kept and recorded when the registry is free."));
        return false;
    }
    if (m_waiting) {
        m_waiting = false;
        if (m_onWait)
            m_onWait(false, QStringLiteral("The registry is free again after %1 s; the points "
                                           "kept meanwhile are recorded.")
                                .arg(QString::number(m_waitingFor.elapsed() / 1000)));
    }
    return true;
}

bool RunRecorder::tryStart()
{
    if (m_runId != 0)
        return true;
    if (!m_begun)
        return false;
    return tryWrite([this](Registry &registry) {
        if (m_resumeRunId != 0) {
            registry.reopenRun(m_resumeRunId, m_checkpointStep);
            m_runId = m_resumeRunId;
            return;
        }
        const qint64 runId = registry.startRun(QStringLiteral("train"), m_recipe, m_runDir);
        m_runId = runId;
        QSaveFile file(runFile(m_runDir));
        const QJsonObject json{{QStringLiteral("run_id"), QString::number(runId)},
                               {QStringLiteral("model"), m_modelName}};
        if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(json).toJson()) < 0
            || !file.commit())
            throw Error(QStringLiteral("Cannot write %1: %2. Check free disk space.")
                            .arg(runFile(m_runDir), file.errorString()));
    });
}

bool RunRecorder::tryFlush()
{
    m_sinceFlush.restart();
    if (!tryStart())
        return false;
    if (m_pending.isEmpty())
        return true;
    if (!tryWrite([this](Registry &registry) { registry.appendMetrics(m_runId, m_pending); }))
        return false;
    m_pending.clear();
    return true;
}

bool RunRecorder::insist(const std::function<bool()> &step, qint64 patience_ms)
{
    QElapsedTimer patience;
    patience.start();
    while (!step()) {
        if (patience.elapsed() >= patience_ms)
            return false;
        // Sleep out the retry delay in short naps rather than one long one.
        const qint64 left = m_retryDelay_ms - m_sinceBusy.elapsed();
        QThread::msleep(ulong(std::clamp<qint64>(left, 10, 200)));
    }
    return true;
}

void RunRecorder::begin(const QString &runDir, const QJsonObject &recipe, bool resume,
                        qint64 checkpointStep)
{
    m_begun = true;
    m_runDir = runDir;
    m_recipe = recipe;
    m_checkpointStep = checkpointStep;
    QString recordedName;
    qint64 recordedRun = 0;
    if (resume && readRunFile(runDir, &recordedName, &recordedRun)) {
        m_modelName = recordedName;
        m_resumeRunId = recordedRun;
    }
    tryStart();
}

void RunRecorder::add(const MetricPoint &point)
{
    m_pending.append(point);
    if (m_sinceFlush.elapsed() >= kFlushInterval_ms)
        tryFlush();
}

void RunRecorder::flush()
{
    tryFlush();
}

VersionRecord RunRecorder::finish(const NewVersion &version)
{
    std::optional<VersionRecord> record;
    bool closed = false;
    const bool recorded = insist(
        [&] {
            if (!tryFlush())
                return false;
            if (!record) {
                NewVersion v = version;
                v.modelName = m_modelName;
                v.runId = m_runId;
                if (!tryWrite([&](Registry &registry) { record = registry.addVersion(v); }))
                    return false;
            }
            if (!closed)
                closed = tryWrite([&](Registry &registry) {
                    registry.finishRun(m_runId, RunStatus::Finished, QString(), record->id);
                });
            return closed;
        },
        m_finishPatience_ms);
    if (recorded)
        return *record;
    const QString what = record ? QStringLiteral("It was registered as %1, but the run is not "
                                                 "closed.")
                                      .arg(record->ref())
                                : QStringLiteral("It is not registered.");
    throw Error(QStringLiteral("The run finished, but another process kept the registry locked "
                               "for %1 s. %2 Its model is %3 and its checkpoint is in %4; record "
                               "it later with: modelstudio-cli train --resume %4")
                    .arg(QString::number(m_waitingFor.elapsed() / 1000), what,
                         version.artifactPath, m_runDir));
}

void RunRecorder::end(JobStatus status, const QString &message)
{
    if (!m_begun)
        return;
    insist(
        [&] {
            return tryFlush()
                   && tryWrite([&](Registry &registry) {
                          registry.finishRun(m_runId, runStatusOf(status), message);
                      });
        },
        kEndPatience_ms);
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
