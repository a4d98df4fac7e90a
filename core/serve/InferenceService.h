#pragma once

#include "ServeTypes.h"

#include <QObject>
#include <QString>
#include <QVector>

#include <memory>

namespace ms {

// The embedded inference server (docs/architecture.md, "How a request is served"). Owns an
// http::HttpServer on the thread that creates it, and one dynamic batcher per served model
// version with its own worker thread: a request is parked with its responder, runs in a batch
// of up to maxBatchSize samples (waiting at most maxQueueDelay_us for company), and its reply
// is written on the server's thread when the batch is done. The event loop never waits for
// inference. Limits against hostile clients: ServeOptions and docs/security.md.
//
// Routes (core/serve/ServeRoutes.cpp): Open Inference Protocol v2 REST (KServe/Triton): GET
// /v2/health/live, /v2/health/ready, /v2, /v2/models/{name}[/versions/{v}], .../ready, POST
// .../infer and .../explain (attribution maps, core/explain); TorchServe style GET /ping, POST
// /predictions/{model}[/{version}] and /explanations/{model}[/{version}]; OpenAI-compatible GET
// /v1/models, POST /v1/completions and /v1/chat/completions for language models (whole or as
// server-sent events; OpenAI's error shape there); GET /metrics (Prometheus text). Other
// errors are {"error": "..."}.
class InferenceService final : public QObject
{
    Q_OBJECT

public:
    // What serving a version does to the versions of its model already served.
    enum class ServeMode {
        Replace,     // it becomes the only one: the others drain and go (a swap)
        Alongside,   // it joins them (the same version again is reloaded in place)
    };

    // `workspaceRoot`: the registry models are loaded from.
    InferenceService(QString workspaceRoot, ServeOptions options, QObject *parent = nullptr);
    // Stops: finishes the requests in flight, then joins the workers.
    ~InferenceService() override;

    // Binds host:port. Throws ms::Error when it cannot, saying why (port in use, address not
    // local without allowNonLoopback) and, when the port is taken, which free port to use.
    quint16 listen();
    void stop();
    bool isListening() const;
    QString url() const;   // "http://127.0.0.1:8765"
    const ServeOptions &options() const;

    // Loads a registry version ("NAME", "NAME:N", "NAME@ALIAS"; "NAME" means the version the
    // alias production points to, else the newest), verifies its artifact, runs one warm-up
    // forward and serves it under its model name, at /v2/models/NAME/versions/N/... and, when
    // it is the newest served version of NAME (or the production one), at /v2/models/NAME/...
    // Requests already queued on a replaced version finish on it; none fails. Blocks while the
    // model loads: the window uses serveAsync().
    ServedModel serve(const QString &ref, ServeMode mode = ServeMode::Replace);
    // The same, loading and warming up on a worker thread; the model is installed on this
    // object's thread, then modelServed() (or serveFailed()) is emitted.
    void serveAsync(const QString &ref, ServeMode mode = ServeMode::Replace);
    // Loads in progress (serveAsync).
    int loadsInProgress() const;
    // Stops serving every version of `name`.
    void unserve(const QString &name);
    QVector<ServedModel> models() const;   // by name, then version
    // Samples waiting for their batch, over every served model (and draining swapped ones).
    int queuedSamples() const;
    int openConnections() const;

    // Finds a free port on `host`, from `from` upwards.
    static quint16 nextFreePort(const QString &host, quint16 from);

Q_SIGNALS:
    void requestFinished(const ms::RequestRecord &record);
    void modelsChanged();
    void modelServed(const ms::ServedModel &model);
    void serveFailed(const QString &ref, const QString &message);

private:
    // implementation detail: see InferenceService.cpp
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace ms
