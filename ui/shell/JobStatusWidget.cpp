#include "shell/JobStatusWidget.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>

namespace ms::ui {

JobStatusWidget::JobStatusWidget(ms::JobRunner *runner, QWidget *parent)
    : QWidget(parent)
    , m_label(new QLabel(tr("No job running"), this))
    , m_progress(new QProgressBar(this))
{
    m_progress->setRange(0, 1000);
    m_progress->setTextVisible(false);
    m_progress->setFixedSize(140, 12);
    m_progress->setVisible(false);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_label);
    layout->addWidget(m_progress);

    connect(runner, &ms::JobRunner::started, this, &JobStatusWidget::onStarted);
    connect(runner, &ms::JobRunner::progress, this, &JobStatusWidget::onProgress);
    connect(runner, &ms::JobRunner::pausedChanged, this, &JobStatusWidget::onPaused);
    connect(runner, &ms::JobRunner::event, this, &JobStatusWidget::onEvent);
    connect(runner, &ms::JobRunner::finished, this, &JobStatusWidget::onFinished);
}

QString JobStatusWidget::text() const
{
    return m_label->text();
}

void JobStatusWidget::onStarted(ms::JobId id, const QString &title)
{
    m_jobs.insert(id, Entry{title, 0.0, false, QString(), QString()});
    update();
}

void JobStatusWidget::onProgress(ms::JobId id, double fraction, const QString &text)
{
    const auto it = m_jobs.find(id);
    if (it == m_jobs.end())
        return;
    it->fraction = qBound(0.0, fraction, 1.0);
    it->detail = text;
    update();
}

void JobStatusWidget::onPaused(ms::JobId id, bool paused)
{
    const auto it = m_jobs.find(id);
    if (it == m_jobs.end())
        return;
    it->paused = paused;
    update();
}

void JobStatusWidget::onEvent(ms::JobId id, const QJsonObject &event)
{
    const auto it = m_jobs.find(id);
    const QJsonValue note = event.value(QStringLiteral("status_note"));
    if (it == m_jobs.end() || note.isUndefined())
        return;
    it->note = note.toString();
    update();
}

void JobStatusWidget::onFinished(ms::JobId id, const ms::JobResult &result)
{
    const auto it = m_jobs.find(id);
    if (it == m_jobs.end())
        return;
    const QString title = it->title;
    m_jobs.erase(it);
    if (!m_jobs.isEmpty()) {
        update();
        return;
    }
    // Nothing runs any more: say how the last one ended until the next starts.
    m_progress->setVisible(false);
    m_label->setText(tr("%1 · %2").arg(title, ms::jobStatusName(result.status)));
    m_label->setToolTip(result.message);
}

void JobStatusWidget::update()
{
    if (m_jobs.isEmpty()) {
        m_progress->setVisible(false);
        m_label->setText(tr("No job running"));
        m_label->setToolTip(QString());
        return;
    }
    // The newest job is the one the user just started: it leads.
    const Entry &shown = m_jobs.last();
    const int permille = int(shown.fraction * 1000.0);
    QString text = shown.paused ? tr("%1 · paused").arg(shown.title)
                                : tr("%1 · %2 %").arg(shown.title, QString::number(permille / 10));
    if (!shown.note.isEmpty())
        text += QStringLiteral(" · ") + shown.note;
    if (m_jobs.size() > 1)
        text += tr(" (+%1 more)").arg(m_jobs.size() - 1);
    m_label->setText(text);
    QStringList lines;
    for (const Entry &entry : std::as_const(m_jobs)) {
        QString line =
            tr("%1: %2 %").arg(entry.title, QString::number(int(entry.fraction * 100.0)));
        if (!entry.detail.isEmpty())
            line += QStringLiteral(" · ") + entry.detail;
        if (!entry.note.isEmpty())
            line += QStringLiteral(" · ") + entry.note;
        lines << line;
    }
    m_label->setToolTip(lines.join(QLatin1Char('\n')));
    m_progress->setValue(permille);
    m_progress->setVisible(true);
}

} // namespace ms::ui
