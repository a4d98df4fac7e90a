#include "shell/PluginsDialog.h"

#include "shell/PluginTableModel.h"

#include "plugins/PluginManager.h"

#include <QDialogButtonBox>
#include <QDir>
#include <QHeaderView>
#include <QLabel>
#include <QTableView>
#include <QVBoxLayout>

namespace ms::ui {

PluginsDialog::PluginsDialog(const QString &workspace, QWidget *parent) : QDialog(parent)
{
    setWindowTitle(tr("Plugins"));
    ms::PluginManager &manager = ms::PluginManager::instance();
    m_model = new PluginTableModel(manager, workspace, this);
    m_view = new QTableView(this);
    m_view->setModel(m_model);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->verticalHeader()->hide();
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_view->horizontalHeader()->setSectionResizeMode(PluginTableModel::DetailColumn,
                                                     QHeaderView::Stretch);
    m_view->setWordWrap(false);

    auto *intro = new QLabel(
        tr("Plugins found in %1. Unchecking a plugin removes its architectures, readers, "
           "methods and exporters from the studio at once (lists already on screen, such as "
           "the Train panel's architectures, and its panels change at the next start). The "
           "choice is kept in this workspace.")
            .arg(QDir::toNativeSeparators(manager.searchPaths().join(QDir::listSeparator()))),
        this);
    intro->setWordWrap(true);
    m_message = new QLabel(this);
    m_message->setWordWrap(true);
    m_message->setStyleSheet(QStringLiteral("color: #b3261e;"));
    connect(m_model, &PluginTableModel::failed, m_message, &QLabel::setText);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_message);
    layout->addWidget(buttons);
    resize(900, 360);
}

QString PluginsDialog::message() const
{
    return m_message->text();
}

} // namespace ms::ui
