#pragma once

#include "optimize/Importance.h"
#include "optimize/SweepSpec.h"
#include "registry/Registry.h"

#include <QWidget>

class QCPBars;
class QCustomPlot;

namespace ms::ui {

// Per-parameter importance, as Optuna's dashboard shows it: one horizontal bar per searched
// parameter, its share of what explains the objective (optimize/Importance.h), the most
// important on top. Until enough trials have finished, a line says how many it needs.
class ImportancePlot final : public QWidget
{
    Q_OBJECT

public:
    explicit ImportancePlot(QWidget *parent = nullptr);

    void setSweep(const ms::SweepSpec &spec);
    // Recomputes only when the finished trials changed (the panel polls every two seconds;
    // optimize/Importance.h says what one computation costs).
    void setTrials(const QVector<ms::TrialRecord> &trials);

    QCustomPlot *plot() const { return m_plot; }
    const std::vector<ms::ParamImportance> &shares() const { return m_shares; }

private:
    void draw();

    QCustomPlot *m_plot = nullptr;
    QCPBars *m_bars = nullptr;
    ms::SweepSpec m_spec;
    QVector<QPair<int, double>> m_seen;   // the finished trials last computed from
    std::vector<ms::ParamImportance> m_shares;
};

} // namespace ms::ui
