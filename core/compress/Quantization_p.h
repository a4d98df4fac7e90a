#pragma once

// Private: what the int8 and half-precision methods share — quantized engines, weight packing,
// freezing a module for a graph rewrite, the studio's attributes. Core .cpp files only.

#include "compress/CompressionMethod.h"

#include <ATen/native/quantized/PackedParams.h>
#include <torch/script.h>

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <memory>
#include <tuple>
#include <vector>

namespace ms::quant {

// "onednn", "qnnpack" <-> at::QEngine. The engines this LibTorch build supports (no FBGEMM in
// Debian's build).
QString engineName(at::QEngine engine);
QStringList supportedEngineNames();
// The --engine parameter every int8 method takes.
CompressParameter engineParameter();
// Refuses, before any work, an engine name this build lacks ("auto" always passes).
void checkEngine(const QString &name);
at::QEngine engineFromName(const QString &name);   // a supported name, checked

// Sets the process-wide quantized engine for its lifetime. Weights are packed for the engine
// in effect when they are packed (and when a saved module is loaded), so building a variant for
// an engine means packing under it. Process-wide: two threads packing for different engines
// at once would race; the studio packs on one job thread at a time.
class EngineScope
{
public:
    explicit EngineScope(at::QEngine engine);
    ~EngineScope();
    EngineScope(const EngineScope &) = delete;
    EngineScope &operator=(const EngineScope &) = delete;

private:
    at::QEngine m_previous;
};

// True when the CPU has VNNI (AVX512-VNNI or AVX-VNNI), oneDNN's fast int8 dot products; without
// it oneDNN accumulates u8*s8 pairs in int16, which 8-bit activations can saturate.
bool cpuHasVnni();

// Per-output-channel symmetric int8 (zero point 0, scale max|w| / 127.5 per row), the weight
// scheme of PyTorch's per-channel weight observers.
at::Tensor quantizeWeightPerChannel(const at::Tensor &weight);

c10::intrusive_ptr<LinearPackedParamsBase> prepackLinear(const at::Tensor &qweight,
                                                         const c10::optional<at::Tensor> &bias);
c10::intrusive_ptr<ConvPackedParamsBase<2>> prepackConv(const at::Tensor &qweight,
                                                        const c10::optional<at::Tensor> &bias,
                                                        const std::vector<int64_t> &stride,
                                                        const std::vector<int64_t> &padding);
c10::TypePtr linearPackedType();
c10::TypePtr convPackedType();

// Resolves `quantized.<op>` in source compiled from C++ (torch.ops.* does not resolve there).
std::shared_ptr<torch::jit::Resolver> quantizedResolver();

// A clone of `source` in eval mode, frozen (parameters and submodules inlined into forward as
// constants: the form a graph rewrite can read weights from), keeping the studio's attributes
// and buffers (class_names, input_shape, spec_json, input_mean, input_std; a language model's
// task, tokenizer_json, block_size, vocab_size) that exist, and a language model's generation
// methods (generationMethods), frozen like forward. Throws ms::Error saying why when
// TorchScript cannot freeze it.
torch::jit::Module freezeForRewrite(const torch::jit::Module &source);

// The methods besides forward that a rewrite must treat as forward: a language model's step()
// and step_rows() (GptBuilder.cpp), where the module has them.
std::vector<std::string> generationMethods(const torch::jit::Module &module);
// forward followed by generationMethods: every method a weight rewrite treats alike.
std::vector<std::string> rewrittenMethods(const torch::jit::Module &module);

// A weight as the rewrites share one packed or stored copy of it across methods: keyed by the
// view, not the storage alone, since a slice of a weight (the query rows of
// nn.MultiheadAttention's in_proj_weight) starts where the whole weight does.
using WeightKey = std::tuple<const void *, std::vector<int64_t>, std::vector<int64_t>>;
WeightKey weightKey(const at::Tensor &weight);

// The compute ops of a module's forward (after inlining), "aten::conv2d x2, aten::linear"; for
// messages that name what stands in the way.
QString opsSummary(const std::shared_ptr<torch::jit::Graph> &graph);

// Measures forward latency of `module` on `batch` (median of a few runs after warm-up, ms).
double medianForward_ms(torch::jit::Module &module, const at::Tensor &batch, int runs);

// "auto" picks by measurement: builds the variant once per supported engine (each packed under
// its engine), times a few forward passes of each on `batch`, alternating, and keeps the
// faster. Otherwise builds for the named engine. Records the choice and the timings in
// `details` ("quantized_engine", "engine_choice"). The returned module's weights are packed for
// `*chosen`, which is also left as the process's engine.
// `agreement`, when given, scores a built variant (top-1 agreement with the fp32 model, 0..1):
// "auto" then keeps the fastest of the engines that agree within 2 points of the best (QNNPACK
// turned MobileNetV2 into noise here, 27 % agreement, while being fast), and records each
// engine's score ("engine_agreement").
torch::jit::Module buildForEngine(const QString &engineParam,
                                  const std::function<torch::jit::Module()> &build,
                                  const at::Tensor &batch, QJsonObject &details,
                                  QString *chosen,
                                  const std::function<double(torch::jit::Module &)> &agreement =
                                      {});

// The float batch (raw features, as the model takes them) for timing and calibration: the first
// `count` training samples of the input's dataset when it has one, else random values in [0, 1]
// shaped like the model's input; undefined when neither is known. For a language model, one
// token (int64 [1, 1]): a generation step is the call whose speed matters, and oneDNN and
// QNNPACK rank differently there than on long batches (docs/language-models.md).
at::Tensor sampleBatch(CompressInput &input, qint64 count);

// A variant module as a method's result: kind Quantized, its details, and the engine it needs
// (empty for half precision, which needs none).
CompressOutput quantizedOutput(torch::jit::Module variant, QJsonObject details,
                               const QString &engine = QString());

} // namespace ms::quant
