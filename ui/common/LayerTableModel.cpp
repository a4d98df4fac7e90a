#include "common/LayerTableModel.h"

#include "common/Format.h"

#include "common/ShapeText.h"

#include <QBrush>
#include <QColor>

namespace ms::ui {

LayerTableModel::LayerTableModel(QObject *parent)
    : QAbstractTableModel(parent)
{}

void LayerTableModel::setSummary(const ms::ModelSummary &summary)
{
    beginResetModel();
    m_summary = summary;
    endResetModel();
}

void LayerTableModel::clear()
{
    setSummary(ms::ModelSummary{});
}

int LayerTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_summary.layers.size());
}

int LayerTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant LayerTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_summary.layers.size())
        return {};
    const ms::LayerSummary &layer = m_summary.layers.at(index.row());
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        switch (column) {
        case NameColumn: return layer.name;
        case TypeColumn: return layer.type;
        case OutputColumn: return shapeText(layer.outputShape, ShapeStyle::Window);
        case ParamsColumn: return layer.params > 0 ? formatCount(layer.params) : QString();
        case MacsColumn: return layer.macs > 0 ? formatCompact(double(layer.macs)) : QString();
        }
        break;
    case Qt::EditRole:   // raw numbers, for sorting proxies and tests
        switch (column) {
        case ParamsColumn: return qlonglong(layer.params);
        case MacsColumn: return qlonglong(layer.macs);
        default: return data(index, Qt::DisplayRole);
        }
    case Qt::TextAlignmentRole:
        if (column == ParamsColumn || column == MacsColumn)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return int(Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::ForegroundRole:
        // Layers without weights (activations, pooling) recede so the heavy ones stand out.
        if (column == NameColumn && layer.params == 0)
            return QBrush(QColor(110, 110, 110));
        break;
    case Qt::ToolTipRole:
        return tr("%1 (%2): output %3, %4 parameters, %5")
            .arg(layer.name, layer.type, shapeText(layer.outputShape, ShapeStyle::Window),
                 formatCount(layer.params),
                 layer.macs >= 0 ? tr("%1 multiply-accumulates per sample")
                                       .arg(formatCount(layer.macs))
                                 : tr("multiply-accumulates not countable (control flow)"));
    default:
        break;
    }
    return {};
}

QVariant LayerTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::TextAlignmentRole) {
        if (section == ParamsColumn || section == MacsColumn)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return int(Qt::AlignLeft | Qt::AlignVCenter);
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn: return tr("Layer");
    case TypeColumn: return tr("Type");
    case OutputColumn: return tr("Output");
    case ParamsColumn: return tr("Params");
    case MacsColumn: return tr("MACs");
    }
    return {};
}

} // namespace ms::ui
