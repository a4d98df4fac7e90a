#pragma once

#include "ServeTypes.h"

#include "models/LanguageModel.h"

#include <QByteArray>
#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QVector>

namespace ms::openai {

// The OpenAI-compatible wire format (/v1/models, /v1/completions, /v1/chat/completions) as
// pure functions, like InferProtocol for v2: parsing and checking a request, rendering chat
// messages into a prompt, and building replies and stream chunks. No server, no model.

// A refused request: the HTTP status and OpenAI's error object fields.
struct OpenAiError
{
    int status = 400;
    QString message;
    QString param;                                       // the offending field, or empty
    QString code;                                        // "model_not_found", or empty
    QString type = QStringLiteral("invalid_request_error");
};

struct CompletionRequest
{
    bool chat = false;
    QString model;
    QByteArray prompt;           // UTF-8; for chat the rendered messages (renderChat)
    GenerateOptions options;     // maxTokens, temperature, topP, topK, seed, stop
    bool seeded = false;         // `seed` was given (else options.seed is drawn at random)
    bool stream = false;
    bool includeUsage = false;   // stream_options.include_usage: a last chunk with usage
};

// The stop text a chat request without `stop` ends at: the template's next turn.
inline constexpr char kChatTurnStop[] = "\nuser:";

// Parses and checks a request body. `maxTokensCap`: the server's cap on max_tokens (also the
// chat default). Throws OpenAiError (400) saying what is wrong and what to send instead.
CompletionRequest parseCompletion(const QByteArray &body, bool chat, int maxTokensCap);

// The documented plain chat template: one line per message, "role: content", then
// "assistant:" for the model to continue. Roles: system, user, assistant.
//   system: You answer in one line.
//   user: Tell me a fortune.
//   assistant:
// Throws OpenAiError for a message that is not {role, content} with a known role.
QByteArray renderChat(const QJsonArray &messages);

// {"error": {"message", "type", "param", "code"}}
QJsonObject errorObject(const OpenAiError &error);

// The whole answer: object text_completion or chat.completion, with usage.
QJsonObject completion(const CompletionRequest &request, const QString &id, qint64 created,
                       const QString &model, const QString &text, const QString &finishReason,
                       int promptTokens, int completionTokens);
// One streamed chunk: `text` as choices[0].text (or .delta.content), `finishReason` null when
// empty; the first chat chunk carries the role (`first`).
QJsonObject chunk(const CompletionRequest &request, const QString &id, qint64 created,
                  const QString &model, const QString &text, const QString &finishReason,
                  bool first = false);
// The last chunk of stream_options.include_usage: no choices, the usage.
QJsonObject usageChunk(const CompletionRequest &request, const QString &id, qint64 created,
                       const QString &model, int promptTokens, int completionTokens);
// "data: {json}\n\n"
QByteArray event(const QJsonObject &data);
inline constexpr char kDoneEvent[] = "data: [DONE]\n\n";

// {"object": "list", "data": [{"id", "object": "model", "created", "owned_by"}]}: each served
// language model under its name (its default version) and as NAME:N for every version.
QJsonObject modelList(const QVector<ServedModel> &languageModels);

// The length of the longest prefix of `bytes` that does not end inside a UTF-8 sequence still
// waiting for its continuation bytes: a token may stop in the middle of a character, and a
// stream only sends whole ones (the rest goes with the next piece).
qsizetype completeUtf8Length(const QByteArray &bytes);
// UTF-8 bytes as text, each byte that is not part of a well-formed sequence becoming one
// U+FFFD. Ours rather than QString::fromUtf8 because the result must not depend on where the
// bytes were cut: for any cut completeUtf8Length() allows, decoding the pieces and joining
// them equals decoding the whole, so a streamed answer equals the whole one.
QString utf8Text(const QByteArray &bytes);

} // namespace ms::openai
