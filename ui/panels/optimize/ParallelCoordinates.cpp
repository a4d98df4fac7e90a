#include "panels/optimize/ParallelCoordinates.h"

#include "plots/PlotStyle.h"

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace ms::ui {

namespace {

constexpr double kTop = 1.0;
constexpr int kAxisGrab_px = 14;      // how near an axis a press starts a brush
constexpr int kClick_px = 3;          // a press that moves less is a click
const QColor kAxisColor(110, 110, 110);
const QColor kFaded(200, 200, 200, 120);

bool hasValue(const ms::TrialRecord &t)
{
    return !std::isnan(t.value)
           && (t.status == QLatin1String("finished") || t.status == QLatin1String("pruned"));
}

// An axis end: short, and plain decimals where they fit ("0.0001", not "1.000e-04").
QString endText(double v)
{
    return QString::number(v, 'g', 4);
}

QString valueText(const QJsonValue &v)
{
    return v.isDouble() ? endText(v.toDouble()) : v.toVariant().toString();
}

QCPItemText *addLabel(QCustomPlot *plot, double x, double y, const QString &text,
                      Qt::Alignment align, bool bold = false)
{
    auto *label = new QCPItemText(plot);
    label->position->setCoords(x, y);
    label->setPositionAlignment(align);
    label->setText(text);
    label->setColor(QColor(60, 60, 60));
    label->setClipToAxisRect(false);
    QFont font = plot->font();
    font.setPointSizeF(font.pointSizeF() * (bold ? 1.0 : 0.85));
    font.setBold(bold);
    label->setFont(font);
    // Tick labels sit on the lines' ends: a light backing keeps them readable.
    if (!bold)
        label->setBrush(QColor(255, 255, 255, 200));
    return label;
}

} // namespace

ParallelCoordinates::ParallelCoordinates(QWidget *parent)
    : QWidget(parent), m_plot(new QCustomPlot(this))
{
    embedPlot(this, m_plot, 320, 200);
    m_plot->xAxis->setVisible(false);
    m_plot->yAxis->setVisible(false);
    m_plot->xAxis->grid()->setVisible(false);
    m_plot->yAxis->grid()->setVisible(false);
    // Room above the axes for their names and below for the low ends' labels.
    m_plot->axisRect()->setAutoMargins(QCP::msNone);
    m_plot->axisRect()->setMargins(QMargins(12, 34, 12, 22));
    m_plot->setInteractions({});
    m_plot->setNoAntialiasingOnDrag(true);
    connect(m_plot, &QCustomPlot::mousePress, this, &ParallelCoordinates::onPress);
    connect(m_plot, &QCustomPlot::mouseMove, this, &ParallelCoordinates::onMove);
    connect(m_plot, &QCustomPlot::mouseRelease, this, &ParallelCoordinates::onRelease);
    rebuild();
}

void ParallelCoordinates::setSweep(const std::vector<ms::ParamDomain> &space,
                                   const QString &metric, bool maximize)
{
    m_space = space;
    m_metric = metric;
    m_maximize = maximize;
    m_trials.clear();
    m_highlighted = -1;   // a trial number of another sweep
    const bool hadBrush = !m_brushes.isEmpty();
    m_brushes.clear();
    rebuild();
    if (hadBrush)
        Q_EMIT filterChanged();
}

void ParallelCoordinates::clear()
{
    setSweep({}, QString(), true);
}

void ParallelCoordinates::setTrials(const QVector<ms::TrialRecord> &trials)
{
    m_trials = trials;
    bool any = false;
    for (const ms::TrialRecord &t : m_trials) {
        if (!hasValue(t))
            continue;
        m_valueLow = any ? std::min(m_valueLow, t.value) : t.value;
        m_valueHigh = any ? std::max(m_valueHigh, t.value) : t.value;
        any = true;
    }
    if (!any) {
        m_valueLow = 0.0;
        m_valueHigh = 1.0;
    }
    rebuild();
    if (!m_brushes.isEmpty())
        Q_EMIT filterChanged();   // a new trial may fall inside the brushes
}

int ParallelCoordinates::lineCount() const
{
    return m_plot->graphCount();
}

std::optional<double> ParallelCoordinates::position(const ms::TrialRecord &t, int axis) const
{
    if (axis < int(m_space.size())) {
        const QJsonValue v = t.params.value(m_space[size_t(axis)].path);
        if (v.isUndefined())
            return std::nullopt;
        return m_space[size_t(axis)].unitOf(v);
    }
    if (std::isnan(t.value) || !hasValue(t))
        return std::nullopt;
    if (m_valueHigh <= m_valueLow)
        return 0.5;
    return (t.value - m_valueLow) / (m_valueHigh - m_valueLow);
}

void ParallelCoordinates::setBrush(int axis, double low, double high)
{
    if (axis < 0 || axis >= axisCount())
        return;
    if (low > high)
        std::swap(low, high);
    if (high - low <= 0.0)
        m_brushes.remove(axis);
    else
        m_brushes.insert(axis, {std::max(0.0, low), std::min(kTop, high)});
    rebuild();
    Q_EMIT filterChanged();
}

void ParallelCoordinates::setHighlightedTrial(int number)
{
    if (number == m_highlighted)
        return;
    m_highlighted = number;
    rebuild();
}

void ParallelCoordinates::clearBrushes()
{
    if (m_brushes.isEmpty())
        return;
    m_brushes.clear();
    rebuild();
    Q_EMIT filterChanged();
}

bool ParallelCoordinates::inside(const ms::TrialRecord &t) const
{
    for (auto it = m_brushes.cbegin(); it != m_brushes.cend(); ++it) {
        const std::optional<double> p = position(t, it.key());
        if (!p || *p < it.value().first || *p > it.value().second)
            return false;
    }
    return true;
}

std::optional<QSet<int>> ParallelCoordinates::visibleTrials() const
{
    if (m_brushes.isEmpty())
        return std::nullopt;
    QSet<int> numbers;
    for (const ms::TrialRecord &t : m_trials)
        if (inside(t))
            numbers.insert(t.number);
    return numbers;
}

QColor ParallelCoordinates::lineColor(double value) const
{
    // Viridis' stops (this QCustomPlot has no preset of it): readable on white, ordered in
    // lightness, and clear to colour-blind eyes.
    QCPColorGradient gradient = [] {
        QCPColorGradient g;
        g.setColorStops({{0.0, QColor(68, 1, 84)},
                         {0.25, QColor(59, 82, 139)},
                         {0.5, QColor(33, 145, 140)},
                         {0.75, QColor(94, 201, 98)},
                         {1.0, QColor(223, 200, 38)}});
        return g;
    }();
    // The best end of the scale is the bright one, whatever the objective's direction.
    const QCPRange range = m_maximize ? QCPRange(m_valueLow, m_valueHigh)
                                      : QCPRange(m_valueHigh, m_valueLow);
    return QColor::fromRgb(gradient.color(value, range.size() == 0.0
                                                      ? QCPRange(value - 1, value + 1)
                                                      : range));
}

void ParallelCoordinates::rebuild()
{
    m_plot->clearGraphs();
    m_plot->clearItems();
    const int axes = axisCount();
    m_plot->xAxis->setRange(-0.35, std::max(1, axes - 1) + 0.35);
    m_plot->yAxis->setRange(0.0, kTop);
    if (m_space.empty()) {
        addLabel(m_plot, (axes - 1) / 2.0, 0.5,
                 tr("Parameters and objective of each trial, once a sweep runs"),
                 Qt::AlignCenter);
        m_plot->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    drawLines();
    drawBrushes();
    drawAxes();
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void ParallelCoordinates::drawLines()
{
    QVector<double> xs(axisCount());
    for (int i = 0; i < axisCount(); ++i)
        xs[i] = i;
    // Faded lines first, so the brushed ones are drawn over them, and the selected one last.
    const auto layer = [this](const ms::TrialRecord &t) {
        return t.number == m_highlighted ? 2 : inside(t) ? 1 : 0;
    };
    for (const int level : {0, 1, 2}) {
        for (const ms::TrialRecord &t : m_trials) {
            if (!hasValue(t) || layer(t) != level)
                continue;
            const bool highlighted = level > 0;
            QVector<double> ys(axisCount());
            for (int i = 0; i < axisCount(); ++i)
                ys[i] = position(t, i).value_or(qQNaN());
            QCPGraph *graph = m_plot->addGraph();
            graph->setData(xs, ys, true);
            graph->setName(QStringLiteral("trial %1").arg(t.number));
            QPen pen(highlighted ? lineColor(t.value) : kFaded,
                     level == 2 ? 4.0 : highlighted ? 1.8 : 1.2);
            if (t.status != QLatin1String("finished"))
                pen.setStyle(Qt::DashLine);   // pruned: stopped early
            graph->setPen(pen);
        }
    }
}

void ParallelCoordinates::drawBrushes()
{
    for (auto it = m_brushes.cbegin(); it != m_brushes.cend(); ++it) {
        auto *rect = new QCPItemRect(m_plot);
        rect->topLeft->setCoords(it.key() - 0.06, it.value().second);
        rect->bottomRight->setCoords(it.key() + 0.06, it.value().first);
        rect->setPen(QPen(QColor(30, 100, 200), 1));
        rect->setBrush(QColor(30, 100, 200, 50));
    }
}

void ParallelCoordinates::drawAxes()
{
    const auto axisLine = [this](int i) {
        auto *line = new QCPItemLine(m_plot);
        line->start->setCoords(i, 0.0);
        line->end->setCoords(i, kTop);
        line->setPen(QPen(kAxisColor, 1.2));
    };
    const Qt::Alignment right = Qt::AlignLeft | Qt::AlignVCenter;
    for (int i = 0; i < int(m_space.size()); ++i) {
        const ms::ParamDomain &d = m_space[size_t(i)];
        axisLine(i);
        const QString name = d.isLog() ? tr("%1 (log)").arg(d.path) : d.path;
        addLabel(m_plot, i, kTop, name, Qt::AlignHCenter | Qt::AlignBottom, true)
            ->setPadding(QMargins(0, 0, 0, 8));
        if (d.kind == ms::ParamDomain::Kind::Choice) {
            for (const QJsonValue &choice : d.choices)
                addLabel(m_plot, i, d.unitOf(choice), QStringLiteral(" %1").arg(valueText(choice)),
                         right);
        } else {
            addLabel(m_plot, i, 0.0, QStringLiteral(" %1").arg(endText(d.low)), right);
            addLabel(m_plot, i, kTop, QStringLiteral(" %1").arg(endText(d.high)), right);
        }
    }
    const int last = int(m_space.size());
    axisLine(last);
    addLabel(m_plot, last, kTop, m_metric, Qt::AlignHCenter | Qt::AlignBottom, true)
        ->setPadding(QMargins(0, 0, 0, 8));
    addLabel(m_plot, last, 0.0, QStringLiteral(" %1").arg(endText(m_valueLow)), right);
    addLabel(m_plot, last, kTop, QStringLiteral(" %1").arg(endText(m_valueHigh)), right);
}

int ParallelCoordinates::axisAt(double x) const
{
    const int axis = int(std::lround(m_plot->xAxis->pixelToCoord(x)));
    if (axis < 0 || axis >= axisCount() || m_space.empty())
        return -1;
    return std::abs(m_plot->xAxis->coordToPixel(axis) - x) <= kAxisGrab_px ? axis : -1;
}

void ParallelCoordinates::onPress(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton)
        return;
    m_pressPixel = event->pos();
    m_dragAxis = axisAt(event->pos().x());
    m_dragFrom = std::clamp(m_plot->yAxis->pixelToCoord(event->pos().y()), 0.0, kTop);
}

void ParallelCoordinates::onMove(QMouseEvent *event)
{
    if (m_dragAxis < 0 || !(event->buttons() & Qt::LeftButton))
        return;
    if ((event->pos() - m_pressPixel).manhattanLength() < kClick_px)
        return;
    const double to = std::clamp(m_plot->yAxis->pixelToCoord(event->pos().y()), 0.0, kTop);
    setBrush(m_dragAxis, m_dragFrom, to);
}

void ParallelCoordinates::onRelease(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton)
        return;
    const bool click = (event->pos() - m_pressPixel).manhattanLength() < kClick_px;
    if (click && m_dragAxis >= 0 && m_brushes.contains(m_dragAxis)) {
        m_brushes.remove(m_dragAxis);
        rebuild();
        Q_EMIT filterChanged();
    } else if (click && m_dragAxis < 0) {
        clearBrushes();
    }
    m_dragAxis = -1;
}

} // namespace ms::ui
