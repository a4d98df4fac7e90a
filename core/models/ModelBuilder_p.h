#pragma once

// Private: compiles a checked spec into a TorchScript module. Core .cpp files only.

#include "models/ArchSpec.h"
#include "models/Model.h"

#include <torch/script.h>

namespace ms {

// Builds the "ModelStudioNet" module for a bound spec: one submodule per layer with weights,
// TorchScript forward source, input normalisation buffers and the class_names / input_shape /
// spec_json attributes. Weights follow PyTorch's default init drawn from a private generator
// seeded with `seed`, in the order nn.Sequential would draw them: the same seed gives the same
// weights as `torch.manual_seed(seed); nn.Sequential(...)` in Python, and the global RNG that a
// trainer may be using on another thread is left alone. The module is in training mode.
// Throws ms::Error (spec or data mismatch) or c10::Error (TorchScript compilation).
torch::jit::Module buildModule(const ArchSpec &spec, const ModelDataInfo &data,
                               const QStringList &classNames, quint64 seed);

} // namespace ms
