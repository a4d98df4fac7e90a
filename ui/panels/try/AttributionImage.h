#pragma once

#include <QImage>

#include <vector>

namespace ms::ui {

// The image of one sample (grey or colour, values in [0, 1], row-major C x H x W) with its
// attribution map over it: summed over channels, red where it raises the target's score, blue
// where it lowers it, scaled by the 98th percentile of |attribution| (as Captum's
// visualisation does), the map's weight `opacity` where it is strongest. Magnified `scale`
// times, nearest neighbour. An empty `attributions` draws the sample alone. (The CLI's
// `explain --out` draws the same picture in app/cli/ImageSample.cpp; the window cannot link
// the CLI's code, nor the CLI the window's.)
QImage attributionImage(const std::vector<float> &sample, const std::vector<float> &attributions,
                        const std::vector<qint64> &shape, double opacity, int scale);

// The values a model of `channels` (1 or 3) x H x W takes for `image` (already H x W): grey
// or RGB in [0, 1], channel-major, row-major.
std::vector<float> imageValues(const QImage &image, int channels);

} // namespace ms::ui
