#include "InferenceService_p.h"

#include "HttpServer.h"
#include "ExplainProtocol.h"
#include "InferProtocol.h"
#include "ModelBatcher.h"
#include "ServeMetrics.h"
#include "ServeRoutes.h"
#include "ServeToken.h"

#include "common/Error.h"
#include "common/Runtime.h"
#include "explain/Explainer.h"
#include "models/LanguageModel.h"
#include "models/Model.h"
#include "registry/Registry.h"

#include <QCoreApplication>
#include <QFutureWatcher>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMap>
#include <QPointer>
#include <QPromise>
#include <QTcpServer>
#include <QThreadPool>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>

#include <malloc.h>

namespace ms {

namespace {

QHostAddress hostAddress(const QString &host)
{
    if (host == QStringLiteral("localhost"))
        return QHostAddress(QHostAddress::LocalHost);
    return QHostAddress(host);
}

Loaded loadVersion(const QString &workspaceRoot, const QString &ref)
{
    Loaded out;
    try {
        const Registry registry(workspaceRoot);
        const VersionRecord version = registry.resolve(ref);
        const Model model = Model::load(registry.verifiedArtifactPath(version));
        ServedModel info;
        info.name = version.modelName;
        info.versionRef = version.ref();
        info.version = version.number;
        info.inputShape = model.inputShape();
        if (info.inputShape.empty() && !version.inputs.isEmpty()) {
            const TensorSignature &input = version.inputs.first();
            const std::vector<qint64> &sig = input.shape;
            // A token input's dynamic sequence (-1) stays -1: requests of any length go.
            const bool known =
                sig.size() > 1
                && std::all_of(sig.begin() + 1, sig.end(),
                               [&](qint64 x) { return x > 0 || (x == -1 && input.isInteger()); });
            if (known)
                info.inputShape.assign(sig.begin() + 1, sig.end());
        }
        if (!version.inputs.isEmpty() && version.inputs.first().isInteger()
            && model.task() != QLatin1String("lm")) {
            const TensorSignature &input = version.inputs.first();
            info.inputDtype = input.dtype;
            info.vocabSize = input.vocabSize;
            const std::vector<qint64> example = input.runnableShape();
            info.exampleShape.assign(example.begin() + 1, example.end());
        } else {
            info.exampleShape = info.inputShape;
        }
        // A version that carries its tokenizer reads v2 BYTES text with it (which refuses a
        // tokenizer that does not fit the model, or SentencePiece's module missing, here).
        if (TextInput::carriesTokenizer(model)) {
            out.text = std::make_shared<const TextInput>(model, version.ref());
            info.tokenizer = out.text->tokenizer().kind();
        }
        if (model.task() == QLatin1String("lm")) {
            // A language model answers /v1/completions: its warm-up is one generated token
            // (which also refuses a module without a usable step method or tokenizer).
            auto lm = std::make_shared<const LanguageModel>(model, version.ref());
            GenerateOptions once;
            once.maxTokens = 1;
            once.temperature = 0.0;
            lm->generate(QByteArrayLiteral("\n"), once);
            info.task = model.task();
            info.inputDtype = QStringLiteral("int64");   // token ids, any length to the context
            info.inputShape = {-1};
            info.contextTokens = lm->blockSize();
            info.numOutputs = lm->vocabSize();
            out.lm = std::move(lm);
            info.loaded = QDateTime::currentDateTime();
            out.info = info;
            out.model = model;
            out.production = version.aliases.contains(QStringLiteral("production"));
            return out;
        }
        info.classNames = version.classNames.isEmpty() ? model.classNames() : version.classNames;
        if (!version.outputs.isEmpty() && version.outputs.first().shape.size() == 2
            && version.outputs.first().shape[1] > 0) {
            info.numOutputs = int(version.outputs.first().shape[1]);
        } else {
            info.numOutputs = int(info.classNames.size());
        }
        // One forward before it takes traffic: a version that cannot run is refused here
        // rather than failing requests, and the first request does not pay for the warm-up.
        if (!info.exampleShape.empty()) {
            std::vector<qint64> shape{1};
            shape.insert(shape.end(), info.exampleShape.begin(), info.exampleShape.end());
            qint64 count = 1;
            for (qint64 x : info.exampleShape)
                count *= x;
            try {
                const std::vector<float> logits =
                    info.inputDtype == QLatin1String("float32")
                        ? model.predict(std::vector<float>(size_t(count)), shape)
                        : model.predictTokens(std::vector<qint64>(size_t(count)), shape,
                                              info.inputDtype == QLatin1String("int32"));
                info.numOutputs = int(logits.size());
            } catch (const Error &e) {
                throw Error(QStringLiteral("cannot serve %1: a test inference failed: %2")
                                .arg(version.ref(), e.message()));
            }
        }
        info.loaded = QDateTime::currentDateTime();
        out.info = info;
        out.model = model;
        out.production = version.aliases.contains(QStringLiteral("production"));
    } catch (const Error &e) {
        out.error = e.message();
    } catch (const std::exception &e) {
        out.error = QString::fromLocal8Bit(e.what());
    }
    return out;
}

} // namespace


http::HttpServer::BodyHandler InferenceService::Private::onHead(const http::Request &head,
                                                                http::Responder &responder)
{
    const serve::RouteMatch match = serve::matchRoute(head.method, head.path);
    // The request line is printable ASCII (the connection layer refuses anything else).
    const QString method = QString::fromLatin1(head.method);
    const QString path = QString::fromLatin1(head.path);
    // The OpenAI routes answer in OpenAI's error shape, which its client libraries read.
    const bool openAi = head.path.startsWith("/v1/");
    const auto refuse = [&](int status, const QString &message,
                            const http::HeaderList &headers = {}) {
        const QByteArray body =
            openAi ? jsonBytes(openai::errorObject(openai::OpenAiError{
                         status, message, QString(), QString(),
                         status == 401 ? QStringLiteral("authentication_error")
                                       : QStringLiteral("invalid_request_error")}))
                   : errorBytes(message);
        responder.write(status, body, kJson, headers);
        finish(method, path, QString(), head.received, status);
    };
    // The token before anything else, the body included: an unauthenticated client learns
    // nothing about the routes and costs nothing but its headers.
    if (!options.token.isEmpty() && !match.open
        && !serve::bearerMatches(head.header("authorization"), options.token)) {
        counters.observeRejection("unauthorized");
        refuse(401,
               QStringLiteral("missing or wrong bearer token: send the header "
                              "\"Authorization: Bearer <token>\""),
               {{"WWW-Authenticate", "Bearer"}});
        return {};
    }
    if (match.status == 405) {
        const QString allowed = match.allowed.join(QStringLiteral(", "));
        refuse(405, QStringLiteral("%1 is not allowed on %2; use %3").arg(method, path, allowed),
               {{"Allow", allowed.toLatin1()}});
        return {};
    }
    if (!match.route) {
        refuse(404, QStringLiteral("no route %1 %2; routes: /v2, /v2/health/{live,ready}, "
                                   "/v2/models/{name}[/versions/{v}][/ready|/infer], /ping, "
                                   "/predictions/{model}[/{version}], /metrics, /v1/models, "
                                   "/v1/completions, /v1/chat/completions")
                        .arg(method, path));
        return {};
    }
    const serve::Route *route = match.route;
    return [this, route, params = match.params, method, path](http::Request &&request,
                                                               http::Responder responder) {
        Exchange ex;
        ex.start = request.received;
        ex.request = std::move(request);
        ex.responder = responder;
        ex.params = params;
        ex.method = method;
        ex.path = path;
        (this->*(route->handler))(ex);
    };
}

void InferenceService::Private::onRefusal(const http::Refusal &refusal)
{
    counters.observeRejection(refusal.reason);
    if (refusal.status == 0)
        return;   // a connection closed (idle, evicted): no request to log
    finish(QString::fromLatin1(refusal.method), QString::fromLatin1(refusal.path), QString(),
           refusal.received, refusal.status);
}

InferenceService::Private::Version *InferenceService::Private::findVersion(Exchange &ex)
{
    const QString name = ex.params.value(QStringLiteral("model"));
    auto found = models.find(name);
    if (found == models.end()) {
        QStringList served = models.keys();
        served.sort();
        respondError(ex, 404,
                     QStringLiteral("model \"%1\" is not served; served: %2")
                         .arg(name, served.isEmpty() ? QStringLiteral("none")
                                                     : served.join(QStringLiteral(", "))));
        return nullptr;
    }
    ex.model = name;
    Served &served = found.value();
    const QString versionText = ex.params.value(QStringLiteral("version"));
    if (versionText.isNull())
        return &served.versions[served.defaultVersion()];
    bool ok = false;
    const int version = versionText.toInt(&ok);
    if (!ok || !served.versions.contains(version)) {
        QStringList numbers;
        for (int v : served.versions.keys())
            numbers << QString::number(v);
        respondError(ex, 404,
                     QStringLiteral("model \"%1\" is served at version%2 %3, not \"%4\"")
                         .arg(name, numbers.size() > 1 ? QStringLiteral("s") : QString(),
                              numbers.join(QStringLiteral(", ")), versionText));
        return nullptr;
    }
    return &served.versions[version];
}

void InferenceService::Private::serverMetadata(Exchange &ex)
{
    const QString version = QCoreApplication::applicationVersion();
    respond(ex, 200,
            jsonBytes(protocol::serverMetadata(version.isEmpty() ? QStringLiteral("dev")
                                                                 : version)));
}

void InferenceService::Private::healthLive(Exchange &ex)
{
    respond(ex, 200, jsonBytes(QJsonObject{{QStringLiteral("live"), true}}));
}

void InferenceService::Private::healthReady(Exchange &ex)
{
    // KServe: ready once it can serve, i.e. accepting with at least one model loaded.
    const bool ready = accepting && !models.isEmpty();
    respond(ex, ready ? 200 : 503, jsonBytes(QJsonObject{{QStringLiteral("ready"), ready}}));
}

void InferenceService::Private::modelMetadata(Exchange &ex)
{
    const Version *version = findVersion(ex);
    if (!version)
        return;
    const QList<int> versions = models.value(ex.model).versions.keys();
    respond(ex, 200, jsonBytes(protocol::modelMetadata(version->info, versions)));
}

void InferenceService::Private::modelReady(Exchange &ex)
{
    const Version *version = findVersion(ex);
    if (!version)
        return;
    const bool ready = accepting && version->batcher != nullptr;
    respond(ex, ready ? 200 : 503,
            jsonBytes(QJsonObject{{QStringLiteral("name"), ex.model},
                                  {QStringLiteral("ready"), ready}}));
}

void InferenceService::Private::ping(Exchange &ex)
{
    respond(ex, accepting ? 200 : 503,
            jsonBytes(QJsonObject{{QStringLiteral("status"),
                                   accepting ? QStringLiteral("Healthy")
                                             : QStringLiteral("Unhealthy")}}));
}

void InferenceService::Private::metrics(Exchange &ex)
{
    QByteArray text = counters.exposition();
    text += "# HELP modelstudio_open_connections Client connections open now.\n"
            "# TYPE modelstudio_open_connections gauge\n"
            "modelstudio_open_connections "
            + QByteArray::number(server ? server->connectionCount() : 0) + '\n';
    text += "# HELP modelstudio_queued_samples Samples waiting for their batch, by model.\n"
            "# TYPE modelstudio_queued_samples gauge\n";
    for (auto it = models.cbegin(); it != models.cend(); ++it) {
        int queued = 0;
        for (const Version &v : it->versions)
            queued += v.batcher ? v.batcher->queuedSamples() : 0;
        text += "modelstudio_queued_samples{model=\"" + ServeMetrics::escapeLabel(it.key()).toUtf8()
                + "\"} " + QByteArray::number(queued) + '\n';
    }
    text += generationMetrics();
    respond(ex, 200, text, QByteArrayLiteral("text/plain; version=0.0.4; charset=utf-8"));
}

void InferenceService::Private::infer(Exchange &ex, bool torchServe)
{
    Version *version = findVersion(ex);
    if (!version || !checkAccepting(ex, version))
        return;
    const bool lm = version->lm != nullptr;
    if (lm && torchServe) {
        respondError(ex, 400,
                     QStringLiteral("model \"%1\" is a language model: send text to "
                                    "/v1/completions or /v1/chat/completions, or to "
                                    "/v2/models/%1/infer (BYTES text or INT64 ids) for the "
                                    "next token's logits")
                         .arg(ex.model));
        return;
    }
    const bool tokens = version->info.inputDtype != QLatin1String("float32");
    if (tokens && torchServe) {
        respondError(ex, 400,
                     QStringLiteral("model \"%1\" takes %2 token ids: send them to "
                                    "/v2/models/%1/infer with datatype \"%3\"")
                         .arg(ex.model, version->info.inputDtype,
                              version->info.inputDtype.toUpper()));
        return;
    }
    protocol::InferInput input;
    try {
        input = torchServe
                    ? protocol::parseTorchServe(ex.request.body, version->info.inputShape)
                    : protocol::parseV2Infer(ex.request.body, version->info.inputShape,
                                             tokens ? version->info.inputDtype.toUpper()
                                                    : QString(),
                                             version->text != nullptr);
        if (tokens && !input.text)
            protocol::checkTokenIds(input.tokens, lm ? version->info.numOutputs
                                                     : version->info.vocabSize);
    } catch (const protocol::ProtocolError &e) {
        respondError(ex, e.status, e.message);
        return;
    }
    ex.request.body = QByteArray();   // parsed: the text is not needed any more
    std::vector<std::vector<qint64>> sequences;
    if (input.text && !tokenizeTexts(ex, *version, input, sequences))
        return;
    if (lm) {
        inferLanguageModel(ex, version, std::move(input), std::move(sequences));
        return;
    }

    ModelBatcher::Request job;
    job.data = std::move(input.data);
    job.tokens = std::move(input.tokens);
    job.int32Tokens = version->info.inputDtype == QLatin1String("int32");
    job.shape = input.shape;
    input.data = std::vector<float>();
    input.tokens = std::vector<qint64>();
    const QString name = version->info.name;
    const int number = version->info.version;
    const QStringList classNames = version->info.classNames;
    // Runs on the worker: the body is built there, so the server's thread only writes it.
    enqueue(ex, version, std::move(job),
            [input = std::move(input), name, number, classNames,
             torchServe](BatchResult &result) {
                if (torchServe)
                    return jsonBytes(protocol::torchServeResponse(
                        result.logits, input.batch(), classNames, input.singleSample));
                return jsonBytes(protocol::v2InferResponse(name, number, input, result.logits));
            });
}

// An attribution map per sample, computed on the version's batcher worker as one request of
// its own (ModelBatcher::Request::compute), under the queue bound and the request timeout of
// inference. Everything that can be refused is refused here with 400, before it queues.
void InferenceService::Private::explain(Exchange &ex, bool torchServe)
{
    Version *version = findVersion(ex);
    if (!version || !checkAccepting(ex, version))
        return;
    if (version->info.task == QLatin1String("lm")) {
        respondError(ex, 400,
                     QStringLiteral("model \"%1\" is a language model: attribution maps are "
                                    "for models of images or tables")
                         .arg(ex.model));
        return;
    }
    if (version->info.inputDtype != QLatin1String("float32")) {
        respondError(ex, 400,
                     QStringLiteral("model \"%1\" takes %2 token ids: attribution maps are "
                                    "for models of images or tables")
                         .arg(ex.model, version->info.inputDtype));
        return;
    }
    protocol::InferInput input;
    ExplainOptions explainOptions;
    auto explainer = std::make_shared<Explainer>(version->model, version->info.versionRef,
                                                 version->info.inputShape,
                                                 version->info.numOutputs);
    try {
        input = torchServe
                    ? protocol::parseTorchServe(ex.request.body, version->info.inputShape)
                    : protocol::parseV2Infer(ex.request.body, version->info.inputShape);
        explainOptions = protocol::explainOptions(ex.request.target, ex.request.body);
        if (input.batch() > options.maxBatchSize)
            throw protocol::ProtocolError{
                400, QStringLiteral("%1 samples to explain; at most %2 per request (the "
                                    "server's batch size)")
                         .arg(QString::number(input.batch()),
                              QString::number(options.maxBatchSize))};
        explainer->check(std::vector<qint64>(input.shape.begin() + 1, input.shape.end()),
                         explainOptions);
    } catch (const protocol::ProtocolError &e) {
        respondError(ex, e.status, e.message);
        return;
    } catch (const Error &e) {
        respondError(ex, 400, e.message());
        return;
    }
    ex.request.body = QByteArray();

    ModelBatcher::Request job;
    job.shape = input.shape;
    job.cancelled = std::make_shared<std::atomic<bool>>(false);
    auto explanations = std::make_shared<std::vector<Explanation>>();
    auto sample = std::make_shared<protocol::InferInput>(std::move(input));
    job.compute = [explainer, explainOptions, sample, explanations,
                   cancelled = job.cancelled]() {
        BatchResult result;
        try {
            *explanations = protocol::explainSamples(*explainer, *sample, explainOptions,
                                                     [cancelled] { return cancelled->load(); });
            result.ok = true;
        } catch (const Error &e) {
            result.status = 400;   // found only on the way (a model without gradients)
            result.error = e.message();
        }
        return result;
    };
    const QString name = version->info.name;
    const int number = version->info.version;
    enqueue(ex, version, std::move(job),
            [sample, explanations, name, number, torchServe](BatchResult &) {
                if (torchServe)
                    return jsonBytes(protocol::torchServeExplainResponse(*explanations,
                                                                         sample->singleSample));
                return jsonBytes(protocol::v2ExplainResponse(name, number, *sample,
                                                             *explanations));
            });
}

bool InferenceService::Private::checkAccepting(Exchange &ex, Version *version)
{
    if (accepting && version->batcher)
        return true;
    respondError(ex, 503,
                 QStringLiteral("model \"%1\" is not ready: the server is stopping").arg(ex.model));
    return false;
}

void InferenceService::Private::enqueue(Exchange &ex, Version *version,
                                        ModelBatcher::Request &&job, ReplyBody reply)
{
    const quint64 id = nextId++;
    InFlight flight;
    flight.responder = ex.responder;
    flight.method = ex.method;
    flight.path = ex.path;
    flight.model = ex.model;
    flight.start = ex.start;
    flight.deadline = ex.start + std::chrono::milliseconds(options.requestTimeout_ms);
    if (!job.cancelled)
        job.cancelled = std::make_shared<std::atomic<bool>>(false);
    flight.cancelled = job.cancelled;
    InferenceService *service = q;
    // Runs on the worker. `service` outlives every worker (stop() joins them before anything
    // goes).
    job.done = [this, service, id, reply = std::move(reply)](BatchResult &&result) {
        int status = 200;
        QByteArray body;
        if (!result.ok) {
            status = result.status;
            body = errorBytes(result.error);
        } else {
            body = reply(result);
        }
        const double queue_us = result.queue_us;
        const int batchSize = result.batchSize;
        QMetaObject::invokeMethod(
            service,
            [this, id, status, body = std::move(body), queue_us, batchSize] {
                complete(id, status, body, queue_us, batchSize);
            },
            Qt::QueuedConnection);
    };
    switch (version->batcher->submit(std::move(job))) {
    case ModelBatcher::Submitted::Queued: {
        // A client that leaves while its request waits frees its place: the batcher drops a
        // cancelled request instead of computing it (one already in a batch finishes).
        const std::shared_ptr<std::atomic<bool>> cancelled = flight.cancelled;
        flight.responder.onClosed([this, id, cancelled] {
            cancelled->store(true);
            const auto it = inflight.find(id);
            if (it == inflight.end())
                return;
            counters.observeRejection("client_gone");
            finish(it->second.method, it->second.path, it->second.model, it->second.start, 499);
            inflight.erase(it);
            armDeadline();
        });
        inflight.emplace(id, std::move(flight));
        if (options.requestTimeout_ms > 0 && !deadlineTimer.isActive())
            armDeadline();
        return;
    }
    case ModelBatcher::Submitted::Full:
        counters.observeRejection("queue_full");
        respondError(ex, 503,
                     QStringLiteral("model \"%1\" has %2 samples waiting, its limit: retry "
                                    "shortly")
                         .arg(ex.model, QString::number(version->batcher->queuedSamples())),
                     {{"Retry-After", "1"}});
        return;
    case ModelBatcher::Submitted::Stopped:
        respondError(ex, 503, QStringLiteral("model \"%1\" is not ready").arg(ex.model));
        return;
    }
}

void InferenceService::Private::complete(quint64 id, int status, const QByteArray &body,
                                         double queue_us, int batchSize)
{
    const auto it = inflight.find(id);
    if (it == inflight.end())
        return;   // answered already (timed out): the result is dropped
    InFlight &f = it->second;
    // A client that left before its answer: nothing to write; nginx's 499 in the log.
    const bool open = f.responder.isOpen();
    if (open)
        f.responder.write(status, body, kJson);
    finish(f.method, f.path, f.model, f.start, open ? status : 499, queue_us, batchSize);
    inflight.erase(it);
}

void InferenceService::Private::armDeadline()
{
    if (inflight.empty() || options.requestTimeout_ms <= 0)
        return;
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        inflight.begin()->second.deadline - Clock::now());
    deadlineTimer.start(int(std::max<qint64>(0, wait.count()) + 1));
}

void InferenceService::Private::expireDeadlines()
{
    const Clock::time_point now = Clock::now();
    while (!inflight.empty() && inflight.begin()->second.deadline <= now) {
        InFlight &f = inflight.begin()->second;
        f.cancelled->store(true);   // still queued: it will not run
        f.responder.write(504,
                          errorBytes(QStringLiteral("model \"%1\" did not answer within %2 ms; "
                                                    "retry later, or raise "
                                                    "--request-timeout-ms")
                                         .arg(f.model, QString::number(options.requestTimeout_ms))),
                          kJson);
        counters.observeRejection("request_timeout");
        finish(f.method, f.path, f.model, f.start, 504);
        inflight.erase(inflight.begin());
    }
    armDeadline();
}

ServedModel InferenceService::Private::install(Loaded &&loaded, ServeMode mode)
{
    Version version;
    version.info = loaded.info;
    version.model = loaded.model;
    version.text = loaded.text;
    version.lm = loaded.lm;
    version.production = loaded.production;
    version.batcher = makeBatcher(loaded.model);
    if (loaded.info.task == QLatin1String("lm"))
        version.generator = makeGenerator(version);
    Served &served = models[loaded.info.name];
    if (mode == ServeMode::Replace) {
        // The swap: new requests go to the new batcher from now on; the old ones drain.
        for (Version &old : served.versions)
            retire(old);
        served.versions.clear();
    } else if (served.versions.contains(loaded.info.version)) {
        retire(served.versions[loaded.info.version]);
    }
    served.versions.insert(loaded.info.version, std::move(version));
    counters.setModelsLoaded(int(models.size()));
    ServedModel info = loaded.info;
    info.isDefault = served.defaultVersion() == info.version;
    Q_EMIT q->modelsChanged();
    return info;
}

InferenceService::InferenceService(QString workspaceRoot, ServeOptions options, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>())
{
    qRegisterMetaType<ms::RequestRecord>();
    qRegisterMetaType<ms::ServedModel>();
    // Before any batcher thread allocates: a worker's private malloc arena is shrunk after
    // every freed batch buffer and page-faulted back in (see Runtime::tuneAllocatorForTensors).
    Runtime::tuneAllocatorForTensors();
    // And a batch's tensors (a few MB) come from the heap and stay there for the next batch,
    // instead of a fresh mmap zeroed page by page each time: page faults were about an eighth
    // of the batch worker's time under load (bench/README.md, "Where the serving time goes").
    static std::once_flag once;
    std::call_once(once, [] {
        mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
        mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    });
    d->q = this;
    d->workspaceRoot = std::move(workspaceRoot);
    d->options = std::move(options);
    d->deadlineTimer.setSingleShot(true);
    connect(&d->deadlineTimer, &QTimer::timeout, this, [this] { d->expireDeadlines(); });
}

InferenceService::~InferenceService()
{
    stop();
    // The generators' workers call back into the metrics: they stop before any member goes.
    for (Private::Served &served : d->models) {
        for (Private::Version &version : served.versions) {
            if (version.batcher)
                version.batcher->stop();
            if (version.generator)
                version.generator->stop();
        }
    }
    for (const auto &generator : d->retiredGenerators)
        generator->stop();
    d->inflight.clear();
}

const ServeOptions &InferenceService::options() const
{
    return d->options;
}

quint16 InferenceService::listen()
{
    if (isListening())
        return d->server->port();
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

    auto *server = new http::HttpServer(
        o,
        [this](const http::Request &head, http::Responder &responder) {
            return d->onHead(head, responder);
        },
        [this](const http::Refusal &refusal) { d->onRefusal(refusal); });
    QString why;
    bool inUse = false;
    if (!server->listen(address, o.port, &why, &inUse)) {
        delete server;
        if (inUse) {
            const quint16 free = nextFreePort(o.host, quint16(o.port + 1));
            throw Error(QStringLiteral("port %1 on %2 is in use (%3); free port: %4 — pass "
                                       "--port %4")
                            .arg(QString::number(o.port), o.host, why, QString::number(free)));
        }
        throw Error(QStringLiteral("cannot listen on %1 port %2: %3")
                        .arg(o.host, QString::number(o.port), why));
    }
    d->server = server;
    // Batchers stopped by an earlier stop() start again.
    for (Private::Served &served : d->models) {
        for (Private::Version &version : served.versions) {
            if (!version.batcher || version.batcher->finished())
                version.batcher = d->makeBatcher(version.model);
            if (version.info.task == QLatin1String("lm") && !version.generator)
                version.generator = d->makeGenerator(version);
        }
    }
    d->accepting = true;
    return server->port();
}

void InferenceService::stop()
{
    if (!d->server)
        return;
    d->accepting = false;
    d->server->close();
    // Every queued request runs; the replies the workers posted are written before the
    // connections go.
    for (Private::Served &served : d->models) {
        for (Private::Version &version : served.versions) {
            if (version.batcher)
                version.batcher->stop();
        }
    }
    for (const auto &batcher : d->retired)
        batcher->stop();
    d->retired.clear();
    // Generations in progress are cancelled; their last events are posted to this thread and
    // written below, before the connections go.
    for (Private::Served &served : d->models) {
        for (Private::Version &version : served.versions) {
            if (version.generator)
                version.generator->stop();
            version.generator.reset();
        }
    }
    for (const auto &generator : d->retiredGenerators)
        generator->stop();
    d->retiredGenerators.clear();
    QCoreApplication::sendPostedEvents(this, QEvent::MetaCall);
    // Requests that did not reach a batcher have no reply coming: nothing is left in flight.
    d->inflight.clear();
    d->deadlineTimer.stop();
    http::HttpServer *server = d->server.data();
    d->server.clear();
    server->shutdown();
}

bool InferenceService::isListening() const
{
    return d->accepting && d->server && d->server->isListening();
}

QString InferenceService::url() const
{
    const quint16 port = d->server ? d->server->port() : d->options.port;
    QString host = d->options.host;
    if (host.contains(QLatin1Char(':')))
        host = QLatin1Char('[') + host + QLatin1Char(']');
    return QStringLiteral("http://%1:%2").arg(host, QString::number(port));
}

ServedModel InferenceService::serve(const QString &ref, ServeMode mode)
{
    Loaded loaded = loadVersion(d->workspaceRoot, ref);
    if (!loaded.error.isEmpty())
        throw Error(loaded.error);
    return d->install(std::move(loaded), mode);
}

void InferenceService::serveAsync(const QString &ref, ServeMode mode)
{
    auto promise = std::make_shared<QPromise<Loaded>>();
    auto *watcher = new QFutureWatcher<Loaded>(this);
    ++d->loading;
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, ref, mode] {
        --d->loading;
        Loaded loaded = watcher->future().result();
        watcher->deleteLater();
        if (!loaded.error.isEmpty()) {
            Q_EMIT serveFailed(ref, loaded.error);
            return;
        }
        const ServedModel info = d->install(std::move(loaded), mode);
        Q_EMIT modelServed(info);
    });
    watcher->setFuture(promise->future());
    promise->start();
    // The task holds no pointer to this service: if it goes first, the result is dropped.
    QThreadPool::globalInstance()->start([promise, root = d->workspaceRoot, ref] {
        promise->addResult(loadVersion(root, ref));
        promise->finish();
    });
}

int InferenceService::loadsInProgress() const
{
    return d->loading;
}

void InferenceService::unserve(const QString &name)
{
    auto it = d->models.find(name);
    if (it == d->models.end())
        return;
    for (Private::Version &version : it->versions)
        d->retire(version);
    d->models.erase(it);
    d->counters.setModelsLoaded(int(d->models.size()));
    Q_EMIT modelsChanged();
}

int InferenceService::queuedSamples() const
{
    int queued = 0;
    for (const Private::Served &served : std::as_const(d->models)) {
        for (const Private::Version &version : served.versions)
            queued += version.batcher ? version.batcher->queuedSamples() : 0;
    }
    for (const std::shared_ptr<ModelBatcher> &batcher : d->retired)
        queued += batcher->queuedSamples();
    return queued;
}

int InferenceService::openConnections() const
{
    return d->server ? d->server->connectionCount() : 0;
}

QVector<ServedModel> InferenceService::models() const
{
    QVector<ServedModel> out;
    for (auto it = d->models.cbegin(); it != d->models.cend(); ++it) {
        const int defaultVersion = it->defaultVersion();
        for (const Private::Version &version : it->versions) {
            ServedModel info = version.info;
            info.isDefault = info.version == defaultVersion;
            out << info;
        }
    }
    std::sort(out.begin(), out.end(), [](const ServedModel &a, const ServedModel &b) {
        return a.name != b.name ? a.name < b.name : a.version < b.version;
    });
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
