#include "ServeMetrics.h"

#include <algorithm>

namespace ms {

namespace {

QByteArray number(double x)
{
    return QByteArray::number(x, 'g', 17);
}

} // namespace

ServeMetrics::ServeMetrics()
    : m_latencyBounds_s{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                        0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   2.5, 5.0, 10.0}
    , m_batchBounds{1, 2, 4, 8, 16, 32, 64, 128, 256}
{}

QString ServeMetrics::escapeLabel(const QString &value)
{
    QString out;
    out.reserve(value.size());
    for (QChar c : value) {
        if (c == QLatin1Char('\\'))
            out += QStringLiteral("\\\\");
        else if (c == QLatin1Char('"'))
            out += QStringLiteral("\\\"");
        else if (c == QLatin1Char('\n'))
            out += QStringLiteral("\\n");
        else
            out += c;
    }
    return out;
}

void ServeMetrics::observe(Histogram &h, const std::vector<double> &bounds, double value)
{
    if (h.counts.empty())
        h.counts.assign(bounds.size() + 1, 0);
    const size_t bucket =
        size_t(std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
    ++h.counts[bucket];
    h.sum += value;
    ++h.count;
}

void ServeMetrics::observeRequest(const QString &model, int code, double duration_s)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    ++m_requests[qMakePair(model, code)];
    observe(m_requestDuration[model], m_latencyBounds_s, duration_s);
}

void ServeMetrics::observeInference(const QString &model, double queue_s, int batchSize)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    observe(m_queueDuration[model], m_latencyBounds_s, queue_s);
    observe(m_batchSize[model], m_batchBounds, double(batchSize));
}

void ServeMetrics::observeRejection(const QByteArray &reason)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    ++m_rejected[reason];
}

void ServeMetrics::setModelsLoaded(int count)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_modelsLoaded = count;
}

void ServeMetrics::writeHistogram(QByteArray &out, const char *name, const char *help,
                                  const std::vector<double> &bounds,
                                  const QMap<QString, Histogram> &series)
{
    out += QByteArray("# HELP ") + name + ' ' + help + '\n';
    out += QByteArray("# TYPE ") + name + " histogram\n";
    for (auto it = series.cbegin(); it != series.cend(); ++it) {
        const QByteArray model = "model=\"" + escapeLabel(it.key()).toUtf8() + '"';
        const Histogram &h = it.value();
        quint64 cumulative = 0;
        for (size_t i = 0; i <= bounds.size(); ++i) {
            cumulative += i < h.counts.size() ? h.counts[i] : 0;
            const QByteArray le = i < bounds.size() ? number(bounds[i]) : QByteArray("+Inf");
            out += QByteArray(name) + "_bucket{" + model + ",le=\"" + le + "\"} "
                   + QByteArray::number(cumulative) + '\n';
        }
        out += QByteArray(name) + "_sum{" + model + "} " + number(h.sum) + '\n';
        out += QByteArray(name) + "_count{" + model + "} " + QByteArray::number(h.count) + '\n';
    }
}

QByteArray ServeMetrics::exposition() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    QByteArray out;
    out += "# HELP modelstudio_requests_total HTTP requests answered, by model and status "
           "code (model is empty for server routes).\n";
    out += "# TYPE modelstudio_requests_total counter\n";
    for (auto it = m_requests.cbegin(); it != m_requests.cend(); ++it) {
        out += "modelstudio_requests_total{model=\"" + escapeLabel(it.key().first).toUtf8()
               + "\",code=\"" + QByteArray::number(it.key().second) + "\"} "
               + QByteArray::number(it.value()) + '\n';
    }
    writeHistogram(out, "modelstudio_request_duration_seconds",
                   "Time from a request's arrival to its reply, in seconds.",
                   m_latencyBounds_s, m_requestDuration);
    writeHistogram(out, "modelstudio_queue_duration_seconds",
                   "Time an inference request waited for its batch to start, in seconds.",
                   m_latencyBounds_s, m_queueDuration);
    writeHistogram(out, "modelstudio_batch_size",
                   "Samples in the batch each inference request ran in.", m_batchBounds,
                   m_batchSize);
    out += "# HELP modelstudio_models_loaded Models being served.\n";
    out += "# TYPE modelstudio_models_loaded gauge\n";
    out += "modelstudio_models_loaded " + QByteArray::number(m_modelsLoaded) + '\n';
    out += "# HELP modelstudio_rejected_total Requests and connections refused or closed by a "
           "limit, by reason (docs/security.md).\n";
    out += "# TYPE modelstudio_rejected_total counter\n";
    for (auto it = m_rejected.cbegin(); it != m_rejected.cend(); ++it) {
        out += "modelstudio_rejected_total{reason=\"" + it.key() + "\"} "
               + QByteArray::number(it.value()) + '\n';
    }
    return out;
}

} // namespace ms
