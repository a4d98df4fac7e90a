#pragma once

#include "models/ArchSpec.h"

#include <QAbstractTableModel>

namespace ms::ui {

// The rows of a ModelSummary (name, type, output shape, parameters, MACs) for a QTableView.
// Read-only; the Train panel shows the chosen architecture with it, the Versions panel will
// show a stored version's.
class LayerTableModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { NameColumn, TypeColumn, OutputColumn, ParamsColumn, MacsColumn, ColumnCount };

    explicit LayerTableModel(QObject *parent = nullptr);

    void setSummary(const ms::ModelSummary &summary);
    void clear();
    const ms::ModelSummary &summary() const { return m_summary; }

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    ms::ModelSummary m_summary;
};

} // namespace ms::ui
