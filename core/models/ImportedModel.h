#pragma once

#include "models/Model.h"

#include <vector>

namespace ms {

// An imported network with the normalisation declared at import folded in, so that the
// registered artifact takes what every studio model takes (N, C, ... floats, images in
// [0, 1]) and still loads with Python's torch.jit.load:
//
//   class ImportedModel(torch.nn.Module):        # what the artifact holds
//       model: <the imported module, unchanged>
//       input_mean: Tensor                       # buffer, [C, 1, 1] for N,C,H,W inputs
//       input_std: Tensor
//       def forward(self, x):
//           return self.model.forward((x - self.input_mean) / self.input_std)
//
// An import declared without --mean/--std is stored as the file it came from (no wrapper).
// Whatever rewrites an imported network (fine-tuning a new head, static int8, structured
// pruning) works on the inner module and wraps the result again with the same buffers:
// models/ImportedModel_p.h has the torch-side helpers.
//
// `mean` and `stdev` hold one value per channel, the channel being dimension 1 of the
// `inputShape` (batch first, rank >= 2). Throws ms::Error when their lengths differ from the
// channel count, a std is not positive and finite, or the wrapper does not compile around the
// module (its forward does not take one tensor).
Model wrapWithNormalization(const Model &imported, const std::vector<qint64> &inputShape,
                            const std::vector<float> &mean, const std::vector<float> &stdev);

// True when `model` is such a wrapper (class ImportedModel with a submodule `model`).
bool isImportWrapper(const Model &model);

} // namespace ms
