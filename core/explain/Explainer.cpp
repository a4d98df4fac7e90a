#include "explain/Explainer.h"

#include "common/Error.h"
#include "common/Printable.h"
#include "common/ShapeText.h"
#include "explain/ExplainMethods_p.h"
#include "registry/Registry.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>

namespace ms {

namespace {

// Samples per forward (and backward) pass when the options leave it to us. A gradient method's
// passes hold at most ExplainOptions::kGradientBatchValues input values, its samples split
// evenly among them (50 steps of a 28x28 image: two passes of 25): the backward pass revisits
// every layer's activations, and half the batch keeps them in cache. Measured on the cnn, one
// thread: 25 + 25 steps took about 17 % less than 50 in one pass (Python's TorchScript and the
// studio alike; bench/README.md). Occlusion runs forward only: up to kMaxBatchValues.
int passBatch(const ExplainOptions &options, qint64 sampleValues)
{
    if (options.batchSize > 0)
        return options.batchSize;
    if (!needsGradients(options.method))
        return int(std::clamp<qint64>(ExplainOptions::kMaxBatchValues / sampleValues, 1, 256));
    const qint64 samples = options.method == ExplainMethod::IntegratedGradients ? options.steps
                           : options.method == ExplainMethod::SmoothGrad       ? options.samples
                                                                                : 1;
    const qint64 fit = std::max<qint64>(1, ExplainOptions::kGradientBatchValues / sampleValues);
    const qint64 passes = (samples + fit - 1) / fit;
    return int((samples + passes - 1) / passes);
}


constexpr ShapeStyle kShape = ShapeStyle::Compact;

struct MethodName
{
    ExplainMethod method;
    const char *name;
};

constexpr MethodName kMethods[] = {
    {ExplainMethod::IntegratedGradients, "integrated-gradients"},
    {ExplainMethod::Saliency, "saliency"},
    {ExplainMethod::SmoothGrad, "smoothgrad"},
    {ExplainMethod::Occlusion, "occlusion"},
};

int intOf(const QJsonObject &json, const char *key, int fallback)
{
    const QJsonValue v = json.value(QLatin1String(key));
    if (v.isUndefined() || v.isNull())
        return fallback;
    const double d = v.toDouble(std::nan(""));
    if (!v.isDouble() || d != std::floor(d) || std::abs(d) > 1e9)
        throw Error(QStringLiteral("\"%1\" takes a whole number.").arg(QLatin1String(key)));
    return int(d);
}

QString channelsText(qint64 channels)
{
    if (channels == 1)
        return QStringLiteral("1 channel (grey)");
    if (channels == 3)
        return QStringLiteral("3 channels (colour)");
    return QStringLiteral("%1 channels").arg(channels);
}

// One sample's shape of an input given with or without its batch of one.
std::vector<qint64> withoutBatch(const std::vector<qint64> &shape, size_t sampleRank)
{
    if (shape.size() == sampleRank + 1 && !shape.empty() && shape.front() == 1)
        return std::vector<qint64>(shape.begin() + 1, shape.end());
    return shape;
}

void checkFits(const std::vector<qint64> &input, const std::vector<qint64> &model,
               const QString &ref)
{
    if (model.empty() || input == model)
        return;
    if (input.size() == 3 && model.size() == 3) {
        if (input[0] != model[0])
            throw Error(QStringLiteral("The input has %1, but %2 takes %3.")
                            .arg(channelsText(input[0]), ref, channelsText(model[0])));
        throw Error(QStringLiteral("The input is %1x%2 pixels, but %3 takes %4x%5.")
                        .arg(QString::number(input[2]), QString::number(input[1]), ref,
                             QString::number(model[2]), QString::number(model[1])));
    }
    throw Error(QStringLiteral("The input has shape %1, but %2 takes samples of shape %3.")
                    .arg(shapeText(input, kShape), ref, shapeText(model, kShape)));
}

void checkOptions(const ExplainOptions &o)
{
    if (o.method == ExplainMethod::IntegratedGradients
        && (o.steps < 2 || o.steps > ExplainOptions::kMaxSteps))
        throw Error(QStringLiteral("Integrated gradients needs between 2 and %1 steps (the "
                                   "points on the path from the baseline), not %2; 50 is usual.")
                        .arg(QString::number(ExplainOptions::kMaxSteps), QString::number(o.steps)));
    if (o.method == ExplainMethod::SmoothGrad) {
        if (o.samples < 1 || o.samples > ExplainOptions::kMaxSteps)
            throw Error(
                QStringLiteral("SmoothGrad needs between 1 and %1 samples, not %2.")
                    .arg(QString::number(ExplainOptions::kMaxSteps), QString::number(o.samples)));
        if (!(o.noiseLevel >= 0.0 && o.noiseLevel <= 10.0))
            throw Error(QStringLiteral("The noise level is a fraction of the input's range "
                                       "between 0 and 10, not %1.")
                            .arg(o.noiseLevel));
    }
    if (o.method == ExplainMethod::Occlusion && (o.window < 1 || o.stride < 1))
        throw Error(QStringLiteral("Occlusion needs a window and a stride of at least 1 "
                                   "(got window %1, stride %2).")
                        .arg(QString::number(o.window), QString::number(o.stride)));
    if (o.batchSize < 0)
        throw Error(
            QStringLiteral("The batch size is 0 (automatic) or more, not %1.").arg(o.batchSize));
}

} // namespace

QString explainMethodName(ExplainMethod method)
{
    for (const MethodName &m : kMethods) {
        if (m.method == method)
            return QLatin1String(m.name);
    }
    return QString();
}

QStringList explainMethodNames()
{
    QStringList names;
    for (const MethodName &m : kMethods)
        names << QLatin1String(m.name);
    return names;
}

ExplainMethod explainMethodFromName(const QString &name)
{
    for (const MethodName &m : kMethods) {
        if (name == QLatin1String(m.name))
            return m.method;
    }
    throw Error(QStringLiteral("Unknown attribution method \"%1\"; the methods are %2.")
                    .arg(printable(name), explainMethodNames().join(QStringLiteral(", "))));
}

bool needsGradients(ExplainMethod method)
{
    return method != ExplainMethod::Occlusion;
}

QJsonObject ExplainOptions::toJson() const
{
    return {{QStringLiteral("method"), explainMethodName(method)},
            {QStringLiteral("target"), target},
            {QStringLiteral("steps"), steps},
            {QStringLiteral("samples"), samples},
            {QStringLiteral("noise_level"), noiseLevel},
            {QStringLiteral("seed"), QString::number(seed)},
            {QStringLiteral("window"), window},
            {QStringLiteral("stride"), stride}};
}

ExplainOptions ExplainOptions::fromJson(const QJsonObject &json)
{
    ExplainOptions o;
    const QJsonValue method = json.value(QStringLiteral("method"));
    if (!method.isUndefined() && !method.isNull()) {
        if (!method.isString())
            throw Error(QStringLiteral("\"method\" takes a name: %1.")
                            .arg(explainMethodNames().join(QStringLiteral(", "))));
        o.method = explainMethodFromName(method.toString());
    }
    o.target = intOf(json, "target", o.target);
    o.steps = intOf(json, "steps", o.steps);
    o.samples = intOf(json, "samples", o.samples);
    o.window = intOf(json, "window", o.window);
    o.stride = intOf(json, "stride", o.stride);
    const QJsonValue noise = json.value(QStringLiteral("noise_level"));
    if (!noise.isUndefined() && !noise.isNull()) {
        if (!noise.isDouble())
            throw Error(QStringLiteral("\"noise_level\" takes a number."));
        o.noiseLevel = noise.toDouble();
    }
    const QJsonValue seed = json.value(QStringLiteral("seed"));
    if (seed.isString() || seed.isDouble()) {
        bool ok = seed.isDouble();
        o.seed = seed.isDouble() ? quint64(std::max(0.0, seed.toDouble()))
                                 : seed.toString().toULongLong(&ok);
        if (!ok)
            throw Error(QStringLiteral("\"seed\" takes a whole number."));
    }
    return o;
}

int Explanation::predicted() const
{
    if (logits.empty())
        return -1;
    return int(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

QJsonObject Explanation::toJson() const
{
    QJsonArray probs;
    for (float p : probabilities)
        probs.append(double(p));
    QJsonArray dims;
    for (qint64 d : shape)
        dims.append(d);
    QJsonArray values;
    for (float a : attributions)
        values.append(double(a));
    return {{QStringLiteral("version"), version},
            {QStringLiteral("method"), method},
            {QStringLiteral("target"), target},
            {QStringLiteral("predicted"), predicted()},
            {QStringLiteral("probabilities"), probs},
            {QStringLiteral("shape"), dims},
            {QStringLiteral("attributions"), values},
            {QStringLiteral("completeness_gap"),
             std::isnan(completenessGap) ? QJsonValue() : QJsonValue(completenessGap)},
            {QStringLiteral("output_delta"),
             std::isnan(outputDelta) ? QJsonValue() : QJsonValue(outputDelta)},
            {QStringLiteral("evaluations"), evaluations}};
}

Explainer::Explainer(Model model, QString ref, std::vector<qint64> sampleShape, int classes)
    : m_model(std::move(model))
    , m_ref(std::move(ref))
    , m_sampleShape(std::move(sampleShape))
    , m_classes(classes)
{
    if (m_sampleShape.empty())
        m_sampleShape = m_model.inputShape();
    if (m_classes <= 0)
        m_classes = int(m_model.classNames().size());
}

Explainer Explainer::open(const Registry &registry, const VersionRecord &version)
{
    Model model = Model::load(registry.verifiedArtifactPath(version));
    std::vector<qint64> shape = model.inputShape();
    if (shape.empty() && !version.inputs.isEmpty() && version.inputs.first().shape.size() > 1) {
        const std::vector<qint64> &signature = version.inputs.first().shape;
        shape.assign(signature.begin() + 1, signature.end());
        if (!std::all_of(shape.begin(), shape.end(), [](qint64 d) { return d > 0; }))
            shape.clear();
    }
    int classes = 0;
    if (!version.outputs.isEmpty() && version.outputs.first().shape.size() == 2)
        classes = int(version.outputs.first().shape.back());
    if (classes <= 0)
        classes = int(version.classNames.size());
    return Explainer(std::move(model), version.ref(), std::move(shape), classes);
}

bool Explainer::hasGradients() const
{
    return m_model.quantizedEngine().isEmpty();
}

std::vector<qint64> Explainer::sampleOf(const std::vector<qint64> &inputShape) const
{
    // With the model's sample shape unknown, a leading 1 could be a channel as well as a batch:
    // the input is taken as one sample as it is.
    return m_sampleShape.empty() ? inputShape : withoutBatch(inputShape, m_sampleShape.size());
}

void Explainer::check(const std::vector<qint64> &inputShape, const ExplainOptions &options) const
{
    if (m_model.task() == QLatin1String("lm"))
        throw Error(QStringLiteral("%1 is a language model; attribution maps explain "
                                   "classifiers.")
                        .arg(m_ref));
    if (needsGradients(options.method) && !hasGradients())
        throw Error(explain::noGradientMessage(m_ref, explainMethodName(options.method)));
    checkOptions(options);
    if (options.target < -1 || (m_classes > 0 && options.target >= m_classes))
        throw Error(
            QStringLiteral("The target class %1 is out of range: %2 has classes 0 to "
                           "%3.")
                .arg(QString::number(options.target), m_ref, QString::number(m_classes - 1)));
    const std::vector<qint64> sample = sampleOf(inputShape);
    if (sample.empty()
        || std::any_of(sample.begin(), sample.end(), [](qint64 d) { return d <= 0; }))
        throw Error(QStringLiteral("The input has no values (shape %1).")
                        .arg(shapeText(inputShape, kShape)));
    checkFits(sample, m_sampleShape, m_ref);
}

Explanation Explainer::explain(const std::vector<float> &input,
                               const std::vector<qint64> &inputShape, const ExplainOptions &options,
                               const std::function<bool()> &cancelled) const
{
    check(inputShape, options);
    const std::vector<qint64> sample = sampleOf(inputShape);
    qint64 size = 1;
    for (qint64 d : sample)
        size *= d;
    if (size != qint64(input.size()))
        throw Error(QStringLiteral("The input has %1 values but its shape %2 needs %3.")
                        .arg(QString::number(input.size()), shapeText(sample, kShape),
                             QString::number(size)));

    Explanation out;
    out.version = m_ref;
    out.method = explainMethodName(options.method);
    out.shape = sample;
    std::vector<qint64> batchShape{1};
    batchShape.insert(batchShape.end(), sample.begin(), sample.end());
    out.logits = logits(input, batchShape);
    const int classes = int(out.logits.size());
    out.probabilities = softmaxRows(out.logits, classes);
    out.target = options.target >= 0 ? options.target : out.predicted();
    if (out.target >= classes)
        throw Error(QStringLiteral("The target class %1 is out of range: %2 has classes 0 to "
                                   "%3.")
                        .arg(QString::number(out.target), m_ref, QString::number(classes - 1)));

    const int batch = passBatch(options, size);
    const explain::Work work{m_model, input, sample, options, out.target, batch, cancelled, m_ref};
    switch (options.method) {
    case ExplainMethod::IntegratedGradients:
        explain::integratedGradients(work, out);
        break;
    case ExplainMethod::Saliency:
        explain::saliency(work, out);
        break;
    case ExplainMethod::SmoothGrad:
        explain::smoothGrad(work, out);
        break;
    case ExplainMethod::Occlusion:
        explain::occlusion(work, out);
        break;
    }
    out.evaluations += 1; // the forward pass for the prediction
    return out;
}

std::vector<float> Explainer::logits(const std::vector<float> &input,
                                     const std::vector<qint64> &shape) const
{
    std::vector<qint64> outputShape;
    std::vector<float> result = m_model.predict(input, shape, &outputShape);
    if (outputShape.size() != 2 || outputShape[0] != shape.front())
        throw Error(
            QStringLiteral("%1 returns shape %2 for a batch of %3: attribution maps "
                           "explain classifiers (one row of scores per sample).")
                .arg(m_ref, shapeText(outputShape, kShape), QString::number(shape.front())));
    return result;
}

std::vector<float> softmaxRows(const std::vector<float> &logits, int classes)
{
    std::vector<float> out(logits.size());
    if (classes <= 0)
        return out;
    for (size_t row = 0; row + size_t(classes) <= logits.size(); row += size_t(classes)) {
        const float top =
            *std::max_element(logits.begin() + qint64(row), logits.begin() + qint64(row) + classes);
        double sum = 0.0;
        for (int c = 0; c < classes; ++c)
            sum += std::exp(double(logits[row + size_t(c)] - top));
        for (int c = 0; c < classes; ++c)
            out[row + size_t(c)] = float(std::exp(double(logits[row + size_t(c)] - top)) / sum);
    }
    return out;
}

} // namespace ms
