#include "panels/versions/VersionFilterProxy.h"

#include "panels/versions/VersionTableModel.h"

namespace ms::ui {

VersionFilterProxy::VersionFilterProxy(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setSortRole(VersionTableModel::SortRole);
}

void VersionFilterProxy::setText(const QString &text)
{
    const QString lower = text.toLower();
    if (lower == m_text)
        return;
    m_text = lower;
    invalidateFilter();
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
    Q_UNUSED(sourceParent)
    const auto *versions = static_cast<const VersionTableModel *>(sourceModel());
    if (!m_modelName.isEmpty() && versions->record(sourceRow).modelName != m_modelName)
        return false;
    return m_text.isEmpty() || versions->searchText(sourceRow).contains(m_text);
}

} // namespace ms::ui
