#pragma once

// Images in and out of `explain`: a PNG/JPEG as a model's input, an attribution map blended
// over its sample as a PNG. QtGui's QImage (no widgets, no display); the core stays without
// QtGui (docs/architecture.md, "Decisions").

#include <QString>

#include <vector>

namespace cli {

struct ImageSample
{
    std::vector<float> values; // row-major C x H x W, in [0, 1]
    std::vector<qint64> shape; // {C, H, W}
};

// Reads `path` as one sample of a model taking `modelShape` ({C, H, W}, C 1 or 3) named
// `ref`. A file that is no image, or an image whose channels or size differ, throws ms::Error
// saying which (and that --resize converts and scales it); with `resize` it is converted to
// the model's channels and scaled to its size.
ImageSample readImage(const QString &path, const std::vector<qint64> &modelShape,
                      const QString &ref, bool resize);

// Writes the attribution map (summed over channels, red positive, blue negative, strength
// by magnitude) over the grey or colour sample, scaled up to about 224 pixels, as a PNG.
// `opacity` in [0, 1] is the map's weight where it is strongest. Throws ms::Error when the
// file cannot be written.
void writeHeatMap(const QString &path, const std::vector<float> &sample,
                  const std::vector<float> &attributions, const std::vector<qint64> &shape,
                  double opacity);

} // namespace cli
