#include "panels/optimize/HistoryPlot.h"

#include "plots/PlotStyle.h"

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace ms::ui {


HistoryPlot::HistoryPlot(QWidget *parent)
    : QWidget(parent), m_plot(new QCustomPlot(this))
{
    embedPlot(this, m_plot, 320, 160);
    styleAxis(m_plot->xAxis);
    styleAxis(m_plot->yAxis);
    m_plot->xAxis->setLabel(tr("Trial"));
    QSharedPointer<QCPAxisTickerFixed> ticker(new QCPAxisTickerFixed);
    ticker->setTickStep(1.0);
    ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    m_plot->xAxis->setTicker(ticker);
    m_best = m_plot->addGraph();
    m_best->setName(tr("best so far"));
    m_best->setLineStyle(QCPGraph::lsStepLeft);
    m_best->setPen(QPen(QColor(230, 120, 20), 2));
    m_finished = addPointGraph(m_plot, tr("finished"), QColor(31, 119, 180), true);
    m_pruned = addPointGraph(m_plot, tr("pruned"), QColor(140, 140, 140), false);
    putLegendAbove(m_plot);
    m_plot->xAxis->setRange(-0.5, 4.5);
    m_plot->yAxis->setRange(0, 1);
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void HistoryPlot::setObjective(const QString &metric, bool maximize)
{
    m_maximize = maximize;
    m_plot->yAxis->setLabel(metric);
    setTrials({});
}

void HistoryPlot::setTrials(const QVector<ms::TrialRecord> &trials)
{
    std::map<int, const ms::TrialRecord *> byNumber;   // the history runs in trial order
    for (const ms::TrialRecord &t : trials)
        byNumber[t.number] = &t;
    QVector<double> fx, fy, px, py, bx, by;
    double best = qQNaN();
    int lastNumber = 0;
    for (const auto &[number, t] : byNumber) {
        lastNumber = std::max(lastNumber, number);
        if (std::isnan(t->value))
            continue;
        const bool finished = t->status == QLatin1String("finished");
        if (!finished && t->status != QLatin1String("pruned"))
            continue;
        (finished ? fx : px) << number;
        (finished ? fy : py) << t->value;
        if (finished && (std::isnan(best) || (m_maximize ? t->value > best : t->value < best)))
            best = t->value;
        if (!std::isnan(best)) {
            bx << number;
            by << best;
        }
    }
    if (!bx.isEmpty()) {   // the step line reaches the last trial started
        bx << lastNumber + 0.5;
        by << by.last();
    }
    m_finished->setData(fx, fy, true);
    m_pruned->setData(px, py, true);
    if (px.isEmpty())   // a legend entry for no point is noise
        m_pruned->removeFromLegend();
    else
        m_pruned->addToLegend();
    m_best->setData(bx, by, true);
    m_plot->xAxis->setRange(-0.5, std::max(4, lastNumber) + 0.5);
    bool found = false;
    QCPRange range;
    for (QCPGraph *g : {m_finished, m_pruned}) {
        bool ok = false;
        const QCPRange r = g->getValueRange(ok);
        if (ok)
            range = found ? QCPRange(std::min(range.lower, r.lower), std::max(range.upper, r.upper))
                          : r;
        found = found || ok;
    }
    if (found) {
        const double pad = std::max(1e-3, range.size() * 0.1);
        m_plot->yAxis->setRange(range.lower - pad, range.upper + pad);
    }
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

int HistoryPlot::pointCount() const
{
    return m_finished->dataCount() + m_pruned->dataCount();
}

double HistoryPlot::bestValue() const
{
    return m_best->dataCount() == 0 ? qQNaN() : (m_best->data()->constEnd() - 1)->value;
}

} // namespace ms::ui
