#pragma once

#include "InferenceService.h"

#include <QElapsedTimer>
#include <QWidget>

#include <vector>

class QSplitter;
class QTableView;
class QTimer;

namespace ms::ui {

class MetricPlot;
class RequestLogModel;

// The Serve panel's live view of the traffic: requests/s and latency p50/p99 per one-second
// bucket of finished requests (plotted once a second, not once per request), and the request
// log. Fed with the service's requestFinished records.
class ServeTraffic final : public QWidget
{
    Q_OBJECT

public:
    explicit ServeTraffic(QWidget *parent = nullptr);
    ~ServeTraffic() override;

    // Empties the plots and the log and starts the clock of the buckets.
    void start();
    // Plots the last, partial second and stops the clock.
    void stop();
    void record(const ms::RequestRecord &record);

    QSplitter *splitter() const { return m_splitter; }
    MetricPlot *requestRatePlot() const { return m_ratePlot; }
    MetricPlot *latencyPlot() const { return m_latencyPlot; }
    RequestLogModel *requestLog() const { return m_logModel; }
    QTableView *requestLogView() const { return m_logView; }

private:
    void closeBucket();

    QSplitter *m_splitter = nullptr;
    MetricPlot *m_ratePlot = nullptr;
    MetricPlot *m_latencyPlot = nullptr;
    RequestLogModel *m_logModel = nullptr;
    QTableView *m_logView = nullptr;
    QTimer *m_bucketTimer = nullptr;
    QElapsedTimer m_clock;
    double m_lastBucket_s = 0.0;
    std::vector<double> m_bucketLatencies_ms;   // requests finished in the current bucket
};

} // namespace ms::ui
