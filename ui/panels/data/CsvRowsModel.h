#pragma once

#include <QAbstractTableModel>
#include <QList>
#include <QStringList>

namespace ms::ui {

// The first rows of a CSV file for a QTableView, cells as the file has them. The first row is
// the header when any of its cells is not a number (the rule CsvReader applies); the label
// column is drawn bold.
class CsvRowsModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    explicit CsvRowsModel(QObject *parent = nullptr);

    // `labelColumn` as the reader takes it: a header name, a 0-based index, or empty for the
    // last column.
    void setRows(QList<QStringList> rows, const QString &labelColumn = QString());
    int labelColumn() const { return m_labelColumn; }
    void clear();
    bool hasHeader() const { return !m_header.isEmpty(); }

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    QStringList m_header;
    QList<QStringList> m_rows;
    int m_columns = 0;
    int m_labelColumn = -1;
};

} // namespace ms::ui
