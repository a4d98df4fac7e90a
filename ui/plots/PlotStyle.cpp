#include "plots/PlotStyle.h"

#include <qcustomplot.h>

#include <QVBoxLayout>

namespace ms::ui {

void embedPlot(QWidget *host, QCustomPlot *plot, int minimumWidth, int minimumHeight)
{
    auto *layout = new QVBoxLayout(host);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(plot);
    plot->setBackground(QBrush(Qt::white));
    plot->setMinimumSize(minimumWidth, minimumHeight);
}

void styleAxis(QCPAxis *axis)
{
    const QColor axisColor(140, 140, 140);
    axis->setBasePen(QPen(axisColor, 1));
    axis->setTickPen(QPen(axisColor, 1));
    axis->setSubTickPen(QPen(axisColor, 1));
    axis->setTickLabelColor(QColor(80, 80, 80));
    axis->setLabelColor(QColor(60, 60, 60));
    axis->grid()->setPen(QPen(QColor(0, 0, 0, 28), 1, Qt::SolidLine));
    axis->grid()->setZeroLinePen(Qt::NoPen);
    axis->setTickLengthIn(0);
    axis->setTickLengthOut(4);
    axis->setSubTickLengthIn(0);
    axis->setSubTickLengthOut(2);
}

QCPGraph *addPointGraph(QCustomPlot *plot, const QString &name, const QColor &color, bool filled)
{
    QCPGraph *graph = plot->addGraph();
    graph->setName(name);
    graph->setLineStyle(QCPGraph::lsNone);
    graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(color, 1.5),
                                           filled ? QBrush(color) : QBrush(Qt::white), 7));
    return graph;
}

void putLegendAbove(QCustomPlot *plot)
{
    plot->legend->setVisible(true);
    plot->legend->setBorderPen(Qt::NoPen);
    plot->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    plot->axisRect()->insetLayout()->take(plot->legend);
    plot->plotLayout()->insertRow(0);
    plot->plotLayout()->addElement(0, 0, plot->legend);
    plot->plotLayout()->setRowStretchFactor(0, 0.001);
    plot->legend->setMargins(QMargins(4, 2, 4, 0));
}

} // namespace ms::ui
