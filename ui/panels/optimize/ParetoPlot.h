#pragma once

#include "optimize/SweepSpec.h"
#include "registry/Registry.h"

#include <QWidget>

class QCPGraph;
class QCustomPlot;

namespace ms::ui {

// A sweep of several objectives: every trial that finished as a point of its first two
// objectives (first up, second across), the Pareto front (optimize/SweepResults.h) in a
// contrasting colour joined by a step line, and trials that broke a constraint hollow and
// grey. Optuna's dashboard draws the same for its multi-objective studies.
class ParetoPlot final : public QWidget
{
    Q_OBJECT

public:
    explicit ParetoPlot(QWidget *parent = nullptr);

    void setSweep(const ms::SweepSpec &spec);
    void setTrials(const QVector<ms::TrialRecord> &trials);

    QCustomPlot *plot() const { return m_plot; }
    int frontCount() const;
    int pointCount() const;   // every point drawn: front, others, infeasible

private:
    QCustomPlot *m_plot = nullptr;
    QCPGraph *m_others = nullptr;
    QCPGraph *m_infeasible = nullptr;
    QCPGraph *m_front = nullptr;
    QCPGraph *m_frontLine = nullptr;
    ms::SweepSpec m_spec;
};

} // namespace ms::ui
