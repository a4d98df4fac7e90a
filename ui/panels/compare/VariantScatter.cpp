#include "panels/compare/VariantScatter.h"

#include "plots/PlotStyle.h"

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ms::ui {

namespace {

constexpr double kLargestMarker_px = 28.0;
constexpr double kSmallestMarker_px = 7.0;

} // namespace

VariantScatter::VariantScatter(QWidget *parent)
    : QWidget(parent)
    , m_plot(new QCustomPlot(this))
{
    embedPlot(this, m_plot, 260, 200);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    styleAxis(m_plot->xAxis);
    styleAxis(m_plot->yAxis);
    m_plot->setToolTip(tr("Up and to the left is better. The dashed line is the Pareto front: "
                          "the variants no other one beats on both accuracy and latency. A "
                          "dot's area is its artifact size."));
    connect(m_plot, &QCustomPlot::mouseDoubleClick, this, [this] { rebuild(); });
    connect(m_plot, &QCustomPlot::afterReplot, this, [this] {
        if (m_placing)
            return;
        m_placing = true;
        if (placeLabels())
            m_plot->replot();
        m_placing = false;
    });
    rebuild();
}

QVector<int> VariantScatter::paretoFront(const QVector<Point> &points)
{
    QVector<int> front;
    for (int i = 0; i < points.size(); ++i) {
        const Point &p = points[i];
        bool dominated = false;
        for (int j = 0; j < points.size() && !dominated; ++j) {
            const Point &q = points[j];
            dominated = j != i && q.latency_ms <= p.latency_ms && q.accuracy >= p.accuracy
                        && (q.latency_ms < p.latency_ms || q.accuracy > p.accuracy);
        }
        if (!dominated)
            front << i;
    }
    std::sort(front.begin(), front.end(), [&points](int a, int b) {
        return points[a].latency_ms != points[b].latency_ms
                   ? points[a].latency_ms < points[b].latency_ms
                   : points[a].accuracy < points[b].accuracy;
    });
    return front;
}

double VariantScatter::markerDiameter(double size_bytes, double largest_bytes)
{
    if (largest_bytes <= 0.0 || size_bytes <= 0.0)
        return kSmallestMarker_px;
    // Diameter by the square root: the eye reads a dot's area, not its width.
    return std::max(kSmallestMarker_px,
                    kLargestMarker_px * std::sqrt(size_bytes / largest_bytes));
}

void VariantScatter::setPoints(const QVector<Point> &points, int batch)
{
    m_points = points;
    m_batch = batch;
    m_front = paretoFront(m_points);
    rebuild();
}

void VariantScatter::setLogLatency(bool log)
{
    m_log = log;
    rebuild();
}

void VariantScatter::setPlaceholderText(const QString &text)
{
    m_placeholder = text;
    rebuild();
}

QCPGraph *VariantScatter::pointGraph(const QString &label) const
{
    for (int i = 0; i < m_plot->graphCount(); ++i) {
        if (m_plot->graph(i) != m_frontGraph && m_plot->graph(i)->name() == label)
            return m_plot->graph(i);
    }
    return nullptr;
}

void VariantScatter::rebuild()
{
    m_plot->clearGraphs();
    m_plot->clearItems();
    m_labels.clear();
    m_frontGraph = nullptr;

    m_plot->xAxis->setLabel(m_batch > 0 ? tr("p50 latency at batch %1 (ms)").arg(m_batch)
                                        : tr("p50 latency (ms)"));
    m_plot->yAxis->setLabel(tr("test accuracy (%)"));
    if (m_log) {
        m_plot->xAxis->setScaleType(QCPAxis::stLogarithmic);
        m_plot->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    } else {
        m_plot->xAxis->setScaleType(QCPAxis::stLinear);
        m_plot->xAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    }

    if (m_points.isEmpty()) {
        auto *text = new QCPItemText(m_plot);
        text->position->setType(QCPItemPosition::ptAxisRectRatio);
        text->position->setCoords(0.5, 0.5);
        text->setColor(QColor(140, 140, 140));
        text->setText(m_placeholder);
        m_plot->xAxis->setRange(m_log ? 0.1 : 0.0, 10.0);
        m_plot->yAxis->setRange(0.0, 100.0);
        m_plot->replot();
        return;
    }

    // The front under the dots, so a dot on it stays whole.
    m_frontGraph = m_plot->addGraph();
    m_frontGraph->setName(tr("Pareto front"));
    m_frontGraph->setPen(QPen(QColor(90, 90, 90), 1.5, Qt::DashLine));
    // Between two front points the best accuracy on offer is the slower one's only from its
    // latency on: a step held at the left point's value.
    m_frontGraph->setLineStyle(QCPGraph::lsStepLeft);
    QVector<double> fx;
    QVector<double> fy;
    for (int i : m_front) {
        fx << m_points[i].latency_ms;
        fy << m_points[i].accuracy * 100.0;
    }
    m_frontGraph->setData(fx, fy, true);

    double largest = 0.0;
    for (const Point &p : m_points)
        largest = std::max(largest, p.size_bytes);
    double xMin = m_points.first().latency_ms;
    double xMax = xMin;
    double yMin = m_points.first().accuracy * 100.0;
    double yMax = yMin;
    for (const Point &p : m_points) {
        QCPGraph *graph = m_plot->addGraph();
        graph->setName(p.label);
        graph->setLineStyle(QCPGraph::lsNone);
        QColor fill = p.color;
        fill.setAlpha(170);
        graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, p.color.darker(130),
                                               fill, markerDiameter(p.size_bytes, largest)));
        graph->setData({p.latency_ms}, {p.accuracy * 100.0}, true);

        auto *text = new QCPItemText(m_plot);
        text->position->setCoords(p.latency_ms, p.accuracy * 100.0);
        text->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
        text->setColor(QColor(50, 50, 50));
        text->setText(p.label);
        text->setClipToAxisRect(false);
        m_labels << text;

        xMin = std::min(xMin, p.latency_ms);
        xMax = std::max(xMax, p.latency_ms);
        yMin = std::min(yMin, p.accuracy * 100.0);
        yMax = std::max(yMax, p.accuracy * 100.0);
    }
    // Room around the dots for their size and their labels (which go up and right).
    if (m_log) {
        const double lo = xMin > 0 ? xMin : 0.01;
        const double span = std::max(std::log10(std::max(xMax, lo)) - std::log10(lo), 0.3);
        m_plot->xAxis->setRange(lo / std::pow(10.0, span * 0.15),
                                std::max(xMax, lo) * std::pow(10.0, span * 0.35));
    } else {
        const double span = std::max(xMax - xMin, std::max(xMax * 0.2, 1e-3));
        m_plot->xAxis->setRange(std::max(0.0, xMin - span * 0.15), xMax + span * 0.35);
    }
    const double ySpan = std::max(yMax - yMin, 1.0);
    m_plot->yAxis->setRange(yMin - ySpan * 0.25, std::min(100.0 + ySpan * 0.1,
                                                          yMax + ySpan * 0.35));
    m_plot->replot();
}

bool VariantScatter::placeLabels()
{
    if (m_labels.size() != m_points.size() || m_points.isEmpty())
        return false;
    double largest = 0.0;
    for (const Point &p : std::as_const(m_points))
        largest = std::max(largest, p.size_bytes);
    QVector<QRectF> dots;
    for (const Point &p : std::as_const(m_points)) {
        const double r = markerDiameter(p.size_bytes, largest) / 2.0;
        const QPointF c(m_plot->xAxis->coordToPixel(p.latency_ms),
                        m_plot->yAxis->coordToPixel(p.accuracy * 100.0));
        dots << QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r);
    }
    // The highest dots first: their names take the spot above-right, the ones below move.
    QVector<int> order(m_points.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(),
              [&dots](int a, int b) { return dots[a].top() < dots[b].top(); });
    QVector<QRectF> taken;
    bool moved = false;
    for (int i : std::as_const(order)) {
        QCPItemText *text = m_labels[i];
        const QFontMetricsF metrics(text->font());
        const QSizeF size(metrics.horizontalAdvance(text->text()) + 2, metrics.height());
        const QRectF &dot = dots[i];
        QVector<QPointF> candidates{{dot.right() + 2, dot.top() - size.height() * 0.6},
                                    {dot.right() + 2, dot.center().y() - size.height() / 2}};
        for (int k = 1; k <= 6; ++k)
            candidates << QPointF(dot.right() + 2, dot.center().y() - size.height() / 2
                                                       + k * size.height());
        candidates << QPointF(dot.left() - size.width() - 2, dot.center().y() - size.height() / 2);
        QRectF chosen(candidates.first(), size);
        for (const QPointF &topLeft : std::as_const(candidates)) {
            const QRectF r(topLeft, size);
            bool free = true;
            for (const QRectF &t : std::as_const(taken))
                free = free && !t.intersects(r);
            for (int d = 0; d < dots.size(); ++d)
                free = free && (d == i || !dots[d].intersects(r));
            if (free) {
                chosen = r;
                break;
            }
        }
        taken << chosen;
        const QPointF coords(m_plot->xAxis->pixelToCoord(chosen.left()),
                             m_plot->yAxis->pixelToCoord(chosen.top()));
        const QPointF now = text->position->pixelPosition();
        if (std::abs(now.x() - chosen.left()) > 0.5 || std::abs(now.y() - chosen.top()) > 0.5) {
            text->position->setCoords(coords);
            moved = true;
        }
    }
    return moved;
}

} // namespace ms::ui
