#pragma once

// Private: compiles a checked spec into a TorchScript module. Core .cpp files only.

#include "models/ArchSpec.h"
#include "models/Model.h"

#include <torch/script.h>

namespace ms {

struct GptSpec;
struct TextClassifierSpec;

// An empty module of class `className` with the `training` attribute that train()/eval() flip
// and dropout/batchnorm source reads.
torch::jit::Module newModule(const std::string &className);

// Builds the "ModelStudioNet" module for a bound spec: one submodule per layer with weights,
// TorchScript forward source, input normalisation buffers and the class_names / input_shape /
// spec_json attributes. Weights follow PyTorch's default init drawn from a private generator
// seeded with `seed`, in the order nn.Sequential would draw them: the same seed gives the same
// weights as `torch.manual_seed(seed); nn.Sequential(...)` in Python, and the global RNG that a
// trainer may be using on another thread is left alone. The module is in training mode.
// Throws ms::Error (spec or data mismatch) or c10::Error (TorchScript compilation).
torch::jit::Module buildModule(const ArchSpec &spec, const ModelDataInfo &data,
                               const QStringList &classNames, quint64 seed);

// Builds the "ModelStudioGPT" language model of a bound gpt spec (GptBuilder.cpp): forward(idx)
// -> logits for every position, and step(idx, cache) -> (logits of the last position, new
// key/value cache), the method generation calls token by token. Attributes: task "lm",
// tokenizer_json (the tokenizer's JSON), spec_json, block_size, vocab_size, class_names (empty)
// and input_shape [-1] (any length up to block_size). Weights: nanoGPT's init (normal 0.02,
// the residual projections 0.02/sqrt(2 n_layer), zero biases) from a generator seeded with
// `seed`. The module is in training mode.
torch::jit::Module buildGptModule(const GptSpec &spec, const QJsonObject &tokenizer,
                                  quint64 seed);

// Builds the "ModelStudioTextClassifier" of a bound text-classifier spec (GptBuilder.cpp, with
// the gpt's blocks): forward(idx) -> logits (N x classes) for token ids (N x T, padded with
// pad_id = vocab_size). Attributes: class_names, spec_json, tokenizer_json, block_size,
// vocab_size, pad_id; no input_shape (the length is dynamic, as an imported text classifier's)
// and no task (it is a classifier). Weights as the gpt's, the head normal(0, 0.02) with a zero
// bias. The module is in training mode.
torch::jit::Module buildTextClassifierModule(const TextClassifierSpec &spec,
                                             const QJsonObject &tokenizer,
                                             const QStringList &classNames, quint64 seed);

} // namespace ms
