#pragma once

#include <QString>

#include <vector>

namespace ms::ui {

// The Serve panel's ready-made request: one real sample for a served model and the curl
// command that sends it as an Open Inference Protocol v2 infer request.
struct ServeSample
{
    std::vector<qint64> shape;    // per sample (no batch dimension)
    std::vector<float> values;    // row-major, product(shape) values
    QString description;          // "a Fashion-MNIST test image (Ankle boot)", or "zeros"
};

// A Fashion-MNIST test image (read once, then cached) when `shape` is 1x28x28 and the dataset
// is installed; zeros of `shape` otherwise.
ServeSample sampleFor(const std::vector<qint64> &shape);

struct CurlRequest
{
    QString url;          // "http://127.0.0.1:8765"
    QString modelName;
    QString inputName = QStringLiteral("input");
    QString token;        // empty: no Authorization header
};

// A multi-line shell command (single-quoted JSON, so it pastes into sh, bash and zsh).
QString curlCommand(const CurlRequest &request, const ServeSample &sample);

} // namespace ms::ui
