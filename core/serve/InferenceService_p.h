#pragma once

// Private: InferenceService's insides, shared by InferenceService.cpp (models, v2, TorchServe,
// metrics) and OpenAiService.cpp (the OpenAI-compatible routes). core/serve only.

#include "InferenceService.h"

#include "HttpServer.h"
#include "InferProtocol.h"
#include "ModelBatcher.h"
#include "OpenAiProtocol.h"
#include "ServeMetrics.h"
#include "ServeRoutes.h"

#include "models/GenerationScheduler.h"
#include "models/LanguageModel.h"
#include "models/Model.h"
#include "models/TextInput.h"

#include <QHash>
#include <QJsonDocument>
#include <QMap>
#include <QPointer>
#include <QTimer>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>

namespace ms {

using Clock = http::Clock;
using serve::Exchange;

inline const QByteArray kJson("application/json");

inline QByteArray jsonBytes(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

inline QByteArray jsonBytes(const QJsonValue &value)
{
    return value.isArray() ? QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact)
                           : QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact);
}

inline QByteArray errorBytes(const QString &message)
{
    return jsonBytes(protocol::errorJson(message));
}

inline double us_between(Clock::time_point from, Clock::time_point to)
{
    return double(std::chrono::duration_cast<std::chrono::nanoseconds>(to - from).count())
           / 1000.0;
}

// A version loaded and warmed up, not installed yet (any thread).
struct Loaded
{
    ServedModel info;
    Model model;
    std::shared_ptr<const TextInput> text;        // when it carries a tokenizer
    std::shared_ptr<const LanguageModel> lm;      // when it is a language model
    bool production = false;
    QString error;   // set instead of the rest when it cannot be served
};

struct InferenceService::Private final : serve::RouteHandlers
{
    struct Version
    {
        ServedModel info;
        Model model;
        // How it reads v2 BYTES text (its own tokenizer), null when it carries none; a
        // language model's logits for v2 requests (TextInference.cpp).
        std::shared_ptr<const TextInput> text;
        std::shared_ptr<const LanguageModel> lm;
        bool production = false;
        std::shared_ptr<ModelBatcher> batcher;
        // A language model's generations (continuous batching); null for a classifier.
        std::shared_ptr<GenerationScheduler> generator;
    };
    // Every served version of one model name.
    struct Served
    {
        QMap<int, Version> versions;
        // What the bare name answers with: the production version when it is served, else
        // the newest.
        int defaultVersion() const
        {
            for (auto it = versions.cbegin(); it != versions.cend(); ++it) {
                if (it->production)
                    return it.key();
            }
            return versions.isEmpty() ? 0 : versions.lastKey();
        }
    };
    // An inference request waiting for its batch. Ids grow with arrival, and so do deadlines:
    // the map's first entry is always the next to time out.
    struct InFlight
    {
        http::Responder responder;
        QString method;
        QString path;
        QString model;
        Clock::time_point start;
        Clock::time_point deadline;
        std::shared_ptr<std::atomic<bool>> cancelled;
    };

    // An OpenAI-compatible completion being generated (OpenAiService.cpp). Removed when the
    // scheduler reports it done, so active streams count until the generation has stopped.
    struct Generation
    {
        http::Responder responder;
        openai::CompletionRequest request;
        QString id;                  // "cmpl-..." / "chatcmpl-..."
        qint64 created = 0;          // seconds since the epoch
        QString answerModel;         // the model as replies name it: "name:N"
        QString method;
        QString path;
        QString model;               // the served name, for metrics and the log
        Clock::time_point start;
        QByteArray unsent;           // streamed bytes waiting for the rest of a character
        std::shared_ptr<std::atomic<bool>> cancelled;
    };

    InferenceService *q = nullptr;
    QString workspaceRoot;
    ServeOptions options;
    QPointer<http::HttpServer> server;
    bool accepting = false;
    QHash<QString, Served> models;
    std::vector<std::shared_ptr<ModelBatcher>> retired;   // draining after a swap or unserve
    ServeMetrics counters;
    std::map<quint64, InFlight> inflight;
    quint64 nextId = 1;
    QTimer deadlineTimer;
    int loading = 0;
    std::map<quint64, Generation> generations;
    QHash<QString, int> activeStreams;   // generations in progress, by served name
    // Schedulers of replaced or unserved versions, finishing what they started.
    std::vector<std::shared_ptr<GenerationScheduler>> retiredGenerators;

    std::shared_ptr<ModelBatcher> makeBatcher(const Model &model) const
    {
        return std::make_shared<ModelBatcher>(model, options.maxBatchSize,
                                              options.maxQueueDelay_us, options.threadsPerModel,
                                              options.maxQueuedSamples);
    }
    void retire(std::shared_ptr<ModelBatcher> batcher)
    {
        if (!batcher)
            return;
        batcher->retire();
        retired.push_back(std::move(batcher));
        // Drop the ones whose workers are done (joining a finished thread does not block).
        for (auto it = retired.begin(); it != retired.end();) {
            if ((*it)->finished()) {
                (*it)->stop();
                it = retired.erase(it);
            } else {
                ++it;
            }
        }
    }
    void retire(std::shared_ptr<GenerationScheduler> generator)
    {
        if (generator)
            retiredGenerators.push_back(std::move(generator));
        for (auto it = retiredGenerators.begin(); it != retiredGenerators.end();) {
            if ((*it)->active() == 0) {
                (*it)->stop();
                it = retiredGenerators.erase(it);
            } else {
                ++it;
            }
        }
    }
    void retire(Version &version)
    {
        retire(std::move(version.batcher));
        retire(std::move(version.generator));
    }
    std::shared_ptr<GenerationScheduler> makeGenerator(const Version &version);
    ServedModel install(Loaded &&loaded, ServeMode mode);

    void finish(const QString &method, const QString &path, const QString &model,
                Clock::time_point start, int status, double queue_us = 0.0, int batchSize = 0)
    {
        const double latency_us = us_between(start, Clock::now());
        counters.observeRequest(model, status, latency_us / 1e6);
        if (batchSize > 0)
            counters.observeInference(model, queue_us / 1e6, batchSize);
        RequestRecord record;
        record.time = QDateTime::currentDateTimeUtc();   // cheap: no time zone per request
        record.method = method;
        record.path = path;
        record.model = model;
        record.status = status;
        record.latency_us = latency_us;
        record.queue_us = queue_us;
        record.batchSize = batchSize;
        Q_EMIT q->requestFinished(record);
    }
    void respond(Exchange &ex, int status, const QByteArray &body, const QByteArray &mime = kJson,
                 const http::HeaderList &headers = {})
    {
        ex.responder.write(status, body, mime, headers);
        finish(ex.method, ex.path, ex.model, ex.start, status);
    }
    void respondError(Exchange &ex, int status, const QString &message,
                      const http::HeaderList &headers = {})
    {
        respond(ex, status, errorBytes(message), kJson, headers);
    }

    http::HttpServer::BodyHandler onHead(const http::Request &head, http::Responder &responder);
    void onRefusal(const http::Refusal &refusal);
    // The version a model route names, or null after answering 404.
    Version *findVersion(Exchange &ex);
    void infer(Exchange &ex, bool torchServe);
    // TextInference.cpp: a BYTES input tokenized with the version's tokenizer, into `input`'s
    // token ids (a classifier: cut and padded as its training did) or `sequences` (a language
    // model: one per text). Answers 400 and returns false for text it cannot take.
    bool tokenizeTexts(Exchange &ex, const Version &version, protocol::InferInput &input,
                       std::vector<std::vector<qint64>> &sequences);
    // A language model's v2 request: the logits of each sequence's last position, computed on
    // the version's batcher worker.
    void inferLanguageModel(Exchange &ex, Version *version, protocol::InferInput &&input,
                            std::vector<std::vector<qint64>> &&sequences);
    void explain(Exchange &ex, bool torchServe);
    // Answers 503 (and returns false) when the server is stopping or the version retired.
    bool checkAccepting(Exchange &ex, Version *version);
    // The reply body of a request whose result is ok, built on the worker thread.
    using ReplyBody = std::function<QByteArray(BatchResult &)>;
    // Parks the request with its responder (deadline, client gone) and queues `job` on the
    // version's batcher; answers 503 when the queue is full or stopping.
    void enqueue(Exchange &ex, Version *version, ModelBatcher::Request &&job, ReplyBody reply);
    void complete(quint64 id, int status, const QByteArray &body, double queue_us, int batchSize);
    void expireDeadlines();
    void armDeadline();

    void serverMetadata(Exchange &ex) override;
    void healthLive(Exchange &ex) override;
    void healthReady(Exchange &ex) override;
    void modelMetadata(Exchange &ex) override;
    void modelReady(Exchange &ex) override;
    void v2Infer(Exchange &ex) override { infer(ex, false); }
    void ping(Exchange &ex) override;
    void torchServePredict(Exchange &ex) override { infer(ex, true); }
    void v2Explain(Exchange &ex) override { explain(ex, false); }
    void torchServeExplain(Exchange &ex) override { explain(ex, true); }
    void metrics(Exchange &ex) override;

    // OpenAiService.cpp
    void openAiModels(Exchange &ex) override;
    void openAiCompletions(Exchange &ex) override { generate(ex, false); }
    void openAiChat(Exchange &ex) override { generate(ex, true); }
    void respondOpenAi(Exchange &ex, const openai::OpenAiError &error,
                       const http::HeaderList &headers = {});
    // The served language model a request names ("name" or "name:N"), or null after answering
    // 404 (not served) or 400 (not a language model).
    Version *findLanguageModel(Exchange &ex, const QString &model);
    void generate(Exchange &ex, bool chat);
    void startStream(Generation &g);
    void streamText(quint64 id, const QByteArray &bytes);
    void generationDone(quint64 id, const GenerateResult &result, const QString &error);
    QByteArray generationMetrics() const;
};

} // namespace ms
