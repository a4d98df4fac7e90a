#include "panels/data/TokenLengthHistogram.h"

#include "plots/PlotStyle.h"

#include <qcustomplot.h>

#include <algorithm>

namespace ms::ui {

TokenLengthHistogram::TokenLengthHistogram(QWidget *parent)
    : QWidget(parent)
    , m_plot(new QCustomPlot(this))
{
    embedPlot(this, m_plot, 240, 140);
    styleAxis(m_plot->xAxis);
    styleAxis(m_plot->yAxis);
    m_plot->xAxis->grid()->setVisible(false);
    m_plot->yAxis->setLabel(tr("records"));
    m_bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_bars->setPen(Qt::NoPen);
    m_bars->setBrush(QColor(0x2b, 0x6c, 0xd4));
}

void TokenLengthHistogram::clear()
{
    m_bars->data()->clear();
    m_plot->replot();
}

void TokenLengthHistogram::setData(const std::vector<qint64> &edges,
                                   const std::vector<qint64> &counts, const QString &tokenizer,
                                   bool overflow)
{
    QVector<double> centres, values;
    double highest = 0.0;
    for (size_t i = 0; i < counts.size() && i + 1 < edges.size(); ++i) {
        centres << (double(edges[i]) + double(edges[i + 1])) / 2.0;
        values << double(counts[i]);
        highest = std::max(highest, double(counts[i]));
    }
    m_bars->setData(centres, values, true);
    const double width = edges.size() > 1 ? double(edges[1] - edges[0]) : 1.0;
    m_bars->setWidth(width * 0.9);
    m_plot->xAxis->setLabel(
        overflow && edges.size() > 1
            ? tr("tokens per record (%1 tokenizer; the last bar: %2 and more)")
                  .arg(tokenizer, QLocale().toString(edges[edges.size() - 2]))
            : tr("tokens per record (%1 tokenizer)").arg(tokenizer));
    m_plot->xAxis->setRange(edges.empty() ? 0.0 : double(edges.front()),
                            edges.size() > 1 ? double(edges.back()) : 1.0);
    m_plot->yAxis->setRange(0.0, highest > 0 ? highest * 1.1 : 1.0);
    m_plot->replot();
}

qint64 TokenLengthHistogram::total() const
{
    qint64 sum = 0;
    for (auto it = m_bars->data()->constBegin(); it != m_bars->data()->constEnd(); ++it)
        sum += qint64(it->value);
    return sum;
}

QVector<double> TokenLengthHistogram::values() const
{
    QVector<double> out;
    for (auto it = m_bars->data()->constBegin(); it != m_bars->data()->constEnd(); ++it)
        out << it->value;
    return out;
}

} // namespace ms::ui
