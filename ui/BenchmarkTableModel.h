#pragma once

#include <QAbstractTableModel>
#include <QColor>
#include <QJsonObject>
#include <QStringList>
#include <QVector>

namespace ms::ui {

// The stored benchmark results (Registry::benchmarks, one JSON object each) of the versions
// selected in the Compare panel, one row per result. Columns are the union of the keys found:
// accuracy, latency, size and memory keys first when present, the rest by name; nested values
// (latency per batch size, a confusion matrix) show as a short summary with the whole value in
// the tooltip. The benchmark job decides what it records; this table shows whatever it finds.
class BenchmarkTableModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    struct Row
    {
        QString label;   // "cnn:3"
        QColor color;
        QJsonObject result;
    };

    explicit BenchmarkTableModel(QObject *parent = nullptr);

    void setRows(QVector<Row> rows);
    const QVector<Row> &rows() const { return m_rows; }
    QStringList keys() const { return m_keys; }

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    QVector<Row> m_rows;
    QStringList m_keys;   // column 0 is the version; then these
};

} // namespace ms::ui
