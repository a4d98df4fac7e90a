#include "OpenAiProtocol.h"

#include <QJsonDocument>
#include <QJsonParseError>
#include <QRandomGenerator>

#include <cmath>
#include <limits>

namespace ms::openai {

namespace {

[[noreturn]] void fail(const QString &message, const QString &param = QString())
{
    throw OpenAiError{400, message, param, QString(), QStringLiteral("invalid_request_error")};
}

bool isInteger(const QJsonValue &v)
{
    if (!v.isDouble())
        return false;
    const double x = v.toDouble();
    return std::isfinite(x) && x == std::floor(x);
}

QString jsonKind(const QJsonValue &v)
{
    switch (v.type()) {
    case QJsonValue::Null: return QStringLiteral("null");
    case QJsonValue::Bool: return QStringLiteral("a boolean");
    case QJsonValue::Double: return QStringLiteral("a number");
    case QJsonValue::String: return QStringLiteral("a string");
    case QJsonValue::Array: return QStringLiteral("an array");
    case QJsonValue::Object: return QStringLiteral("an object");
    case QJsonValue::Undefined: break;
    }
    return QStringLiteral("nothing");
}

// A string, or an array of exactly one string (OpenAI takes lists; one per request here).
QString oneString(const QJsonValue &v, const QString &param, const QString &what)
{
    if (v.isString())
        return v.toString();
    if (v.isArray() && v.toArray().size() == 1 && v.toArray().first().isString())
        return v.toArray().first().toString();
    fail(QStringLiteral("%1 must be a string (or a list of one string: one per request), not "
                        "%2")
             .arg(what, v.isArray() ? QStringLiteral("a list of %1 items")
                                          .arg(v.toArray().size())
                                    : jsonKind(v)),
         param);
}

// Sampling fields OpenAI has and this server does not implement: refused when set to anything
// but their neutral value, rather than silently ignored.
void refuseUnsupported(const QJsonObject &o)
{
    const auto number = [&](const char *key, double neutral) {
        const QJsonValue v = o.value(QLatin1String(key));
        if (!v.isUndefined() && !v.isNull() && !(v.isDouble() && v.toDouble() == neutral))
            fail(QStringLiteral("%1 is not supported by this server; leave it out (or %2)")
                     .arg(QLatin1String(key), QString::number(neutral)),
                 QLatin1String(key));
    };
    number("n", 1);
    number("best_of", 1);
    number("presence_penalty", 0);
    number("frequency_penalty", 0);
    for (const char *key : {"echo", "logprobs"}) {
        const QJsonValue v = o.value(QLatin1String(key));
        if (!v.isUndefined() && !v.isNull() && !(v.isBool() && !v.toBool()))
            fail(QStringLiteral("%1 is not supported by this server; leave it out")
                     .arg(QLatin1String(key)),
                 QLatin1String(key));
    }
    for (const char *key : {"logit_bias", "tools", "functions"}) {
        const QJsonValue v = o.value(QLatin1String(key));
        const bool empty = v.isUndefined() || v.isNull()
                           || (v.isObject() && v.toObject().isEmpty())
                           || (v.isArray() && v.toArray().isEmpty());
        if (!empty)
            fail(QStringLiteral("%1 is not supported by this server; leave it out")
                     .arg(QLatin1String(key)),
                 QLatin1String(key));
    }
}

void readMaxTokens(const QJsonObject &o, bool chat, int cap, GenerateOptions &options)
{
    QString key = QStringLiteral("max_tokens");
    QJsonValue v = o.value(key);
    if ((v.isUndefined() || v.isNull()) && chat) {
        key = QStringLiteral("max_completion_tokens");
        v = o.value(key);
    }
    // OpenAI's defaults: 16 for a completion; a chat answer may run to the end (the cap here).
    options.maxTokens = chat ? cap : std::min(16, cap);
    if (v.isUndefined() || v.isNull())
        return;
    if (!isInteger(v) || v.toDouble() < 1 || v.toDouble() > cap)
        fail(QStringLiteral("%1 must be a whole number from 1 to %2 (the server's cap, "
                            "--max-tokens-cap), not %3")
                 .arg(key, QString::number(cap),
                      v.isDouble() ? QString::number(v.toDouble(), 'g', 12) : jsonKind(v)),
             key);
    options.maxTokens = int(v.toDouble());
}

void readSampling(const QJsonObject &o, CompletionRequest &r)
{
    GenerateOptions &options = r.options;
    options.temperature = 1.0;   // OpenAI's default
    const QJsonValue temperature = o.value(QLatin1String("temperature"));
    if (!temperature.isUndefined() && !temperature.isNull()) {
        const double t = temperature.toDouble(-1.0);
        if (!temperature.isDouble() || !(t >= 0.0 && t <= 2.0))
            fail(QStringLiteral("temperature must be a number from 0 (greedy) to 2, not %1")
                     .arg(temperature.isDouble() ? QString::number(t) : jsonKind(temperature)),
                 QStringLiteral("temperature"));
        options.temperature = t;
    }
    const QJsonValue topP = o.value(QLatin1String("top_p"));
    if (!topP.isUndefined() && !topP.isNull()) {
        const double p = topP.toDouble(-1.0);
        if (!topP.isDouble() || !(p > 0.0 && p <= 1.0))
            fail(QStringLiteral("top_p must be a number above 0 and at most 1, not %1")
                     .arg(topP.isDouble() ? QString::number(p) : jsonKind(topP)),
                 QStringLiteral("top_p"));
        options.topP = p;
    }
    const QJsonValue topK = o.value(QLatin1String("top_k"));   // llama.cpp's, not OpenAI's
    if (!topK.isUndefined() && !topK.isNull()) {
        if (!isInteger(topK) || topK.toDouble() < 0 || topK.toDouble() > 1e9)
            fail(QStringLiteral("top_k must be a whole number, 0 (off) or more"),
                 QStringLiteral("top_k"));
        options.topK = int(topK.toDouble());
    }
    const QJsonValue seed = o.value(QLatin1String("seed"));
    if (!seed.isUndefined() && !seed.isNull()) {
        // JSON numbers reach us as doubles: integers past 2^53 would be rounded.
        if (!isInteger(seed) || seed.toDouble() < 0 || seed.toDouble() > 9007199254740992.0)
            fail(QStringLiteral("seed must be a whole number from 0 to 2^53"),
                 QStringLiteral("seed"));
        options.seed = quint64(seed.toDouble());
        r.seeded = true;
    } else {
        options.seed = QRandomGenerator::global()->generate64();
    }
    const QJsonValue stop = o.value(QLatin1String("stop"));
    if (!stop.isUndefined() && !stop.isNull() && !(stop.isArray() && stop.toArray().isEmpty()))
        options.stop = oneString(stop, QStringLiteral("stop"), QStringLiteral("stop")).toUtf8();
    else if (r.chat)
        options.stop = QByteArray(kChatTurnStop);
}

void readStream(const QJsonObject &o, CompletionRequest &r)
{
    const QJsonValue stream = o.value(QLatin1String("stream"));
    if (!stream.isUndefined() && !stream.isNull() && !stream.isBool())
        fail(QStringLiteral("stream must be true or false"), QStringLiteral("stream"));
    r.stream = stream.toBool(false);
    const QJsonValue options = o.value(QLatin1String("stream_options"));
    if (options.isObject())
        r.includeUsage = options.toObject().value(QLatin1String("include_usage")).toBool(false);
    else if (!options.isUndefined() && !options.isNull())
        fail(QStringLiteral("stream_options must be an object"),
             QStringLiteral("stream_options"));
}

} // namespace

QByteArray renderChat(const QJsonArray &messages)
{
    if (messages.isEmpty())
        fail(QStringLiteral("messages must be a non-empty list of {\"role\", \"content\"}"),
             QStringLiteral("messages"));
    QByteArray prompt;
    for (qsizetype i = 0; i < messages.size(); ++i) {
        const QJsonObject m = messages.at(i).toObject();
        const QString role = m.value(QLatin1String("role")).toString();
        const QJsonValue content = m.value(QLatin1String("content"));
        const QString param = QStringLiteral("messages[%1]").arg(i);
        if (role != QLatin1String("system") && role != QLatin1String("user")
            && role != QLatin1String("assistant"))
            fail(QStringLiteral("%1.role must be \"system\", \"user\" or \"assistant\"").arg(param),
                 param + QStringLiteral(".role"));
        if (!content.isString())
            fail(QStringLiteral("%1.content must be a string (text only), not %2")
                     .arg(param, jsonKind(content)),
                 param + QStringLiteral(".content"));
        prompt += role.toUtf8() + ": " + content.toString().toUtf8() + '\n';
    }
    return prompt + "assistant:";
}

CompletionRequest parseCompletion(const QByteArray &body, bool chat, int maxTokensCap)
{
    // Checked on the bytes: the JSON parser would turn a stray byte into U+FFFD and the
    // prompt would pass as valid text.
    if (!QUtf8StringView(body).isValidUtf8())
        fail(QStringLiteral("the body is not valid UTF-8: send the prompt as UTF-8 text"));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        fail(error.error != QJsonParseError::NoError
                 ? QStringLiteral("the body is not JSON: %1 at byte %2")
                       .arg(error.errorString(), QString::number(error.offset))
                 : QStringLiteral("the body must be a JSON object"));
    const QJsonObject o = doc.object();
    CompletionRequest r;
    r.chat = chat;
    const QJsonValue model = o.value(QLatin1String("model"));
    if (!model.isString() || model.toString().isEmpty())
        fail(QStringLiteral("model must be the name of a served model (GET /v1/models lists "
                            "them)"),
             QStringLiteral("model"));
    r.model = model.toString();
    if (chat) {
        const QJsonValue messages = o.value(QLatin1String("messages"));
        if (!messages.isArray())
            fail(QStringLiteral("messages must be a list of {\"role\", \"content\"}"),
                 QStringLiteral("messages"));
        r.prompt = renderChat(messages.toArray());
    } else {
        r.prompt = oneString(o.value(QLatin1String("prompt")), QStringLiteral("prompt"),
                             QStringLiteral("prompt"))
                       .toUtf8();
        if (r.prompt.isEmpty())
            fail(QStringLiteral("prompt is empty: give at least one character to continue"),
                 QStringLiteral("prompt"));
    }
    refuseUnsupported(o);
    readMaxTokens(o, chat, maxTokensCap, r.options);
    readSampling(o, r);
    readStream(o, r);
    return r;
}

QJsonObject errorObject(const OpenAiError &e)
{
    return QJsonObject{{QStringLiteral("error"),
                        QJsonObject{{QStringLiteral("message"), e.message},
                                    {QStringLiteral("type"), e.type},
                                    {QStringLiteral("param"), e.param.isEmpty()
                                                                  ? QJsonValue(QJsonValue::Null)
                                                                  : QJsonValue(e.param)},
                                    {QStringLiteral("code"), e.code.isEmpty()
                                                                 ? QJsonValue(QJsonValue::Null)
                                                                 : QJsonValue(e.code)}}}};
}

namespace {

QJsonObject head(const CompletionRequest &r, const QString &id, qint64 created,
                 const QString &model, bool isChunk)
{
    return QJsonObject{
        {QStringLiteral("id"), id},
        {QStringLiteral("object"),
         r.chat ? (isChunk ? QStringLiteral("chat.completion.chunk")
                           : QStringLiteral("chat.completion"))
                : QStringLiteral("text_completion")},
        {QStringLiteral("created"), double(created)},
        {QStringLiteral("model"), model}};
}

QJsonObject usage(int promptTokens, int completionTokens)
{
    return QJsonObject{{QStringLiteral("prompt_tokens"), promptTokens},
                       {QStringLiteral("completion_tokens"), completionTokens},
                       {QStringLiteral("total_tokens"), promptTokens + completionTokens}};
}

QJsonValue reason(const QString &finishReason)
{
    return finishReason.isEmpty() ? QJsonValue(QJsonValue::Null) : QJsonValue(finishReason);
}

} // namespace

QJsonObject completion(const CompletionRequest &r, const QString &id, qint64 created,
                       const QString &model, const QString &text, const QString &finishReason,
                       int promptTokens, int completionTokens)
{
    QJsonObject choice{{QStringLiteral("index"), 0},
                       {QStringLiteral("logprobs"), QJsonValue(QJsonValue::Null)},
                       {QStringLiteral("finish_reason"), reason(finishReason)}};
    if (r.chat)
        choice.insert(QStringLiteral("message"),
                      QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
                                  {QStringLiteral("content"), text}});
    else
        choice.insert(QStringLiteral("text"), text);
    QJsonObject out = head(r, id, created, model, false);
    out.insert(QStringLiteral("choices"), QJsonArray{choice});
    out.insert(QStringLiteral("usage"), usage(promptTokens, completionTokens));
    return out;
}

QJsonObject chunk(const CompletionRequest &r, const QString &id, qint64 created,
                  const QString &model, const QString &text, const QString &finishReason,
                  bool first)
{
    QJsonObject choice{{QStringLiteral("index"), 0},
                       {QStringLiteral("logprobs"), QJsonValue(QJsonValue::Null)},
                       {QStringLiteral("finish_reason"), reason(finishReason)}};
    if (r.chat) {
        QJsonObject delta;
        if (first)
            delta.insert(QStringLiteral("role"), QStringLiteral("assistant"));
        if (first || !text.isEmpty())
            delta.insert(QStringLiteral("content"), text);
        choice.insert(QStringLiteral("delta"), delta);
    } else {
        choice.insert(QStringLiteral("text"), text);
    }
    QJsonObject out = head(r, id, created, model, true);
    out.insert(QStringLiteral("choices"), QJsonArray{choice});
    return out;
}

QJsonObject usageChunk(const CompletionRequest &r, const QString &id, qint64 created,
                       const QString &model, int promptTokens, int completionTokens)
{
    QJsonObject out = head(r, id, created, model, true);
    out.insert(QStringLiteral("choices"), QJsonArray());
    out.insert(QStringLiteral("usage"), usage(promptTokens, completionTokens));
    return out;
}

QByteArray event(const QJsonObject &data)
{
    return "data: " + QJsonDocument(data).toJson(QJsonDocument::Compact) + "\n\n";
}

QJsonObject modelList(const QVector<ServedModel> &languageModels)
{
    QJsonArray data;
    const auto entry = [](const QString &id, const ServedModel &m) {
        return QJsonObject{{QStringLiteral("id"), id},
                           {QStringLiteral("object"), QStringLiteral("model")},
                           {QStringLiteral("created"), double(m.loaded.toSecsSinceEpoch())},
                           {QStringLiteral("owned_by"), QStringLiteral("modelstudio")}};
    };
    for (const ServedModel &m : languageModels) {
        if (m.isDefault)
            data.append(entry(m.name, m));
    }
    for (const ServedModel &m : languageModels)
        data.append(entry(m.versionRef, m));
    return QJsonObject{{QStringLiteral("object"), QStringLiteral("list")},
                       {QStringLiteral("data"), data}};
}

qsizetype completeUtf8Length(const QByteArray &bytes)
{
    const qsizetype n = bytes.size();
    // The last lead byte within the last four: is its sequence complete?
    for (qsizetype i = n - 1; i >= 0 && i >= n - 4; --i) {
        const uchar c = uchar(bytes[i]);
        if ((c & 0xC0) == 0x80)
            continue;   // a continuation byte
        const qsizetype need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        return i + need > n ? i : n;
    }
    return n;
}

QString utf8Text(const QByteArray &bytes)
{
    QString out;
    out.reserve(bytes.size());
    const qsizetype n = bytes.size();
    for (qsizetype i = 0; i < n;) {
        const uchar c = uchar(bytes[i]);
        if (c < 0x80) {
            out += QChar(c);
            ++i;
            continue;
        }
        // Lead byte: the sequence's length, the bits it gives, and the smallest code point
        // that needs this length (shorter encodings are overlong, hence ill-formed).
        int need = 0;
        char32_t cp = 0, min = 0;
        if (c >= 0xC2 && c <= 0xDF)
            need = 2, cp = c & 0x1F, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF)
            need = 3, cp = c & 0x0F, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4)
            need = 4, cp = c & 0x07, min = 0x10000;
        bool ok = need > 0 && i + need <= n;
        for (int k = 1; ok && k < need; ++k) {
            const uchar cc = uchar(bytes[i + k]);
            ok = (cc & 0xC0) == 0x80;
            cp = (cp << 6) | (cc & 0x3F);
        }
        ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
        if (!ok) {
            out += QChar(QChar::ReplacementCharacter);
            ++i;
            continue;
        }
        const char32_t one[1] = {cp};
        out += QString::fromUcs4(one, 1);
        i += need;
    }
    return out;
}

} // namespace ms::openai
