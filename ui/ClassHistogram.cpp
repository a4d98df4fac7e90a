#include "ClassHistogram.h"

#include "Format.h"
#include "PlotStyle.h"

#include <qcustomplot.h>

#include <algorithm>
#include <numeric>

namespace ms::ui {

namespace {

// One colour per split, the same in every dataset: train blue, validation orange, test green.
const QColor kSplitColors[] = {QColor(0x2b, 0x6c, 0xd4), QColor(0xf2, 0x8e, 0x2b),
                               QColor(0x3a, 0xa6, 0x5a)};

} // namespace

ClassHistogram::ClassHistogram(QWidget *parent)
    : QWidget(parent)
    , m_plot(new QCustomPlot(this))
{
    embedPlot(this, m_plot, 240, 180);
    styleAxis(m_plot->xAxis);
    styleAxis(m_plot->yAxis);
    // Bars need no outward ticks: the class names and the grid say enough.
    for (QCPAxis *axis : {m_plot->xAxis, m_plot->yAxis}) {
        axis->setTickLengthOut(0);
        axis->setSubTickLengthOut(0);
    }
    m_plot->xAxis->grid()->setVisible(false);
    m_plot->xAxis->setSubTicks(false);
    m_plot->yAxis->setLabel(tr("samples"));
    m_plot->legend->setBrush(QBrush(QColor(255, 255, 255, 220)));
    m_plot->legend->setBorderPen(QPen(QColor(0, 0, 0, 40)));
    m_plot->legend->setIconSize(14, 10);
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    m_group = new QCPBarsGroup(m_plot);
    m_group->setSpacingType(QCPBarsGroup::stAbsolute);
    m_group->setSpacing(1);
}

void ClassHistogram::clear()
{
    m_group->clear();
    for (QCPBars *bars : std::as_const(m_bars))
        m_plot->removePlottable(bars);
    m_bars.clear();
    m_plot->legend->setVisible(false);
    m_plot->replot();
}

void ClassHistogram::setData(const QStringList &classNames, const QVector<Split> &splits)
{
    clear();
    QVector<double> positions(classNames.size());
    std::iota(positions.begin(), positions.end(), 0.0);

    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    ticker->addTicks(positions, classNames.toVector());
    m_plot->xAxis->setTicker(ticker);
    // Long names (T-shirt/top, Ankle boot, ...) stay readable when tilted; tilted to the left,
    // they end at their tick, so the last one is not cut off at the right edge.
    m_plot->xAxis->setTickLabelRotation(classNames.size() > 4 ? -35 : 0);

    QVector<const Split *> shown;
    for (const Split &split : splits) {
        if (std::accumulate(split.counts.cbegin(), split.counts.cend(), qint64(0)) > 0)
            shown << &split;
    }
    const double width = 0.8 / std::max<qsizetype>(1, shown.size());
    double highest = 0.0;
    for (int i = 0; i < shown.size(); ++i) {
        const Split &split = *shown[i];
        auto *bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
        const QColor color = kSplitColors[i % 3];
        bars->setPen(Qt::NoPen);
        bars->setBrush(color);
        bars->setWidth(width);
        const qint64 total =
            std::accumulate(split.counts.cbegin(), split.counts.cend(), qint64(0));
        bars->setName(tr("%1 (%2)").arg(split.name, formatCount(total)));
        QVector<double> values(classNames.size(), 0.0);
        for (int c = 0; c < classNames.size() && c < int(split.counts.size()); ++c)
            values[c] = double(split.counts[size_t(c)]);
        bars->setData(positions, values, true);
        bars->setBarsGroup(m_group);
        highest = std::max(highest, *std::max_element(values.cbegin(), values.cend()));
        m_bars << bars;
    }
    m_plot->legend->setVisible(!m_bars.isEmpty());
    m_plot->xAxis->setRange(-0.6, std::max(0.6, classNames.size() - 0.4));
    // Headroom for the legend in the top right corner.
    m_plot->yAxis->setRange(0.0, highest > 0 ? highest * 1.3 : 1.0);
    m_plot->replot();
}

QStringList ClassHistogram::splitNames() const
{
    QStringList names;
    for (const QCPBars *bars : m_bars)
        names << bars->name().section(QLatin1String(" ("), 0, 0);
    return names;
}

QVector<double> ClassHistogram::values(const QString &split) const
{
    for (const QCPBars *bars : m_bars) {
        if (bars->name().section(QLatin1String(" ("), 0, 0) != split)
            continue;
        QVector<double> out;
        for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it)
            out << it->value;
        return out;
    }
    return {};
}

} // namespace ms::ui
