// The Versions panel's "Compress…": the dialog for the selected version, the CompressJob on the
// window's runner with a progress line, and the new version selected when it ends. Split from
// VersionsPanel.cpp by feature, like VersionsPanelActions.cpp.
#include "panels/versions/VersionsPanel.h"

#include "panels/versions/CompressDialog.h"
#include "panels/versions/VersionTableModel.h"

#include "common/Error.h"
#include "compress/CompressJob.h"

#include <QAction>

#include <exception>
#include <memory>

namespace ms::ui {

void VersionsPanel::setJobRunner(ms::JobRunner *runner)
{
    if (m_runner)
        m_runner->disconnect(this);
    m_runner = runner;
    if (m_runner) {
        connect(m_runner, &ms::JobRunner::progress, this,
                [this](ms::JobId id, double fraction, const QString &text) {
                    if (id != m_compressJob)
                        return;
                    m_status->setStatus(
                        tr("Compressing: %1% %2").arg(qRound(fraction * 100.0)).arg(text),
                        Tone::Busy);
                });
        connect(m_runner, &ms::JobRunner::finished, this, &VersionsPanel::onCompressFinished);
    }
    updateActions();
}

CompressDialog *VersionsPanel::compressSelected()
{
    const qint64 id = selectedId();
    const int row = id == 0 ? -1 : m_model->rowOf(id);
    if (row < 0 || !m_runner) {
        m_status->setStatus(row < 0 ? tr("Select a version to compress.")
                                    : tr("Compression needs the window's job runner."),
                            Tone::Error);
        return nullptr;
    }
    QStringList refs;
    for (int r = 0; r < m_model->rowCount(); ++r)
        refs << m_model->record(r).ref();
    const ms::VersionRecord &v = m_model->record(row);
    auto *dialog = new CompressDialog(m_workspace, v.ref(), v.modelName, refs, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this,
            [this, dialog] { startCompress(dialog->acceptedSpec()); });
    dialog->open();
    return dialog;
}

bool VersionsPanel::startCompress(const QJsonObject &spec)
{
    if (!m_runner || m_compressJob != 0) {
        m_status->setStatus(m_runner ? tr("A compression is already running; wait for it to end.")
                                     : tr("Compression needs the window's job runner."),
                            Tone::Error);
        return false;
    }
    try {
        auto job = std::make_unique<ms::CompressJob>(m_workspace, spec);
        const QString title = job->title();
        m_compressJob = m_runner->start(std::move(job));
        m_status->setStatus(tr("%1…").arg(title), Tone::Busy);
    } catch (const ms::Error &e) {
        m_status->setStatus(tr("Cannot compress: %1").arg(e.message()), Tone::Error);
        return false;
    }
    updateActions();
    return true;
}

void VersionsPanel::onCompressFinished(ms::JobId id, const ms::JobResult &result)
{
    if (id != m_compressJob)
        return;
    m_compressJob = 0;
    reload();
    if (result.status == ms::JobStatus::Finished) {
        const QString ref = result.output.value(QStringLiteral("version")).toString();
        selectId(result.output.value(QStringLiteral("version_id")).toInteger());
        m_status->setStatus(tr("Registered %1.").arg(ref), Tone::Ok);
        Q_EMIT compressFinished(true, ref);
    } else {
        const QString message = result.message.isEmpty() ? ms::jobStatusName(result.status)
                                                         : result.message;
        m_status->setStatus(tr("Compression failed: %1").arg(message), Tone::Error);
        Q_EMIT compressFinished(false, message);
    }
    updateActions();
}

} // namespace ms::ui
