#pragma once

#include "InferenceService.h"

#include <QAbstractTableModel>

#include <deque>

namespace ms::ui {

// The Serve panel's request log: the latest requests first, capped so a server left running
// for hours keeps a bounded table (the CLI's --log and /metrics keep the full picture).
class RequestLogModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { Time, Method, Path, Status, Latency, Batch, ColumnCount };

    explicit RequestLogModel(int capacity = 1000, QObject *parent = nullptr);

    // Inserts at the top and drops the oldest beyond the capacity.
    void append(const ms::RequestRecord &record);
    void clear();
    int capacity() const { return m_capacity; }
    // Row 0 is the newest.
    const ms::RequestRecord &record(int row) const { return m_records.at(size_t(row)); }

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    int m_capacity = 1000;
    std::deque<ms::RequestRecord> m_records;   // newest first
};

} // namespace ms::ui
