#pragma once

#include "jobs/MetricPoint.h"

#include <QWidget>

class QCheckBox;
class QLabel;
class QSettings;
class QSlider;
class QSplitter;

namespace ms::ui {

class MetricPlot;

// The live curves of a training run: loss per step (raw + smoothed, smoothing slider, log-scale
// toggle) above accuracy per epoch (train / validation / test). Fed with the job's metric
// batches; knows the metric keys TrainJob emits and nothing else about jobs.
class TrainCharts final : public QWidget
{
    Q_OBJECT

public:
    explicit TrainCharts(QWidget *parent = nullptr);

    void appendBatch(const ms::MetricBatch &points);
    void clearData();
    void replotNow();

    MetricPlot *lossPlot() const { return m_lossPlot; }
    MetricPlot *accuracyPlot() const { return m_accuracyPlot; }
    QSlider *smoothingSlider() const { return m_smoothing; }
    QCheckBox *logScaleCheck() const { return m_logScale; }

    void saveState(QSettings &settings) const;
    void restoreState(QSettings &settings);

private:
    MetricPlot *m_lossPlot = nullptr;
    MetricPlot *m_accuracyPlot = nullptr;
    QSlider *m_smoothing = nullptr;
    QLabel *m_smoothingValue = nullptr;
    QCheckBox *m_logScale = nullptr;
    QSplitter *m_splitter = nullptr;
};

} // namespace ms::ui
