#include "panels/optimize/TrialTableModel.h"

#include "common/Format.h"

#include <QJsonValue>

#include <cmath>

namespace ms::ui {

namespace {

QString paramText(const QJsonValue &value)
{
    if (value.isDouble())
        return formatValue(value.toDouble());
    if (value.isBool())
        return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    if (value.isUndefined() || value.isNull())
        return QString();
    return value.toVariant().toString();
}

} // namespace

TrialTableModel::TrialTableModel(QObject *parent)
    : QAbstractTableModel(parent)
{}

void TrialTableModel::setSweep(const QStringList &paramPaths, const QString &metric)
{
    beginResetModel();
    m_params = paramPaths;
    m_metric = metric;
    m_trials.clear();
    endResetModel();
}

void TrialTableModel::clear()
{
    setSweep({}, QString());
}

int TrialTableModel::rowOf(int number) const
{
    for (int row = 0; row < m_trials.size(); ++row)
        if (m_trials.at(row).number == number)
            return row;
    return -1;
}

void TrialTableModel::setTrials(const QVector<ms::TrialRecord> &trials)
{
    // Trials only come (a sweep never forgets one while it runs): update the rows already
    // shown in place, append the new ones.
    for (const ms::TrialRecord &t : trials) {
        const int row = rowOf(t.number);
        if (row >= 0) {
            m_trials[row] = t;
            Q_EMIT dataChanged(index(row, 0), index(row, columnCount() - 1));
        } else {
            beginInsertRows({}, int(m_trials.size()), int(m_trials.size()));
            m_trials.push_back(t);
            endInsertRows();
        }
    }
}

int TrialTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_trials.size());
}

int TrialTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : FirstParamColumn + int(m_params.size());
}

QVariant TrialTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_trials.size())
        return {};
    const ms::TrialRecord &t = m_trials.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        return displayData(t, index.column());
    case Qt::UserRole:
        return rawData(t, index.column());
    case Qt::ToolTipRole:
        return index.column() == StatusColumn && !t.message.isEmpty() ? QVariant(t.message)
                                                                      : QVariant();
    case Qt::TextAlignmentRole:
        return index.column() == StatusColumn
                   ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                   : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    default:
        return {};
    }
}

QVariant TrialTableModel::displayData(const ms::TrialRecord &t, int column) const
{
    switch (column) {
    case NumberColumn:
        return t.number;
    case StatusColumn:
        return t.status;
    case ValueColumn:
        return std::isnan(t.value) ? QString() : formatValue(t.value);
    case EpochsColumn:
        return t.epochs;
    default:
        return paramText(t.params.value(m_params.value(column - FirstParamColumn)));
    }
}

QVariant TrialTableModel::rawData(const ms::TrialRecord &t, int column) const
{
    switch (column) {
    case NumberColumn:
        return t.number;
    case StatusColumn:
        return t.status;
    case ValueColumn:
        return std::isnan(t.value) ? QVariant() : QVariant(t.value);
    case EpochsColumn:
        return t.epochs;
    default:
        return t.params.value(m_params.value(column - FirstParamColumn)).toVariant();
    }
}

QVariant TrialTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case NumberColumn:
        return tr("Trial");
    case StatusColumn:
        return tr("Status");
    case ValueColumn:
        return m_metric.isEmpty() ? tr("Objective") : m_metric;
    case EpochsColumn:
        return tr("Epochs");
    default:
        return m_params.value(section - FirstParamColumn);
    }
}

void TrialFilterProxy::setVisibleTrials(const std::optional<QSet<int>> &numbers)
{
    // Qt 6.9+ has begin/endFilterChange; invalidateFilter() works on every Qt 6.
    m_visible = numbers;
    invalidateFilter();
}

bool TrialFilterProxy::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (!m_visible)
        return true;
    const QModelIndex number =
        sourceModel()->index(sourceRow, TrialTableModel::NumberColumn, sourceParent);
    return m_visible->contains(number.data(Qt::UserRole).toInt());
}

bool TrialFilterProxy::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    const QVariant a = left.data(Qt::UserRole);
    const QVariant b = right.data(Qt::UserRole);
    // Trials without a value (running, failed) sort after every value.
    if (!a.isValid() || !b.isValid())
        return a.isValid() && !b.isValid();
    return QVariant::compare(a, b) == QPartialOrdering::Less;
}

} // namespace ms::ui
