#include "jobs/JobContext.h"

#include <QMutexLocker>

#include <cmath>

namespace ms {

JobContext::JobContext(QObject *parent)
    : QObject(parent)
{
    m_clock.start();
}

bool JobContext::checkPoint()
{
    if (m_paused.load()) {
        // Points gathered before the pause should reach the plots now, not after resume.
        flush();
        QMutexLocker lock(&m_pauseMutex);
        while (m_paused.load() && !m_cancelled.load())
            m_pauseCondition.wait(&m_pauseMutex);
    }
    return !m_cancelled.load();
}

void JobContext::setProgress(double fraction, const QString &text)
{
    // Emit on a visible move of 0.1 % (QgsFeedback's rule) and always at the end. A text that
    // changes every step ("step 17/422") would defeat that, so a text-only change waits for
    // the flush interval; the next emission carries the newest text anyway.
    // At 100 % a new text ("Finished") is the last word and always goes out.
    const bool end = fraction >= 1.0 && (m_lastProgress < 1.0 || text != m_lastProgressText);
    const bool moved = std::abs(fraction - m_lastProgress) >= 0.001;
    const bool newText = text != m_lastProgressText
                         && m_clock.elapsed() - m_lastProgressEmit_ms >= m_flushInterval_ms;
    if (!end && !moved && !newText)
        return;
    m_lastProgress = fraction;
    m_lastProgressText = text;
    m_lastProgressEmit_ms = m_clock.elapsed();
    Q_EMIT progressChanged(fraction, text);
}

void JobContext::addMetric(const QString &key, qint64 step, int epoch, double value)
{
    bool due = false;
    {
        QMutexLocker lock(&m_metricMutex);
        m_pending.append(MetricPoint{key, step, epoch, value, elapsed_s()});
        due = m_clock.elapsed() - m_lastFlush_ms >= m_flushInterval_ms;
    }
    if (due)
        flush();
}

void JobContext::log(const QString &line)
{
    Q_EMIT logged(line);
}

void JobContext::report(const QJsonObject &event)
{
    flush();
    Q_EMIT reported(event);
}

void JobContext::flush()
{
    MetricBatch batch;
    {
        QMutexLocker lock(&m_metricMutex);
        m_lastFlush_ms = m_clock.elapsed();
        if (m_pending.isEmpty())
            return;
        batch.swap(m_pending);
    }
    Q_EMIT metricsReady(batch);
}

double JobContext::elapsed_s() const
{
    return double(m_clock.nsecsElapsed()) / 1e9;
}

void JobContext::cancel()
{
    m_cancelled.store(true);
    QMutexLocker lock(&m_pauseMutex);
    m_pauseCondition.wakeAll();
}

void JobContext::pause()
{
    if (m_paused.exchange(true))
        return;
    Q_EMIT pausedChanged(true);
}

void JobContext::resume()
{
    {
        QMutexLocker lock(&m_pauseMutex);
        if (!m_paused.exchange(false))
            return;
        m_pauseCondition.wakeAll();
    }
    Q_EMIT pausedChanged(false);
}

} // namespace ms
