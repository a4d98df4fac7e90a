#pragma once

// Private: the compression methods the studio ships, registered by CompressionRegistry.

#include "compress/CompressionMethod.h"

#include <memory>

namespace ms {

std::shared_ptr<CompressionMethod> makePruneUnstructured();
std::shared_ptr<CompressionMethod> makePruneStructured();
std::shared_ptr<CompressionMethod> makeDistill();

} // namespace ms
