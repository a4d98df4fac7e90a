// The OpenAI-compatible routes of InferenceService: GET /v1/models, POST /v1/completions and
// POST /v1/chat/completions, answered whole or streamed as server-sent events. The request is
// checked on the server's thread before any work; the generation runs on its model's
// GenerationScheduler (continuous batching) and its text comes back here as queued calls.

#include "InferenceService_p.h"

#include "common/Error.h"

#include <QDateTime>
#include <QRandomGenerator>

namespace ms {

namespace {

QString completionId(bool chat)
{
    return (chat ? QStringLiteral("chatcmpl-") : QStringLiteral("cmpl-"))
           + QString::number(QRandomGenerator::global()->generate64(), 16);
}

} // namespace

void InferenceService::Private::respondOpenAi(Exchange &ex, const openai::OpenAiError &error,
                                              const http::HeaderList &headers)
{
    respond(ex, error.status, jsonBytes(openai::errorObject(error)), kJson, headers);
}

std::shared_ptr<GenerationScheduler> InferenceService::Private::makeGenerator(
    const Version &version)
{
    const QString name = version.info.name;
    ServeMetrics *metrics = &counters;   // outlives the scheduler: stop() joins it first
    return std::make_shared<GenerationScheduler>(
        version.model, version.info.versionRef, options.threadsPerModel,
        [metrics, name](int rows) { metrics->observeDecodeStep(name, rows); },
        options.batchGenerations);
}

void InferenceService::Private::openAiModels(Exchange &ex)
{
    QVector<ServedModel> languageModels;
    for (const ServedModel &m : q->models()) {
        if (m.task == QLatin1String("lm"))
            languageModels << m;
    }
    respond(ex, 200, jsonBytes(openai::modelList(languageModels)));
}

InferenceService::Private::Version *InferenceService::Private::findLanguageModel(
    Exchange &ex, const QString &model)
{
    // "name" (its default version) or "name:N"; a name may itself hold a colon.
    QString name = model;
    int number = 0;
    const qsizetype colon = model.lastIndexOf(QLatin1Char(':'));
    if (colon > 0 && !models.contains(model)) {
        bool ok = false;
        const int n = model.mid(colon + 1).toInt(&ok);
        if (ok) {
            name = model.left(colon);
            number = n;
        }
    }
    const auto found = models.find(name);
    if (found == models.end() || (number != 0 && !found->versions.contains(number))) {
        QStringList served;
        for (const ServedModel &m : q->models()) {
            if (m.task == QLatin1String("lm"))
                served << m.versionRef;
        }
        respondOpenAi(ex, openai::OpenAiError{
                              404,
                              QStringLiteral("the model \"%1\" is not served; language models "
                                             "served: %2 (GET /v1/models)")
                                  .arg(model, served.isEmpty() ? QStringLiteral("none")
                                                               : served.join(QStringLiteral(", "))),
                              QStringLiteral("model"), QStringLiteral("model_not_found")});
        return nullptr;
    }
    ex.model = name;
    Version &version = found->versions[number != 0 ? number : found->defaultVersion()];
    if (version.info.task != QLatin1String("lm")) {
        respondOpenAi(ex, openai::OpenAiError{
                              400,
                              QStringLiteral("%1 is not a language model (it is a classifier): "
                                             "use /v2/models/%2/infer, or serve a version "
                                             "trained with --task lm")
                                  .arg(version.info.versionRef, name),
                              QStringLiteral("model"), QStringLiteral("model_not_language")});
        return nullptr;
    }
    return &version;
}

void InferenceService::Private::generate(Exchange &ex, bool chat)
{
    openai::CompletionRequest request;
    try {
        request = openai::parseCompletion(ex.request.body, chat, options.maxTokensCap);
    } catch (const openai::OpenAiError &e) {
        respondOpenAi(ex, e);
        return;
    }
    Version *version = findLanguageModel(ex, request.model);
    if (!version)
        return;
    if (!accepting || !version->generator) {
        respondOpenAi(ex, openai::OpenAiError{503,
                                              QStringLiteral("the server is stopping"),
                                              QString(), QString(),
                                              QStringLiteral("server_error")});
        return;
    }
    const LanguageModel &lm = version->generator->languageModel();
    const qsizetype promptTokens = qsizetype(lm.tokenizer().encode(request.prompt).size());
    if (promptTokens > lm.blockSize()) {
        respondOpenAi(ex, openai::OpenAiError{
                              400,
                              QStringLiteral("the prompt is %1 tokens long, more than the "
                                             "context of %2 (%3 tokens): shorten it")
                                  .arg(QString::number(promptTokens), version->info.versionRef,
                                       QString::number(lm.blockSize())),
                              chat ? QStringLiteral("messages") : QStringLiteral("prompt"),
                              QStringLiteral("context_length_exceeded")});
        return;
    }
    if (activeStreams.value(ex.model) >= options.maxStreamsPerModel) {
        counters.observeRejection("streams_full");
        respondOpenAi(ex,
                      openai::OpenAiError{503,
                                          QStringLiteral("model \"%1\" is generating %2 answers, "
                                                         "its limit: retry shortly")
                                              .arg(ex.model,
                                                   QString::number(options.maxStreamsPerModel)),
                                          QString(), QString(), QStringLiteral("server_error")},
                      {{"Retry-After", "1"}});
        return;
    }

    const quint64 id = nextId++;
    Generation g;
    g.responder = ex.responder;
    g.request = request;
    g.id = completionId(chat);
    g.created = QDateTime::currentSecsSinceEpoch();
    g.answerModel = version->info.versionRef;
    g.method = ex.method;
    g.path = ex.path;
    g.model = ex.model;
    g.start = ex.start;
    g.cancelled = std::make_shared<std::atomic<bool>>(false);

    GenerationRequest job;
    job.prompt = request.prompt;
    job.options = request.options;
    job.cancelled = g.cancelled;
    InferenceService *service = q;
    // Both run on the scheduler's worker; `service` outlives it (stop() joins it first).
    if (request.stream) {
        job.onText = [this, service, id, cancelled = g.cancelled](const QByteArray &bytes) {
            QMetaObject::invokeMethod(
                service, [this, id, bytes] { streamText(id, bytes); }, Qt::QueuedConnection);
            return !cancelled->load();
        };
    }
    job.onDone = [this, service, id](GenerateResult &&result, const QString &error) {
        QMetaObject::invokeMethod(
            service,
            [this, id, result = std::move(result), error] { generationDone(id, result, error); },
            Qt::QueuedConnection);
    };
    // A client that goes away stops its generation before the next token.
    g.responder.onClosed([cancelled = g.cancelled] { cancelled->store(true); });
    if (!version->generator->submit(std::move(job))) {
        respondOpenAi(ex, openai::OpenAiError{503, QStringLiteral("the server is stopping"),
                                              QString(), QString(),
                                              QStringLiteral("server_error")});
        return;
    }
    ++activeStreams[ex.model];
    const auto placed = generations.emplace(id, std::move(g));
    if (request.stream)
        startStream(placed.first->second);
}

void InferenceService::Private::startStream(Generation &g)
{
    g.responder.beginStream(200, QByteArrayLiteral("text/event-stream"),
                            {{"Cache-Control", "no-cache"}});
    // OpenAI's first chat chunk names the role, with empty content.
    if (g.request.chat)
        g.responder.writeChunk(openai::event(
            openai::chunk(g.request, g.id, g.created, g.answerModel, QString(), QString(), true)));
}

void InferenceService::Private::streamText(quint64 id, const QByteArray &bytes)
{
    const auto it = generations.find(id);
    if (it == generations.end())
        return;
    Generation &g = it->second;
    g.unsent += bytes;
    const qsizetype whole = openai::completeUtf8Length(g.unsent);
    if (whole == 0)
        return;
    const QString text = openai::utf8Text(g.unsent.left(whole));
    g.unsent.remove(0, whole);
    const bool written = g.responder.writeChunk(
        openai::event(openai::chunk(g.request, g.id, g.created, g.answerModel, text, QString())));
    if (!written)
        g.cancelled->store(true);
}

void InferenceService::Private::generationDone(quint64 id, const GenerateResult &result,
                                               const QString &error)
{
    const auto it = generations.find(id);
    if (it == generations.end())
        return;
    Generation g = std::move(it->second);
    generations.erase(it);
    if (--activeStreams[g.model] <= 0)
        activeStreams.remove(g.model);
    counters.observeGeneration(g.model, int(result.tokens.size()), result.firstToken_s);
    const bool open = g.responder.isOpen();
    int status = open ? 200 : 499;
    const int promptTokens = int(result.promptTokens.size());
    const int completionTokens = int(result.tokens.size());
    if (!error.isEmpty()) {
        status = open ? 500 : 499;
        const QJsonObject body = openai::errorObject(
            openai::OpenAiError{500, error, QString(), QString(), QStringLiteral("server_error")});
        if (g.request.stream) {
            g.responder.writeChunk(openai::event(body));
            g.responder.endStream();
        } else {
            g.responder.write(500, jsonBytes(body), kJson);
        }
    } else if (g.request.stream) {
        if (!g.unsent.isEmpty())   // a last character cut short: U+FFFD, as in a whole answer
            g.responder.writeChunk(openai::event(openai::chunk(
                g.request, g.id, g.created, g.answerModel, openai::utf8Text(g.unsent),
                QString())));
        g.responder.writeChunk(openai::event(openai::chunk(
            g.request, g.id, g.created, g.answerModel, QString(), result.finishReason)));
        if (g.request.includeUsage)
            g.responder.writeChunk(openai::event(openai::usageChunk(
                g.request, g.id, g.created, g.answerModel, promptTokens, completionTokens)));
        g.responder.writeChunk(QByteArray(openai::kDoneEvent));
        g.responder.endStream();
    } else {
        g.responder.write(200,
                          jsonBytes(openai::completion(g.request, g.id, g.created, g.answerModel,
                                                       openai::utf8Text(result.text),
                                                       result.finishReason, promptTokens,
                                                       completionTokens)),
                          kJson);
    }
    if (!open)
        counters.observeRejection("client_gone");
    finish(g.method, g.path, g.model, g.start, status);
}

QByteArray InferenceService::Private::generationMetrics() const
{
    QByteArray text = "# HELP modelstudio_active_streams Generations in progress (streamed or "
                      "not) on /v1/completions and /v1/chat/completions, by model.\n"
                      "# TYPE modelstudio_active_streams gauge\n";
    for (auto it = models.cbegin(); it != models.cend(); ++it) {
        bool lm = false;
        for (const Version &v : it->versions)
            lm = lm || v.info.task == QLatin1String("lm");
        if (lm)
            text += "modelstudio_active_streams{model=\""
                    + ServeMetrics::escapeLabel(it.key()).toUtf8() + "\"} "
                    + QByteArray::number(activeStreams.value(it.key())) + '\n';
    }
    return text;
}

} // namespace ms
