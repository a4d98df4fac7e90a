#include "panels/compare/VariantTableModel.h"

#include <QBrush>
#include <QFont>

#include <cmath>

namespace ms::ui {

namespace {

const QColor kBetter(0x2e, 0x7d, 0x32);
const QColor kWorse(0xc6, 0x28, 0x28);

} // namespace

VariantTableModel::VariantTableModel(QObject *parent)
    : QAbstractTableModel(parent)
    , m_columns(ms::Comparison::columns())
{}

void VariantTableModel::setComparison(ms::Comparison comparison, QVector<QColor> colors)
{
    beginResetModel();
    m_comparison = std::move(comparison);
    m_columns = m_comparison.shownColumns();
    m_text = m_comparison.textRows();
    m_colors = std::move(colors);
    endResetModel();
}

int VariantTableModel::columnOf(const QString &key) const
{
    for (int c = 0; c < m_columns.size(); ++c) {
        if (m_columns[c].key == key)
            return c + 1;
    }
    return -1;
}

int VariantTableModel::direction(const QString &key)
{
    if (key == QLatin1String("test_acc") || key == QLatin1String("throughput_per_s")
        || key == QLatin1String("gen_tokens_per_s"))
        return 1;
    if (key.endsWith(QLatin1String("_ms")) || key.endsWith(QLatin1String("_bytes"))
        || key.endsWith(QLatin1String("parameters")) || key == QLatin1String("val_loss")
        || key == QLatin1String("val_ppl"))
        return -1;
    return 0;
}

int VariantTableModel::ratioVerdict(double ratio, int direction)
{
    constexpr double kSame = 0.005;
    if (direction == 0 || std::abs(ratio - 1.0) < kSame)
        return 0;
    return (ratio > 1.0) == (direction > 0) ? 1 : -1;
}

int VariantTableModel::pointsVerdict(double diff)
{
    constexpr double kSame = 0.00005;   // 0.005 points
    if (std::abs(diff) < kSame)
        return 0;
    return diff > 0 ? 1 : -1;
}

int VariantTableModel::differenceVerdict(double diff, int direction)
{
    constexpr double kSame = 0.0005;
    if (direction == 0 || std::abs(diff) < kSame)
        return 0;
    return (diff > 0) == (direction > 0) ? 1 : -1;
}

int VariantTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_comparison.rows().size());
}

int VariantTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_columns.size()) + 1;
}

QVariant VariantTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_comparison.rows().size())
        return {};
    const ms::Comparison::Row &row = m_comparison.rows().at(index.row());
    if (index.column() == 0) {
        switch (role) {
        case Qt::DisplayRole:
        case ValueRole: return row.version;
        case Qt::DecorationRole: return m_colors.value(index.row());
        case Qt::FontRole: {
            QFont font;
            font.setBold(index.row() == 0);   // the baseline every delta refers to
            return font;
        }
        case Qt::ToolTipRole:
            return index.row() == 0 ? tr("The baseline: every delta is against this version")
                                    : QVariant();
        default: return {};
        }
    }
    const QString key = m_columns.at(index.column() - 1).key;
    const QJsonValue value = row.values.value(key);
    const QJsonObject delta = row.deltas.value(key).toObject();
    const bool hasDelta = index.row() > 0 && !delta.isEmpty();
    auto better = [&]() -> int {
        const int dir = direction(key);
        if (!hasDelta || dir == 0)
            return 0;
        const ms::Comparison::Delta kind = m_columns.at(index.column() - 1).delta;
        if (kind == ms::Comparison::Delta::Points)
            return pointsVerdict(delta.value(QStringLiteral("diff")).toDouble());
        if (kind == ms::Comparison::Delta::Difference)
            return differenceVerdict(delta.value(QStringLiteral("diff")).toDouble(), dir);
        if (!delta.contains(QStringLiteral("ratio")))
            return 0;
        return ratioVerdict(delta.value(QStringLiteral("ratio")).toDouble(), dir);
    };
    switch (role) {
    case Qt::DisplayRole: return m_text.value(index.row()).value(index.column());
    case ValueRole: return value.toVariant();
    case DiffRole: return hasDelta ? delta.value(QStringLiteral("diff")).toVariant() : QVariant();
    case RatioRole:
        return hasDelta && delta.contains(QStringLiteral("ratio"))
                   ? delta.value(QStringLiteral("ratio")).toVariant()
                   : QVariant();
    case BetterRole: return better();
    case Qt::ForegroundRole: {
        const int b = better();
        return b == 0 ? QVariant() : QVariant(QBrush(b > 0 ? kBetter : kWorse));
    }
    case Qt::TextAlignmentRole:
        return QVariant::fromValue(Qt::Alignment(
            (value.isString() ? Qt::AlignLeft : Qt::AlignRight) | Qt::AlignVCenter));
    default: return {};
    }
}

QVariant VariantTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::DisplayRole)
        return section == 0 ? tr("version") : m_columns.value(section - 1).header;
    if (role == Qt::ToolTipRole && section > 0) {
        switch (m_columns.value(section - 1).delta) {
        case ms::Comparison::Delta::Points:
            return tr("In parentheses: the difference with the baseline, in points");
        case ms::Comparison::Delta::Ratio:
            return tr("In parentheses: the ratio to the baseline");
        case ms::Comparison::Delta::Difference:
            return tr("In parentheses: the difference with the baseline");
        default: return {};
        }
    }
    return {};
}

} // namespace ms::ui
