#include "models/ArchSpec.h"

#include "common/Error.h"
#include "models/GptSpec.h"
#include "models/TextClassifierSpec.h"
#include "common/ShapeText.h"

#include <QJsonArray>
#include <QLocale>

#include <cmath>

namespace ms {

namespace {

// "out": "num_classes" stays symbolic until the spec is bound, so one spec fits any dataset.
constexpr qint64 kOutNumClasses = -1;
// Shapes in a spec's messages and summary table read "1x28x28".
constexpr ShapeStyle kShape = ShapeStyle::Compact;

struct LayerKeys
{
    QString type;
    QStringList required;
    QStringList optional;
};

const QVector<LayerKeys> &layerKeys()
{
    static const QVector<LayerKeys> keys = {
        {QStringLiteral("linear"), {QStringLiteral("out")}, {QStringLiteral("bias")}},
        {QStringLiteral("conv2d"), {QStringLiteral("out"), QStringLiteral("kernel")},
         {QStringLiteral("stride"), QStringLiteral("padding"), QStringLiteral("bias")}},
        {QStringLiteral("batchnorm"), {}, {QStringLiteral("eps"), QStringLiteral("momentum")}},
        {QStringLiteral("relu"), {}, {}},
        {QStringLiteral("gelu"), {}, {}},
        {QStringLiteral("maxpool2d"), {QStringLiteral("kernel")},
         {QStringLiteral("stride"), QStringLiteral("padding")}},
        {QStringLiteral("avgpool2d"), {QStringLiteral("kernel")},
         {QStringLiteral("stride"), QStringLiteral("padding")}},
        {QStringLiteral("dropout"), {}, {QStringLiteral("p")}},
        {QStringLiteral("flatten"), {}, {}},
        {QStringLiteral("residual"), {QStringLiteral("layers")},
         {QStringLiteral("shortcut"), QStringLiteral("activation")}},
    };
    return keys;
}

QString grouped(qint64 value)
{
    // C locale: the same digits everywhere, whatever the user's locale says.
    QLocale locale = QLocale::c();
    locale.setNumberOptions(QLocale::DefaultNumberOptions);
    return locale.toString(value);
}

qint64 product(const std::vector<qint64> &shape)
{
    qint64 n = 1;
    for (qint64 d : shape)
        n *= d;
    return n;
}

// Everything parse and inference say about a layer starts with where it is.
QString where(const LayerPlan &layer)
{
    return QStringLiteral("layer %1 (%2)").arg(layer.index).arg(layer.type);
}

bool isInteger(const QJsonValue &v)
{
    return v.isDouble() && std::floor(v.toDouble()) == v.toDouble()
           && std::abs(v.toDouble()) < 9e15;
}

// kernel/stride/padding: an int or [h, w].
void readPair(const QJsonObject &obj, const QString &key, const LayerPlan &layer, qint64 min,
              qint64 out[2])
{
    const QJsonValue v = obj.value(key);
    if (v.isUndefined())
        return;
    const QString bad = QStringLiteral("%1: \"%2\" must be an integer >= %3 or a pair [h, w]")
                            .arg(where(layer), key, QString::number(min));
    if (isInteger(v)) {
        out[0] = out[1] = qint64(v.toDouble());
    } else if (v.isArray() && v.toArray().size() == 2 && isInteger(v.toArray().at(0))
               && isInteger(v.toArray().at(1))) {
        out[0] = qint64(v.toArray().at(0).toDouble());
        out[1] = qint64(v.toArray().at(1).toDouble());
    } else {
        throw Error(bad);
    }
    if (out[0] < min || out[1] < min)
        throw Error(bad);
}

double readReal(const QJsonObject &obj, const QString &key, const LayerPlan &layer, double def,
                double min, double max, bool maxOpen)
{
    const QJsonValue v = obj.value(key);
    if (v.isUndefined())
        return def;
    const double x = v.toDouble(std::nan(""));
    if (!v.isDouble() || !(x >= min) || (maxOpen ? !(x < max) : !(x <= max)))
        throw Error(QStringLiteral("%1: \"%2\" must be a number in [%3, %4%5")
                        .arg(where(layer), key, QString::number(min), QString::number(max),
                             maxOpen ? QStringLiteral(")") : QStringLiteral("]")));
    return x;
}

LayerPlan parseLayer(const QJsonValue &value, int index, QJsonObject *normalised);

// A choice among fixed words, matched case-insensitively; stored lower case.
QString readChoice(QJsonObject &obj, const QString &key, const LayerPlan &layer,
                   const QStringList &choices)
{
    const QJsonValue v = obj.value(key);
    if (v.isUndefined())
        return choices.first();
    const QString word = v.toString().trimmed().toLower();
    if (!v.isString() || !choices.contains(word))
        throw Error(QStringLiteral("%1: \"%2\" must be one of: %3")
                        .arg(where(layer), key, choices.join(QLatin1String(", "))));
    obj.insert(key, word);
    return word;
}

// The body of a residual block: its layers are parsed like the top level's, and their errors
// say which block they are in ("layer 3 (residual), layer 1 (conv2d): ...").
void parseResidual(QJsonObject &obj, LayerPlan &layer)
{
    const QJsonValue inner = obj.value(QLatin1String("layers"));
    if (!inner.isArray() || inner.toArray().isEmpty())
        throw Error(QStringLiteral("%1: \"layers\" must be a non-empty list of layers, the "
                                   "block's body").arg(where(layer)));
    QJsonArray normalisedInner;
    int childIndex = 0;
    for (const QJsonValue &v : inner.toArray()) {
        QJsonObject child;
        try {
            layer.body.push_back(parseLayer(v, childIndex++, &child));
        } catch (const Error &e) {
            throw Error(where(layer) + QStringLiteral(", ") + e.message());
        }
        normalisedInner.append(child);
    }
    obj.insert(QStringLiteral("layers"), normalisedInner);
    layer.shortcutMode = readChoice(obj, QStringLiteral("shortcut"), layer,
                                    {QStringLiteral("auto"), QStringLiteral("identity"),
                                     QStringLiteral("projection")});
    layer.activation = readChoice(obj, QStringLiteral("activation"), layer,
                                  {QStringLiteral("relu"), QStringLiteral("gelu"),
                                   QStringLiteral("none")});
}

LayerPlan parseLayer(const QJsonValue &value, int index, QJsonObject *normalised)
{
    LayerPlan layer;
    layer.index = index;
    if (!value.isObject())
        throw Error(QStringLiteral("layer %1: must be an object such as {\"type\": \"relu\"}")
                        .arg(index));
    QJsonObject obj = value.toObject();
    if (!obj.value(QLatin1String("type")).isString())
        throw Error(QStringLiteral("layer %1: missing required key \"type\" (one of: %2)")
                        .arg(index).arg(ArchSpec::layerTypes().join(QLatin1String(", "))));
    layer.type = obj.value(QLatin1String("type")).toString().trimmed().toLower();
    layer.name = layer.type + QString::number(index);
    const LayerKeys *keys = nullptr;
    for (const LayerKeys &k : layerKeys()) {
        if (k.type == layer.type)
            keys = &k;
    }
    if (!keys)
        throw Error(QStringLiteral("layer %1: unknown type \"%2\"; known: %3")
                        .arg(index).arg(obj.value(QLatin1String("type")).toString(),
                                        ArchSpec::layerTypes().join(QLatin1String(", "))));
    for (const QString &key : keys->required) {
        if (!obj.contains(key))
            throw Error(QStringLiteral("%1: missing required key \"%2\"").arg(where(layer), key));
    }
    for (auto it = obj.constBegin(); it != obj.constEnd(); ++it) {
        // A typo such as "kernal" would otherwise silently fall back to a default.
        if (it.key() != QLatin1String("type") && !keys->required.contains(it.key())
            && !keys->optional.contains(it.key())) {
            const QStringList allowed = keys->required + keys->optional;
            throw Error(QStringLiteral("%1: unknown key \"%2\"; %3").arg(where(layer), it.key(),
                allowed.isEmpty() ? QStringLiteral("this layer takes no options")
                                  : QStringLiteral("allowed: ") + allowed.join(
                                        QLatin1String(", "))));
        }
    }

    if (obj.contains(QLatin1String("out"))) {
        const QJsonValue out = obj.value(QLatin1String("out"));
        if (out.toString() == QLatin1String("num_classes"))
            layer.out = kOutNumClasses;
        else if (isInteger(out) && out.toDouble() >= 1)
            layer.out = qint64(out.toDouble());
        else
            throw Error(QStringLiteral("%1: \"out\" must be a positive integer or "
                                       "\"num_classes\"").arg(where(layer)));
    }
    if (obj.contains(QLatin1String("bias"))) {
        if (!obj.value(QLatin1String("bias")).isBool())
            throw Error(QStringLiteral("%1: \"bias\" must be true or false").arg(where(layer)));
        layer.bias = obj.value(QLatin1String("bias")).toBool();
    }
    if (layer.type == QLatin1String("conv2d")) {
        readPair(obj, QStringLiteral("kernel"), layer, 1, layer.kernel);
        readPair(obj, QStringLiteral("stride"), layer, 1, layer.stride);
        readPair(obj, QStringLiteral("padding"), layer, 0, layer.padding);
    } else if (layer.type.endsWith(QLatin1String("pool2d"))) {
        readPair(obj, QStringLiteral("kernel"), layer, 1, layer.kernel);
        // A pool's stride defaults to its kernel, as in PyTorch.
        layer.stride[0] = layer.kernel[0];
        layer.stride[1] = layer.kernel[1];
        readPair(obj, QStringLiteral("stride"), layer, 1, layer.stride);
        readPair(obj, QStringLiteral("padding"), layer, 0, layer.padding);
    }
    if (layer.type == QLatin1String("residual"))
        parseResidual(obj, layer);
    layer.eps = readReal(obj, QStringLiteral("eps"), layer, 1e-5, 1e-12, 1.0, false);
    layer.momentum = readReal(obj, QStringLiteral("momentum"), layer, 0.1, 0.0, 1.0, false);
    layer.p = readReal(obj, QStringLiteral("p"), layer, 0.5, 0.0, 1.0, true);

    obj.insert(QStringLiteral("type"), layer.type);
    *normalised = obj;
    return layer;
}

// Output size of a conv or pool along one axis (dilation 1, floor mode, as PyTorch).
qint64 slidingSize(qint64 in, qint64 kernel, qint64 stride, qint64 padding)
{
    const qint64 span = in + 2 * padding - kernel;
    return span < 0 ? 0 : span / stride + 1;
}

void inferSliding(LayerPlan &layer, const std::vector<qint64> &in, qint64 channels)
{
    const qint64 h = slidingSize(in[1], layer.kernel[0], layer.stride[0], layer.padding[0]);
    const qint64 w = slidingSize(in[2], layer.kernel[1], layer.stride[1], layer.padding[1]);
    if (h <= 0 || w <= 0)
        // The layer's words (user text) are put in front, not through arg(), which would read
        // a %N inside them.
        throw Error(where(layer)
                    + QStringLiteral(": output would be %1x%2 (input %3, kernel %4x%5, "
                                     "stride %6x%7, padding %8x%9); use a smaller kernel, "
                                     "more padding or a larger input")
                          .arg(h).arg(w).arg(shapeText(in, kShape))
                          .arg(layer.kernel[0]).arg(layer.kernel[1])
                          .arg(layer.stride[0]).arg(layer.stride[1])
                          .arg(layer.padding[0]).arg(layer.padding[1]));
    layer.outputShape = {channels, h, w};
}

void requireImage(const LayerPlan &layer, const std::vector<qint64> &in)
{
    if (in.size() != 3)
        throw Error(QStringLiteral("%1: expects a CxHxW image but gets %2; %1 needs "
                                   "an input_shape of [channels, height, width]")
                        .arg(where(layer), shapeText(in, kShape)));
}

void inferLayer(LayerPlan &layer, const std::vector<qint64> &in, int numClasses);

// The 1x1 stride that maps `in` to `out` along one axis (floor((in - 1) / s) + 1 == out, as a
// 1x1 conv without padding computes it), or 0 when there is none.
qint64 projectionStride(qint64 in, qint64 out)
{
    for (qint64 s = 1; s <= in; ++s) {
        if ((in - 1) / s + 1 == out)
            return s;
    }
    return 0;
}

void inferResidual(LayerPlan &layer, const std::vector<qint64> &in, int numClasses)
{
    std::vector<qint64> shape = in;
    layer.params = 0;
    layer.macs = 0;
    for (LayerPlan &child : layer.body) {
        try {
            inferLayer(child, shape, numClasses);
        } catch (const Error &e) {
            throw Error(where(layer) + QStringLiteral(", ") + e.message());
        }
        shape = child.outputShape;
        layer.params += child.params;
        layer.macs += child.macs;
    }
    layer.outputShape = shape;
    layer.shortcut.clear();
    const bool same = shape == in;
    if (layer.shortcutMode == QLatin1String("identity") && !same)
        throw Error(QStringLiteral("%1: the body turns %2 into %3, so the shortcut cannot be "
                                   "the identity; use \"shortcut\": \"auto\" to project it")
                        .arg(where(layer), shapeText(in, kShape), shapeText(shape, kShape)));
    if (same && layer.shortcutMode != QLatin1String("projection"))
        return;
    LayerPlan projection;
    projection.index = 0;
    projection.name = QStringLiteral("shortcut");
    projection.out = shape.empty() ? 0 : shape[0];
    projection.bias = false;   // as torchvision's conv1x1 shortcut
    if (in.size() == 3 && shape.size() == 3) {
        projection.type = QStringLiteral("conv2d");
        projection.kernel[0] = projection.kernel[1] = 1;
        projection.stride[0] = projectionStride(in[1], shape[1]);
        projection.stride[1] = projectionStride(in[2], shape[2]);
        if (projection.stride[0] == 0 || projection.stride[1] == 0)
            throw Error(QStringLiteral("%1: no strided 1x1 projection maps %2 to %3; make the "
                                       "body grow the image no larger than its input")
                            .arg(where(layer), shapeText(in, kShape), shapeText(shape, kShape)));
    } else if (in.size() == 1 && shape.size() == 1) {
        projection.type = QStringLiteral("linear");
    } else {
        throw Error(QStringLiteral("%1: the body turns %2 into %3; a shortcut projects images "
                                   "to images or features to features only, so keep flatten "
                                   "outside the block")
                        .arg(where(layer), shapeText(in, kShape), shapeText(shape, kShape)));
    }
    inferLayer(projection, in, numClasses);
    layer.params += projection.params;
    layer.macs += projection.macs;
    layer.shortcut.push_back(projection);
}

void inferLayer(LayerPlan &layer, const std::vector<qint64> &in, int numClasses)
{
    layer.inputShape = in;
    if (layer.out == kOutNumClasses)
        layer.out = numClasses;
    const QString &t = layer.type;
    if (t == QLatin1String("linear")) {
        if (in.size() != 1)
            throw Error(QStringLiteral("%1: expects flat features but gets %2; add a "
                                       "{\"type\": \"flatten\"} before it")
                            .arg(where(layer), shapeText(in, kShape)));
        layer.outputShape = {layer.out};
        layer.params = in[0] * layer.out + (layer.bias ? layer.out : 0);
        layer.macs = in[0] * layer.out;
    } else if (t == QLatin1String("conv2d")) {
        requireImage(layer, in);
        inferSliding(layer, in, layer.out);
        const qint64 perOutput = in[0] * layer.kernel[0] * layer.kernel[1];
        layer.params = layer.out * perOutput + (layer.bias ? layer.out : 0);
        layer.macs = product(layer.outputShape) * perOutput;
    } else if (t.endsWith(QLatin1String("pool2d"))) {
        requireImage(layer, in);
        // PyTorch refuses larger padding at run time; say so before a model is built.
        if (2 * layer.padding[0] > layer.kernel[0] || 2 * layer.padding[1] > layer.kernel[1])
            throw Error(QStringLiteral("%1: padding %2x%3 is more than half the kernel %4x%5")
                            .arg(where(layer), QString::number(layer.padding[0]),
                                 QString::number(layer.padding[1]),
                                 QString::number(layer.kernel[0]),
                                 QString::number(layer.kernel[1])));
        inferSliding(layer, in, in[0]);
    } else if (t == QLatin1String("batchnorm")) {
        if (in.size() != 1 && in.size() != 3)
            throw Error(QStringLiteral("%1: expects flat features (BatchNorm1d) or a CxHxW "
                                       "image (BatchNorm2d) but gets %2")
                            .arg(where(layer), shapeText(in, kShape)));
        layer.outputShape = in;
        layer.params = 2 * in[0];
        layer.macs = product(in);
    } else if (t == QLatin1String("flatten")) {
        layer.outputShape = {product(in)};
    } else if (t == QLatin1String("residual")) {
        inferResidual(layer, in, numClasses);
    } else {
        // relu, gelu, dropout: elementwise.
        layer.outputShape = in;
    }
}

std::vector<qint64> readShape(const QJsonObject &json)
{
    std::vector<qint64> shape;
    const QJsonValue v = json.value(QLatin1String("input_shape"));
    if (v.isUndefined() || v.isNull())
        return shape;
    const QString bad = QStringLiteral("\"input_shape\" must be a list of positive integers "
                                       "per sample, such as [1, 28, 28] or [20]");
    if (!v.isArray() || v.toArray().isEmpty())
        throw Error(bad);
    for (const QJsonValue &d : v.toArray()) {
        if (!isInteger(d) || d.toDouble() < 1)
            throw Error(bad);
        shape.push_back(qint64(d.toDouble()));
    }
    return shape;
}

int readNumClasses(const QJsonObject &json)
{
    const QJsonValue v = json.value(QLatin1String("num_classes"));
    if (v.isUndefined() || v.isNull())
        return 0;
    if (!isInteger(v) || v.toDouble() < 1 || v.toDouble() > 1e9)
        throw Error(QStringLiteral("\"num_classes\" must be a positive integer"));
    return int(v.toDouble());
}

QJsonArray shapeJson(const std::vector<qint64> &shape)
{
    QJsonArray a;
    for (qint64 d : shape)
        a.append(d);
    return a;
}

} // namespace

QStringList ArchSpec::layerTypes()
{
    QStringList types;
    for (const LayerKeys &k : layerKeys())
        types << k.type;
    return types;
}

ArchSpec ArchSpec::fromJson(const QJsonObject &json)
{
    if (GptSpec::isGpt(json)) {
        ArchSpec spec;
        spec.m_json = GptSpec::fromJson(json).toJson();
        return spec;
    }
    if (TextClassifierSpec::isTextClassifier(json)) {
        ArchSpec spec;
        spec.m_json = TextClassifierSpec::fromJson(json).toJson();
        return spec;
    }
    const QJsonValue layers = json.value(QLatin1String("layers"));
    if (!layers.isArray() || layers.toArray().isEmpty())
        throw Error(QStringLiteral("the spec needs a non-empty \"layers\" list, such as "
                                   "[{\"type\": \"flatten\"}, {\"type\": \"linear\", "
                                   "\"out\": \"num_classes\"}]"));
    readShape(json);
    readNumClasses(json);
    QJsonArray normalised;
    int index = 0;
    for (const QJsonValue &v : layers.toArray()) {
        QJsonObject layer;
        parseLayer(v, index++, &layer);
        normalised.append(layer);
    }
    ArchSpec spec;
    spec.m_json = json;
    spec.m_json.insert(QStringLiteral("layers"), normalised);
    if (spec.isBound())
        spec.plan();   // throws on the first layer whose shapes do not fit
    return spec;
}

ArchSpec ArchSpec::boundTo(const std::vector<qint64> &inputShape, int numClasses) const
{
    if (isGpt())
        return boundGpt(inputShape, numClasses);
    if (TextClassifierSpec::isTextClassifier(m_json)) {
        TextClassifierSpec t = TextClassifierSpec::fromJson(m_json);
        if (!inputShape.empty())
            throw Error(QStringLiteral("\"%1\" is a text classifier: it reads token "
                                       "sequences, not samples of shape %2; train it on a text "
                                       "dataset (a folder of .txt files per class, a CSV with "
                                       "a text column, fortunes)")
                            .arg(t.name, shapeText(inputShape, kShape)));
        if (numClasses > 0) {
            if (t.numClasses > 0 && t.numClasses != numClasses)
                throw Error(QStringLiteral("the spec fixes num_classes %1 but the data has %2 "
                                           "classes; remove \"num_classes\" from the spec")
                                .arg(t.numClasses).arg(numClasses));
            t.numClasses = numClasses;
        }
        return fromJson(t.toJson());
    }
    QJsonObject json = m_json;
    const std::vector<qint64> fixedShape = this->inputShape();
    if (!inputShape.empty()) {
        if (!fixedShape.empty() && fixedShape != inputShape)
            throw Error(QStringLiteral("the spec fixes input_shape %1 but the data has %2; "
                                       "remove \"input_shape\" from the spec to fit any data")
                            .arg(shapeText(fixedShape, kShape), shapeText(inputShape, kShape)));
        json.insert(QStringLiteral("input_shape"), shapeJson(inputShape));
    }
    if (numClasses > 0) {
        const int fixed = this->numClasses();
        if (fixed > 0 && fixed != numClasses)
            throw Error(QStringLiteral("the spec fixes num_classes %1 but the data has %2 "
                                       "classes; remove \"num_classes\" from the spec and use "
                                       "\"out\": \"num_classes\" in its last layer")
                            .arg(fixed).arg(numClasses));
        json.insert(QStringLiteral("num_classes"), numClasses);
    }
    return fromJson(json);
}

QString ArchSpec::name() const
{
    return m_json.value(QLatin1String("name")).toString();
}

std::vector<qint64> ArchSpec::inputShape() const
{
    if (isGpt())
        return {GptSpec::fromJson(m_json).blockSize};
    if (TextClassifierSpec::isTextClassifier(m_json))
        return {TextClassifierSpec::fromJson(m_json).blockSize};
    return readShape(m_json);
}

int ArchSpec::numClasses() const
{
    if (isGpt())
        return GptSpec::fromJson(m_json).vocabSize;
    if (TextClassifierSpec::isTextClassifier(m_json))
        return TextClassifierSpec::fromJson(m_json).numClasses;
    return readNumClasses(m_json);
}

ArchSpec ArchSpec::withSettings(const QJsonObject &settings) const
{
    if (settings.isEmpty())
        return *this;
    const bool text = TextClassifierSpec::isTextClassifier(m_json);
    if (!isGpt() && !text)
        throw Error(QStringLiteral("the architecture \"%1\" takes no parameters (%2 given); "
                                   "change its layers in a spec file instead")
                        .arg(name(), settings.keys().join(QStringLiteral(", "))));
    QStringList settable = text ? TextClassifierSpec::settingKeys() : GptSpec::settingKeys();
    settable.removeAll(QStringLiteral("vocab_size"));   // the tokenizer's, not a choice
    settable.removeAll(QStringLiteral("num_classes"));  // the data's
    QJsonObject json = m_json;
    for (auto it = settings.begin(); it != settings.end(); ++it) {
        if (!settable.contains(it.key()))
            throw Error(QStringLiteral("the %1 architecture has no parameter \"%2\"; it "
                                       "takes %3")
                            .arg(text ? QStringLiteral("text-classifier") : QStringLiteral("gpt"),
                                 it.key(), settable.join(QStringLiteral(", "))));
        json.insert(it.key(), it.value());
    }
    return fromJson(json);
}

bool ArchSpec::isGpt() const
{
    return GptSpec::isGpt(m_json);
}

ArchSpec ArchSpec::boundGpt(const std::vector<qint64> &inputShape, int vocabSize) const
{
    GptSpec gpt = GptSpec::fromJson(m_json);
    if (!inputShape.empty())
        throw Error(QStringLiteral("\"%1\" is a language model (a gpt spec): it reads token "
                                   "sequences, not samples of shape %2; train it on a text "
                                   "dataset with --task lm")
                        .arg(gpt.name, shapeText(inputShape, kShape)));
    if (vocabSize > 0) {
        if (gpt.vocabSize > 0 && gpt.vocabSize != vocabSize)
            throw Error(QStringLiteral("the spec fixes vocab_size %1 but the tokenizer has %2 "
                                       "symbols; remove \"vocab_size\" from the spec to fit "
                                       "any tokenizer")
                            .arg(gpt.vocabSize).arg(vocabSize));
        gpt.vocabSize = vocabSize;
    }
    ArchSpec spec;
    spec.m_json = gpt.toJson();
    return spec;
}

std::vector<LayerPlan> ArchSpec::plan() const
{
    if (isGpt())
        throw Error(QStringLiteral("\"%1\" is a gpt spec, which has no layer list: this step "
                                   "works on layer-list specs (mlp, cnn and the like) only")
                        .arg(name()));
    if (TextClassifierSpec::isTextClassifier(m_json))
        throw Error(QStringLiteral("\"%1\" is a text-classifier spec, which has no layer list: "
                                   "this step works on layer-list specs (mlp, cnn and the "
                                   "like) only")
                        .arg(name()));
    std::vector<qint64> shape = inputShape();
    const int classes = numClasses();
    if (shape.empty() || classes <= 0)
        throw Error(QStringLiteral("the spec leaves %1 open; bind it to a dataset first")
                        .arg(shape.empty() ? QStringLiteral("input_shape")
                                           : QStringLiteral("num_classes")));
    std::vector<LayerPlan> plans;
    int index = 0;
    for (const QJsonValue &v : m_json.value(QLatin1String("layers")).toArray()) {
        QJsonObject unused;
        LayerPlan layer = parseLayer(v, index++, &unused);
        inferLayer(layer, shape, classes);
        shape = layer.outputShape;
        plans.push_back(layer);
    }
    const LayerPlan &last = plans.back();
    if (shape != std::vector<qint64>{classes}) {
        const QString hint = shape.size() == 1
            ? QStringLiteral("give it \"out\": \"num_classes\"")
            : QStringLiteral("end with a flatten and a linear layer with "
                             "\"out\": \"num_classes\"");
        throw Error(QStringLiteral("%1: the last layer outputs %2 but the model must output "
                                   "num_classes = %3 scores; %4")
                        .arg(where(last), shapeText(shape, kShape), QString::number(classes),
                             hint));
    }
    return plans;
}

namespace {

// One row per computing layer: a residual block's inner layers and its projection get rows of
// their own, and the block's row (the sum and activation) carries no parameters, so the totals
// count each weight once.
void appendRows(const LayerPlan &p, const QString &prefix, ModelSummary &s)
{
    const QString name = prefix + p.name;
    if (p.type != QLatin1String("residual")) {
        s.layers.append(LayerSummary{name, p.type, p.outputShape, p.params, p.macs});
        s.totalParams += p.params;
        s.totalMacs += p.macs;
        return;
    }
    for (const LayerPlan &child : p.body)
        appendRows(child, name + QLatin1Char('.'), s);
    for (const LayerPlan &projection : p.shortcut)
        appendRows(projection, name + QLatin1Char('.'), s);
    s.layers.append(LayerSummary{name, p.type, p.outputShape, 0, 0});
}

} // namespace

ModelSummary ArchSpec::summary() const
{
    if (isGpt())
        return GptSpec::fromJson(m_json).summary();
    if (TextClassifierSpec::isTextClassifier(m_json))
        return TextClassifierSpec::fromJson(m_json).summary();
    ModelSummary s;
    s.inputShape = inputShape();
    for (const LayerPlan &p : plan())
        appendRows(p, QString(), s);
    return s;
}

QString ModelSummary::table() const
{
    QVector<QStringList> rows;
    rows << QStringList{QStringLiteral("Layer"), QStringLiteral("Type"),
                        QStringLiteral("Output"), QStringLiteral("Params"),
                        macsPerToken ? QStringLiteral("MACs/token") : QStringLiteral("MACs")};
    rows << QStringList{QStringLiteral("input"), QString(), shapeText(inputShape, kShape),
                        QString(), QString()};
    for (const LayerSummary &l : layers)
        rows << QStringList{l.name, l.type, shapeText(l.outputShape, kShape), grouped(l.params),
                            grouped(l.macs)};
    rows << QStringList{QStringLiteral("Total"), QString(), QString(), grouped(totalParams),
                        grouped(totalMacs)};
    QVector<int> widths(5, 0);
    for (const QStringList &row : rows) {
        for (int c = 0; c < 5; ++c)
            widths[c] = std::max(widths[c], int(row[c].size()));
    }
    QStringList lines;
    for (int r = 0; r < rows.size(); ++r) {
        const QStringList &row = rows[r];
        if (r == rows.size() - 1) {
            QStringList rule;
            for (int w : widths)
                rule << QString(w, QLatin1Char('-'));
            lines << rule.join(QLatin1String("  "));
        }
        // Text columns left-aligned, numbers right-aligned so the digits line up.
        QString line = row[0].leftJustified(widths[0]) + QLatin1String("  ")
                       + row[1].leftJustified(widths[1]) + QLatin1String("  ")
                       + row[2].leftJustified(widths[2]) + QLatin1String("  ")
                       + row[3].rightJustified(widths[3]) + QLatin1String("  ")
                       + row[4].rightJustified(widths[4]);
        lines << line;
        while (lines.last().endsWith(QLatin1Char(' ')))
            lines.last().chop(1);
    }
    return lines.join(QLatin1Char('\n')) + QLatin1Char('\n');
}

QJsonObject ModelSummary::toJson() const
{
    QJsonArray rows;
    for (const LayerSummary &l : layers) {
        rows.append(QJsonObject{{QStringLiteral("name"), l.name},
                                {QStringLiteral("type"), l.type},
                                {QStringLiteral("output_shape"), shapeJson(l.outputShape)},
                                {QStringLiteral("params"), l.params},
                                {QStringLiteral("macs"), l.macs}});
    }
    return QJsonObject{{QStringLiteral("input_shape"), shapeJson(inputShape)},
                       {QStringLiteral("layers"), rows},
                       {QStringLiteral("total_params"), totalParams},
                       {QStringLiteral("total_macs"), totalMacs},
                       {QStringLiteral("macs_per"), macsPerToken ? QStringLiteral("token")
                                                                 : QStringLiteral("sample")}};
}

} // namespace ms
