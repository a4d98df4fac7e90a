#pragma once

#include "jobs/MetricPoint.h"

#include <QElapsedTimer>
#include <QJsonObject>
#include <QMutex>
#include <QObject>
#include <QWaitCondition>

#include <atomic>

namespace ms {

// The thread-safe channel between a running job and whoever watches it (window, CLI, test).
// The worker calls setProgress/addMetric/log/checkPoint; observers call cancel/pause/resume and
// connect to the signals, which are emitted from the worker thread (so queued to observers).
// Throttled at the source: progress is emitted when it moves 0.1 % (a text-only change at most
// every flushInterval_ms), metric points travel in batches at most every flushInterval_ms.
class JobContext final : public QObject
{
    Q_OBJECT

public:
    explicit JobContext(QObject *parent = nullptr);

    // --- worker side ---
    bool isCancelled() const { return m_cancelled.load(); }
    // Blocks while paused. Returns false when the job should stop because it was cancelled.
    bool checkPoint();
    void setProgress(double fraction, const QString &text = QString());
    void addMetric(const QString &key, qint64 step, int epoch, double value);
    void log(const QString &line);
    // A structured, notable event such as the end of an epoch ({"event": "epoch", ...}).
    // Pending metric points are flushed first, so observers see them before the event.
    void report(const QJsonObject &event);
    // Emits pending metric points now (the runner calls it when run() returns).
    void flush();
    double elapsed_s() const;

    // --- controller side (any thread) ---
    void cancel();
    void pause();
    void resume();
    bool isPaused() const { return m_paused.load(); }

Q_SIGNALS:
    void progressChanged(double fraction, const QString &text);
    void metricsReady(const ms::MetricBatch &points);
    void logged(const QString &line);
    void reported(const QJsonObject &event);
    void pausedChanged(bool paused);

private:
    std::atomic<bool> m_cancelled{false};
    std::atomic<bool> m_paused{false};
    QMutex m_pauseMutex;
    QWaitCondition m_pauseCondition;

    QMutex m_metricMutex;
    MetricBatch m_pending;
    QElapsedTimer m_clock;
    qint64 m_lastFlush_ms = 0;
    const int m_flushInterval_ms = 50;

    double m_lastProgress = -1.0;
    qint64 m_lastProgressEmit_ms = 0;
    QString m_lastProgressText;
};

} // namespace ms
