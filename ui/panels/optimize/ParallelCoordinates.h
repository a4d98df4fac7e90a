#pragma once

#include "optimize/SweepSpec.h"
#include "registry/Registry.h"

#include <QMap>
#include <QPair>
#include <QSet>
#include <QWidget>

#include <optional>
#include <vector>

class QCustomPlot;
class QMouseEvent;

namespace ms::ui {

// A sweep's trials on parallel coordinates: one vertical axis per searched parameter, then the
// objective; each trial that trained (finished or pruned, with a value) is a polyline across
// them, coloured by its objective (the best end of the scale is the brightest). A log-scaled
// parameter sits along its axis by log position, a choice's values are evenly spaced
// categories (ParamDomain::unitOf: the sampler's own mapping), the objective spans the values
// seen.
//
// The table's selected trial is drawn last and wider (setHighlightedTrial).
//
// Dragging along an axis brushes a range on it; trials outside every brush turn grey and
// filterChanged() names the trials inside (visibleTrials). Clicking an axis clears its brush,
// clicking empty space clears them all.
//
// Drawn with QCustomPlot (x = axis index, y = position along an axis in [0, 1]); QCustomPlot
// has no parallel-coordinates chart, so the axes, labels and brushes are its items.
class ParallelCoordinates final : public QWidget
{
    Q_OBJECT

public:
    explicit ParallelCoordinates(QWidget *parent = nullptr);

    void setSweep(const std::vector<ms::ParamDomain> &space, const QString &metric,
                  bool maximize);
    void setTrials(const QVector<ms::TrialRecord> &trials);
    void clear();

    int axisCount() const { return int(m_space.size()) + 1; }
    // Polylines drawn: one per trial with a value.
    int lineCount() const;
    // Where trial `t` crosses axis `axis`, in [0, 1]; nullopt when it has no value there.
    std::optional<double> position(const ms::TrialRecord &t, int axis) const;

    // The brush on `axis` as positions [low, high] along it; an empty range clears it.
    void setBrush(int axis, double low, double high);
    void clearBrushes();
    QMap<int, QPair<double, double>> brushes() const { return m_brushes; }
    // The trials inside every brush; nullopt when nothing is brushed.
    std::optional<QSet<int>> visibleTrials() const;

    // Draws trial `number`'s line on top, wider (the table's selection); -1: none.
    void setHighlightedTrial(int number);
    int highlightedTrial() const { return m_highlighted; }

    QCustomPlot *plot() const { return m_plot; }

Q_SIGNALS:
    void filterChanged();

private:
    void rebuild();
    void drawAxes();
    void drawBrushes();
    void drawLines();
    bool inside(const ms::TrialRecord &t) const;
    QColor lineColor(double value) const;
    // The axis under pixel x, -1 when none is within a few pixels.
    int axisAt(double x) const;

    void onPress(QMouseEvent *event);
    void onMove(QMouseEvent *event);
    void onRelease(QMouseEvent *event);

    QCustomPlot *m_plot = nullptr;
    std::vector<ms::ParamDomain> m_space;
    QString m_metric;
    bool m_maximize = true;
    QVector<ms::TrialRecord> m_trials;
    double m_valueLow = 0.0;
    double m_valueHigh = 1.0;
    QMap<int, QPair<double, double>> m_brushes;
    int m_highlighted = -1;

    int m_dragAxis = -1;          // the axis a drag started on; -1: none
    double m_dragFrom = 0.0;      // its start, as a position along the axis
    QPoint m_pressPixel;
};

} // namespace ms::ui
