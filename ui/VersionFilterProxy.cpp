#include "VersionFilterProxy.h"

#include "VersionTableModel.h"

namespace ms::ui {

VersionFilterProxy::VersionFilterProxy(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setSortRole(VersionTableModel::SortRole);
    setFilterCaseSensitivity(Qt::CaseInsensitive);
    setFilterKeyColumn(-1);   // any column
}

void VersionFilterProxy::setModelName(const QString &name)
{
    if (name == m_modelName)
        return;
    m_modelName = name;
    invalidateFilter();
}

bool VersionFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (!m_modelName.isEmpty()) {
        const auto *versions = static_cast<const VersionTableModel *>(sourceModel());
        if (versions->record(sourceRow).modelName != m_modelName)
            return false;
    }
    return QSortFilterProxyModel::filterAcceptsRow(sourceRow, sourceParent);
}

} // namespace ms::ui
