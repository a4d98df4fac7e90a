#include "ImageSample.h"

#include "common/Error.h"
#include "common/ShapeText.h"

#include <QImage>
#include <QImageReader>
#include <QSaveFile>

#include <algorithm>
#include <cmath>

namespace cli {

namespace {

QString channelsText(qint64 channels)
{
    return channels == 1 ? QStringLiteral("1 channel (grey)")
                         : QStringLiteral("%1 channels (colour)").arg(channels);
}

} // namespace

ImageSample readImage(const QString &path, const std::vector<qint64> &modelShape,
                      const QString &ref, bool resize)
{
    if (modelShape.size() != 3 || (modelShape[0] != 1 && modelShape[0] != 3))
        throw ms::Error(QStringLiteral("%1 does not take images (its samples are %2); give "
                                       "--sample N instead.")
                            .arg(ref,
                                 modelShape.empty()
                                     ? QStringLiteral("of unknown shape")
                                     : ms::shapeText(modelShape, ms::ShapeStyle::Compact)));
    QImageReader reader(path);
    QImage image;
    if (!reader.read(&image))
        throw ms::Error(QStringLiteral("Cannot read %1 as an image: %2. Give a PNG, JPEG or BMP "
                                       "file.")
                            .arg(path, reader.errorString()));
    const qint64 channels = modelShape[0];
    const int height = int(modelShape[1]);
    const int width = int(modelShape[2]);
    const qint64 imageChannels = image.allGray() ? 1 : 3;
    if (!resize) {
        if (imageChannels == 3 && channels == 1)
            throw ms::Error(QStringLiteral("The image %1 has %2, but %3 takes %4; give --resize "
                                           "to convert and scale it.")
                                .arg(path, channelsText(3), ref, channelsText(1)));
        if (image.width() != width || image.height() != height)
            throw ms::Error(QStringLiteral("The image %1 is %2x%3 pixels, but %4 takes %5x%6; "
                                           "give --resize to scale it.")
                                .arg(path, QString::number(image.width()),
                                     QString::number(image.height()), ref, QString::number(width),
                                     QString::number(height)));
    }
    if (image.width() != width || image.height() != height)
        image = image.scaled(width, height, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
    ImageSample sample;
    sample.shape = modelShape;
    sample.values.resize(size_t(channels * height * width));
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    const QImage grey = image.convertToFormat(QImage::Format_Grayscale8);
    for (int y = 0; y < height; ++y) {
        const uchar *rgbRow = rgb.constScanLine(y);
        const uchar *greyRow = grey.constScanLine(y);
        for (int x = 0; x < width; ++x) {
            for (qint64 c = 0; c < channels; ++c) {
                const uchar v = channels == 1 ? greyRow[x] : rgbRow[3 * x + int(c)];
                sample.values[size_t((c * height + y) * width + x)] = float(v) / 255.0f;
            }
        }
    }
    return sample;
}

void writeHeatMap(const QString &path, const std::vector<float> &sample,
                  const std::vector<float> &attributions, const std::vector<qint64> &shape,
                  double opacity)
{
    const qint64 width = shape.empty() ? 0 : shape.back();
    const qint64 height = shape.size() >= 2 ? shape[shape.size() - 2] : 1;
    const qint64 plane = width * height;
    if (plane <= 0 || qint64(sample.size()) % plane != 0 || attributions.size() != sample.size())
        throw ms::Error(QStringLiteral("Cannot draw a map of shape %1.")
                            .arg(ms::shapeText(shape, ms::ShapeStyle::Compact)));
    const qint64 channels = qint64(sample.size()) / plane;
    std::vector<double> map(size_t(plane), 0.0);
    for (qint64 i = 0; i < qint64(attributions.size()); ++i)
        map[size_t(i % plane)] += double(attributions[size_t(i)]);
    // Scaled as Captum's visualisation scales it: by the 98th percentile of |attribution|, so
    // a few extreme pixels do not leave the rest of the map invisible.
    std::vector<double> magnitudes(map.size());
    std::transform(map.begin(), map.end(), magnitudes.begin(),
                   [](double v) { return std::abs(v); });
    const size_t rank = std::min(magnitudes.size() - 1, size_t(0.98 * double(magnitudes.size())));
    std::nth_element(magnitudes.begin(), magnitudes.begin() + qint64(rank), magnitudes.end());
    double peak = magnitudes[rank];
    if (peak <= 0.0)
        peak = *std::max_element(magnitudes.begin(), magnitudes.end());
    const int scale = int(std::max<qint64>(1, 224 / std::max(width, height)));
    QImage image(int(width) * scale, int(height) * scale, QImage::Format_RGB888);
    const double alpha = std::clamp(opacity, 0.0, 1.0);
    for (int y = 0; y < image.height(); ++y) {
        uchar *row = image.scanLine(y);
        for (int x = 0; x < image.width(); ++x) {
            const qint64 p = (y / scale) * width + x / scale;
            const double strength =
                peak > 0.0 ? alpha * std::min(1.0, std::abs(map[size_t(p)]) / peak) : 0.0;
            const bool positive = map[size_t(p)] >= 0.0;
            const double heat[3] = {positive ? 230.0 : 30.0, positive ? 40.0 : 90.0,
                                    positive ? 30.0 : 240.0};
            for (int c = 0; c < 3; ++c) {
                const qint64 channel = channels == 3 ? c : 0;
                const double base =
                    255.0 * std::clamp(double(sample[size_t(channel * plane + p)]), 0.0, 1.0);
                row[3 * x + c] = uchar(std::lround((1.0 - strength) * base + strength * heat[c]));
            }
        }
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || !image.save(&file, "PNG") || !file.commit())
        throw ms::Error(
            QStringLiteral("Cannot write the map to %1: %2").arg(path, file.errorString()));
}

} // namespace cli
