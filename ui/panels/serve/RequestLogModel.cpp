#include "panels/serve/RequestLogModel.h"

#include "common/StatusLine.h"

#include <QBrush>
#include <QColor>

namespace ms::ui {

RequestLogModel::RequestLogModel(int capacity, QObject *parent)
    : QAbstractTableModel(parent)
    , m_capacity(qMax(1, capacity))
{}

void RequestLogModel::append(const ms::RequestRecord &record)
{
    if (int(m_records.size()) >= m_capacity) {
        const int last = int(m_records.size()) - 1;
        beginRemoveRows(QModelIndex(), last, last);
        m_records.pop_back();
        endRemoveRows();
    }
    beginInsertRows(QModelIndex(), 0, 0);
    m_records.push_front(record);
    endInsertRows();
}

void RequestLogModel::clear()
{
    beginResetModel();
    m_records.clear();
    endResetModel();
}

int RequestLogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_records.size());
}

int RequestLogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RequestLogModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= int(m_records.size()))
        return {};
    const ms::RequestRecord &record = m_records.at(size_t(index.row()));
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Time:
            return record.time.toLocalTime().toString(QStringLiteral("HH:mm:ss.zzz"));
        case Method:
            return record.method;
        case Path:
            return record.path;
        case Status:
            return record.status;
        case Latency:
            return QString::number(record.latency_us / 1000.0, 'f', 2);
        case Batch:
            return record.batchSize > 0 ? QVariant(record.batchSize) : QVariant(QString());
        default:
            return {};
        }
    }
    if (role == Qt::TextAlignmentRole) {
        if (index.column() == Status || index.column() == Latency || index.column() == Batch)
            return int(Qt::AlignRight | Qt::AlignVCenter);
        return int(Qt::AlignLeft | Qt::AlignVCenter);
    }
    if (role == Qt::ForegroundRole && index.column() == Status) {
        if (record.status >= 500)
            return QBrush(toneColor(Tone::Error));
        if (record.status >= 400)
            return QBrush(toneColor(Tone::Warning));
    }
    if (role == Qt::ToolTipRole && index.column() == Latency && record.queue_us > 0.0)
        return tr("%1 ms waiting for its batch").arg(record.queue_us / 1000.0, 0, 'f', 2);
    return {};
}

QVariant RequestLogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Time:
        return tr("Time");
    case Method:
        return tr("Method");
    case Path:
        return tr("Path");
    case Status:
        return tr("Status");
    case Latency:
        return tr("Latency (ms)");
    case Batch:
        return tr("Batch");
    default:
        return {};
    }
}

} // namespace ms::ui
