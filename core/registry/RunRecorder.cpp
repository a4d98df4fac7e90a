#include "registry/RunRecorder.h"

#include "common/Error.h"
#include "jobs/JobContext.h"

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
// finish(): the job's result is at stake.
const qint64 kFinishPatience_ms = 10 * 60 * 1000;

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

// What goes on while the registry is busy, in the waiting message.
QString workOf(const QString &kind)
{
    if (kind == QLatin1String("train"))
        return QStringLiteral("Training");
    if (kind == QLatin1String("compress"))
        return QStringLiteral("The compression");
    return QStringLiteral("The job");
}

} // namespace

RunRecorder::RunRecorder(const QString &workspaceRoot, QString kind, QString modelName,
                         JobContext &context)
    : m_root(workspaceRoot)
    , m_kind(std::move(kind))
    , m_context(context)
    , m_modelName(std::move(modelName))
{
    m_sinceFlush.start();
    try {
        openRegistry();
    } catch (const RegistryBusy &) {
        // Opening wrote (interrupted runs of other processes) and met the lock: later.
        m_registry.reset();
    }
    // Direct: the context emits on the worker thread, where this recorder lives.
    m_feed = QObject::connect(
        &context, &JobContext::metricsReady, &context,
        [this](const MetricBatch &points) { add(points); }, Qt::DirectConnection);
}

RunRecorder::~RunRecorder()
{
    QObject::disconnect(m_feed);
}

void RunRecorder::openRegistry()
{
    auto registry = std::make_unique<Registry>(m_root);
    registry->setBusyTimeout(kBusyTimeout_ms);
    m_registry = std::move(registry);
}

void RunRecorder::reportWaiting(bool waiting)
{
    const QString message =
        waiting ? QStringLiteral("Waiting for the registry: another process holds its write "
                                 "lock. %1 goes on; the run's points are kept and recorded when "
                                 "the registry is free.")
                      .arg(workOf(m_kind))
                : QStringLiteral("The registry is free again after %1 s; the points kept "
                                 "meanwhile are recorded.")
                      .arg(QString::number(m_waitingFor.elapsed() / 1000));
    // Shown, not fatal: a log line, an event the CLI prints, and a note the window's job
    // status shows until the registry is free again.
    m_context.log(message);
    m_context.report(QJsonObject{
        {QStringLiteral("event"), QStringLiteral("registry")},
        {QStringLiteral("state"), waiting ? QStringLiteral("waiting") : QStringLiteral("recorded")},
        {QStringLiteral("message"), message},
        {QStringLiteral("status_note"),
         waiting ? QStringLiteral("waiting for the registry") : QString()}});
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
        reportWaiting(true);
        return false;
    }
    if (m_waiting) {
        m_waiting = false;
        reportWaiting(false);
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
        const qint64 runId = registry.startRun(m_kind, m_recipe, m_runDir);
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

void RunRecorder::add(const MetricBatch &points)
{
    m_pending += points;
    if (!m_failure.isEmpty() || m_sinceFlush.elapsed() < kFlushInterval_ms)
        return;
    // Called by the context's signal, which an exception must not cross (Qt does not promise
    // to survive it): a failing registry is kept for the job's next flush() or finish().
    try {
        tryFlush();
    } catch (const Error &e) {
        m_failure = e.message();
    } catch (const std::exception &e) {
        m_failure = QString::fromUtf8(e.what());
    }
}

void RunRecorder::takeObserved()
{
    m_context.flush();   // the context's pending points pass through add()
    if (!m_failure.isEmpty())
        throw Error(m_failure);
}

void RunRecorder::flush()
{
    takeObserved();
    tryFlush();
}

VersionRecord RunRecorder::finish(const NewVersion &version)
{
    takeObserved();
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
        kFinishPatience_ms);
    if (recorded)
        return *record;
    const QString what = record ? QStringLiteral("It was registered as %1, but the run is not "
                                                 "closed.")
                                      .arg(record->ref())
                                : QStringLiteral("It is not registered.");
    // A training run can be recorded from its checkpoint; other runs are made again.
    const QString later =
        m_kind == QLatin1String("train")
            ? QStringLiteral("Its model is %1 and its checkpoint is in %2; record it later with: "
                             "modelstudio-cli train --resume %2")
                  .arg(version.artifactPath, m_runDir)
            : QStringLiteral("Its model is %1; run the job again to register it.")
                  .arg(version.artifactPath);
    throw Error(QStringLiteral("The run finished, but another process kept the registry locked "
                               "for %1 s. %2 %3")
                    .arg(QString::number(m_waitingFor.elapsed() / 1000), what, later));
}

void RunRecorder::end(JobStatus status, const QString &message)
{
    if (!m_begun)
        return;
    try {
        m_context.flush();   // a registry that failed before may take the end
        insist(
            [&] {
                return tryFlush()
                       && tryWrite([&](Registry &registry) {
                              registry.finishRun(m_runId, runStatusOf(status), message);
                          });
            },
            kEndPatience_ms);
    } catch (const std::exception &e) {
        // The registry itself failed; the job's own outcome is the one to show.
        m_context.log(QStringLiteral("The run could not be closed in the registry: %1")
                          .arg(QString::fromUtf8(e.what())));
    }
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
