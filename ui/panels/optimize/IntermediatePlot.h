#pragma once

#include "registry/Registry.h"

#include <QWidget>

class QCustomPlot;

namespace ms::ui {

// The objective of every trial after each of its epochs, as Optuna's dashboard draws
// "intermediate values": where early stopping cut a trial (pruned ones dashed) and how the
// survivors went on. The trial selected in the table is drawn thick on top. The curves are the
// trial records' own (TrialRecord::curve): no run is read.
class IntermediatePlot final : public QWidget
{
    Q_OBJECT

public:
    explicit IntermediatePlot(QWidget *parent = nullptr);

    void setObjective(const QString &metric);
    void setTrials(const QVector<ms::TrialRecord> &trials);
    void setHighlightedTrial(int number);   // -1: none

    QCustomPlot *plot() const { return m_plot; }
    int curveCount() const;                 // trials with at least one epoch drawn
    int highlightedTrial() const { return m_highlighted; }

private:
    void rebuild();

    QCustomPlot *m_plot = nullptr;
    QVector<ms::TrialRecord> m_trials;
    int m_highlighted = -1;
};

} // namespace ms::ui
