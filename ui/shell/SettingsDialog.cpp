#include "shell/SettingsDialog.h"

#include "common/Runtime.h"

#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QThread>
#include <QVBoxLayout>

namespace ms::ui {

SettingsDialog::SettingsDialog(int threads, const QString &workspace, QWidget *parent)
    : QDialog(parent)
    , m_threads(new QSpinBox(this))
    , m_workspace(new QLineEdit(this))
{
    setWindowTitle(tr("Settings"));
    m_threads->setRange(0, ms::Runtime::kMaxThreads);   // the cap train/compress/bench share
    m_threads->setSpecialValueText(tr("all cores (%1)").arg(QThread::idealThreadCount()));
    m_threads->setValue(threads);
    m_threads->setToolTip(tr("CPU threads a new training run uses; the Train form can still "
                             "change it per run"));
    m_workspace->setText(QDir::toNativeSeparators(workspace));
    m_workspace->setToolTip(tr("Where runs, versions and artifacts are kept. Changing it "
                               "switches every panel to that workspace now and next time."));
    auto *browse = new QPushButton(tr("Browse…"), this);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Workspace"),
                                                              m_workspace->text());
        if (!dir.isEmpty())
            m_workspace->setText(QDir::toNativeSeparators(dir));
    });
    auto *workspaceRow = new QHBoxLayout;
    workspaceRow->addWidget(m_workspace, 1);
    workspaceRow->addWidget(browse);

    auto *form = new QFormLayout;
    form->addRow(tr("Compute &threads"), m_threads);
    // A row holding a layout gets no buddy from QFormLayout: without one the '&' would show.
    auto *workspaceLabel = new QLabel(tr("&Workspace"), this);
    workspaceLabel->setBuddy(m_workspace);
    form->addRow(workspaceLabel, workspaceRow);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(buttons);
    resize(560, sizeHint().height());
}

int SettingsDialog::threads() const
{
    return m_threads->value();
}

QString SettingsDialog::workspace() const
{
    return QDir::fromNativeSeparators(m_workspace->text().trimmed());
}

} // namespace ms::ui
