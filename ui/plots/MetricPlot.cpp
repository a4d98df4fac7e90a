#include "plots/MetricPlot.h"

#include "plots/PlotStyle.h"

#include <qcustomplot.h>

#include <QTextLayout>
#include <QTimer>
#include <QVarLengthArray>

#include <algorithm>
#include <cmath>
#include <limits>

namespace ms::ui {

namespace {

// Fast enough to feel live, slow enough that a replot never competes with training for the CPU.
constexpr int kReplotInterval_ms = 50;

// `text` broken into lines no wider than `width_px` where Qt's line breaking allows (a word
// longer than that stays whole on its own line).
QString wrapToWidth(const QString &text, const QFont &font, int width_px)
{
    if (text.isEmpty() || width_px <= 0)
        return text;
    QTextLayout layout(text, font);
    QTextOption option;
    option.setWrapMode(QTextOption::WordWrap);
    layout.setTextOption(option);
    QStringList lines;
    layout.beginLayout();
    for (QTextLine line = layout.createLine(); line.isValid(); line = layout.createLine()) {
        line.setLineWidth(width_px);
        lines << text.mid(line.textStart(), line.textLength()).trimmed();
    }
    layout.endLayout();
    return lines.join(QLatin1Char('\n'));
}

} // namespace

MetricPlot::MetricPlot(QWidget *parent)
    : QWidget(parent)
    , m_plot(new QCustomPlot(this))
    , m_replotTimer(new QTimer(this))
{
    embedPlot(this, m_plot, 200, 160);   // narrow enough for the Versions dock on 1024 px
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->setNoAntialiasingOnDrag(true);
    m_plot->setPlottingHint(QCP::phCacheLabels, true);
    // Wide (2 px) curves drawn as one polyline, not segment by segment.
    m_plot->setPlottingHint(QCP::phFastPolylines, true);
    styleAxis(m_plot->xAxis);
    styleAxis(m_plot->yAxis);
    m_plot->axisRect()->setupFullAxesBox(false);
    m_plot->xAxis2->setVisible(false);
    m_plot->yAxis2->setVisible(false);

    m_plot->legend->setVisible(false);
    m_plot->legend->setBrush(QBrush(QColor(255, 255, 255, 220)));
    m_plot->legend->setBorderPen(QPen(QColor(0, 0, 0, 40)));
    m_plot->legend->setIconSize(18, 10);
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignBottom | Qt::AlignRight);

    // The hover marker lives on the buffered overlay layer, so moving it repaints only that.
    m_plot->layer(QStringLiteral("overlay"))->setMode(QCPLayer::lmBuffered);
    m_tracer = new QCPItemTracer(m_plot);
    m_tracer->setLayer(QStringLiteral("overlay"));
    m_tracer->setStyle(QCPItemTracer::tsCircle);
    m_tracer->setSize(8);
    m_tracer->setInterpolating(false);
    m_tracer->setVisible(false);

    m_placeholder = new QCPItemText(m_plot);
    m_placeholder->setLayer(QStringLiteral("overlay"));
    m_placeholder->position->setType(QCPItemPosition::ptAxisRectRatio);
    m_placeholder->position->setCoords(0.5, 0.5);
    m_placeholder->setPositionAlignment(Qt::AlignCenter);
    m_placeholder->setColor(QColor(140, 140, 140));
    m_placeholder->setTextAlignment(Qt::AlignCenter);
    m_placeholder->setVisible(false);
    // Wrapped to the plot's width once the layout has set it: "Accuracy appears at the end of
    // each epoch" ran past both edges of a narrow plot.
    connect(m_plot, &QCustomPlot::afterLayout, this, [this] {
        m_placeholder->setText(wrapToWidth(m_placeholderText, m_placeholder->font(),
                                           m_plot->axisRect()->width() - 16));
    });

    m_replotTimer->setSingleShot(true);
    m_replotTimer->setInterval(kReplotInterval_ms);
    connect(m_replotTimer, &QTimer::timeout, this, &MetricPlot::onReplotTimer);

    connect(m_plot, &QCustomPlot::mouseMove, this, &MetricPlot::onMouseMove);
    connect(m_plot, &QCustomPlot::mouseDoubleClick, this, [this] { fitToData(); });
    // A range change we did not make is the user panning or zooming: stop following the data
    // until a double-click asks for it again.
    connect(m_plot->xAxis, qOverload<const QCPRange &>(&QCPAxis::rangeChanged), this,
            [this] { onUserNavigated(); });
    connect(m_plot->yAxis, qOverload<const QCPRange &>(&QCPAxis::rangeChanged), this,
            [this] { onUserNavigated(); });
    m_plot->installEventFilter(this);
    m_plot->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_plot, &QWidget::customContextMenuRequested, this, &MetricPlot::showContextMenu);
    m_plot->setStatusTip(tr("Drag to pan, wheel to zoom, double-click to fit"));
}

MetricPlot::~MetricPlot() = default;

void MetricPlot::setAxisLabels(const QString &xLabel, const QString &yLabel)
{
    m_plot->xAxis->setLabel(xLabel);
    m_plot->yAxis->setLabel(yLabel);
    markDirty();
}

void MetricPlot::setIntegerXTicks(bool integer)
{
    if (integer) {
        QSharedPointer<QCPAxisTickerFixed> ticker(new QCPAxisTickerFixed);
        ticker->setTickStep(1.0);
        ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
        m_plot->xAxis->setTicker(ticker);
    } else {
        m_plot->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    }
    markDirty();
}

void MetricPlot::setValueClamp(double lower, double upper)
{
    m_hasClamp = true;
    m_clampLower = lower;
    m_clampUpper = upper;
    markDirty();
}

void MetricPlot::clearValueClamp()
{
    m_hasClamp = false;
    markDirty();
}

void MetricPlot::setLegendVisible(bool visible)
{
    m_legendWanted = visible;
    markDirty();
}

void MetricPlot::setLegendAbove(bool above)
{
    if (above == m_legendAbove)
        return;
    m_legendAbove = above;
    QCPLayoutGrid *layout = m_plot->plotLayout();
    QCPLegend *legend = m_plot->legend;
    if (above) {
        // A row above the axis rect holding the legend, as narrow as its entries, and an empty
        // element taking the rest of the width (the legend alone would spread its entries).
        auto *row = new QCPLayoutGrid;
        layout->insertRow(0);
        layout->addElement(0, 0, row);
        layout->setRowStretchFactor(0, 0.001);   // as tall as the entries, no more
        row->addElement(0, 0, legend);   // takes it out of the axis rect's inset layout
        row->addElement(0, 1, new QCPLayoutElement(m_plot));
        row->setColumnStretchFactor(0, 0.001);
        row->setColumnStretchFactor(1, 1.0);
        legend->setFillOrder(QCPLegend::foColumnsFirst);
        legend->setBorderPen(Qt::NoPen);
        legend->setBrush(Qt::NoBrush);
    } else {
        m_plot->axisRect()->insetLayout()->addElement(legend, Qt::AlignBottom | Qt::AlignRight);
        layout->removeAt(0);      // the row that held it
        layout->simplify();
        legend->setFillOrder(QCPLegend::foRowsFirst);
        legend->setBrush(QBrush(QColor(255, 255, 255, 220)));
        legend->setBorderPen(QPen(QColor(0, 0, 0, 40)));
    }
    markDirty();
}

void MetricPlot::setEmptyRanges(double xLower, double xUpper, double yLower, double yUpper)
{
    m_emptyRange[0] = xLower;
    m_emptyRange[1] = xUpper;
    m_emptyRange[2] = yLower;
    m_emptyRange[3] = yUpper;
    markDirty();
}

void MetricPlot::setPlaceholderText(const QString &text)
{
    m_placeholderText = text;
    m_placeholder->setText(text);
    markDirty();
}

void MetricPlot::addSeries(const QString &id, const QString &label,
                           const SeriesOptions &options)
{
    if (m_series.contains(id))
        return;
    Series series;
    series.label = label;
    series.raw = m_plot->addGraph();
    series.raw->setAdaptiveSampling(true);
    series.raw->setName(label);
    series.raw->removeFromLegend();   // updateLegend() lists it once it has data
    if (options.smoothed) {
        // The raw curve stays visible but faint: noise is information, the trend is the message.
        // Faded by mixing with the white background rather than by alpha: an opaque pen draws a
        // million-point polyline several times faster than a blended one.
        const double keep = 60.0 / 255.0;
        const QColor &c = options.color;
        const QColor faded = QColor::fromRgbF(float(c.redF() * keep + (1 - keep)),
                                              float(c.greenF() * keep + (1 - keep)),
                                              float(c.blueF() * keep + (1 - keep)));
        series.raw->setPen(QPen(faded, 1));
        series.smooth = m_plot->addGraph();
        series.smooth->setAdaptiveSampling(true);
        series.smooth->setName(label);
        series.smooth->removeFromLegend();
        series.smooth->setPen(QPen(options.color, 2));
    } else {
        series.raw->setPen(QPen(options.color, 2));
    }
    if (options.markers) {
        series.raw->setScatterStyle(
            QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(options.color, 1.5),
                            QBrush(Qt::white), 6));
    }
    m_series.insert(id, series);
    m_order << id;
    markDirty();
}

void MetricPlot::setXSource(XSource source)
{
    if (source == m_xSource)
        return;
    m_xSource = source;
    // Every point-fed series is laid out again from its samples.
    for (Series &series : m_series) {
        if (series.samples.isEmpty())
            continue;
        const QVector<Sample> samples = std::move(series.samples);
        series.samples.clear();
        series.raw->data()->clear();
        if (series.smooth)
            series.smooth->data()->clear();
        series.ema = 0.0;
        series.emaWeight = 0.0;
        appendSamples(series, samples);
    }
    recomputeBounds();
    m_follow = true;
    markDirty();
}

void MetricPlot::setStepsPerEpoch(qint64 steps)
{
    m_stepsPerEpoch = std::max<qint64>(0, steps);
}

double MetricPlot::xOf(const Sample &sample, qint64 stepsPerEpoch) const
{
    switch (m_xSource) {
    case XSource::Step:
        return double(sample.step);
    case XSource::Epoch:
        return stepsPerEpoch > 0 ? double(sample.step) / double(stepsPerEpoch)
                                 : double(sample.epoch);
    case XSource::WallTime:
        return sample.wallTime_s;
    }
    return double(sample.step);
}

void MetricPlot::appendBatch(const ms::MetricBatch &points)
{
    // Grouped per series so each graph takes one vector append per batch, not one per point.
    // A batch interleaves a few keys ("loss", "lr"): the series is looked up when the key
    // changes, not hashed once per point.
    struct Group
    {
        QString key;
        Series *series = nullptr;
        QVector<Sample> samples;
    };
    QVarLengthArray<Group, 4> groups;
    Group *current = nullptr;
    for (const ms::MetricPoint &point : points) {
        if (!current || current->key != point.key) {
            current = nullptr;
            for (Group &group : groups) {
                if (group.key == point.key)
                    current = &group;
            }
            if (!current) {
                const auto it = m_series.find(point.key);
                groups.append(Group{point.key, it == m_series.end() ? nullptr : &*it, {}});
                current = &groups.back();
                if (current->series)
                    current->samples.reserve(points.size());
            }
        }
        if (current->series)
            current->samples.append(
                Sample{point.step, point.epoch, point.wallTime_s, point.value});
    }
    for (const Group &group : groups) {
        if (group.series && !group.samples.isEmpty())
            appendSamples(*group.series, group.samples);
    }
}

void MetricPlot::appendSamples(Series &series, const QVector<Sample> &samples)
{
    // A series keeps the steps per epoch of the run that fed it: a past run overlaid on the
    // epoch axis stays right when the next run uses another batch size.
    if (series.samples.isEmpty() && series.stepsPerEpoch == 0)
        series.stepsPerEpoch = m_stepsPerEpoch;
    QVector<double> xs;
    QVector<double> ys;
    xs.reserve(samples.size());
    ys.reserve(samples.size());
    for (const Sample &sample : samples) {
        xs.append(xOf(sample, series.stepsPerEpoch));
        ys.append(sample.value);
    }
    series.samples += samples;
    addToGraphs(series, xs, ys);
}

void MetricPlot::append(const QString &id, const QVector<double> &xs, const QVector<double> &ys)
{
    auto it = m_series.find(id);
    if (it == m_series.end() || xs.isEmpty() || xs.size() != ys.size())
        return;
    addToGraphs(*it, xs, ys);
}

void MetricPlot::addToGraphs(Series &series, const QVector<double> &xs,
                             const QVector<double> &ys)
{
    if (xs.isEmpty())
        return;
    // Sorted input appends at the end of QCustomPlot's container: O(batch), no re-sort.
    const bool sorted = std::is_sorted(xs.cbegin(), xs.cend());
    series.raw->addData(xs, ys, sorted);
    if (series.smooth)
        appendSmoothed(series, xs, ys);
    for (double y : ys) {
        if (!std::isfinite(y))
            continue;
        if (!series.hasValues) {
            series.minValue = series.maxValue = y;
            series.hasValues = true;
        } else {
            series.minValue = std::min(series.minValue, y);
            series.maxValue = std::max(series.maxValue, y);
        }
    }
    extendBounds(xs, ys);
    markDirty();
}

void MetricPlot::extendBounds(const QVector<double> &xs, const QVector<double> &ys)
{
    Bounds &b = m_bounds;
    for (int i = 0; i < xs.size(); ++i) {
        const double x = xs[i];
        const double y = ys[i];
        if (!std::isfinite(x) || !std::isfinite(y))
            continue;   // a diverged loss must not blow the axis range up to infinity
        if (!b.valid) {
            b = Bounds{true, x, x, y, y, 0.0};
        } else {
            b.xMin = std::min(b.xMin, x);
            b.xMax = std::max(b.xMax, x);
            b.yMin = std::min(b.yMin, y);
            b.yMax = std::max(b.yMax, y);
        }
        if (y > 0 && (b.yMinPositive <= 0 || y < b.yMinPositive))
            b.yMinPositive = y;
    }
}

void MetricPlot::recomputeBounds()
{
    m_bounds = Bounds{};
    for (const Series &series : std::as_const(m_series)) {
        const auto data = series.raw->data();
        QVector<double> xs;
        QVector<double> ys;
        xs.reserve(data->size());
        ys.reserve(data->size());
        for (auto it = data->constBegin(); it != data->constEnd(); ++it) {
            xs.append(it->key);
            ys.append(it->value);
        }
        extendBounds(xs, ys);
    }
}

void MetricPlot::copySeries(const QString &from, const QString &to, const QString &label,
                            const SeriesOptions &options)
{
    const auto source = m_series.constFind(from);
    if (source == m_series.cend() || m_series.contains(to))
        return;
    const QVector<Sample> samples = source->samples;
    QVector<double> xs;
    QVector<double> ys;
    if (samples.isEmpty()) {
        const auto data = source->raw->data();
        for (auto it = data->constBegin(); it != data->constEnd(); ++it) {
            xs.append(it->key);
            ys.append(it->value);
        }
    }
    const qint64 stepsPerEpoch = source->stepsPerEpoch;
    addSeries(to, label, options);
    Series &copy = *m_series.find(to);
    copy.stepsPerEpoch = stepsPerEpoch;
    if (!samples.isEmpty())
        appendSamples(copy, samples);
    else
        addToGraphs(copy, xs, ys);
}

void MetricPlot::removeSeries(const QString &id)
{
    const auto it = m_series.find(id);
    if (it == m_series.end())
        return;
    if (m_tracer->graph() == it->raw || m_tracer->graph() == it->smooth) {
        m_tracer->setGraph(nullptr);
        m_tracer->setVisible(false);
    }
    m_plot->removeGraph(it->raw);
    if (it->smooth)
        m_plot->removeGraph(it->smooth);
    m_series.erase(it);
    m_order.removeAll(id);
    recomputeBounds();
    markDirty();
}

double MetricPlot::minValue(const QString &id) const
{
    const auto it = m_series.constFind(id);
    return it == m_series.cend() || !it->hasValues ? std::numeric_limits<double>::quiet_NaN()
                                                   : it->minValue;
}

double MetricPlot::maxValue(const QString &id) const
{
    const auto it = m_series.constFind(id);
    return it == m_series.cend() || !it->hasValues ? std::numeric_limits<double>::quiet_NaN()
                                                   : it->maxValue;
}

void MetricPlot::appendSmoothed(Series &series, const QVector<double> &xs,
                                const QVector<double> &ys)
{
    // Debiased EMA (as TensorBoard draws it): the first points are not dragged towards zero.
    QVector<double> sx;
    QVector<double> sy;
    sx.reserve(xs.size());
    sy.reserve(ys.size());
    const double factor = m_smoothing;
    for (int i = 0; i < xs.size(); ++i) {
        if (!std::isfinite(ys[i]))
            continue;
        series.ema = factor * series.ema + (1.0 - factor) * ys[i];
        series.emaWeight = factor * series.emaWeight + (1.0 - factor);
        sx.append(xs[i]);
        sy.append(series.ema / series.emaWeight);
    }
    if (!sx.isEmpty())
        series.smooth->addData(sx, sy, std::is_sorted(sx.cbegin(), sx.cend()));
}

void MetricPlot::clearData()
{
    for (Series &series : m_series) {
        series.raw->data()->clear();
        if (series.smooth)
            series.smooth->data()->clear();
        series.ema = 0.0;
        series.emaWeight = 0.0;
        series.samples.clear();
        series.hasValues = false;
        series.stepsPerEpoch = 0;
    }
    m_bounds = Bounds{};
    m_follow = true;
    m_tracer->setVisible(false);
    markDirty();
}

void MetricPlot::removeAllSeries()
{
    m_tracer->setGraph(nullptr);
    m_tracer->setVisible(false);
    m_plot->legend->clearItems();
    m_plot->clearGraphs();
    m_series.clear();
    m_order.clear();
    m_bounds = Bounds{};
    m_follow = true;
    markDirty();
}

void MetricPlot::clearSeries(const QString &id)
{
    const auto it = m_series.find(id);
    if (it == m_series.end())
        return;
    it->raw->data()->clear();
    if (it->smooth)
        it->smooth->data()->clear();
    it->ema = 0.0;
    it->emaWeight = 0.0;
    it->samples.clear();
    it->hasValues = false;
    it->stepsPerEpoch = 0;
    recomputeBounds();
    m_follow = true;
    markDirty();
}

void MetricPlot::setSmoothing(double factor)
{
    factor = std::clamp(factor, 0.0, 0.99);
    if (factor == m_smoothing)
        return;
    m_smoothing = factor;
    for (Series &series : m_series) {
        if (!series.smooth)
            continue;
        QVector<double> xs;
        QVector<double> ys;
        const auto data = series.raw->data();
        xs.reserve(data->size());
        ys.reserve(data->size());
        for (auto it = data->constBegin(); it != data->constEnd(); ++it) {
            xs.append(it->key);
            ys.append(it->value);
        }
        series.smooth->data()->clear();
        series.ema = 0.0;
        series.emaWeight = 0.0;
        appendSmoothed(series, xs, ys);
    }
    markDirty();
}

void MetricPlot::setLogScale(bool logarithmic)
{
    if (logarithmic == m_logScale)
        return;
    m_logScale = logarithmic;
    QCPAxis *axis = m_plot->yAxis;
    if (logarithmic) {
        axis->setScaleType(QCPAxis::stLogarithmic);
        QSharedPointer<QCPAxisTickerLog> ticker(new QCPAxisTickerLog);
        ticker->setSubTickCount(8);
        axis->setTicker(ticker);
        axis->setNumberFormat(QStringLiteral("gb"));
    } else {
        axis->setScaleType(QCPAxis::stLinear);
        axis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        axis->setNumberFormat(QStringLiteral("g"));
    }
    m_follow = true;   // the old range means nothing on the new scale
    markDirty();
}

int MetricPlot::pointCount(const QString &id) const
{
    const auto it = m_series.constFind(id);
    return it == m_series.cend() ? 0 : it->raw->dataCount();
}

QPointF MetricPlot::point(const QString &id, int index) const
{
    const auto it = m_series.constFind(id);
    if (it == m_series.cend() || index < 0 || index >= it->raw->dataCount())
        return {};
    const auto data = it->raw->data()->at(index);
    return {data->key, data->value};
}

void MetricPlot::replotNow()
{
    m_dirty = true;
    onReplotTimer();
}

void MetricPlot::markDirty()
{
    m_dirty = true;
    if (!m_replotTimer->isActive())
        m_replotTimer->start();
}

void MetricPlot::onReplotTimer()
{
    if (!m_dirty)
        return;
    m_dirty = false;
    applyRanges();
    updateLegend();
    m_placeholder->setVisible(!m_bounds.valid && !m_placeholderText.isEmpty());
    m_plot->replot();
}

void MetricPlot::updateLegend()
{
    // Only series with data are listed: "test" appears once a test split reports.
    QList<QCPGraph *> wanted;
    for (const QString &id : std::as_const(m_order)) {
        const Series &series = *m_series.constFind(id);
        if (series.raw->dataCount() > 0)
            wanted << (series.smooth ? series.smooth : series.raw);
    }
    QList<QCPGraph *> shown;
    for (int i = 0; i < m_plot->legend->itemCount(); ++i) {
        if (auto *item = qobject_cast<QCPPlottableLegendItem *>(m_plot->legend->item(i)))
            shown << qobject_cast<QCPGraph *>(item->plottable());
    }
    // An empty legend would still draw its frame.
    m_plot->legend->setVisible(m_legendWanted && !wanted.isEmpty());
    if (wanted == shown)
        return;
    m_plot->legend->clearItems();
    for (QCPGraph *graph : std::as_const(wanted))
        graph->addToLegend();
}

void MetricPlot::applyRanges()
{
    if (!m_bounds.valid) {
        m_applyingRanges = true;
        m_plot->xAxis->setRange(m_emptyRange[0], m_emptyRange[1]);
        m_plot->yAxis->setRange(m_logScale ? 0.1 : m_emptyRange[2],
                                m_logScale ? 10.0 : m_emptyRange[3]);
        m_applyingRanges = false;
        return;
    }
    if (!m_follow)
        return;
    const Bounds &b = m_bounds;
    double xLower = b.xMin;
    double xUpper = b.xMax;
    if (xUpper - xLower < 1e-12) {
        xLower -= 0.5;
        xUpper += 0.5;
    } else {
        const double pad = (xUpper - xLower) * 0.02;
        xUpper += pad;
        xLower -= m_xSource == XSource::Epoch ? pad : 0.0;
    }

    double yLower = 0.0;
    double yUpper = 1.0;
    if (m_logScale) {
        yLower = b.yMinPositive > 0 ? b.yMinPositive / 1.25 : 0.1;
        yUpper = b.yMax > yLower ? b.yMax * 1.25 : yLower * 10.0;
    } else {
        const double span = b.yMax - b.yMin;
        const double pad = span > 1e-12 ? span * 0.08 : std::max(std::abs(b.yMax) * 0.05, 0.05);
        yLower = b.yMin - pad;
        yUpper = b.yMax + pad;
        if (m_hasClamp) {
            yLower = std::max(yLower, m_clampLower);
            yUpper = std::min(yUpper, m_clampUpper);
            if (yUpper <= yLower)
                yUpper = yLower + 0.05;
        }
    }
    m_applyingRanges = true;
    m_plot->xAxis->setRange(xLower, xUpper);
    m_plot->yAxis->setRange(yLower, yUpper);
    m_applyingRanges = false;
}

void MetricPlot::onUserNavigated()
{
    if (!m_applyingRanges && m_plot->underMouse())
        m_follow = false;
}

void MetricPlot::fitToData()
{
    m_follow = true;
    markDirty();
}

} // namespace ms::ui
