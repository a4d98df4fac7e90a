#pragma once

#include <QMetaType>
#include <QString>
#include <QVector>

namespace ms {

// One value of a metric series: per training step ("loss") or per epoch ("val_acc").
struct MetricPoint
{
    QString key;
    qint64 step = 0;        // optimizer steps done when the value was taken
    int epoch = 0;          // 1-based epoch the value belongs to
    double value = 0.0;
    double wallTime_s = 0.0; // seconds since the job started
};

using MetricBatch = QVector<MetricPoint>;

} // namespace ms

Q_DECLARE_METATYPE(ms::MetricPoint)
Q_DECLARE_METATYPE(ms::MetricBatch)
