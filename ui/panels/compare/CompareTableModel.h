#pragma once

#include <QAbstractTableModel>
#include <QColor>
#include <QString>
#include <QVector>

#include <limits>

namespace ms::ui {

// The table under the Compare panel's plot: per selected item, its colour, the number of
// points of the chosen metric, its final and best value (and where the best was), the version's
// test accuracy, parameters and size. Best means the lowest for losses, errors and latencies,
// the highest otherwise (see lowerIsBetter).
class CompareTableModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { Item, Points, Final, Best, BestAt, TestAcc, Params, Size, ColumnCount };
    static constexpr int ValueRole = Qt::UserRole + 1;   // the raw number (double), NaN if none

    struct Row
    {
        QString label;
        QColor color;
        int points = 0;
        double final = std::numeric_limits<double>::quiet_NaN();
        double best = std::numeric_limits<double>::quiet_NaN();
        qint64 bestStep = 0;
        int bestEpoch = 0;
        double testAcc = std::numeric_limits<double>::quiet_NaN();
        qint64 parameterCount = 0;
        qint64 sizeBytes = 0;
        bool hasRun = false;
    };

    explicit CompareTableModel(QObject *parent = nullptr);

    void setRows(const QString &metric, QVector<Row> rows);
    const QVector<Row> &rows() const { return m_rows; }
    QString metric() const { return m_metric; }

    // True for keys whose smaller values are better: *loss*, *error*, *latency*, *time*.
    static bool lowerIsBetter(const QString &metric);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    QString m_metric;
    QVector<Row> m_rows;
};

} // namespace ms::ui
