#pragma once

#include "registry/Registry.h"

#include <QAbstractTableModel>
#include <QSet>
#include <QSortFilterProxyModel>
#include <QStringList>

#include <optional>

namespace ms::ui {

// The trials of one sweep as a table: trial number, status, the objective's value, epochs
// trained, then one column per searched parameter (in the sweep file's order). Display text is
// formatted; Qt::UserRole holds the raw value (a number for numeric columns), which the proxy
// sorts by.
class TrialTableModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { NumberColumn, StatusColumn, ValueColumn, EpochsColumn, FirstParamColumn };

    explicit TrialTableModel(QObject *parent = nullptr);

    // A new sweep: the parameter paths become columns, `metric` titles the value column.
    void setSweep(const QStringList &paramPaths, const QString &metric);
    // Replaces the rows with `trials`, keeping rows in place where the trial is already shown
    // (a live refresh does not reset the view's selection).
    void setTrials(const QVector<ms::TrialRecord> &trials);
    void clear();

    const QVector<ms::TrialRecord> &trials() const { return m_trials; }
    const QStringList &paramPaths() const { return m_params; }
    // The row of trial `number`, -1 when absent.
    int rowOf(int number) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    QVariant displayData(const ms::TrialRecord &t, int column) const;
    QVariant rawData(const ms::TrialRecord &t, int column) const;

    QStringList m_params;
    QString m_metric;
    QVector<ms::TrialRecord> m_trials;
};

// The trial table as shown: sorted by any column (numbers as numbers), and filtered to the
// trials a brush on the parallel-coordinates plot selects (nullopt: no brush, every trial).
class TrialFilterProxy final : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    using QSortFilterProxyModel::QSortFilterProxyModel;

    void setVisibleTrials(const std::optional<QSet<int>> &numbers);
    bool isFiltered() const { return m_visible.has_value(); }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    std::optional<QSet<int>> m_visible;
};

} // namespace ms::ui
