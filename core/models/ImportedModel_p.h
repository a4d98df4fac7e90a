#pragma once

// Private: the torch side of models/ImportedModel.h, for the core passes that rewrite an
// imported network (fine-tuning's head replacement, static int8, structured pruning). Core
// .cpp files only.

#include <torch/script.h>

namespace ms::imported {

// The class name of the wrapper ImportedModel.h describes.
constexpr const char *kWrapperClass = "ImportedModel";

// True for a wrapper: class ImportedModel holding a submodule "model".
bool isWrapper(const torch::jit::Module &module);

// The network a pass should rewrite: the wrapper's "model", or the module itself when it is no
// wrapper (an import without normalisation, a studio model).
torch::jit::Module network(const torch::jit::Module &module);

// `network` under the normalisation of `like` when `like` is a wrapper (its input_mean and
// input_std buffers, copied); `network` itself otherwise. For a pass that built a new network
// from network(like) and must keep what the version records as its preprocessing.
torch::jit::Module rewrap(const torch::jit::Module &like, const torch::jit::Module &network);

// A new wrapper of `network` with buffers `mean` and `stdev` (already shaped to broadcast over
// the batch, e.g. [C, 1, 1]). Throws ms::Error when the forward does not compile around it.
torch::jit::Module wrap(const torch::jit::Module &network, const at::Tensor &mean,
                        const at::Tensor &stdev);

} // namespace ms::imported
