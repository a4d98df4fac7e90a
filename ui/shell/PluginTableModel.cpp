#include "shell/PluginTableModel.h"

#include "common/Error.h"

#include <QDir>

namespace ms::ui {

PluginTableModel::PluginTableModel(ms::PluginManager &manager, QString workspace,
                                   QObject *parent)
    : QAbstractTableModel(parent), m_manager(manager), m_workspace(std::move(workspace))
{
    reload();
}

void PluginTableModel::reload()
{
    beginResetModel();
    m_plugins = m_manager.plugins();
    try {
        m_disabled = ms::PluginManager::disabledNames(m_workspace);
    } catch (const ms::Error &e) {
        m_disabled.clear();
        Q_EMIT failed(e.message());
    }
    endResetModel();
}

int PluginTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_plugins.size());
}

int PluginTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant PluginTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_plugins.size())
        return {};
    const ms::PluginInfo &p = m_plugins.at(index.row());
    const QString detail = p.state == ms::PluginInfo::State::Loaded
                               ? p.providers.join(QLatin1String(", "))
                               : p.reason;
    if (role == Qt::CheckStateRole && index.column() == EnabledColumn)
        return m_disabled.contains(p.name) ? Qt::Unchecked : Qt::Checked;
    if (role == Qt::ToolTipRole) {
        if (index.column() == NameColumn)
            return p.description;
        if (index.column() == DetailColumn)
            return detail;
        if (index.column() == FileColumn)
            return QDir::toNativeSeparators(p.file);
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case NameColumn:
        return p.name;
    case VersionColumn:
        return p.version;
    case StateColumn:
        return ms::pluginStateName(p.state);
    case DetailColumn:
        return detail;
    case FileColumn:
        return QDir::toNativeSeparators(p.file);
    default:
        return {};
    }
}

bool PluginTableModel::setData(const QModelIndex &index, const QVariant &value, int role)
{
    if (!index.isValid() || index.column() != EnabledColumn || role != Qt::CheckStateRole)
        return false;
    const QString name = m_plugins.at(index.row()).name;
    const bool enable = value.value<Qt::CheckState>() == Qt::Checked;
    try {
        m_manager.setEnabled(m_workspace, name, enable);
    } catch (const ms::Error &e) {
        Q_EMIT failed(e.message());
        return false;
    }
    // One choice may change the state of others (a name clash resolved): show them all again.
    reload();
    return true;
}

Qt::ItemFlags PluginTableModel::flags(const QModelIndex &index) const
{
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (index.isValid() && index.column() == EnabledColumn)
        f |= Qt::ItemIsUserCheckable;
    return f;
}

QVariant PluginTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case EnabledColumn:
        return tr("On");
    case NameColumn:
        return tr("Name");
    case VersionColumn:
        return tr("Version");
    case StateColumn:
        return tr("State");
    case DetailColumn:
        return tr("Provides / reason");
    case FileColumn:
        return tr("File");
    default:
        return {};
    }
}

} // namespace ms::ui
