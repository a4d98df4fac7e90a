#pragma once

class QCPAxis;
class QCustomPlot;
class QWidget;

namespace ms::ui {

// The one look every QCustomPlot in the studio shares, so the charts read as one family and a
// colour change is made in one place.

// Puts `plot` as the only child of `host`, edge to edge, on a white background, no smaller than
// the given size.
void embedPlot(QWidget *host, QCustomPlot *plot, int minimumWidth, int minimumHeight);

// Grey axis with faint grid lines and outward ticks only (inward ticks cross the data).
void styleAxis(QCPAxis *axis);

} // namespace ms::ui
