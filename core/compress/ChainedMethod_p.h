#pragma once

// Private: a pipeline of compression methods ("prune-structured+quantize-static"), made by
// CompressionRegistry::method() for a name joined with '+'.

#include "compress/CompressionMethod.h"

#include <memory>
#include <vector>

namespace ms {

// Throws ms::Error when two steps take a parameter of the same name.
std::shared_ptr<CompressionMethod>
makeChainedMethod(const QString &name, std::vector<std::shared_ptr<CompressionMethod>> steps);

} // namespace ms
