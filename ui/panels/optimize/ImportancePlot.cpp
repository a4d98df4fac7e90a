#include "panels/optimize/ImportancePlot.h"

#include "plots/PlotStyle.h"

#include <qcustomplot.h>

#include <cmath>

namespace ms::ui {

ImportancePlot::ImportancePlot(QWidget *parent)
    : QWidget(parent), m_plot(new QCustomPlot(this))
{
    embedPlot(this, m_plot, 320, 160);
    styleAxis(m_plot->xAxis);
    styleAxis(m_plot->yAxis);
    m_plot->xAxis->setLabel(tr("Importance (share of the objective explained)"));
    m_plot->xAxis->setRange(0, 1);
    QSharedPointer<QCPAxisTickerText> names(new QCPAxisTickerText);
    m_plot->yAxis->setTicker(names);
    m_plot->yAxis->grid()->setVisible(false);
    m_bars = new QCPBars(m_plot->yAxis, m_plot->xAxis);   // horizontal: keys on the y axis
    m_bars->setPen(Qt::NoPen);
    m_bars->setBrush(QColor(31, 119, 180));
    m_bars->setWidth(0.6);
    draw();
}

void ImportancePlot::setSweep(const ms::SweepSpec &spec)
{
    m_spec = spec;
    m_seen.clear();
    m_shares.clear();
    draw();
}

void ImportancePlot::setTrials(const QVector<ms::TrialRecord> &trials)
{
    QVector<QPair<int, double>> finished;
    for (const ms::TrialRecord &t : trials)
        if (t.status == QLatin1String("finished") && std::isfinite(t.value))
            finished.append({t.number, t.value});
    if (finished == m_seen)
        return;
    m_seen = finished;
    m_shares = ms::parameterImportance(m_spec, trials);
    draw();
}

void ImportancePlot::draw()
{
    auto *names = static_cast<QCPAxisTickerText *>(m_plot->yAxis->ticker().data());
    names->clear();
    QVector<double> keys, values;
    // The most important on top: the y axis grows upwards.
    const int n = int(m_shares.size());
    for (int i = 0; i < n; ++i) {
        const ms::ParamImportance &p = m_shares[size_t(i)];
        keys << double(n - i);
        values << p.importance;
        names->addTick(double(n - i),
                       QStringLiteral("%1  %2 %").arg(p.path,
                                                     QString::number(100.0 * p.importance, 'f', 0)));
    }
    m_bars->setData(keys, values, true);
    m_plot->yAxis->setRange(0.4, std::max(1, n) + 0.6);
    m_plot->clearItems();
    if (m_shares.empty()) {
        auto *text = new QCPItemText(m_plot);
        text->position->setType(QCPItemPosition::ptAxisRectRatio);
        text->position->setCoords(0.5, 0.5);
        text->setColor(QColor(110, 110, 110));
        text->setText(m_spec.space.empty()
                          ? tr("No sweep shown")
                          : tr("Importance appears once %1 trials have finished\nwith "
                               "different values (%2 so far).")
                                .arg(ms::importanceMinTrials())
                                .arg(m_seen.size()));
    }
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace ms::ui
