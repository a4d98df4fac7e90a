#include "models/BuiltinArchitectures.h"

#include "common/Error.h"
#include "common/ShapeText.h"
#include "models/ArchSpec.h"
#include "models/ArchitectureRegistry.h"
#include "models/GptSpec.h"
#include "models/TextClassifierSpec.h"

#include <QJsonArray>
#include <QLocale>

#include <algorithm>

namespace ms {

namespace {

QJsonObject layer(const char *type, std::initializer_list<QPair<QString, QJsonValue>> keys = {})
{
    QJsonObject obj{{QStringLiteral("type"), QLatin1String(type)}};
    for (const auto &kv : keys)
        obj.insert(kv.first, kv.second);
    return obj;
}

QJsonObject makeSpecJson(const QString &name, const QJsonArray &layers,
                         const std::vector<qint64> &inputShape, int numClasses)
{
    QJsonObject spec{{QStringLiteral("name"), name}, {QStringLiteral("layers"), layers}};
    // Bound here when the caller knows the data; otherwise left open for boundTo().
    return ArchSpec::fromJson(spec).boundTo(inputShape, numClasses).toJson();
}

// The parameters of the built-ins: "width" (an integer, at least 1) and "dropout" (a
// probability in [0, 1); 0 leaves the dropout layer out, so the defaults are the original nets).
struct WidthDropout
{
    qint64 width;
    double dropout = 0.0;
};

WidthDropout widthDropout(const QString &arch, const QJsonObject &params, qint64 defaultWidth)
{
    WidthDropout out{defaultWidth};
    for (auto it = params.begin(); it != params.end(); ++it) {
        const QJsonValue v = it.value();
        if (it.key() == QLatin1String("width")) {
            const double w = v.toDouble(-1.0);
            if (!v.isDouble() || w < 1.0 || w != double(qint64(w)) || w > 65536.0)
                throw Error(QStringLiteral("The \"%1\" architecture's \"width\" must be a whole "
                                           "number from 1 to 65536 (got %2).")
                                .arg(arch, v.isDouble() ? QString::number(w)
                                                        : v.toVariant().toString()));
            out.width = qint64(w);
        } else if (it.key() == QLatin1String("dropout")) {
            const double p = v.toDouble(-1.0);
            if (!v.isDouble() || p < 0.0 || p >= 1.0)
                throw Error(QStringLiteral("The \"%1\" architecture's \"dropout\" must be a "
                                           "probability from 0 up to (not including) 1 (got %2).")
                                .arg(arch, v.toVariant().toString()));
            out.dropout = p;
        } else {
            throw Error(QStringLiteral("The \"%1\" architecture has no parameter \"%2\"; it takes "
                                       "\"width\" and \"dropout\".").arg(arch, it.key()));
        }
    }
    return out;
}

// Parameter count on Fashion-MNIST (1x28x28, 10 classes), counted from the spec itself so the
// description cannot drift from the architecture.
QString fashionMnistParams(const ArchitectureProvider &provider)
{
    const QJsonObject spec = provider.makeSpec({1, 28, 28}, 10);
    QLocale locale = QLocale::c();
    locale.setNumberOptions(QLocale::DefaultNumberOptions);   // C omits group separators
    return locale.toString(ArchSpec::fromJson(spec).summary().totalParams);
}

// Flatten and three linear layers: the "MLP 256-128-100" row of the Fashion-MNIST benchmark,
// with the last width set to the class count. Any input shape works.
class MlpArchitecture final : public ArchitectureProvider
{
public:
    QString name() const override { return QStringLiteral("mlp"); }
    QString description() const override
    {
        return QStringLiteral("Multilayer perceptron: flatten, linear 256, ReLU, linear 128, "
                              "ReLU, linear to the classes (%1 params on 1x28x28 with 10 "
                              "classes); takes any input shape.").arg(fashionMnistParams(*this));
    }
    QStringList parameters() const override
    {
        return {QStringLiteral("width"), QStringLiteral("dropout")};
    }
    QJsonObject makeSpec(const std::vector<qint64> &inputShape, int numClasses) const override
    {
        return makeSpec(inputShape, numClasses, {});
    }
    // "width": the first hidden layer (the second is width / 2); "dropout" before the last
    // linear layer.
    QJsonObject makeSpec(const std::vector<qint64> &inputShape, int numClasses,
                         const QJsonObject &params) const override
    {
        const WidthDropout p = widthDropout(name(), params, 256);
        QJsonArray layers{
            layer("flatten"),
            layer("linear", {{QStringLiteral("out"), p.width}}),
            layer("relu"),
            layer("linear", {{QStringLiteral("out"), std::max<qint64>(1, p.width / 2)}}),
            layer("relu"),
        };
        if (p.dropout > 0.0)
            layers.append(layer("dropout", {{QStringLiteral("p"), p.dropout}}));
        layers.append(layer("linear", {{QStringLiteral("out"), QStringLiteral("num_classes")}}));
        return makeSpecJson(name(), layers, inputShape, numClasses);
    }
};

// Two 5x5 conv blocks and a linear classifier, layer for layer the net of the Python peer
// (shared/peers/torch_peer_train.py): the "2 Conv <100K parameters" row of Fashion-MNIST.
class CnnArchitecture final : public ArchitectureProvider
{
public:
    QString name() const override { return QStringLiteral("cnn"); }
    QString description() const override
    {
        return QStringLiteral("Small CNN: two blocks of 5x5 conv (32, 64 channels), ReLU and "
                              "2x2 max pool, then linear to the classes (%1 params on 1x28x28 "
                              "with 10 classes); needs image input (CxHxW).")
            .arg(fashionMnistParams(*this));
    }
    QStringList parameters() const override
    {
        return {QStringLiteral("width"), QStringLiteral("dropout")};
    }
    QJsonObject makeSpec(const std::vector<qint64> &inputShape, int numClasses) const override
    {
        return makeSpec(inputShape, numClasses, {});
    }
    // "width": the first conv's channels (the second has 2 x width); "dropout" before the
    // linear classifier.
    QJsonObject makeSpec(const std::vector<qint64> &inputShape, int numClasses,
                         const QJsonObject &params) const override
    {
        if (!inputShape.empty() && inputShape.size() != 3) {
            throw Error(QStringLiteral("The \"cnn\" architecture needs images (channels x "
                                       "height x width) but this data has samples of shape "
                                       "%1; use \"mlp\" for tabular data.")
                            .arg(shapeText(inputShape, ShapeStyle::Compact)));
        }
        const WidthDropout p = widthDropout(name(), params, 32);
        const auto conv = [](qint64 out) {
            return layer("conv2d", {{QStringLiteral("out"), out}, {QStringLiteral("kernel"), 5},
                                    {QStringLiteral("padding"), 2}});
        };
        QJsonArray layers{
            conv(p.width), layer("relu"), layer("maxpool2d", {{QStringLiteral("kernel"), 2}}),
            conv(2 * p.width), layer("relu"), layer("maxpool2d", {{QStringLiteral("kernel"), 2}}),
            layer("flatten"),
        };
        if (p.dropout > 0.0)
            layers.append(layer("dropout", {{QStringLiteral("p"), p.dropout}}));
        layers.append(layer("linear", {{QStringLiteral("out"), QStringLiteral("num_classes")}}));
        return makeSpecJson(name(), layers, inputShape, numClasses);
    }
};

// nanoGPT's shape at shared/peers/lm_peer.py's size: a language model over a tokenizer's
// vocabulary, bound by ArchSpec::boundTo({}, vocab). Its parameters (block_size, n_layer, ...)
// come from a train spec's arch_params (train --n-layer 2, --arch-param n_layer=2).
class GptArchitecture final : public ArchitectureProvider
{
public:
    QString name() const override { return QStringLiteral("gpt"); }
    QString description() const override
    {
        GptSpec spec;
        spec.vocabSize = 256;
        QLocale locale = QLocale::c();
        locale.setNumberOptions(QLocale::DefaultNumberOptions);
        return QStringLiteral("GPT language model (nanoGPT's shape): %1 pre-LayerNorm blocks of "
                              "%2-head causal self-attention and a 4x GELU MLP, n_embd %3, "
                              "context %4 tokens (%5 params with the 256-symbol byte "
                              "tokenizer); train with --task lm on a text dataset.")
            .arg(spec.nLayer).arg(spec.nHead).arg(spec.nEmbd).arg(spec.blockSize)
            .arg(locale.toString(spec.summary().totalParams));
    }
    QStringList parameters() const override
    {
        QStringList keys = GptSpec::settingKeys();
        keys.removeAll(QStringLiteral("vocab_size"));   // the tokenizer's, not a choice
        return keys;
    }
    QJsonObject makeSpec(const std::vector<qint64> &inputShape, int numClasses) const override
    {
        return makeSpec(inputShape, numClasses, {});
    }
    // block_size, n_layer, n_head, n_embd, dropout, bias: ArchSpec::withSettings.
    QJsonObject makeSpec(const std::vector<qint64> &inputShape, int numClasses,
                         const QJsonObject &params) const override
    {
        return ArchSpec::fromJson(GptSpec().toJson())
            .withSettings(params)
            .boundTo(inputShape, numClasses)
            .toJson();
    }
};

// A Transformer encoder over tokens with mean pooling and a Linear head (models/
// TextClassifierSpec.h), for text datasets: its blocks are the gpt's without the causal mask.
// The vocabulary is the tokenizer's, bound by the trainer; the parameters are the gpt's.
class TextClassifierArchitecture final : public ArchitectureProvider
{
public:
    QString name() const override { return QStringLiteral("text-classifier"); }
    QString description() const override
    {
        TextClassifierSpec spec;
        return QStringLiteral("Transformer text classifier: token and position embeddings, %1 "
                              "encoder blocks of %2-head self-attention and a 4x GELU MLP, "
                              "n_embd %3, mean pooling over the tokens, a Linear head; up to "
                              "%4 tokens. Train it on a text dataset.")
            .arg(spec.nLayer).arg(spec.nHead).arg(spec.nEmbd).arg(spec.blockSize);
    }
    QStringList parameters() const override
    {
        QStringList keys = TextClassifierSpec::settingKeys();
        keys.removeAll(QStringLiteral("vocab_size"));
        keys.removeAll(QStringLiteral("num_classes"));
        return keys;
    }
    QJsonObject makeSpec(const std::vector<qint64> &inputShape, int numClasses) const override
    {
        return makeSpec(inputShape, numClasses, {});
    }
    QJsonObject makeSpec(const std::vector<qint64> &inputShape, int numClasses,
                         const QJsonObject &params) const override
    {
        return ArchSpec::fromJson(TextClassifierSpec().toJson())
            .withSettings(params)
            .boundTo(inputShape, numClasses)
            .toJson();
    }
};

} // namespace

void registerBuiltinArchitectures(ArchitectureRegistry &registry)
{
    registry.providers().add(std::make_shared<MlpArchitecture>());
    registry.providers().add(std::make_shared<CnnArchitecture>());
    registry.providers().add(std::make_shared<GptArchitecture>());
    registry.providers().add(std::make_shared<TextClassifierArchitecture>());
}

} // namespace ms
