#include "jobs/JobRunner.h"

#include "common/Cancelled.h"
#include "common/Error.h"
#include "common/Runtime.h"
#include "jobs/JobContext.h"

#include <QThread>

#include <algorithm>
#include <exception>

#ifdef Q_OS_LINUX
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace ms {

QString jobStatusName(JobStatus status)
{
    switch (status) {
    case JobStatus::Finished: return QStringLiteral("finished");
    case JobStatus::Failed: return QStringLiteral("failed");
    case JobStatus::Cancelled: return QStringLiteral("cancelled");
    case JobStatus::Diverged: return QStringLiteral("diverged");
    }
    return QStringLiteral("unknown");
}

namespace {

// Lowers the calling thread's priority by `niceness` (Linux: per-thread nice, inherited by the
// threads it creates afterwards, such as the OpenMP team of its first parallel region).
void lowerThisThreadPriority(int niceness)
{
#ifdef Q_OS_LINUX
    if (niceness > 0) {
        const int current = getpriority(PRIO_PROCESS, gettid());
        setpriority(PRIO_PROCESS, gettid(), std::min(19, current + niceness));
    }
#else
    Q_UNUSED(niceness)
#endif
}

// The job boundary: whatever run() throws becomes a Failed result with one readable line;
// ms::Cancelled (a stop noticed deep inside, such as in a dataset reader) a Cancelled one.
JobResult runGuarded(Job &job, JobContext &context)
{
    try {
        return job.run(context);
    } catch (const Cancelled &e) {
        return JobResult{JobStatus::Cancelled, e.message(), {}};
    } catch (const Error &e) {
        return JobResult{JobStatus::Failed, e.message(), {}};
    } catch (const std::bad_alloc &) {
        return JobResult{JobStatus::Failed,
                         QStringLiteral("Out of memory: lower the batch size or --limit the "
                                        "dataset."), {}};
    } catch (const std::exception &e) {
        return JobResult{JobStatus::Failed,
                         QStringLiteral("Internal error: %1").arg(QString::fromUtf8(e.what())),
                         {}};
    }
}

} // namespace

JobRunner::JobRunner(QObject *parent)
    : QObject(parent)
{
    qRegisterMetaType<ms::MetricBatch>();
    qRegisterMetaType<ms::JobResult>();
    qRegisterMetaType<ms::JobId>("ms::JobId");
    // Before any worker thread allocates: see the comment on the function.
    Runtime::tuneAllocatorForTensors();
}

JobRunner::~JobRunner()
{
    for (auto it = m_jobs.begin(); it != m_jobs.end(); ++it)
        it->context->cancel();
    for (auto it = m_jobs.begin(); it != m_jobs.end(); ++it) {
        it->thread->wait();
        delete it->thread;
    }
}

JobId JobRunner::start(std::unique_ptr<Job> job)
{
    const JobId id = m_nextId++;
    Running running;
    running.job = std::shared_ptr<Job>(std::move(job));
    running.context = new JobContext(this);
    running.result = std::make_shared<JobResult>();

    JobContext *context = running.context;
    connect(context, &JobContext::progressChanged, this,
            [this, id](double fraction, const QString &text) {
                Q_EMIT progress(id, fraction, text);
            });
    connect(context, &JobContext::metricsReady, this,
            [this, id](const MetricBatch &points) { Q_EMIT metrics(id, points); });
    connect(context, &JobContext::logged, this,
            [this, id](const QString &line) { Q_EMIT logLine(id, line); });
    connect(context, &JobContext::reported, this,
            [this, id](const QJsonObject &e) { Q_EMIT event(id, e); });
    connect(context, &JobContext::pausedChanged, this,
            [this, id](bool paused) { Q_EMIT pausedChanged(id, paused); });

    std::shared_ptr<Job> jobRef = running.job;
    std::shared_ptr<JobResult> result = running.result;
    const int niceness = m_workerNiceness;
    running.thread = QThread::create([jobRef, context, result, niceness] {
        lowerThisThreadPriority(niceness);
        *result = runGuarded(*jobRef, *context);
        // Posted before QThread::finished, so observers see every point before the result.
        context->flush();
    });
    running.thread->setObjectName(QStringLiteral("job-%1").arg(id));
    connect(running.thread, &QThread::finished, this, [this, id] { onThreadFinished(id); });

    const QString title = running.job->title();
    m_jobs.insert(id, running);
    // Queued, so the caller already holds the id when observers hear of the job; it is posted
    // before the worker can post anything, so it still arrives first.
    QMetaObject::invokeMethod(this, [this, id, title] { Q_EMIT started(id, title); },
                              Qt::QueuedConnection);
    running.thread->start();
    return id;
}

void JobRunner::onThreadFinished(JobId id)
{
    auto it = m_jobs.find(id);
    if (it == m_jobs.end())
        return;
    Running running = *it;
    m_jobs.erase(it);
    running.thread->wait();
    running.thread->deleteLater();
    running.context->deleteLater();
    Q_EMIT finished(id, *running.result);
}

void JobRunner::cancel(JobId id)
{
    if (auto it = m_jobs.find(id); it != m_jobs.end())
        it->context->cancel();
}

void JobRunner::pause(JobId id)
{
    if (auto it = m_jobs.find(id); it != m_jobs.end())
        it->context->pause();
}

void JobRunner::resume(JobId id)
{
    if (auto it = m_jobs.find(id); it != m_jobs.end())
        it->context->resume();
}

bool JobRunner::isPaused(JobId id) const
{
    auto it = m_jobs.find(id);
    return it != m_jobs.end() && it->context->isPaused();
}

} // namespace ms
