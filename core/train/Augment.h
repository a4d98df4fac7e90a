#pragma once

#include <QtGlobal>

#include <vector>

namespace ms {

// The augmentation `train --augment` applies to a training batch (TrainConfig::augment), on
// plain floats: `images` is N x C x H x W, row-major; where flip[i] is true image i is mirrored
// left-right, and with shift > 0 image i is then moved down by shift - dy[i] and right by
// shift - dx[i] pixels (dy and dx in [0, 2 * shift]; negative is up or left), with zero fill. The same code the training loop runs
// (core/train/TrainLoop.cpp), for whoever wants to show or check what a draw does.
std::vector<float> augmentImages(const std::vector<float> &images, int n, int c, int h, int w,
                                 const std::vector<bool> &flip, int shift,
                                 const std::vector<int> &dy, const std::vector<int> &dx);

} // namespace ms
