#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>
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

// One layer of a checked spec with every default filled in and its shapes inferred: what the
// summary reports and what the model builder compiles. Torch-free.
struct LayerPlan
{
    int index = 0;
    QString type;                      // lower case: "conv2d", "batchnorm", ...
    QString name;                      // type + index: "conv2d0"
    std::vector<qint64> inputShape;    // per sample
    std::vector<qint64> outputShape;
    qint64 out = 0;                    // linear: features; conv2d: channels
    qint64 kernel[2] = {0, 0};         // conv2d and pools: {h, w}
    qint64 stride[2] = {1, 1};
    qint64 padding[2] = {0, 0};
    bool bias = true;                  // linear, conv2d
    double eps = 1e-5;                 // batchnorm
    double momentum = 0.1;             // batchnorm
    double p = 0.5;                    // dropout
    qint64 params = 0;                 // residual: the whole block (body and shortcut)
    qint64 macs = 0;
    // residual: the inner layers (named and indexed within the block), the projection that
    // makes the shortcut fit when the body changes the shape (empty: identity; else one conv2d
    // 1x1 for images or one linear for features, named "shortcut") and the activation after
    // the sum ("relu", "gelu" or "none").
    std::vector<LayerPlan> body;
    std::vector<LayerPlan> shortcut;
    QString shortcutMode;              // residual: "auto", "identity" or "projection"
    QString activation;
};

struct ModelSummary
{
    std::vector<qint64> inputShape;
    QVector<LayerSummary> layers;
    qint64 totalParams = 0;
    qint64 totalMacs = 0;
    bool macsPerToken = false;         // a language model's MACs count per token, not sample

    QString table() const;             // aligned text table for the CLI
    QJsonObject toJson() const;
};

// A model architecture as JSON: the spec a provider makes or a user writes.
//   {"name": "cnn", "input_shape": [1, 28, 28], "num_classes": 10,
//    "layers": [{"type": "conv2d", "out": 32, "kernel": 5, "padding": 2}, {"type": "relu"}, ...]}
// Layer types: linear, conv2d, batchnorm (1d/2d by input rank), relu, gelu, maxpool2d,
// avgpool2d, dropout, flatten, residual. A layer's "out" may be the string "num_classes".
// A residual block computes act(body(x) + shortcut(x)):
//   {"type": "residual", "layers": [...], "shortcut": "auto", "activation": "relu"}
// "layers" is its body (any layers, residual ones included). "shortcut" is "auto" (identity
// when the body keeps the shape, else a projection), "identity" or "projection": a 1x1 conv2d
// with the stride that matches the body's output size for images, a linear layer for
// features. "activation" is relu (default), gelu or none. Summary rows name the inner layers
// "residual3.conv2d0", the projection "residual3.shortcut", and the sum "residual3".
// Validation and shape inference need no torch: the window shows summaries without it.
// A spec with "family": "gpt" is a language model instead (models/GptSpec.h): its inputShape()
// is {block_size}, its numClasses() the vocabulary, and it has no plan().
class ArchSpec
{
public:
    // Throws ms::Error naming the layer (index and type) that is unknown or whose shapes do not
    // fit, and what would fit. Layer types are matched case-insensitively and stored lower case.
    // Shapes are checked as soon as the spec fixes both input_shape and num_classes.
    static ArchSpec fromJson(const QJsonObject &json);

    // Fills input_shape/num_classes where the spec leaves them open; throws ms::Error when the
    // spec fixes different ones. An empty shape or numClasses <= 0 leaves that part as it is.
    ArchSpec boundTo(const std::vector<qint64> &inputShape, int numClasses) const;

    // The spec with its parameters replaced (a gpt's block_size, n_layer, n_head, n_embd,
    // dropout, bias: `train --n-layer 2`); empty settings return it as it is. Throws ms::Error
    // naming a key the spec cannot set; layer-list specs have none (their providers make
    // parameters into layers: ArchitectureProvider::makeSpec).
    ArchSpec withSettings(const QJsonObject &settings) const;

    QString name() const;                     // "" when the spec has none
    std::vector<qint64> inputShape() const;   // empty while open
    int numClasses() const;                   // 0 while open
    bool isBound() const { return !inputShape().empty() && numClasses() > 0; }
    bool isGpt() const;
    QJsonObject toJson() const { return m_json; }

    // Shape inference, parameters and MACs per layer. Throws ms::Error on a shape mismatch,
    // naming the layer, or when input_shape / num_classes are still open.
    // MACs: conv2d Cout*Hout*Wout*Cin*kh*kw, linear in*out, batchnorm one per output element
    // (a scale and shift once folded); activations, pools, dropout and flatten count 0.
    ModelSummary summary() const;
    std::vector<LayerPlan> plan() const;

    // Lower-case layer type names, in the order the documentation lists them.
    static QStringList layerTypes();

private:
    ArchSpec boundGpt(const std::vector<qint64> &inputShape, int vocabSize) const;

    QJsonObject m_json;
};

} // namespace ms
