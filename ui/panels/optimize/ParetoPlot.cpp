#include "panels/optimize/ParetoPlot.h"

#include "optimize/SweepResults.h"
#include "plots/PlotStyle.h"

#include <qcustomplot.h>

#include <QSet>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ms::ui {

namespace {

QString axisLabel(const ms::SweepObjective &o)
{
    return QStringLiteral("%1 (%2)").arg(o.metric, o.maximize ? QObject::tr("higher is better")
                                                              : QObject::tr("lower is better"));
}

// A range around `values` with a tenth of margin (a single value gets one of its own size).
QCPRange padded(const QVector<double> &values)
{
    const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
    const double pad = std::max(std::abs(*hi - *lo) * 0.1, std::abs(*hi) * 0.05 + 1e-9);
    return QCPRange(*lo - pad, *hi + pad);
}

} // namespace

ParetoPlot::ParetoPlot(QWidget *parent)
    : QWidget(parent), m_plot(new QCustomPlot(this))
{
    embedPlot(this, m_plot, 320, 160);
    styleAxis(m_plot->xAxis);
    styleAxis(m_plot->yAxis);
    // Not a curve: the line only shows which points make the front, in the order of the axis.
    m_frontLine = m_plot->addGraph();
    m_frontLine->setLineStyle(QCPGraph::lsLine);
    m_frontLine->setPen(QPen(QColor(230, 120, 20, 160), 1.5, Qt::DashLine));
    m_frontLine->removeFromLegend();
    m_others = addPointGraph(m_plot, tr("dominated"), QColor(31, 119, 180), true);
    m_infeasible = addPointGraph(m_plot, tr("breaks a constraint"), QColor(150, 150, 150), false);
    m_front = addPointGraph(m_plot, tr("Pareto front"), QColor(230, 120, 20), true);
    putLegendAbove(m_plot);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void ParetoPlot::setSweep(const ms::SweepSpec &spec)
{
    m_spec = spec;
    if (spec.objectives.size() >= 2) {
        m_plot->yAxis->setLabel(axisLabel(spec.objectives[0]));
        m_plot->xAxis->setLabel(axisLabel(spec.objectives[1]));
    }
    setTrials({});
}

void ParetoPlot::setTrials(const QVector<ms::TrialRecord> &trials)
{
    QVector<double> fx, fy, ox, oy, ix, iy;
    if (m_spec.objectives.size() >= 2) {
        const QString yMetric = m_spec.objectives[0].metric;
        const QString xMetric = m_spec.objectives[1].metric;
        QSet<int> front;
        for (const ms::TrialRecord &t : ms::paretoFront(m_spec, trials))
            front.insert(t.number);
        for (const ms::TrialRecord &t : trials) {
            const double x = ms::metricValue(t, xMetric);
            const double y = ms::metricValue(t, yMetric);
            if (t.status != QLatin1String("finished") || !std::isfinite(x) || !std::isfinite(y))
                continue;
            QVector<double> &xs = front.contains(t.number) ? fx
                                  : ms::isCandidate(m_spec, t) ? ox : ix;
            QVector<double> &ys = front.contains(t.number) ? fy
                                  : ms::isCandidate(m_spec, t) ? oy : iy;
            xs << x;
            ys << y;
        }
    }
    m_front->setData(fx, fy);
    m_others->setData(ox, oy);
    m_infeasible->setData(ix, iy);
    // The front in the order of the second objective: a step from one trade-off to the next.
    QVector<int> order(fx.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return fx[a] < fx[b]; });
    QVector<double> lx, ly;
    for (int i : order) {
        lx << fx[i];
        ly << fy[i];
    }
    m_frontLine->setData(lx, ly, true);
    if (ix.isEmpty())
        m_infeasible->removeFromLegend();
    else
        m_infeasible->addToLegend();
    const QVector<double> allX = fx + ox + ix;
    const QVector<double> allY = fy + oy + iy;
    if (!allX.isEmpty()) {
        m_plot->xAxis->setRange(padded(allX));
        m_plot->yAxis->setRange(padded(allY));
    }
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

int ParetoPlot::frontCount() const
{
    return m_front->dataCount();
}

int ParetoPlot::pointCount() const
{
    return m_front->dataCount() + m_others->dataCount() + m_infeasible->dataCount();
}

} // namespace ms::ui
