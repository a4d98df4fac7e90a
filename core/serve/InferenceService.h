#pragma once

#include <QDateTime>
#include <QHash>
#include <QObject>
#include <QString>
#include <QStringList>

#include <memory>
#include <vector>

class QHttpServer;

namespace ms {

class ModelBatcher;
class ServeMetrics;

struct ServeOptions
{
    QString host = QStringLiteral("127.0.0.1");
    quint16 port = 8765;
    bool allowNonLoopback = false;   // binding anything but loopback needs this, and warns
    int maxBatchSize = 32;
    // How long the first request of a batch may wait for company. Short: under load the queue
    // refills while a batch runs, and a long wait only idles the worker (32 clients: 7,075
    // req/s at 0 us, 6,337 at 500, 3,121 at 2,000; bench/README.md).
    int maxQueueDelay_us = 500;
    int threadsPerModel = 1;         // intra-op threads of each model's worker
    QString token;                   // bearer token; empty = no authentication
    qint64 maxBodyBytes = 16 * 1024 * 1024;   // larger bodies get 413
};

// One model being served, for listings, /v2/models/{name} and the window.
struct ServedModel
{
    QString name;                    // the registry model name it is served under
    QString versionRef;              // "cnn:3"
    int version = 0;
    std::vector<qint64> inputShape;  // per sample (no batch dimension)
    int numOutputs = 0;              // classes
    QStringList classNames;
    QDateTime loaded;
};

// One finished request, for the request log, live plots and --log.
struct RequestRecord
{
    QDateTime time;
    QString method;
    QString path;
    QString model;        // empty when not a model route
    int status = 0;
    double latency_us = 0.0;
    double queue_us = 0.0;   // time waiting for its batch (0 outside inference)
    int batchSize = 0;       // size of the batch it ran in (0 outside inference)
};

// The embedded inference server (DESIGN.md §1.6). Owns a QHttpServer on the thread that
// creates it, and one dynamic batcher per served model with its own worker thread: a request
// is parked with its responder, runs in a batch of up to maxBatchSize requests (waiting at most
// maxQueueDelay_us for company), and its reply is written on the server's thread when the batch
// is done. The event loop never waits for inference.
//
// Routes: Open Inference Protocol v2 REST (KServe/Triton): GET /v2/health/live,
// /v2/health/ready, /v2, /v2/models/{name}[/versions/{v}], .../ready, POST .../infer;
// TorchServe style GET /ping and POST /predictions/{model}[/{version}]; GET /metrics
// (Prometheus text). Errors are {"error": "..."} with 400, 401, 404, 413 or 503.
class InferenceService final : public QObject
{
    Q_OBJECT

public:
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

    // Loads a registry version ("NAME", "NAME:N", "NAME@ALIAS"; "NAME" means the version the
    // alias production points to, else the newest), verifying its artifact, and serves it under
    // its model name. Serving another version of a name already served swaps it in: requests
    // already queued finish on the old one, new ones go to the new one, none fails.
    ServedModel serve(const QString &ref);
    void unserve(const QString &name);
    QVector<ServedModel> models() const;
    // Samples waiting for their batch, over every served model (and draining swapped ones).
    int queuedSamples() const;

    // Finds a free port on `host`, from `from` upwards.
    static quint16 nextFreePort(const QString &host, quint16 from);

Q_SIGNALS:
    void requestFinished(const ms::RequestRecord &record);
    void modelsChanged();

private:
    // implementation detail: see InferenceService.cpp
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace ms

Q_DECLARE_METATYPE(ms::RequestRecord)
