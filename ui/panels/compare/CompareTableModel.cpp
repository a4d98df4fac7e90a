#include "panels/compare/CompareTableModel.h"

#include "common/Format.h"

#include <cmath>

namespace ms::ui {

namespace {

QString valueText(double value)
{
    return std::isfinite(value) ? formatValue(value) : QStringLiteral("—");
}

} // namespace

CompareTableModel::CompareTableModel(QObject *parent)
    : QAbstractTableModel(parent)
{}

void CompareTableModel::setRows(const QString &metric, QVector<Row> rows)
{
    beginResetModel();
    m_metric = metric;
    m_rows = std::move(rows);
    endResetModel();
    Q_EMIT headerDataChanged(Qt::Horizontal, 0, ColumnCount - 1);
}

bool CompareTableModel::lowerIsBetter(const QString &metric)
{
    const QString key = metric.toLower();
    for (const char *word : {"loss", "error", "latency", "time"}) {
        if (key.contains(QLatin1String(word)))
            return true;
    }
    return false;
}

int CompareTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int CompareTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant CompareTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const Row &row = m_rows.at(index.row());
    const int column = index.column();
    if (role == Qt::DecorationRole && column == Item)
        return row.color;
    if (role == Qt::TextAlignmentRole)
        return QVariant::fromValue(Qt::Alignment(
            (column == Item ? Qt::AlignLeft : Qt::AlignRight) | Qt::AlignVCenter));
    if (role == Qt::ToolTipRole && column == Item && !row.hasRun)
        return tr("No run recorded for this version: final metrics only.");
    if (role == ValueRole) {
        switch (column) {
        case Points: return double(row.points);
        case Final: return row.final;
        case Best: return row.best;
        case BestAt: return double(row.bestStep);
        case TestAcc: return row.testAcc;
        case Params: return double(row.parameterCount);
        case Size: return double(row.sizeBytes);
        default: return {};
        }
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (column) {
    case Item: return row.label;
    case Points: return row.hasRun ? formatCount(row.points) : QStringLiteral("—");
    case Final: return valueText(row.final);
    case Best: return valueText(row.best);
    case BestAt:
        return std::isfinite(row.best)
                   ? tr("step %1 · epoch %2").arg(formatCount(row.bestStep)).arg(row.bestEpoch)
                   : QStringLiteral("—");
    case TestAcc:
        return std::isfinite(row.testAcc)
                   ? QStringLiteral("%1 %").arg(row.testAcc * 100.0, 0, 'f', 2)
                   : QStringLiteral("—");
    case Params: return row.parameterCount > 0 ? formatCount(row.parameterCount)
                                               : QStringLiteral("—");
    case Size: return row.sizeBytes > 0 ? formatSize(row.sizeBytes)
                                        : QStringLiteral("—");
    default: return {};
    }
}

QVariant CompareTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    const QString metric = m_metric.isEmpty() ? tr("metric") : m_metric;
    switch (section) {
    case Item: return tr("Run or version");
    case Points: return tr("Points");
    case Final: return tr("Final %1").arg(metric);
    case Best: return tr("Best %1 (%2)").arg(metric, lowerIsBetter(m_metric) ? tr("min")
                                                                              : tr("max"));
    case BestAt: return tr("Best at");
    case TestAcc: return tr("Test acc");
    case Params: return tr("Params");
    case Size: return tr("Size");
    default: return {};
    }
}

} // namespace ms::ui
