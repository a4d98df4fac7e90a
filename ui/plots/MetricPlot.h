#pragma once

#include "jobs/MetricPoint.h"

#include <QColor>
#include <QHash>
#include <QString>
#include <QVector>
#include <QWidget>

class QCPGraph;
class QCPItemText;
class QCPItemTracer;
class QCustomPlot;
class QTimer;

namespace ms::ui {

// One QCustomPlot with named series, fed by batches of metric points (or raw x/y vectors).
// Built for live training curves: appends are O(batch), the replot runs from a coalescing timer
// at most every ~50 ms and only when something changed, graphs use adaptive sampling, and the
// axis ranges are tracked incrementally so a million points stay fluid. The Train panel uses it
// for loss and accuracy (several runs overlaid), the Versions panel for a version's curves.
//
// Series fed with metric points keep each point's step, epoch and wall time beside the graph,
// so the x axis can switch between them (setXSource) without asking the job or the registry.
class MetricPlot final : public QWidget
{
    Q_OBJECT

public:
    // Which field of a MetricPoint becomes the x coordinate.
    enum class XSource { Step, Epoch, WallTime };

    struct SeriesOptions
    {
        QColor color;
        bool smoothed = false;   // raw curve faded + EMA curve on top (setSmoothing)
        bool markers = false;    // a dot per point: epoch series have few points
    };

    explicit MetricPlot(QWidget *parent = nullptr);
    ~MetricPlot() override;

    void setAxisLabels(const QString &xLabel, const QString &yLabel);
    // Re-lays every point-fed series on the new x axis (O(points), on user request only).
    void setXSource(XSource source);
    // With Epoch as x, a per-step point lands at step / stepsPerEpoch (0.5 = half-way through
    // epoch 1) and a per-epoch point at its epoch; without it (0), every point at its epoch.
    // Each series keeps the value in force when it received its first point.
    void setStepsPerEpoch(qint64 steps);
    // Integer ticks on the x axis (epochs).
    void setIntegerXTicks(bool integer);
    // Clamp the automatic value range, e.g. [0, 1] for accuracies.
    void setValueClamp(double lower, double upper);
    void clearValueClamp();
    void setLegendVisible(bool visible);
    // The legend in a row of its own above the plot, its entries side by side, instead of in
    // the plot's lower right corner: for plots whose curves may pass anywhere (live traffic).
    void setLegendAbove(bool above);
    // The ranges shown while there is no data, and the text centred in the empty plot.
    void setEmptyRanges(double xLower, double xUpper, double yLower, double yUpper);
    void setPlaceholderText(const QString &text);

    // `id` is the metric key when the series is fed from MetricBatch points.
    void addSeries(const QString &id, const QString &label, const SeriesOptions &options);
    bool hasSeries(const QString &id) const { return m_series.contains(id); }
    // Removes every series and its graphs (the Compare panel rebuilds its set on each change).
    void removeAllSeries();

    // A new series `to` holding a copy of `from`'s points (a finished run kept on the plot
    // while the next one draws under the original id).
    void copySeries(const QString &from, const QString &to, const QString &label,
                    const SeriesOptions &options);
    void removeSeries(const QString &id);
    QStringList seriesIds() const { return m_order; }

    // Appends points whose key names a series; other keys are ignored.
    void appendBatch(const ms::MetricBatch &points);
    // Appends to one series; x must not decrease.
    void append(const QString &id, const QVector<double> &xs, const QVector<double> &ys);
    // Empties every series (they stay defined).
    void clearData();
    // Empties one series.
    void clearSeries(const QString &id);

    // EMA factor in [0, 0.99] for smoothed series; recomputes them from the raw points.
    void setSmoothing(double factor);
    double smoothing() const { return m_smoothing; }
    void setLogScale(bool logarithmic);

    // Raw points held by a series (0 for an unknown id).
    int pointCount(const QString &id) const;
    // The lowest / highest finite value of a series; NaN when it has none.
    double minValue(const QString &id) const;
    double maxValue(const QString &id) const;
    // The raw point i of a series, for tests and tooltips.
    QPointF point(const QString &id, int index) const;
    // Draw now instead of on the next timer tick (screenshots, tests).
    void replotNow();

    // Writes the plot as it is shown to PNG, SVG or PDF, chosen by the file's suffix (written
    // to a temporary file, then renamed). False, with the reason in `error`, on failure.
    bool exportImage(const QString &path, QString *error = nullptr);

    QCustomPlot *customPlot() const { return m_plot; }
    // The placeholder as drawn: visible, and wrapped to the plot's width.
    QCPItemText *placeholderItem() const { return m_placeholder; }

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    // What a metric point leaves behind besides its graph coordinates: enough to re-lay it on
    // another x axis.
    struct Sample
    {
        qint64 step = 0;
        int epoch = 0;
        double wallTime_s = 0.0;
        double value = 0.0;
    };
    struct Series
    {
        QString label;
        QCPGraph *raw = nullptr;
        QCPGraph *smooth = nullptr;   // only for smoothed series
        double ema = 0.0;             // running state of the EMA...
        double emaWeight = 0.0;       // ...and its bias correction (1 - factor^n)
        double minValue = 0.0;
        double maxValue = 0.0;
        bool hasValues = false;
        QVector<Sample> samples;      // only for series fed with metric points
        qint64 stepsPerEpoch = 0;     // of the run that fed it (setStepsPerEpoch at the time)
    };
    struct Bounds
    {
        bool valid = false;
        double xMin = 0, xMax = 0, yMin = 0, yMax = 0;
        double yMinPositive = 0;      // for the log scale; 0 = no positive value seen
    };

    double xOf(const Sample &sample, qint64 stepsPerEpoch) const;
    void appendSamples(Series &series, const QVector<Sample> &samples);
    void addToGraphs(Series &series, const QVector<double> &xs, const QVector<double> &ys);
    void extendBounds(const QVector<double> &xs, const QVector<double> &ys);
    void recomputeBounds();
    void appendSmoothed(Series &series, const QVector<double> &xs, const QVector<double> &ys);
    void showContextMenu(const QPoint &pos);
    void markDirty();
    void updateLegend();
    void onReplotTimer();
    void applyRanges();
    void onMouseMove(QMouseEvent *event);
    void onUserNavigated();
    void fitToData();

    QCustomPlot *m_plot = nullptr;
    QTimer *m_replotTimer = nullptr;
    QCPItemTracer *m_tracer = nullptr;
    QCPItemText *m_placeholder = nullptr;
    QString m_placeholderText;   // as given; the item holds it wrapped to the plot's width
    QHash<QString, Series> m_series;
    QStringList m_order;
    Bounds m_bounds;
    XSource m_xSource = XSource::Step;
    qint64 m_stepsPerEpoch = 0;
    double m_smoothing = 0.8;
    bool m_logScale = false;
    bool m_dirty = false;
    bool m_follow = true;             // auto-range until the user pans or zooms
    bool m_applyingRanges = false;
    bool m_legendWanted = false;
    bool m_legendAbove = false;
    bool m_hasClamp = false;
    double m_clampLower = 0.0;
    double m_clampUpper = 0.0;
    double m_emptyRange[4] = {0.0, 1.0, 0.0, 1.0};
};

} // namespace ms::ui
