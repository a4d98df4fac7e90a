#pragma once

// Private: the int8 and half-precision methods the studio ships, registered by
// CompressionRegistry.

#include "compress/CompressionMethod.h"

#include <memory>

namespace ms {

std::shared_ptr<CompressionMethod> makeQuantizeDynamic();
std::shared_ptr<CompressionMethod> makeQuantizeStatic();
// `bf16` false: "fp16" (IEEE half); true: "bf16" (bfloat16).
std::shared_ptr<CompressionMethod> makeHalfPrecision(bool bf16);

} // namespace ms
