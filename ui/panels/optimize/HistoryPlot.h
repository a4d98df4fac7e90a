#pragma once

#include "registry/Registry.h"

#include <QWidget>

class QCPGraph;
class QCustomPlot;

namespace ms::ui {

// Optimization history, as Optuna's dashboard draws it: the objective of each trial that
// trained, as a point at its trial number (pruned ones hollow), and the best value so far as a
// step line.
class HistoryPlot final : public QWidget
{
    Q_OBJECT

public:
    explicit HistoryPlot(QWidget *parent = nullptr);

    void setObjective(const QString &metric, bool maximize);
    void setTrials(const QVector<ms::TrialRecord> &trials);

    QCustomPlot *plot() const { return m_plot; }
    int pointCount() const;
    // The best-so-far line's value after the last trial; NaN when no trial has a value.
    double bestValue() const;

private:
    QCustomPlot *m_plot = nullptr;
    QCPGraph *m_finished = nullptr;
    QCPGraph *m_pruned = nullptr;
    QCPGraph *m_best = nullptr;
    bool m_maximize = true;
};

} // namespace ms::ui
