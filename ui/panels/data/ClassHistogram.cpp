#include "panels/data/ClassHistogram.h"

#include "common/Format.h"
#include "plots/PlotStyle.h"

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ms::ui {

namespace {

// One colour per split, the same in every dataset: train blue, validation orange, test green.
const QColor kSplitColors[] = {QColor(0x2b, 0x6c, 0xd4), QColor(0xf2, 0x8e, 0x2b),
                               QColor(0x3a, 0xa6, 0x5a)};
constexpr double kTiltDegrees = 35.0;   // names of more than four classes are tilted this much
constexpr int kFreeRelabelPasses = 3;
constexpr double kLabelGap_px = 4.0;

// How far the names' range reaches beyond the first and last class: -0.6 .. n - 0.4.
constexpr double kRangeMargin = 0.6;

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
    // Once the layout has sized the bars: every name that has room, and room for the first.
    // Fewer names can change the margins and so the room: after a few passes the step only
    // grows, so the passes end, and never with names overlapping.
    connect(m_plot, &QCustomPlot::afterLayout, this, [this] {
        if (fitTickLabels(m_relabelPasses >= kFreeRelabelPasses)) {
            ++m_relabelPasses;
            m_plot->replot(QCustomPlot::rpQueuedReplot);
        }
    });
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

    // Long names (T-shirt/top, Ankle boot, ...) stay readable when tilted; tilted to the left,
    // they end at their tick, so the last one is not cut off at the right edge.
    m_plot->xAxis->setTickLabelRotation(classNames.size() > 4 ? -kTiltDegrees : 0);
    m_classNames = classNames;
    m_labelStep = 0;
    m_relabelPasses = 0;
    fitTickLabels(false);

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
    m_plot->xAxis->setRange(-kRangeMargin,
                            std::max(kRangeMargin, classNames.size() - 1 + kRangeMargin));
    // Headroom for the legend in the top right corner.
    m_plot->yAxis->setRange(0.0, highest > 0 ? highest * 1.3 : 1.0);
    m_plot->replot();
}

bool ClassHistogram::fitTickLabels(bool growOnly)
{
    const int n = int(m_classNames.size());
    QCPAxis *axis = m_plot->xAxis;
    QCPAxisRect *rect = m_plot->axisRect();
    const QFontMetricsF metrics(axis->tickLabelFont());
    const double tilt = std::abs(axis->tickLabelRotation()) * M_PI / 180.0;
    double widest_px = 0.0;
    for (const QString &name : std::as_const(m_classNames))
        widest_px = std::max(widest_px, metrics.horizontalAdvance(name));
    // Along the axis an upright name needs its width; tilted names, parallel to each other,
    // need a line's height over the sine of the tilt between their ticks.
    const double need_px = tilt > 0.01 ? (metrics.height() + kLabelGap_px) / std::sin(tilt)
                                       : widest_px + kLabelGap_px;
    const double cell_px = rect->width() > 0 ? double(rect->width()) / (n - 1 + 2 * kRangeMargin)
                                             : 0.0;
    int step = cell_px > 0 ? std::max(1, int(std::ceil(need_px / cell_px))) : 1;
    if (step > 1 && tilt <= 0.01 && n > 1) {
        // A few classes with long names (a text folder's): tilted, they all fit.
        axis->setTickLabelRotation(-kTiltDegrees);
        return fitTickLabels(growOnly) || true;
    }
    if (growOnly)
        step = std::max(step, m_labelStep);
    // The first name ends at its tick (centred on it when upright) and reaches left by its
    // tilted extent; the axis rect's left margin must hold what the bars' margin does not.
    int left_px = 0;
    if (n > 0 && rect->width() > 0) {
        const double reach_px = tilt > 0.01
                                    ? metrics.horizontalAdvance(m_classNames.first())
                                              * std::cos(tilt)
                                          + metrics.height() * std::sin(tilt)
                                    : metrics.horizontalAdvance(m_classNames.first()) / 2;
        const double inside_px = axis->coordToPixel(0.0) - rect->left();
        left_px = std::max(0, int(std::ceil(reach_px - inside_px + kLabelGap_px)));
    }
    const int currentLeft_px = rect->minimumMargins().left();
    const bool marginChanged = growOnly ? left_px > currentLeft_px
                                        : std::abs(left_px - currentLeft_px) > 2;
    if (step == m_labelStep && !marginChanged)
        return false;
    if (marginChanged)
        rect->setMinimumMargins(QMargins(left_px, 0, 0, 0));
    if (step != m_labelStep) {
        m_labelStep = step;
        auto ticker = QSharedPointer<QCPAxisTickerText>::create();
        for (int c = 0; c < n; ++c)
            ticker->addTick(c, c % step == 0 ? m_classNames.at(c) : QString());
        axis->setTicker(ticker);
    }
    return true;
}

QStringList ClassHistogram::shownTickLabels() const
{
    QStringList labels;
    if (auto ticker = m_plot->xAxis->ticker().dynamicCast<QCPAxisTickerText>()) {
        for (const QString &label : ticker->ticks())
            labels << label;
    }
    return labels;
}

void ClassHistogram::resizeEvent(QResizeEvent *event)
{
    m_relabelPasses = 0;
    QWidget::resizeEvent(event);
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
