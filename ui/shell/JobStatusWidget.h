#pragma once

#include "jobs/JobRunner.h"

#include <QMap>
#include <QWidget>

class QLabel;
class QProgressBar;

namespace ms::ui {

// The status bar's view of the JobRunner: the latest running job's title and progress, how many
// others run beside it (all of them in the tooltip), and how the last one ended. A job's event
// with a "status_note" (a training run waiting for a busy registry) shows beside its progress
// until an event clears it.
class JobStatusWidget final : public QWidget
{
    Q_OBJECT

public:
    explicit JobStatusWidget(ms::JobRunner *runner, QWidget *parent = nullptr);

    QString text() const;
    int runningCount() const { return int(m_jobs.size()); }

private:
    struct Entry
    {
        QString title;
        double fraction = 0.0;
        bool paused = false;
        QString detail;
        QString note;   // a job's "status_note" event field ("waiting for the registry")
    };

    void onStarted(ms::JobId id, const QString &title);
    void onProgress(ms::JobId id, double fraction, const QString &text);
    void onPaused(ms::JobId id, bool paused);
    void onEvent(ms::JobId id, const QJsonObject &event);
    void onFinished(ms::JobId id, const ms::JobResult &result);
    void update();

    QMap<ms::JobId, Entry> m_jobs;   // running, oldest first (ids grow)
    QLabel *m_label = nullptr;
    QProgressBar *m_progress = nullptr;
};

} // namespace ms::ui
