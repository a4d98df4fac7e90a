// quantize-static: post-training int8 of a model built from a studio spec. The spec's layer plan
// is walked into fused stages (Conv2d/Linear with a following BatchNorm folded into the weights
// and a following ReLU fused into the op), the fp32 stages run over a calibration set taken from
// the training split while observers record the range of every activation that gets its own
// quantization parameters, and a new TorchScript module is compiled: quantize at the input,
// quantized::conv2d(_relu) / quantized::linear(_relu) with per-channel int8 weights packed as
// attributes, max/avg pooling and flatten on the quantized tensors, dequantize at the output.
// Layers without an int8 kernel here (GELU, a BatchNorm that follows no conv/linear) run in fp32
// between a dequantize and a quantize with observed parameters.

#include "compress/QuantizeMethods_p.h"

#include "common/Error.h"
#include "compress/QuantizeGraph_p.h"
#include "compress/Quantization_p.h"
#include "jobs/JobContext.h"
#include "models/ArchSpec.h"
#include "models/ModelImpl_p.h"

#include <ATen/CPUGeneratorImpl.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>

#include <cmath>
#include <limits>

namespace ms {

namespace {

constexpr int kHistogramBins = 2048;

// The range one activation takes over the calibration set. "minmax" keeps the extremes;
// "histogram" clips both tails at a percentile of a 2048-bin histogram over that range, so a
// few outliers do not spend the 256 levels on values almost never seen.
struct Observer
{
    double min = std::numeric_limits<double>::infinity();
    double max = -std::numeric_limits<double>::infinity();
    at::Tensor histogram;

    void observeRange(const at::Tensor &x)
    {
        min = std::min(min, x.min().item<double>());
        max = std::max(max, x.max().item<double>());
    }
    void observeHistogram(const at::Tensor &x)
    {
        if (!(max > min))
            return;
        const at::Tensor h = at::histc(x.to(at::kFloat), kHistogramBins, min, max).to(at::kDouble);
        histogram = histogram.defined() ? histogram + h : h;
    }
    std::pair<double, double> range(bool percentile, double percent) const
    {
        if (!percentile || !histogram.defined())
            return {min, max};
        const at::Tensor cumulative = histogram.cumsum(0);
        const double total = cumulative[-1].item<double>();
        const double width = (max - min) / kHistogramBins;
        const auto *c = cumulative.data_ptr<double>();
        const double tail = total * (1.0 - percent / 100.0);
        int lowBin = 0;
        while (lowBin < kHistogramBins - 1 && c[lowBin] <= tail)
            ++lowBin;
        int highBin = kHistogramBins - 1;
        while (highBin > 0 && c[highBin - 1] >= total - tail)
            --highBin;
        return {min + lowBin * width, min + (highBin + 1) * width};
    }
};

struct QParams
{
    double scale = 1.0;
    int64_t zeroPoint = 0;
};

// Asymmetric quint8 over [lo, hi] widened to hold 0 (PyTorch's affine activation scheme);
// `reduceRange` uses 7 bits, which keeps oneDNN's int16 accumulation on CPUs without VNNI from
// saturating.
QParams qparamsFor(double lo, double hi, bool reduceRange)
{
    lo = std::min(lo, 0.0);
    hi = std::max(hi, 0.0);
    const double qmax = reduceRange ? 127.0 : 255.0;
    QParams q;
    q.scale = std::max((hi - lo) / qmax, 1e-8);
    q.zeroPoint = int64_t(std::clamp(std::nearbyint(-lo / q.scale), 0.0, qmax));
    return q;
}

// One step of the quantized forward.
struct Stage
{
    enum class Kind { Conv, Linear, Relu, MaxPool, AvgPool, Flatten, Gelu, Affine };
    Kind kind = Kind::Relu;
    QString label;                   // "conv2d0+batchnorm1+relu2"
    std::string attr;                // packed params / affine buffers prefix
    at::Tensor weight, bias;         // folded fp32 (Conv, Linear); scale/shift (Affine)
    bool relu = false;
    std::vector<int64_t> kernel, stride, padding;
    int point = -1;                  // index of the observer of its output, -1: inherits

    bool requantizes() const { return point >= 0; }
};

at::Tensor runFloat(const Stage &s, const at::Tensor &x)
{
    switch (s.kind) {
    case Stage::Kind::Conv: {
        at::Tensor y = at::conv2d(x, s.weight, s.bias, s.stride, s.padding);
        return s.relu ? at::relu(y) : y;
    }
    case Stage::Kind::Linear: {
        at::Tensor y = at::linear(x, s.weight, s.bias);
        return s.relu ? at::relu(y) : y;
    }
    case Stage::Kind::Relu: return at::relu(x);
    case Stage::Kind::MaxPool: return at::max_pool2d(x, s.kernel, s.stride, s.padding);
    case Stage::Kind::AvgPool: return at::avg_pool2d(x, s.kernel, s.stride, s.padding);
    case Stage::Kind::Flatten: return x.flatten(1);
    case Stage::Kind::Gelu: return at::gelu(x);
    case Stage::Kind::Affine: return x * s.weight + s.bias;
    }
    return x;
}

std::string literal(double v)
{
    std::string s = QString::number(v, 'g', 17).toStdString();
    if (s.find_first_of(".eEn") == std::string::npos)
        s += ".0";
    return s;
}

std::string intList(const std::vector<int64_t> &v)
{
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i)
        s += (i ? ", " : "") + std::to_string(v[i]);
    return s + "]";
}

std::vector<int64_t> pair(const qint64 v[2])
{
    return {v[0], v[1]};
}

at::Tensor tensorAttr(const torch::jit::Module &m, const char *name)
{
    return m.attr(name).toTensor().detach().clone();
}

// BatchNorm in eval mode as a per-channel scale and shift.
std::pair<at::Tensor, at::Tensor> batchnormAffine(const torch::jit::Module &bn, double eps)
{
    const at::Tensor scale =
        tensorAttr(bn, "weight") / at::sqrt(tensorAttr(bn, "running_var") + eps);
    const at::Tensor shift = tensorAttr(bn, "bias") - tensorAttr(bn, "running_mean") * scale;
    return {scale, shift};
}

// The submodule holding a weighted layer's tensors, or a message saying why it is not there.
torch::jit::Module layerModule(const torch::jit::Module &net, const LayerPlan &layer)
{
    const std::string name = layer.name.toStdString();
    if (!net.hasattr(name) || !net.attr(name).isModule())
        throw Error(QStringLiteral("its module has no submodule \"%1\" for layer %2 of its spec "
                                   "(is it already compressed into another form?)")
                        .arg(layer.name, QString::number(layer.index)));
    return net.attr(name).toModule();
}

struct StaticPlan
{
    std::vector<Stage> stages;
    int points = 1;   // observer 0 is the normalised input
};

StaticPlan planStages(const ArchSpec &spec, const torch::jit::Module &net)
{
    const std::vector<LayerPlan> plan = spec.plan();
    StaticPlan out;
    for (size_t i = 0; i < plan.size(); ++i) {
        const LayerPlan &layer = plan[i];
        Stage s;
        s.label = layer.name;
        s.attr = layer.name.toStdString();
        const QString &t = layer.type;
        if (t == QLatin1String("conv2d") || t == QLatin1String("linear")) {
            const bool conv = t == QLatin1String("conv2d");
            const torch::jit::Module m = layerModule(net, layer);
            s.kind = conv ? Stage::Kind::Conv : Stage::Kind::Linear;
            s.weight = tensorAttr(m, "weight");
            s.bias = layer.bias ? tensorAttr(m, "bias") : at::zeros({layer.out}, at::kFloat);
            const qint64 expectIn = layer.inputShape[0];
            if (s.weight.size(0) != layer.out || s.weight.size(1) != expectIn)
                throw Error(QStringLiteral("the weights of %1 (%2) do not match its spec")
                                .arg(layer.name,
                                     QString::fromStdString(c10::str(s.weight.sizes()))));
            if (conv) {
                s.stride = pair(layer.stride);
                s.padding = pair(layer.padding);
            }
            if (i + 1 < plan.size() && plan[i + 1].type == QLatin1String("batchnorm")) {
                const LayerPlan &bnLayer = plan[++i];
                const auto [scale, shift] = batchnormAffine(layerModule(net, bnLayer), bnLayer.eps);
                std::vector<int64_t> shape(size_t(s.weight.dim()), 1);
                shape[0] = -1;
                s.weight = s.weight * scale.reshape(shape);
                s.bias = s.bias * scale + shift;
                s.label += QLatin1Char('+') + bnLayer.name;
            }
            if (i + 1 < plan.size() && plan[i + 1].type == QLatin1String("relu")) {
                s.relu = true;
                s.label += QLatin1Char('+') + plan[++i].name;
            }
            s.point = out.points++;
        } else if (t == QLatin1String("batchnorm")) {
            const auto [scale, shift] = batchnormAffine(layerModule(net, layer), layer.eps);
            std::vector<int64_t> shape(layer.inputShape.size(), 1);
            shape[0] = -1;
            s.kind = Stage::Kind::Affine;
            s.weight = scale.reshape(shape);
            s.bias = shift.reshape(shape);
            s.point = out.points++;
        } else if (t == QLatin1String("relu")) {
            s.kind = Stage::Kind::Relu;
        } else if (t == QLatin1String("gelu")) {
            s.kind = Stage::Kind::Gelu;
            s.point = out.points++;
        } else if (t == QLatin1String("maxpool2d") || t == QLatin1String("avgpool2d")) {
            s.kind = t == QLatin1String("maxpool2d") ? Stage::Kind::MaxPool : Stage::Kind::AvgPool;
            s.kernel = pair(layer.kernel);
            s.stride = pair(layer.stride);
            s.padding = pair(layer.padding);
        } else if (t == QLatin1String("flatten")) {
            s.kind = Stage::Kind::Flatten;
        } else if (t == QLatin1String("dropout")) {
            continue;   // the identity at inference
        } else {
            throw Error(QStringLiteral("layer %1 is of type \"%2\", which static int8 does not "
                                       "handle").arg(layer.index).arg(t));
        }
        out.stages.push_back(std::move(s));
    }
    return out;
}

// The quantized module for the engine in effect (weights are packed for it).
torch::jit::Module buildQuantized(const torch::jit::Module &source, const StaticPlan &plan,
                                  const std::vector<QParams> &q)
{
    torch::jit::Module m("ModelStudioNet");
    m.register_attribute("training", c10::BoolType::get(), false);
    for (const char *name : {"input_mean", "input_std"})
        m.register_buffer(name, source.attr(name).toTensor().detach().clone());
    for (const char *name : {"class_names", "input_shape", "spec_json"})
        m.register_attribute(name, source.attr(name).type(), source.attr(name));

    std::string forward = "def forward(self, x):\n"
                          "    x = (x - self.input_mean) / self.input_std\n"
                          "    x = torch.quantize_per_tensor(x, " + literal(q[0].scale) + ", "
                          + std::to_string(q[0].zeroPoint) + ", 13)\n";   // 13: torch.quint8
    for (const Stage &s : plan.stages) {
        const std::string out = s.requantizes() ? literal(q[size_t(s.point)].scale) + ", "
                                                      + std::to_string(q[size_t(s.point)].zeroPoint)
                                                : std::string();
        switch (s.kind) {
        case Stage::Kind::Conv:
        case Stage::Kind::Linear: {
            const bool conv = s.kind == Stage::Kind::Conv;
            const at::Tensor qweight = quant::quantizeWeightPerChannel(s.weight);
            const std::string attr = s.attr + "_packed";
            if (conv)
                m.register_attribute(attr, quant::convPackedType(),
                                     quant::prepackConv(qweight, s.bias, s.stride, s.padding));
            else
                m.register_attribute(attr, quant::linearPackedType(),
                                     quant::prepackLinear(qweight, s.bias));
            const std::string op = std::string(conv ? "quantized.conv2d" : "quantized.linear")
                                   + (s.relu ? "_relu" : "");
            forward += "    x = " + op + "(x, self." + attr + ", " + out + ")\n";
            break;
        }
        case Stage::Kind::Relu: forward += "    x = torch.relu(x)\n"; break;
        case Stage::Kind::MaxPool:
        case Stage::Kind::AvgPool:
            forward += std::string("    x = ")
                       + (s.kind == Stage::Kind::MaxPool ? "torch.max_pool2d" : "torch.avg_pool2d")
                       + "(x, " + intList(s.kernel) + ", " + intList(s.stride) + ", "
                       + intList(s.padding) + ")\n";
            break;
        case Stage::Kind::Flatten: forward += "    x = torch.flatten(x, 1)\n"; break;
        case Stage::Kind::Gelu:
            forward += "    x = torch.quantize_per_tensor(torch.gelu(torch.dequantize(x)), " + out
                       + ", 13)\n";
            break;
        case Stage::Kind::Affine:
            m.register_buffer(s.attr + "_scale", s.weight);
            m.register_buffer(s.attr + "_shift", s.bias);
            forward += "    x = torch.quantize_per_tensor(torch.dequantize(x) * self." + s.attr
                       + "_scale + self." + s.attr + "_shift, " + out + ", 13)\n";
            break;
        }
    }
    forward += "    return torch.dequantize(x)\n";
    m.define(forward, quant::quantizedResolver());
    return m;
}

// The spec path for --path spec, and for auto when the model was built from a studio spec
// (bench/README.md compares the two paths on the studio's models) and no layer is to stay
// float (--keep-float is the graph path's); the graph path otherwise.
bool keepsFloat(const QJsonObject &params)
{
    return !quantgraph::keepFloatPaths(params.value(QStringLiteral("keep-float")).toString())
                .isEmpty();
}

bool usesSpec(const Model &model, const QJsonObject &params)
{
    const QString path = params.value(QStringLiteral("path")).toString(QStringLiteral("auto"));
    return path == QLatin1String("spec")
           || (path == QLatin1String("auto") && !model.spec().isEmpty() && !keepsFloat(params));
}

class QuantizeStatic final : public CompressionMethod
{
public:
    QString name() const override { return QStringLiteral("quantize-static"); }
    QString description() const override
    {
        return QStringLiteral("Int8 convolutions and linears with calibrated activations "
                              "(per-channel weights, Conv+ReLU fused, BatchNorm folded); any "
                              "TorchScript CNN through LibTorch's graph-mode passes");
    }
    QList<CompressParameter> parameters() const override
    {
        CompressParameter batches;
        batches.name = QStringLiteral("calibration-batches");
        batches.type = CompressParameter::Type::Int;
        batches.defaultValue = 10;
        batches.minimum = 1;
        batches.maximum = 100000;
        batches.help = QStringLiteral("Batches of training data the observers see");
        CompressParameter batchSize;
        batchSize.name = QStringLiteral("calibration-batch-size");
        batchSize.type = CompressParameter::Type::Int;
        batchSize.defaultValue = 32;
        batchSize.minimum = 1;
        batchSize.maximum = 4096;
        batchSize.help = QStringLiteral("Samples per calibration batch");
        CompressParameter observer;
        observer.name = QStringLiteral("observer");
        observer.type = CompressParameter::Type::Choice;
        observer.defaultValue = QStringLiteral("histogram");
        observer.choices = {QStringLiteral("histogram"), QStringLiteral("minmax")};
        observer.help = QStringLiteral("Activation ranges: histogram clips both tails at "
                                       "--percentile, minmax keeps the extremes");
        CompressParameter percentile;
        percentile.name = QStringLiteral("percentile");
        percentile.type = CompressParameter::Type::Double;
        percentile.defaultValue = 99.99;
        percentile.minimum = 90.0;
        percentile.maximum = 100.0;
        percentile.help = QStringLiteral("Histogram observer: the percentile each tail is "
                                         "clipped at");
        CompressParameter path;
        path.name = QStringLiteral("path");
        path.type = CompressParameter::Type::Choice;
        path.defaultValue = QStringLiteral("auto");
        path.choices = {QStringLiteral("auto"), QStringLiteral("spec"), QStringLiteral("graph")};
        path.help = QStringLiteral("spec: the studio's layer plan (studio-built models); graph: "
                                   "LibTorch's graph-mode passes (any TorchScript CNN); auto: "
                                   "spec where the model has one");
        CompressParameter keepFloat;
        keepFloat.name = QStringLiteral("keep-float");
        keepFloat.type = CompressParameter::Type::Text;
        keepFloat.defaultValue = QString();
        keepFloat.help = QStringLiteral("Submodules left in float, comma-separated (e.g. "
                                        "features.0): the layers whose int8 error costs most, "
                                        "often the first convolution; graph path (default "
                                        "none)");
        return {batches, batchSize, observer, percentile, quant::engineParameter(), path,
                keepFloat};
    }

    void check(const Model &source, const VersionRecord &record,
               const QJsonObject &params) const override
    {
        const QString ref = record.ref().isEmpty() ? QStringLiteral("The model") : record.ref();
        if (params.value(QStringLiteral("calibration-batches")).toInt(10) < 1)
            throw Error(QStringLiteral("A calibration set of 0 batches gives the observers "
                                       "nothing to measure; use --calibration-batches 1 or more."));
        if (params.value(QStringLiteral("calibration-batch-size")).toInt(32) < 1)
            throw Error(QStringLiteral("A calibration batch needs at least one sample; use "
                                       "--calibration-batch-size 1 or more."));
        const QString observer = params.value(QStringLiteral("observer")).toString(
            QStringLiteral("histogram"));
        if (observer != QLatin1String("histogram") && observer != QLatin1String("minmax"))
            throw Error(QStringLiteral("Unknown observer \"%1\"; use histogram or minmax.")
                            .arg(observer));
        quant::checkEngine(params.value(QStringLiteral("engine")).toString(QStringLiteral("auto")));
        if (!source.quantizedEngine().isEmpty())
            throw Error(QStringLiteral("%1 is already int8 (quantized for %2); quantize its "
                                       "fp32 source instead.").arg(ref, source.quantizedEngine()));
        if (!usesSpec(source, params)) {
            quantgraph::checkGraph(source, ref);
            quantgraph::checkKeepFloat(source, ref,
                                       params.value(QStringLiteral("keep-float")).toString());
            return;
        }
        if (keepsFloat(params))
            throw Error(QStringLiteral("--keep-float leaves submodules in float through "
                                       "LibTorch's graph passes; use it with --path graph or "
                                       "auto, not spec."));
        if (source.spec().isEmpty())
            throw Error(QStringLiteral("%1 was not built from a studio spec (an imported "
                                       "TorchScript module), so --path spec has no layer plan to "
                                       "work from; use --path graph or auto.").arg(ref));
        try {
            planStages(ArchSpec::fromJson(source.spec()), source.impl()->module);
        } catch (const Error &e) {
            throw Error(QStringLiteral("%1 cannot be quantized statically: %2")
                            .arg(ref, e.message()));
        }
    }

    bool needsLabels() const override { return false; }

    void checkData(CompressInput &input, JobContext &context) const override
    {
        if (!usesSpec(input.model, input.params))
            quantgraph::checkData(input, context);
    }

    CompressOutput apply(CompressInput &input, JobContext &context) const override
    {
        if (!usesSpec(input.model, input.params))
            return quantgraph::apply(input, context);
        context.log(QStringLiteral("static int8 through the studio's layer plan (spec path)"));
        const int batches = input.params.value(QStringLiteral("calibration-batches")).toInt(10);
        const int batchSize =
            input.params.value(QStringLiteral("calibration-batch-size")).toInt(32);
        const bool percentile = input.params.value(QStringLiteral("observer")).toString(
                                    QStringLiteral("histogram")) == QLatin1String("histogram");
        const double percent = input.params.value(QStringLiteral("percentile")).toDouble(99.99);
        const QString engineParam =
            input.params.value(QStringLiteral("engine")).toString(QStringLiteral("auto"));
        const torch::jit::Module &source = input.model.impl()->module;
        const StaticPlan plan = planStages(ArchSpec::fromJson(input.model.spec()), source);

        // --- the calibration set: a seeded sample of the training split ---
        const Dataset &data = input.dataset();
        const qint64 wanted = qint64(batches) * batchSize;
        const qint64 count = std::min(wanted, data.train.count());
        if (count < 1)
            throw Error(QStringLiteral("The dataset %1 has no training samples to calibrate with.")
                            .arg(data.name));
        std::vector<int64_t> shape{data.train.count()};
        shape.insert(shape.end(), data.sampleShape.begin(), data.sampleShape.end());
        const at::Tensor all = at::from_blob(const_cast<float *>(data.train.features.data()),
                                             shape, at::kFloat);
        at::Generator gen = at::detail::createCPUGenerator(0);
        const at::Tensor picked = all.index_select(
            0, at::randperm(data.train.count(), gen, at::kLong).slice(0, 0, count));
        const at::Tensor mean = source.attr("input_mean").toTensor();
        const at::Tensor stdev = source.attr("input_std").toTensor();

        // --- calibration: pass 1 ranges, pass 2 histograms (histogram observer only) ---
        std::vector<Observer> observers(size_t(plan.points));
        const int passes = percentile ? 2 : 1;
        {
            c10::InferenceMode inference;
            for (int pass = 0; pass < passes; ++pass) {
                for (qint64 start = 0; start < count; start += batchSize) {
                    if (!context.checkPoint())
                        return CompressOutput();
                    at::Tensor x = (picked.slice(0, start, std::min(count, start + batchSize))
                                    - mean) / stdev;
                    auto observe = [&](int point, const at::Tensor &t) {
                        if (pass == 0)
                            observers[size_t(point)].observeRange(t);
                        else
                            observers[size_t(point)].observeHistogram(t);
                    };
                    observe(0, x);
                    for (const Stage &s : plan.stages) {
                        x = runFloat(s, x);
                        if (s.requantizes())
                            observe(s.point, x);
                    }
                    context.setProgress(0.05 + 0.6 * (pass * count + start + batchSize)
                                                   / double(passes * count),
                                        QStringLiteral("Calibrating"));
                }
            }
        }

        QJsonObject details;
        QJsonArray fused;
        for (const Stage &s : plan.stages)
            fused.append(s.label);
        auto build = [&]() {
            // 7-bit activations on oneDNN without VNNI (see qparamsFor).
            const bool reduce = at::globalContext().qEngine() == at::QEngine::ONEDNN
                                && !quant::cpuHasVnni();
            std::vector<QParams> q;
            for (const Observer &o : observers) {
                const auto [lo, hi] = o.range(percentile, percent);
                q.push_back(qparamsFor(lo, hi, reduce));
            }
            return buildQuantized(source, plan, q);
        };
        context.setProgress(0.7, QStringLiteral("Packing int8 weights"));
        QString engine;
        const at::Tensor timing = picked.slice(0, 0, std::min<qint64>(count, 32));
        torch::jit::Module variant = quant::buildForEngine(engineParam, build, timing, details,
                                                           &engine);
        if (context.isCancelled())
            return CompressOutput();
        variant.register_attribute("quantized_engine", c10::StringType::get(),
                                   engine.toStdString());
        const bool reduce = engine == QLatin1String("onednn") && !quant::cpuHasVnni();
        QJsonArray points;
        for (const Observer &o : observers) {
            const auto [lo, hi] = o.range(percentile, percent);
            const QParams qp = qparamsFor(lo, hi, reduce);
            points.append(QJsonObject{{QStringLiteral("min"), o.min},
                                      {QStringLiteral("max"), o.max},
                                      {QStringLiteral("scale"), qp.scale},
                                      {QStringLiteral("zero_point"), qint64(qp.zeroPoint)}});
        }
        details.insert(QStringLiteral("path"), QStringLiteral("spec"));
        details.insert(QStringLiteral("scheme"),
                       QStringLiteral("static int8: per-channel symmetric qint8 weights, quint8 "
                                      "activations calibrated per layer"));
        details.insert(QStringLiteral("observer"), percentile ? QStringLiteral("histogram")
                                                              : QStringLiteral("minmax"));
        if (percentile)
            details.insert(QStringLiteral("percentile"), percent);
        details.insert(QStringLiteral("calibration_samples"), count);
        details.insert(QStringLiteral("reduce_range"), reduce);
        details.insert(QStringLiteral("stages"), fused);
        details.insert(QStringLiteral("activations"), points);

        context.setProgress(1.0, QStringLiteral("Quantized for %1").arg(engine));
        return quant::quantizedOutput(variant, details, engine);
    }
};

} // namespace

std::shared_ptr<CompressionMethod> makeQuantizeStatic()
{
    return std::make_shared<QuantizeStatic>();
}

} // namespace ms
