#pragma once

#include "ServeTypes.h"

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>
#include <QStringList>

#include <vector>

namespace ms::protocol {

// The wire formats of the inference server as pure functions: decoding and validating Open
// Inference Protocol v2 and TorchServe bodies, and building the replies. No server, no model:
// everything here is unit-testable on its own and safe to call from any thread.

// A request the protocol refuses: the HTTP status and the message sent as {"error": ...}.
struct ProtocolError
{
    int status = 400;
    QString message;
};

// A decoded batch: its samples concatenated row-major, `shape` = {N, per-sample dims...}.
struct InferInput
{
    std::vector<float> data;
    std::vector<qint64> tokens;  // instead of `data`, for a model of integer input
    bool integer = false;       // `tokens` holds the samples
    // A BYTES input: one UTF-8 text per sample (shape {N}), which the server tokenizes with
    // the model's own tokenizer.
    std::vector<QByteArray> texts;
    bool text = false;
    std::vector<qint64> shape;
    QString id;                 // v2 "id", echoed in the reply
    bool hasId = false;
    QString inputName = QStringLiteral("input");
    bool singleSample = false;  // TorchServe: the body held one sample, not a list of them

    qint64 batch() const { return shape.empty() ? 0 : shape.front(); }
};

// `sampleShape`: the model's per-sample input shape, empty when unknown (then any shape whose
// first dimension is the batch goes); a negative dimension in it (a dynamic sequence) takes
// any length of at least 1. Both throw ProtocolError (400) saying what is wrong.
// `integerInput`: "INT64" or "INT32" for a model of token ids, whose data is read into
// `tokens` and must come as an integer datatype (FP32/FP64 are refused before the data is
// read); empty for a float model (every datatype goes, as floats).
// `acceptsText`: the model carries its tokenizer, so a BYTES input (shape [N], a JSON string
// per text) is read into `texts` (the sample shape does not apply); otherwise BYTES is refused
// saying what the model takes.
InferInput parseV2Infer(const QByteArray &body, const std::vector<qint64> &sampleShape,
                        const QString &integerInput = {}, bool acceptsText = false);
// A JSON array: one sample (flat or nested) or a list of samples.
InferInput parseTorchServe(const QByteArray &body, const std::vector<qint64> &sampleShape);

// Token ids against the model's vocabulary before any work: a negative id always, an id of
// `vocabSize` or more when the size is known (0: unknown, the model's own error decides).
// Throws ProtocolError (400) naming the first bad id and its place.
void checkTokenIds(const std::vector<qint64> &tokens, qint64 vocabSize);

// {model_name, model_version, id?, outputs: [{name: "output", shape: [n, K], datatype: "FP32",
// data: [...]}]} for `logits` of N = input.batch() rows.
QJsonObject v2InferResponse(const QString &model, int version, const InferInput &input,
                            const std::vector<float> &logits);
// Per sample {"probabilities": [...], "top": [{"label", "probability"}, ...]} (top `topK`,
// labels from `classNames`, the index as text when there are none). One object when
// `singleSample`, else an array of them.
QJsonValue torchServeResponse(const std::vector<float> &logits, qint64 batch,
                              const QStringList &classNames, bool singleSample, int topK = 5);

QJsonObject serverMetadata(const QString &version);
// `versions`: every version of the model being served (the model's own when empty).
QJsonObject modelMetadata(const ServedModel &model, const QList<int> &versions = {});
QJsonObject errorJson(const QString &message);

std::vector<float> softmax(const float *logits, int count);

} // namespace ms::protocol
