#pragma once

#include <QColor>
#include <QString>
#include <QVector>
#include <QWidget>

class QCPGraph;
class QCPItemText;
class QCustomPlot;

namespace ms::ui {

// Accuracy against latency for benchmarked variants: one dot per version in its colour, the dot's
// area proportional to its artifact size, its version written beside it, and the Pareto front
// (no other variant is both faster and more accurate) drawn as a step line. Accuracy is shown
// in percent; latency in ms on a linear or a log axis.
class VariantScatter final : public QWidget
{
    Q_OBJECT

public:
    struct Point
    {
        QString label;            // "cnn:3"
        QColor color;
        double latency_ms = 0.0;  // p50 at the chosen batch size
        double accuracy = 0.0;    // 0..1
        double size_bytes = 0.0;  // artifact on disk
    };

    explicit VariantScatter(QWidget *parent = nullptr);

    // `batch`: the batch size the latencies were measured at, for the axis label.
    void setPoints(const QVector<Point> &points, int batch);
    void setLogLatency(bool log);
    void setPlaceholderText(const QString &text);

    const QVector<Point> &points() const { return m_points; }
    // Indices into points() of the Pareto front, by increasing latency.
    const QVector<int> &front() const { return m_front; }
    // The indices of the points that no other point dominates (lower or equal latency and
    // higher or equal accuracy, better in one), by increasing latency. Ties keep both.
    static QVector<int> paretoFront(const QVector<Point> &points);
    // The dot's diameter in pixels for an artifact of `size_bytes` when the largest is
    // `largest_bytes`: area proportional to size, never so small it cannot be seen.
    static double markerDiameter(double size_bytes, double largest_bytes);

    QCustomPlot *customPlot() const { return m_plot; }
    // The graph of one version's dot (named by its label), nullptr when it is not drawn.
    QCPGraph *pointGraph(const QString &label) const;
    QCPGraph *frontGraph() const { return m_frontGraph; }

private:
    void rebuild();
    // Puts each version's name beside its dot where it covers no other name or dot (the first
    // free spot of a few, right of the dot); runs after every replot, as pixels change with zoom.
    bool placeLabels();

    QCustomPlot *m_plot = nullptr;
    QCPGraph *m_frontGraph = nullptr;
    QVector<QCPItemText *> m_labels;   // one per point, same order
    bool m_placing = false;
    QVector<Point> m_points;
    QVector<int> m_front;
    int m_batch = 0;
    bool m_log = false;
    QString m_placeholder;
};

} // namespace ms::ui
