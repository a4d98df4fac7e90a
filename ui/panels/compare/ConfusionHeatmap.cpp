#include "panels/compare/ConfusionHeatmap.h"

#include "plots/PlotStyle.h"

#include <qcustomplot.h>

#include <QToolTip>

#include <algorithm>
#include <array>
#include <cmath>

namespace ms::ui {

namespace {

constexpr int kMaxAnnotatedClasses = 6;   // beyond this the counts no longer fit a cell
constexpr int kMaxTickLabelChars = 12;   // "T-shirt/top" whole; longer names shortened
constexpr int kTickLabelGap_px = 2;       // between two names along an axis
constexpr int kFreeRelabelPasses = 3;

QString shortName(const QString &name)
{
    return name.size() > kMaxTickLabelChars ? name.left(kMaxTickLabelChars - 1) + QChar(0x2026)
                                            : name;
}

} // namespace

ConfusionHeatmap::ConfusionHeatmap(QWidget *parent)
    : QWidget(parent)
    , m_plot(new QCustomPlot(this))
{
    embedPlot(this, m_plot, 220, 200);
    m_plot->plotLayout()->insertRow(0);
    m_plot->plotLayout()->addElement(0, 0, new QCPTextElement(m_plot, QString(),
                                                              QFont(font().family(), -1,
                                                                    QFont::Bold)));
    m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
    // White for none to a deep blue for all of a class: the diagonal stands out, and a faint
    // off-diagonal cell is a real confusion, not noise in a rainbow.
    QCPColorGradient gradient;
    gradient.setColorStopAt(0.0, QColor(255, 255, 255));
    gradient.setColorStopAt(0.5, QColor(0x6b, 0xae, 0xd6));
    gradient.setColorStopAt(1.0, QColor(0x08, 0x30, 0x6b));
    m_map->setGradient(gradient);
    m_map->setInterpolate(false);
    m_plot->xAxis->setLabel(tr("predicted"));
    m_plot->yAxis->setLabel(tr("true"));
    m_plot->yAxis->setRangeReversed(true);   // the first class at the top, as matrices read
    for (QCPAxis *axis : {m_plot->xAxis, m_plot->yAxis}) {
        axis->grid()->setVisible(false);
        axis->setTickLengthIn(0);
        axis->setSubTicks(false);
        axis->setTickLabelColor(QColor(60, 60, 60));
        axis->setLabelColor(QColor(60, 60, 60));
        axis->setBasePen(QPen(QColor(160, 160, 160)));
    }
    m_plot->xAxis->setTickLabelRotation(-90);   // upright names would overlap their neighbours
    // Once the layout has sized the cells, every class whose name has no room is left unlabelled
    // (the tooltip still names it); a change of step needs one more pass with the new labels.
    // Fewer names can widen the cells (a shorter longest name on the y axis) and so allow more:
    // after a few passes steps only grow, so the passes end, and never with names overlapping.
    connect(m_plot, &QCustomPlot::afterLayout, this, [this] {
        if (updateTickLabels(m_relabelPasses >= kFreeRelabelPasses)) {
            ++m_relabelPasses;
            m_plot->replot(QCustomPlot::rpQueuedReplot);
        }
    });
    // The count under the pointer: with many classes the cells are too small to write it in.
    m_plot->setMouseTracking(true);
    connect(m_plot, &QCustomPlot::mouseMove, this, [this](QMouseEvent *event) {
        const int p = int(std::lround(m_plot->xAxis->pixelToCoord(event->position().x())));
        const int t = int(std::lround(m_plot->yAxis->pixelToCoord(event->position().y())));
        if (p < 0 || t < 0 || p >= m_classes || t >= m_classes) {
            QToolTip::hideText();
            return;
        }
        QToolTip::showText(event->globalPosition().toPoint(),
                           tr("true %1, predicted %2: %3")
                               .arg(m_classNames.value(t, QString::number(t)),
                                    m_classNames.value(p, QString::number(p)),
                                    QString::number(qint64(cellCount(t, p)))),
                           m_plot);
    });
}

void ConfusionHeatmap::setMatrix(const QString &title, const QStringList &classNames,
                                 const QVector<QVector<double>> &matrix)
{
    m_title = title;
    m_classNames = classNames;
    m_plot->clearItems();
    if (auto *titleElement = qobject_cast<QCPTextElement *>(m_plot->plotLayout()->element(0, 0)))
        titleElement->setText(title);

    const int n = int(matrix.size());
    QCPColorMapData *data = m_map->data();
    data->setSize(std::max(n, 1), std::max(n, 1));
    data->setRange(QCPRange(0, std::max(n - 1, 0)), QCPRange(0, std::max(n - 1, 0)));
    data->fill(0.0);

    m_labelSteps = {0, 0};
    m_relabelPasses = 0;
    m_classes = n;
    updateTickLabels(false);

    double largestRow = 0.0;
    for (const QVector<double> &row : matrix) {
        double total = 0.0;
        for (double v : row)
            total += v;
        largestRow = std::max(largestRow, total);
    }
    m_map->setDataRange(QCPRange(0.0, std::max(largestRow, 1.0)));
    for (int t = 0; t < n; ++t) {
        for (int p = 0; p < n; ++p) {
            const double count = matrix[t].value(p);
            // QCPColorMapData indexes (key = x = predicted, value = y = true).
            data->setCell(p, t, count);
            if (n > kMaxAnnotatedClasses)
                continue;
            auto *label = new QCPItemText(m_plot);
            label->position->setCoords(p, t);
            label->setText(QString::number(qint64(count)));
            QFont small = font();
            small.setPointSizeF(std::max(6.0, small.pointSizeF() - (n > 6 ? 2.0 : 0.0)));
            label->setFont(small);
            // Light text on the dark cells, dark on the light ones.
            label->setColor(count > 0.55 * largestRow ? Qt::white : QColor(40, 40, 40));
        }
    }
    if (n == 0) {
        auto *note = new QCPItemText(m_plot);
        note->position->setType(QCPItemPosition::ptAxisRectRatio);
        note->position->setCoords(0.5, 0.5);
        note->setColor(QColor(140, 140, 140));
        note->setText(tr("No confusion matrix stored"));
    }
    m_map->setVisible(n > 0);
    m_plot->xAxis->setRange(-0.5, std::max(n, 1) - 0.5);
    m_plot->yAxis->setRange(-0.5, std::max(n, 1) - 0.5);
    m_plot->replot();
}

int ConfusionHeatmap::labelStep(const QCPAxis *axis) const
{
    // Rotated on the x axis, upright on the y axis: either way a name takes a line's height
    // along its axis, and needs that much of the axis per label shown.
    const int lineHeight_px = QFontMetrics(axis->tickLabelFont()).height() + kTickLabelGap_px;
    const int axisLength_px = axis->orientation() == Qt::Horizontal ? axis->axisRect()->width()
                                                                    : axis->axisRect()->height();
    if (m_classes <= 1 || axisLength_px <= 0)
        return 1;
    const double cell_px = double(axisLength_px) / double(m_classes);
    return std::max(1, int(std::ceil(double(lineHeight_px) / cell_px)));
}

bool ConfusionHeatmap::updateTickLabels(bool growOnly)
{
    std::array<int, 2> steps{labelStep(m_plot->xAxis), labelStep(m_plot->yAxis)};
    if (growOnly) {
        for (size_t a = 0; a < steps.size(); ++a)
            steps[a] = std::max(steps[a], m_labelSteps[a]);
    }
    if (steps == m_labelSteps)
        return false;
    m_labelSteps = steps;
    const std::array<QCPAxis *, 2> axes{m_plot->xAxis, m_plot->yAxis};
    for (size_t a = 0; a < axes.size(); ++a) {
        auto ticker = QSharedPointer<QCPAxisTickerText>::create();
        for (int c = 0; c < m_classes; ++c) {
            ticker->addTick(c, c % steps[a] == 0
                                   ? shortName(m_classNames.value(c, QString::number(c)))
                                   : QString());
        }
        axes[a]->setTicker(ticker);
    }
    return true;
}

QStringList ConfusionHeatmap::shownTickLabels(Qt::Orientation orientation) const
{
    const QCPAxis *axis = orientation == Qt::Horizontal ? m_plot->xAxis : m_plot->yAxis;
    QStringList labels;
    if (auto ticker = axis->ticker().dynamicCast<QCPAxisTickerText>()) {
        for (const QString &label : ticker->ticks())
            labels << label;
    }
    return labels;
}

void ConfusionHeatmap::resizeEvent(QResizeEvent *event)
{
    m_relabelPasses = 0;
    QWidget::resizeEvent(event);
}

double ConfusionHeatmap::cellCount(int trueClass, int predictedClass) const
{
    return m_map->data()->cell(predictedClass, trueClass);
}

} // namespace ms::ui
