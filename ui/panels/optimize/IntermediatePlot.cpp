#include "panels/optimize/IntermediatePlot.h"

#include "plots/PlotStyle.h"

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace ms::ui {

IntermediatePlot::IntermediatePlot(QWidget *parent)
    : QWidget(parent), m_plot(new QCustomPlot(this))
{
    embedPlot(this, m_plot, 320, 160);
    styleAxis(m_plot->xAxis);
    styleAxis(m_plot->yAxis);
    m_plot->xAxis->setLabel(tr("Epoch"));
    QSharedPointer<QCPAxisTickerFixed> ticker(new QCPAxisTickerFixed);
    ticker->setTickStep(1.0);
    ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    m_plot->xAxis->setTicker(ticker);
    m_plot->xAxis->setRange(0.8, 4.2);
    m_plot->yAxis->setRange(0, 1);
}

void IntermediatePlot::setObjective(const QString &metric)
{
    m_plot->yAxis->setLabel(metric);
    m_trials.clear();
    m_highlighted = -1;
    rebuild();
}

void IntermediatePlot::setTrials(const QVector<ms::TrialRecord> &trials)
{
    m_trials = trials;
    rebuild();
}

void IntermediatePlot::setHighlightedTrial(int number)
{
    if (number == m_highlighted)
        return;
    m_highlighted = number;
    rebuild();
}

int IntermediatePlot::curveCount() const
{
    return m_plot->graphCount();
}

void IntermediatePlot::rebuild()
{
    m_plot->clearGraphs();
    double lo = INFINITY, hi = -INFINITY;
    int epochs = 1;
    // The highlighted trial last: QCustomPlot draws graphs in the order they were added.
    QVector<ms::TrialRecord> order = m_trials;
    std::stable_partition(order.begin(), order.end(), [this](const ms::TrialRecord &t) {
        return t.number != m_highlighted;
    });
    for (const ms::TrialRecord &t : order) {
        QVector<double> xs, ys;
        for (int e = 0; e < t.curve.size(); ++e) {
            const double v = t.curve.at(e).toDouble(NAN);
            if (!std::isfinite(v))
                continue;
            xs << double(e + 1);
            ys << v;
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
        if (xs.isEmpty())
            continue;
        epochs = std::max(epochs, int(xs.last()));
        QCPGraph *g = m_plot->addGraph();
        g->setData(xs, ys, true);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 4));
        const bool pruned = t.status == QLatin1String("pruned");
        QPen pen(pruned ? QColor(150, 150, 150) : QColor(31, 119, 180, 150), 1.2);
        if (pruned)
            pen.setStyle(Qt::DashLine);
        g->setPen(t.number == m_highlighted ? QPen(QColor(230, 120, 20), 3) : pen);
    }
    m_plot->xAxis->setRange(0.8, epochs + 0.2);
    if (std::isfinite(lo)) {
        const double pad = hi > lo ? 0.08 * (hi - lo) : 0.01;
        m_plot->yAxis->setRange(lo - pad, hi + pad);
    }
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace ms::ui
