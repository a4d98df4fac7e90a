#include "InferenceService.h"

#include "HttpFrontend_p.h"
#include "InferProtocol.h"
#include "ModelBatcher.h"
#include "ServeMetrics.h"

#include "common/Error.h"
#include "common/Runtime.h"
#include "models/Model.h"
#include "registry/Registry.h"

#include <QCoreApplication>
#include <QHostAddress>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonDocument>
#include <QMetaEnum>
#include <QPointer>
#include <QTcpServer>
#include <QTcpSocket>
#include <QUrl>

#include <chrono>
#include <functional>

namespace ms {

using Clock = std::chrono::steady_clock;
using Status = QHttpServerResponder::StatusCode;

namespace {

QString methodName(QHttpServerRequest::Method method)
{
    const char *key =
        QMetaEnum::fromType<QHttpServerRequest::Method>().valueToKey(int(method));
    return key ? QString::fromLatin1(key).toUpper() : QStringLiteral("OTHER");
}

QByteArray jsonBytes(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

QByteArray jsonBytes(const QJsonValue &value)
{
    return value.isArray() ? QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact)
                           : QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact);
}

const QByteArray kJson("application/json");

double elapsed_us(Clock::time_point since)
{
    return double(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - since)
                      .count())
           / 1000.0;
}

QHostAddress hostAddress(const QString &host)
{
    if (host == QStringLiteral("localhost"))
        return QHostAddress(QHostAddress::LocalHost);
    return QHostAddress(host);
}

} // namespace

struct InferenceService::Private
{
    struct Entry
    {
        ServedModel info;
        Model model;
        std::shared_ptr<ModelBatcher> batcher;
    };
    // What a request's reply and its record need, from arrival to reply.
    struct Call
    {
        Clock::time_point start;
        QString method;
        QString path;
        QString model;
    };

    InferenceService *q = nullptr;
    QString workspaceRoot;
    ServeOptions options;
    QPointer<HttpFrontend> frontend;
    QPointer<QTcpServer> tcpServer;
    bool accepting = false;
    QHash<QString, Entry> entries;
    std::vector<std::shared_ptr<ModelBatcher>> retired;   // draining after a swap or unserve
    ServeMetrics metrics;

    std::shared_ptr<ModelBatcher> makeBatcher(const Model &model) const
    {
        return std::make_shared<ModelBatcher>(model, options.maxBatchSize,
                                              options.maxQueueDelay_us, options.threadsPerModel);
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

    void finish(const Call &call, int status, double queue_us = 0.0, int batchSize = 0)
    {
        const double latency_us = elapsed_us(call.start);
        metrics.observeRequest(call.model, status, latency_us / 1e6);
        if (batchSize > 0)
            metrics.observeInference(call.model, queue_us / 1e6, batchSize);
        RequestRecord record;
        record.time = QDateTime::currentDateTime();
        record.method = call.method;
        record.path = call.path;
        record.model = call.model;
        record.status = status;
        record.latency_us = latency_us;
        record.queue_us = queue_us;
        record.batchSize = batchSize;
        Q_EMIT q->requestFinished(record);
    }
    void respond(QHttpServerResponder &responder, const Call &call, int status,
                 const QByteArray &body, const QByteArray &mime = kJson)
    {
        responder.write(body, mime, Status(status));
        finish(call, status);
    }
    void respondError(QHttpServerResponder &responder, const Call &call, int status,
                      const QString &message)
    {
        respond(responder, call, status, jsonBytes(protocol::errorJson(message)));
    }

    void handle(const QHttpServerRequest &request, QTcpSocket *socket,
                QHttpServerResponder &&responder);
    void handleModel(const QHttpServerRequest &request, QTcpSocket *socket,
                     QHttpServerResponder &&responder, Call &call, const QStringList &segments,
                     bool torchServe);
    void infer(const QHttpServerRequest &request, QTcpSocket *socket,
               QHttpServerResponder &&responder, const Call &call, const Entry &entry,
               bool torchServe);
};

void InferenceService::Private::handle(const QHttpServerRequest &request, QTcpSocket *socket,
                                       QHttpServerResponder &&responder)
{
    Call call;
    call.start = Clock::now();
    call.method = methodName(request.method());
    call.path = request.url().path();
    const bool isGet = request.method() == QHttpServerRequest::Method::Get;
    const bool isPost = request.method() == QHttpServerRequest::Method::Post;

    // Split the encoded path so that a name holding "%2F" stays one segment.
    QStringList segments;
    for (const QString &part : request.url().path(QUrl::FullyEncoded).split(
             QLatin1Char('/'), Qt::SkipEmptyParts)) {
        segments << QUrl::fromPercentEncoding(part.toUtf8());
    }
    const bool health = (segments.size() == 3 && segments[0] == QStringLiteral("v2")
                         && segments[1] == QStringLiteral("health"))
                        || segments == QStringList{QStringLiteral("ping")};

    if (!options.token.isEmpty() && !health) {
        const QByteArray expected = "Bearer " + options.token.toUtf8();
        if (request.value("Authorization") != expected) {
            respondError(responder, call, 401,
                         QStringLiteral("missing or wrong bearer token: send the header "
                                        "\"Authorization: Bearer <token>\""));
            return;
        }
    }
    if (request.body().size() > options.maxBodyBytes) {
        respondError(responder, call, 413,
                     QStringLiteral("the body has %1 bytes, over the limit of %2 bytes")
                         .arg(request.body().size())
                         .arg(options.maxBodyBytes));
        return;
    }

    const auto wrongMethod = [&](const char *allowed) {
        respondError(responder, call, 405,
                     QStringLiteral("%1 is not allowed on %2; use %3")
                         .arg(call.method, call.path, QLatin1String(allowed)));
    };
    const QString first = segments.value(0);
    if (first == QStringLiteral("v2") && segments.size() == 1) {
        if (!isGet)
            return wrongMethod("GET");
        const QString version = QCoreApplication::applicationVersion();
        respond(responder, call, 200,
                jsonBytes(protocol::serverMetadata(version.isEmpty() ? QStringLiteral("dev")
                                                                     : version)));
    } else if (first == QStringLiteral("v2") && segments.size() == 3
               && segments[1] == QStringLiteral("health")) {
        if (!isGet)
            return wrongMethod("GET");
        if (segments[2] == QStringLiteral("live")) {
            respond(responder, call, 200, jsonBytes(QJsonObject{{QStringLiteral("live"), true}}));
        } else if (segments[2] == QStringLiteral("ready")) {
            // KServe: ready once it can serve, i.e. accepting with at least one model loaded.
            const bool ready = accepting && !entries.isEmpty();
            respond(responder, call, ready ? 200 : 503,
                    jsonBytes(QJsonObject{{QStringLiteral("ready"), ready}}));
        } else {
            respondError(responder, call, 404,
                         QStringLiteral("no route %1; health routes: /v2/health/live, "
                                        "/v2/health/ready")
                             .arg(call.path));
        }
    } else if (first == QStringLiteral("v2") && segments.size() >= 3
               && segments[1] == QStringLiteral("models")) {
        handleModel(request, socket, std::move(responder), call, segments.mid(2), false);
    } else if (first == QStringLiteral("predictions")
               && (segments.size() == 2 || segments.size() == 3)) {
        if (!isPost)
            return wrongMethod("POST");
        QStringList rest{segments[1]};
        if (segments.size() == 3)
            rest << QStringLiteral("versions") << segments[2];
        handleModel(request, socket, std::move(responder), call, rest, true);
    } else if (segments == QStringList{QStringLiteral("ping")}) {
        if (!isGet)
            return wrongMethod("GET");
        respond(responder, call, accepting ? 200 : 503,
                jsonBytes(QJsonObject{{QStringLiteral("status"),
                                       accepting ? QStringLiteral("Healthy")
                                                 : QStringLiteral("Unhealthy")}}));
    } else if (segments == QStringList{QStringLiteral("metrics")}) {
        if (!isGet)
            return wrongMethod("GET");
        respond(responder, call, 200, metrics.exposition(),
                QByteArray("text/plain; version=0.0.4; charset=utf-8"));
    } else {
        respondError(responder, call, 404,
                     QStringLiteral("no route %1 %2; routes: /v2, /v2/health/{live,ready}, "
                                    "/v2/models/{name}[/versions/{v}][/ready|/infer], /ping, "
                                    "/predictions/{model}[/{version}], /metrics")
                         .arg(call.method, call.path));
    }
}

// `rest`: {name, ["versions", v], [action]}.
void InferenceService::Private::handleModel(const QHttpServerRequest &request,
                                            QTcpSocket *socket,
                                            QHttpServerResponder &&responder, Call &call,
                                            const QStringList &segments, bool torchServe)
{
    const QString name = segments.value(0);
    const auto found = entries.constFind(name);
    if (found == entries.constEnd()) {
        QStringList served = entries.keys();
        served.sort();
        respondError(responder, call, 404,
                     QStringLiteral("model \"%1\" is not served; served: %2")
                         .arg(name, served.isEmpty() ? QStringLiteral("none")
                                                     : served.join(QStringLiteral(", "))));
        return;
    }
    call.model = name;
    const Entry &entry = found.value();
    QStringList rest = segments.mid(1);
    if (rest.value(0) == QStringLiteral("versions")) {
        bool ok = false;
        const int version = rest.value(1).toInt(&ok);
        if (rest.size() < 2 || !ok || version != entry.info.version) {
            respondError(responder, call, 404,
                         QStringLiteral("model \"%1\" is served at version %2, not \"%3\"")
                             .arg(name)
                             .arg(entry.info.version)
                             .arg(rest.value(1)));
            return;
        }
        rest = rest.mid(2);
    }
    const bool isGet = request.method() == QHttpServerRequest::Method::Get;
    const bool isPost = request.method() == QHttpServerRequest::Method::Post;
    const QString action = rest.value(0);
    if (torchServe || (rest.size() == 1 && action == QStringLiteral("infer"))) {
        if (!isPost) {
            respondError(responder, call, 405,
                         QStringLiteral("%1 is not allowed on %2; use POST")
                             .arg(call.method, call.path));
            return;
        }
        if (!accepting || !entry.batcher) {
            respondError(responder, call, 503,
                         QStringLiteral("model \"%1\" is not ready: the server is stopping")
                             .arg(name));
            return;
        }
        infer(request, socket, std::move(responder), call, entry, torchServe);
    } else if (rest.isEmpty() || (rest.size() == 1 && action == QStringLiteral("ready"))) {
        if (!isGet) {
            respondError(responder, call, 405,
                         QStringLiteral("%1 is not allowed on %2; use GET")
                             .arg(call.method, call.path));
            return;
        }
        if (rest.isEmpty()) {
            respond(responder, call, 200, jsonBytes(protocol::modelMetadata(entry.info)));
        } else {
            const bool ready = accepting && entry.batcher != nullptr;
            respond(responder, call, ready ? 200 : 503,
                    jsonBytes(QJsonObject{{QStringLiteral("name"), name},
                                          {QStringLiteral("ready"), ready}}));
        }
    } else {
        respondError(responder, call, 404,
                     QStringLiteral("no route %1 %2; model routes: /v2/models/{name}"
                                    "[/versions/{v}][/ready|/infer]")
                         .arg(call.method, call.path));
    }
}

void InferenceService::Private::infer(const QHttpServerRequest &request, QTcpSocket *socket,
                                      QHttpServerResponder &&responder, const Call &call,
                                      const Entry &entry, bool torchServe)
{
    protocol::InferInput input;
    try {
        input = torchServe ? protocol::parseTorchServe(request.body(), entry.info.inputShape)
                           : protocol::parseV2Infer(request.body(), entry.info.inputShape);
    } catch (const protocol::ProtocolError &e) {
        respondError(responder, call, e.status, e.message);
        return;
    }

    ModelBatcher::Request job;
    job.data = std::move(input.data);
    job.shape = input.shape;
    input.data.clear();
    // Parked with the request: written on the server's thread once its batch is done.
    auto parked = std::make_shared<QHttpServerResponder>(std::move(responder));
    QPointer<QTcpSocket> client(socket);
    HttpFrontend *server = frontend.data();
    const ServedModel info = entry.info;
    job.done = [this, server, parked, client, call, input, info,
                torchServe](BatchResult &&result) mutable {
        // Worker thread: the body is built here, so the server thread only writes it.
        int status = 200;
        QByteArray body;
        if (!result.ok) {
            status = 500;
            body = jsonBytes(protocol::errorJson(result.error));
        } else if (torchServe) {
            body = jsonBytes(protocol::torchServeResponse(result.logits, input.batch(),
                                                          info.classNames, input.singleSample));
        } else {
            body = jsonBytes(protocol::v2InferResponse(info.name, info.version, input,
                                                       result.logits));
        }
        const double queue_us = result.queue_us;
        const int batchSize = result.batchSize;
        // Everything that touches the responder or the socket moves to the server thread,
        // so the last reference to them dies there too.
        QMetaObject::invokeMethod(
            server,
            [this, parked = std::move(parked), client = std::move(client), call = std::move(call),
             status, body = std::move(body), queue_us, batchSize]() mutable {
                if (client.isNull()) {
                    // The client left and its socket is gone; a responder must not outlive
                    // its socket's use, so it is deliberately never destroyed (rare, small).
                    new std::shared_ptr<QHttpServerResponder>(std::move(parked));
                } else {
                    parked->write(body, kJson, Status(status));
                    client->flush();
                    parked.reset();
                }
                finish(call, status, queue_us, batchSize);
            },
            Qt::QueuedConnection);
    };
    if (!entry.batcher->submit(std::move(job))) {
        // Only a retired batcher refuses; the responder is still ours to answer with.
        parked->write(jsonBytes(protocol::errorJson(
                          QStringLiteral("model \"%1\" is not ready").arg(info.name))),
                      kJson, Status(503));
        finish(call, 503);
    }
}

InferenceService::InferenceService(QString workspaceRoot, ServeOptions options, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>())
{
    qRegisterMetaType<ms::RequestRecord>();
    // Before any batcher thread allocates: a worker's private malloc arena is shrunk after
    // every freed batch buffer and page-faulted back in (see Runtime::tuneAllocatorForTensors).
    Runtime::tuneAllocatorForTensors();
    d->q = this;
    d->workspaceRoot = std::move(workspaceRoot);
    d->options = std::move(options);
}

InferenceService::~InferenceService()
{
    stop();
    for (auto it = d->entries.begin(); it != d->entries.end(); ++it) {
        if (it->batcher)
            it->batcher->stop();
    }
    delete d->frontend.data();
}

quint16 InferenceService::listen()
{
    if (isListening())
        return d->tcpServer->serverPort();
    const ServeOptions &o = d->options;
    const QHostAddress address = hostAddress(o.host);
    if (address.isNull()) {
        throw Error(QStringLiteral("cannot listen on \"%1\": not an IP address (use 127.0.0.1, "
                                   "::1, localhost or an address of this machine)")
                        .arg(o.host));
    }
    if (!address.isLoopback()) {
        if (!o.allowNonLoopback) {
            throw Error(QStringLiteral("refusing to listen on %1: it is not a loopback address, "
                                       "so other machines could reach the models; allow it "
                                       "explicitly (ServeOptions::allowNonLoopback, the CLI's "
                                       "flag for it) or use 127.0.0.1")
                            .arg(o.host));
        }
        qWarning("modelstudio serve: listening on %s, reachable from other machines%s",
                 qPrintable(o.host), o.token.isEmpty() ? " and without a token" : "");
    }

    auto *tcp = new QTcpServer();
    if (!tcp->listen(address, o.port)) {
        const QString why = tcp->errorString();
        const bool inUse = tcp->serverError() == QAbstractSocket::AddressInUseError;
        delete tcp;
        if (inUse) {
            const quint16 free = nextFreePort(o.host, quint16(o.port + 1));
            throw Error(QStringLiteral("port %1 on %2 is in use (%3); free port: %4 — pass "
                                       "--port %4")
                            .arg(o.port)
                            .arg(o.host, why)
                            .arg(free));
        }
        throw Error(QStringLiteral("cannot listen on %1 port %2: %3").arg(o.host).arg(o.port).arg(why));
    }
    auto *frontend = new HttpFrontend(
        [this](const QHttpServerRequest &request, QTcpSocket *socket,
               QHttpServerResponder &&responder) {
            d->handle(request, socket, std::move(responder));
        });
    tcp->setParent(frontend);
    frontend->bind(tcp);
    d->frontend = frontend;
    d->tcpServer = tcp;
    // Batchers stopped by an earlier stop() start again.
    for (auto it = d->entries.begin(); it != d->entries.end(); ++it) {
        if (!it->batcher || it->batcher->finished())
            it->batcher = d->makeBatcher(it->model);
    }
    d->accepting = true;
    return tcp->serverPort();
}

void InferenceService::stop()
{
    if (!d->frontend)
        return;
    d->accepting = false;
    if (d->tcpServer)
        d->tcpServer->close();
    // Every queued request runs; the replies the workers posted are written before the
    // sockets go away.
    for (auto it = d->entries.begin(); it != d->entries.end(); ++it) {
        if (it->batcher)
            it->batcher->stop();
    }
    for (const auto &batcher : d->retired)
        batcher->stop();
    d->retired.clear();
    QCoreApplication::sendPostedEvents(d->frontend.data(), QEvent::MetaCall);
    d->frontend->detach();
    d->frontend->deleteLater();
    d->frontend.clear();
    d->tcpServer.clear();
}

bool InferenceService::isListening() const
{
    return d->accepting && d->tcpServer && d->tcpServer->isListening();
}

QString InferenceService::url() const
{
    const quint16 port = d->tcpServer ? d->tcpServer->serverPort() : d->options.port;
    QString host = d->options.host;
    if (host.contains(QLatin1Char(':')))
        host = QLatin1Char('[') + host + QLatin1Char(']');
    return QStringLiteral("http://%1:%2").arg(host).arg(port);
}

ServedModel InferenceService::serve(const QString &ref)
{
    const Registry registry(d->workspaceRoot);
    const VersionRecord version = registry.resolve(ref);
    const Model model = Model::load(registry.verifiedArtifactPath(version));

    ServedModel info;
    info.name = version.modelName;
    info.versionRef = version.ref();
    info.version = version.number;
    info.inputShape = model.inputShape();
    if (info.inputShape.empty() && !version.inputs.isEmpty()) {
        const std::vector<qint64> &sig = version.inputs.first().shape;
        const bool known = sig.size() > 1
                           && std::all_of(sig.begin() + 1, sig.end(), [](qint64 x) { return x > 0; });
        if (known)
            info.inputShape.assign(sig.begin() + 1, sig.end());
    }
    info.classNames = version.classNames.isEmpty() ? model.classNames() : version.classNames;
    if (!version.outputs.isEmpty() && version.outputs.first().shape.size() == 2
        && version.outputs.first().shape[1] > 0) {
        info.numOutputs = int(version.outputs.first().shape[1]);
    } else {
        info.numOutputs = int(info.classNames.size());
    }
    // One forward before it takes traffic: a version that cannot run is refused here rather
    // than failing requests, and the first request does not pay for the warm-up.
    if (!info.inputShape.empty()) {
        std::vector<qint64> shape{1};
        shape.insert(shape.end(), info.inputShape.begin(), info.inputShape.end());
        qint64 count = 1;
        for (qint64 x : info.inputShape)
            count *= x;
        try {
            const std::vector<float> logits = model.predict(std::vector<float>(size_t(count)), shape);
            info.numOutputs = int(logits.size());
        } catch (const Error &e) {
            throw Error(QStringLiteral("cannot serve %1: a test inference failed: %2")
                            .arg(version.ref(), e.message()));
        }
    }
    info.loaded = QDateTime::currentDateTime();

    Private::Entry entry{info, model, d->makeBatcher(model)};
    auto previous = d->entries.find(info.name);
    if (previous != d->entries.end()) {
        // The swap: new requests go to the new batcher from now on; the old one drains.
        std::shared_ptr<ModelBatcher> old = std::move(previous->batcher);
        previous.value() = std::move(entry);
        d->retire(std::move(old));
    } else {
        d->entries.insert(info.name, std::move(entry));
    }
    d->metrics.setModelsLoaded(int(d->entries.size()));
    Q_EMIT modelsChanged();
    return info;
}

void InferenceService::unserve(const QString &name)
{
    auto it = d->entries.find(name);
    if (it == d->entries.end())
        return;
    std::shared_ptr<ModelBatcher> old = std::move(it->batcher);
    d->entries.erase(it);
    d->retire(std::move(old));
    d->metrics.setModelsLoaded(int(d->entries.size()));
    Q_EMIT modelsChanged();
}

int InferenceService::queuedSamples() const
{
    int queued = 0;
    for (const Private::Entry &entry : std::as_const(d->entries))
        queued += entry.batcher->queuedSamples();
    for (const std::shared_ptr<ModelBatcher> &batcher : d->retired)
        queued += batcher->queuedSamples();
    return queued;
}

QVector<ServedModel> InferenceService::models() const
{
    QVector<ServedModel> out;
    for (auto it = d->entries.cbegin(); it != d->entries.cend(); ++it)
        out << it->info;
    std::sort(out.begin(), out.end(),
              [](const ServedModel &a, const ServedModel &b) { return a.name < b.name; });
    return out;
}

quint16 InferenceService::nextFreePort(const QString &host, quint16 from)
{
    const QHostAddress address = hostAddress(host);
    for (quint32 port = std::max<quint16>(from, 1); port <= 65535; ++port) {
        QTcpServer probe;
        if (probe.listen(address, quint16(port)))
            return quint16(port);
    }
    return 0;
}

} // namespace ms
