#pragma once

class QCPAxis;
class QCPGraph;
class QColor;
class QCustomPlot;
class QString;
class QWidget;

namespace ms::ui {

// The one look every QCustomPlot in the studio shares, so the charts read as one family and a
// colour change is made in one place.

// Puts `plot` as the only child of `host`, edge to edge, on a white background, no smaller than
// the given size.
void embedPlot(QWidget *host, QCustomPlot *plot, int minimumWidth, int minimumHeight);

// Grey axis with faint grid lines and outward ticks only (inward ticks cross the data).
void styleAxis(QCPAxis *axis);

// A graph of points only (no line): filled circles, or hollow ones on white.
QCPGraph *addPointGraph(QCustomPlot *plot, const QString &name, const QColor &color, bool filled);

// The legend in a row of its own above the axis rect, entries side by side: points may fall in
// any corner of a scatter.
void putLegendAbove(QCustomPlot *plot);

} // namespace ms::ui
