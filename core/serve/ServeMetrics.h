#pragma once

#include <QByteArray>
#include <QMap>
#include <QString>

#include <mutex>
#include <vector>

namespace ms {

// The server's Prometheus metrics and their text exposition (format 0.0.4). Written by hand:
// Qt has no Prometheus client, and the handful of series served here (a counter, three
// histograms, a gauge) do not justify a C++ client library as a dependency. Thread safe.
class ServeMetrics final
{
public:
    ServeMetrics();

    // One finished request. `model` is empty for server routes (health, metadata, metrics).
    void observeRequest(const QString &model, int code, double duration_s);
    // One inference request: how long it waited for its batch, and that batch's size.
    void observeInference(const QString &model, double queue_s, int batchSize);
    void setModelsLoaded(int count);
    // One finished generation of a language model: tokens generated, and the time from its
    // arrival to its first token (nothing when it made none).
    void observeGeneration(const QString &model, int tokens, double firstToken_s);
    // One decode step of a language model's scheduler and the generations it ran.
    void observeDecodeStep(const QString &model, int rows);
    // A request or connection refused by a limit ("queue_full", "header_too_large", ...).
    void observeRejection(const QByteArray &reason);

    // modelstudio_requests_total{model,code}, modelstudio_request_duration_seconds,
    // modelstudio_queue_duration_seconds, modelstudio_batch_size (histograms by model),
    // modelstudio_models_loaded, modelstudio_rejected_total{reason},
    // modelstudio_generated_tokens_total{model}, modelstudio_time_to_first_token_seconds and
    // modelstudio_decode_batch_rows (histograms by model).
    QByteArray exposition() const;

    static QString escapeLabel(const QString &value);

private:
    struct Histogram
    {
        std::vector<quint64> counts;   // per bucket, not cumulative; last = +Inf
        double sum = 0.0;
        quint64 count = 0;
    };
    static void observe(Histogram &h, const std::vector<double> &bounds, double value);
    static void writeHistogram(QByteArray &out, const char *name, const char *help,
                               const std::vector<double> &bounds,
                               const QMap<QString, Histogram> &series);

    mutable std::mutex m_mutex;
    std::vector<double> m_latencyBounds_s;
    std::vector<double> m_batchBounds;
    QMap<QPair<QString, int>, quint64> m_requests;
    QMap<QString, Histogram> m_requestDuration;
    QMap<QString, Histogram> m_queueDuration;
    QMap<QString, Histogram> m_batchSize;
    QMap<QString, quint64> m_generatedTokens;
    QMap<QString, Histogram> m_firstToken;
    QMap<QString, Histogram> m_decodeRows;
    int m_modelsLoaded = 0;
    QMap<QByteArray, quint64> m_rejected;
};

} // namespace ms
