#include "panels/try/AttributionImage.h"

#include <algorithm>
#include <cmath>

namespace ms::ui {

QImage attributionImage(const std::vector<float> &sample, const std::vector<float> &attributions,
                        const std::vector<qint64> &shape, double opacity, int scale)
{
    const qint64 width = shape.empty() ? 0 : shape.back();
    const qint64 height = shape.size() >= 2 ? shape[shape.size() - 2] : 1;
    const qint64 plane = width * height;
    if (plane <= 0 || qint64(sample.size()) % plane != 0
        || (!attributions.empty() && attributions.size() != sample.size()))
        return QImage();
    const qint64 channels = qint64(sample.size()) / plane;
    std::vector<double> map(static_cast<size_t>(plane), 0.0);
    for (size_t i = 0; i < attributions.size(); ++i)
        map[i % size_t(plane)] += double(attributions[i]);
    std::vector<double> magnitudes(map.size());
    std::transform(map.begin(), map.end(), magnitudes.begin(),
                   [](double v) { return std::abs(v); });
    const size_t rank = std::min(magnitudes.size() - 1, size_t(0.98 * double(magnitudes.size())));
    std::nth_element(magnitudes.begin(), magnitudes.begin() + qint64(rank), magnitudes.end());
    double peak = magnitudes[rank];
    if (peak <= 0.0)
        peak = *std::max_element(magnitudes.begin(), magnitudes.end());
    scale = std::max(1, scale);
    QImage image(int(width) * scale, int(height) * scale, QImage::Format_RGB888);
    const double alpha = std::clamp(opacity, 0.0, 1.0);
    for (int y = 0; y < image.height(); ++y) {
        uchar *row = image.scanLine(y);
        for (int x = 0; x < image.width(); ++x) {
            const size_t p = size_t((y / scale) * width + x / scale);
            const double strength =
                peak > 0.0 ? alpha * std::min(1.0, std::abs(map[p]) / peak) : 0.0;
            const bool positive = map[p] >= 0.0;
            const double heat[3] = {positive ? 230.0 : 30.0, positive ? 40.0 : 90.0,
                                    positive ? 30.0 : 240.0};
            for (int c = 0; c < 3; ++c) {
                const size_t channel = channels == 3 ? size_t(c) : 0;
                const double base =
                    255.0 * std::clamp(double(sample[channel * size_t(plane) + p]), 0.0, 1.0);
                row[3 * x + c] = uchar(std::lround((1.0 - strength) * base + strength * heat[c]));
            }
        }
    }
    return image;
}

std::vector<float> imageValues(const QImage &image, int channels)
{
    const QImage converted = image.convertToFormat(channels == 1 ? QImage::Format_Grayscale8
                                                                 : QImage::Format_RGB888);
    const int h = converted.height();
    const int w = converted.width();
    std::vector<float> values(size_t(channels) * size_t(h) * size_t(w), 0.0f);
    for (int y = 0; y < h; ++y) {
        const uchar *row = converted.constScanLine(y);
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < channels; ++c)
                values[(size_t(c) * size_t(h) + size_t(y)) * size_t(w) + size_t(x)] =
                    float(row[channels == 1 ? x : 3 * x + c]) / 255.0f;
    }
    return values;
}

} // namespace ms::ui
