#pragma once

#include <QJsonObject>
#include <QString>
#include <QVector>

#include <vector>

namespace ms {

// One row of a model summary.
struct LayerSummary
{
    QString name;                      // "conv0", "relu1"
    QString type;                      // "conv2d"
    std::vector<qint64> outputShape;   // per sample, without the batch dimension
    qint64 params = 0;
    qint64 macs = 0;                   // multiply-accumulates per sample, forward
};

struct ModelSummary
{
    std::vector<qint64> inputShape;
    QVector<LayerSummary> layers;
    qint64 totalParams = 0;
    qint64 totalMacs = 0;

    QString table() const;             // aligned text table for the CLI
    QJsonObject toJson() const;
};

// A model architecture as JSON: the spec a provider makes or a user writes.
//   {"name": "cnn", "input_shape": [1, 28, 28], "num_classes": 10,
//    "layers": [{"type": "conv2d", "out": 32, "kernel": 5, "padding": 2}, {"type": "relu"}, ...]}
// Layer types: linear, conv2d, batchnorm (1d/2d by input rank), relu, gelu, maxpool2d,
// avgpool2d, dropout, flatten. A layer's "out" may be the string "num_classes".
// Validation and shape inference need no torch: the window shows summaries without it.
class ArchSpec
{
public:
    // Throws ms::Error naming the layer (index and type) that is unknown or whose shapes do not
    // fit, and what would fit.
    static ArchSpec fromJson(const QJsonObject &json);

    // Fills input_shape/num_classes where the spec leaves them open; throws ms::Error when the
    // spec fixes different ones.
    ArchSpec boundTo(const std::vector<qint64> &inputShape, int numClasses) const;

    QString name() const;
    std::vector<qint64> inputShape() const;
    int numClasses() const;
    QJsonObject toJson() const { return m_json; }

    // Shape inference, parameters and MACs per layer. Throws ms::Error on a shape mismatch,
    // naming the layer.
    ModelSummary summary() const;

private:
    QJsonObject m_json;
};

} // namespace ms
