// Plots at 1,000,000 points per curve: what a live loss curve costs the window. MetricPlot (the
// Train panel's plot: raw curve faded plus its EMA, per-point step/epoch/wall time kept for
// switching the x axis, incremental ranges) against the least code that draws the same picture
// with QCustomPlot (the peer, in the same run): two graphs, the raw one and an EMA computed
// inline, same pens, fed the same batches. The ratio is MetricPlot's own overhead.
//
// Usage: plot_bench [POINTS]   (default 1000000). Runs on the offscreen platform.

#include "plots/MetricPlot.h"

#include <qcustomplot.h>

#include <QApplication>
#include <QElapsedTimer>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace {

constexpr int kBatch = 1000;        // a generous metric batch (the job sends ~10 per 100 ms)
constexpr int kReplotEvery = 20;    // batches between two replots while growing
constexpr int kReps = 5;

double elapsed_ms(const QElapsedTimer &clock)
{
    return double(clock.nsecsElapsed()) / 1e6;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double lossAt(qint64 step)
{
    return 2.0 / std::sqrt(double(step)) + 0.05 * std::sin(double(step) * 0.37);
}

struct Figures
{
    double append_ms = 0;        // every batch appended, replots excluded
    double worstGrowingReplot_ms = 0;
    double replot_ms = 0;        // median full replot at the final size
};

} // namespace

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const int points = argc > 1 ? std::max(kBatch, atoi(argv[1])) : 1000000;
    const int batches = points / kBatch;

    // --- MetricPlot, as the Train panel drives it ---
    ms::ui::MetricPlot plot;
    plot.resize(900, 420);
    plot.addSeries(QStringLiteral("loss"), QStringLiteral("loss"), {Qt::blue, true, false});
    plot.setStepsPerEpoch(422);
    plot.show();
    QApplication::processEvents();
    Figures ours;
    for (int b = 0; b < batches; ++b) {
        ms::MetricBatch batch;
        batch.reserve(kBatch);
        for (int i = 0; i < kBatch; ++i) {
            const qint64 step = qint64(b) * kBatch + i + 1;
            batch.append({QStringLiteral("loss"), step, int(step / 422) + 1, lossAt(step),
                          double(step) * 0.004});
        }
        QElapsedTimer clock;
        clock.start();
        plot.appendBatch(batch);
        ours.append_ms += elapsed_ms(clock);
        if (b % kReplotEvery == kReplotEvery - 1) {
            clock.restart();
            plot.replotNow();
            ours.worstGrowingReplot_ms = std::max(ours.worstGrowingReplot_ms, elapsed_ms(clock));
        }
    }
    std::vector<double> times;
    for (int r = 0; r < kReps; ++r) {
        QElapsedTimer clock;
        clock.start();
        plot.replotNow();
        times.push_back(elapsed_ms(clock));
    }
    ours.replot_ms = median(times);
    QElapsedTimer clock;
    clock.start();
    plot.setXSource(ms::ui::MetricPlot::XSource::Epoch);
    plot.replotNow();
    const double switch_ms = elapsed_ms(clock);
    clock.restart();
    plot.setSmoothing(0.95);
    plot.replotNow();
    const double smooth_ms = elapsed_ms(clock);

    // --- the peer: a bare QCustomPlot graph, same batches, same size ---
    QCustomPlot bare;
    bare.resize(900, 420);
    QCPGraph *graph = bare.addGraph();
    graph->setAdaptiveSampling(true);
    graph->setPen(QPen(QColor(196, 196, 255), 1));
    QCPGraph *smooth = bare.addGraph();
    smooth->setAdaptiveSampling(true);
    smooth->setPen(QPen(Qt::blue, 2));
    bare.setPlottingHint(QCP::phFastPolylines, true);
    double ema = 0.0;
    double emaWeight = 0.0;
    bare.show();
    QApplication::processEvents();
    Figures peer;
    for (int b = 0; b < batches; ++b) {
        QVector<double> keys(kBatch);
        QVector<double> values(kBatch);
        for (int i = 0; i < kBatch; ++i) {
            const qint64 step = qint64(b) * kBatch + i + 1;
            keys[i] = double(step);
            values[i] = lossAt(step);
        }
        QElapsedTimer c;
        c.start();
        graph->addData(keys, values, true);
        QVector<double> smoothed(kBatch);
        for (int i = 0; i < kBatch; ++i) {
            ema = 0.95 * ema + 0.05 * values[i];
            emaWeight = 0.95 * emaWeight + 0.05;
            smoothed[i] = ema / emaWeight;
        }
        smooth->addData(keys, smoothed, true);
        peer.append_ms += elapsed_ms(c);
        if (b % kReplotEvery == kReplotEvery - 1) {
            c.restart();
            bare.rescaleAxes();
            bare.replot();
            peer.worstGrowingReplot_ms = std::max(peer.worstGrowingReplot_ms, elapsed_ms(c));
        }
    }
    times.clear();
    for (int r = 0; r < kReps; ++r) {
        QElapsedTimer c;
        c.start();
        bare.replot();
        times.push_back(elapsed_ms(c));
    }
    peer.replot_ms = median(times);

    std::printf("%d points per curve, batches of %d, a replot every %d batches\n\n", points,
                kBatch, kReplotEvery);
    std::printf("| operation | MetricPlot (ms) | QCustomPlot by hand (ms) | ratio |\n"
                "|---|---|---|---|\n");
    auto row = [](const char *what, double a, double b) {
        std::printf("| %s | %.1f | %.1f | %.2fx |\n", what, a, b, b > 0 ? a / b : 0.0);
    };
    row("append all batches (total)", ours.append_ms, peer.append_ms);
    std::printf("| append one batch of %d (mean, µs) | %.0f | %.0f | %.2fx |\n", kBatch,
                1000.0 * ours.append_ms / batches, 1000.0 * peer.append_ms / batches,
                ours.append_ms / peer.append_ms);
    row("worst replot while growing", ours.worstGrowingReplot_ms, peer.worstGrowingReplot_ms);
    row("replot at full size (median)", ours.replot_ms, peer.replot_ms);
    std::printf("| switch the x axis to epochs + replot | %.1f | | |\n", switch_ms);
    std::printf("| change the smoothing + replot | %.1f | | |\n", smooth_ms);
    std::printf("\npoints held: %d\n", plot.pointCount(QStringLiteral("loss")));
    return 0;
}
