#pragma once

// Private: static int8 of any TorchScript CNN (an imported torchvision model, a wrapper that
// normalises its input before calling one, a studio model) through LibTorch's graph-mode
// post-training passes, the ones behind Python's torch.ao.quantization.quantize_jit:
// FoldConvBatchNorm, InsertObservers, calibration, InsertQuantDeQuant, Finalize. The observers
// are TorchScript modules compiled here from source (QuantizeGraphObservers.cpp). Torch-free
// header: QuantizeStatic.cpp dispatches here for its "graph" path.

#include "compress/CompressionMethod.h"

namespace ms::quantgraph {

// The checks that need no data, cheap enough for a dialog's preflight: the forward takes one
// tensor, the graph holds a convolution or linear layer to quantize, and no op the 1.13 passes
// are known to fail on (transposed convolutions, nearest-neighbour upsampling). Throws
// ms::Error naming the node (its op, the submodule path, the source line) and what to do.
void checkGraph(const Model &source, const QString &ref);
// --keep-float's text as submodule paths: split at commas, blanks dropped ("" and "," name none).
QStringList keepFloatPaths(const QString &text);
// --keep-float's comma-separated submodule paths ("features.0", "classifier.1"), each of which
// must name a submodule of the model (the message lists some that do); an empty text passes.
void checkKeepFloat(const Model &source, const QString &ref, const QString &keepFloat);

// The checks that need the data or a trial run, before the job starts its run: the calibration
// sample (a seeded draw from the training split) fits the model's input and is finite; the
// model, observed over it, yields finite activations (else the node that first does not is
// named); the passes convert the calibrated module and the result runs. Leaves the calibrated
// module in input.prepared so that apply() does not calibrate again. Throws ms::Error (or
// ms::Cancelled when the job is stopped).
void checkData(CompressInput &input, JobContext &context);

// Converts the module calibrated by checkData (calibrating first when it was not called) for
// the engine of input.params' "engine" ("auto" builds for each and keeps the faster), and
// returns the variant with details {path: "graph", passes, observer, ops, ...}.
CompressOutput apply(CompressInput &input, JobContext &context);

} // namespace ms::quantgraph
