#pragma once

#include "models/ArchSpec.h"
#include "models/Model.h"

#include <vector>

namespace ms {

// The layers of any TorchScript model, including one imported from Python that has no spec:
// each submodule down to `maxDepth` levels ("layer1", "layer1.0", "layer1.0.conv1"), with its
// class ("Conv2d", "BasicBlock"), its parameters (its own and its children's), the output
// shape it gave in one forward pass of a zero sample of `sampleShape` (batch 1), and its
// multiply-accumulates per sample: convolutions (Cout*Hout*Wout*Cin/groups*kh*kw), linear
// layers (in*out per output row) and batch norms (one per output element), the conventions of
// ArchSpec::summary. A row whose computation runs inside TorchScript control flow (if, loop)
// cannot be counted from one pass: its macs are -1, as is the total then.
// An ImportedModel wrapper (models/ImportedModel.h) is described by the network it holds.
// The model is left in the training mode it was in. Throws ms::Error when the model does not
// run on that shape. `dtype`: the input's, "float32" or "int64"/"int32" for token ids (run on
// zeros of it).
ModelSummary describeLayers(const Model &model, const std::vector<qint64> &sampleShape,
                            int maxDepth = 3, const QString &dtype = QStringLiteral("float32"));

// The layers of the model in `artifactPath` as the window shows them: a studio model's spec
// summary (its layer names and types as the spec writes them), describeLayers for any other.
// Loads the file; throws ms::Error when it cannot be loaded or run on `sampleShape`.
ModelSummary summarizeArtifact(const QString &artifactPath,
                               const std::vector<qint64> &sampleShape,
                               const QString &dtype = QStringLiteral("float32"));

} // namespace ms
