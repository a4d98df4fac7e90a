#pragma once

#include "InferProtocol.h"

#include "explain/Explainer.h"

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QString>

#include <functional>

#include <vector>

namespace ms::protocol {

// The wire side of /explanations/{model} (TorchServe) and /v2/models/{model}/explain (a v2
// inference request): pure functions like InferProtocol's.

// The attribution options of a request: the body's "parameters" object (v2's request-level
// parameters; ignored when the body is not an object), then the query string of `target`
// (?method=occlusion&steps=20) over it. Keys: method, steps, target, samples, noise_level,
// seed, window, stride. Throws ProtocolError (400) naming a bad one.
ExplainOptions explainOptions(const QByteArray &target, const QByteArray &body);

// {model_name, model_version, id?, outputs: [{name: "attributions", shape: the input's,
// datatype: "FP32", data}, {name: "probabilities", shape: [N, K], ...}], parameters: {method,
// targets: [...], completeness_gaps: [...]}}, one explanation per sample of `input`.
QJsonObject v2ExplainResponse(const QString &model, int version, const InferInput &input,
                              const std::vector<Explanation> &explanations);
// Each sample's Explanation::toJson (what `modelstudio-cli explain --json` prints): one object
// when the body held a single sample, else an array.
// Explains each sample of `input` in turn (on the calling thread, a batcher's worker);
// `cancelled` is asked between passes. Throws ms::Error as Explainer::explain does.
std::vector<Explanation> explainSamples(const Explainer &explainer, const InferInput &input,
                                        const ExplainOptions &options,
                                        const std::function<bool()> &cancelled);
QJsonValue torchServeExplainResponse(const std::vector<Explanation> &explanations,
                                     bool singleSample);

} // namespace ms::protocol
