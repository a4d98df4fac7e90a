// quantize-static, "graph" path: post-training static int8 of any TorchScript CNN with
// LibTorch's own graph-mode passes, in the order Python's quantize_jit runs them
// (torch/ao/quantization/quantize_jit.py): FoldConvBatchNorm, InsertObservers with our
// TorchScript observers, calibration, InsertQuantDeQuant, Finalize (fuses conv+relu and
// add+relu, freezes, folds the weight prepacking into packed attributes), then constant
// propagation and dead-code elimination of the forward. Nothing here knows a layer type: the
// passes find the convolutions, linears, adds and activations in the graph, which is why this
// path takes an imported torchvision model, a wrapper that normalises its input before calling
// one, or a studio model alike. Checked on this stack to equal Python's quantize_jit with the
// same observers bit for bit (shared/notes/engine-probes.md).

#include "compress/QuantizeGraph_p.h"

#include "common/Cancelled.h"
#include "common/Error.h"
#include "common/Excerpt.h"
#include "compress/QuantizeGraphSupport_p.h"
#include "compress/Quantization_p.h"
#include "data/Dataset.h"
#include "jobs/JobContext.h"
#include "models/ModelImpl_p.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/fold_conv_bn.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/passes/quantization/finalize.h>
#include <torch/csrc/jit/passes/quantization/insert_observers.h>
#include <torch/csrc/jit/passes/quantization/insert_quant_dequant.h>

#include <QElapsedTimer>
#include <QJsonArray>
#include <QMap>
#include <QRegularExpression>
#include <QSet>

#include <algorithm>
#include <any>
#include <cmath>

namespace ms::quantgraph {

namespace {

const char *const kPasses = "FoldConvBatchNorm, InsertObservers, calibration, "
                            "InsertQuantDeQuant, Finalize";
const char *const kStudioAttributes[] = {"class_names", "input_shape", "spec_json",
                                         "input_mean", "input_std"};
const char *const kAlternatives = "quantize-dynamic (its Linear layers) or fp16 can still make "
                                  "a variant of it";

struct Settings
{
    qint64 samples = 320;
    int batchSize = 32;
    bool histogram = true;
    double percentile = 99.99;
    QString engine = QStringLiteral("auto");
    QStringList keepFloat;   // submodule paths InsertObservers leaves alone (float)
};

} // namespace

QStringList keepFloatPaths(const QString &text)
{
    QStringList paths;
    for (const QString &part : text.split(QLatin1Char(',')))
        if (!part.trimmed().isEmpty())
            paths << part.trimmed();
    return paths;
}

namespace {

Settings settingsOf(const QJsonObject &params)
{
    Settings s;
    s.batchSize = params.value(QStringLiteral("calibration-batch-size")).toInt(32);
    s.samples = qint64(params.value(QStringLiteral("calibration-batches")).toInt(10))
                * s.batchSize;
    s.histogram = params.value(QStringLiteral("observer")).toString(QStringLiteral("histogram"))
                  == QLatin1String("histogram");
    s.percentile = params.value(QStringLiteral("percentile")).toDouble(99.99);
    s.engine = params.value(QStringLiteral("engine")).toString(QStringLiteral("auto"));
    s.keepFloat = keepFloatPaths(params.value(QStringLiteral("keep-float")).toString());
    return s;
}

// What checkData leaves for apply (CompressInput::prepared).
struct Prepared
{
    torch::jit::Module calibrated;             // observers hold the calibration's statistics
    qint64 samples = 0;
    double calibrate_s = 0.0;
    double trial_s = 0.0;
    at::Tensor timing;                         // up to 32 calibration samples
    at::Tensor agreementSet;                   // up to 128 calibration samples
    at::Tensor reference;                      // the fp32 model's output on them
    int clipped = 0;                           // observers narrowed to a ReLU6's bounds
    QMap<QString, torch::jit::Module> converted;   // by engine: the trial run's result
};

// The convolutions and linears the passes quantize, and the ops they are known to fail on in
// LibTorch 1.13 (checked with Python's quantize_jit, which runs the same passes).
bool isQuantizable(const std::string &kind)
{
    return kind == "aten::conv1d" || kind == "aten::conv2d" || kind == "aten::conv3d"
           || kind == "aten::linear" || kind == "aten::_convolution";
}

// The op family and why the passes fail on it, or empty.
std::pair<QString, QString> knownFailure(const std::string &kind)
{
    if (kind.rfind("aten::conv_transpose", 0) == 0)
        return {QStringLiteral("a transposed convolution (aten::conv_transpose*)"),
                QStringLiteral("the passes cannot pack its int8 weights "
                               "(quantized::conv_transpose2d_prepack fails)")};
    if (kind.rfind("aten::upsample_nearest", 0) == 0)
        return {QStringLiteral("nearest-neighbour upsampling (aten::upsample_nearest*)"),
                QStringLiteral("the passes rewrite it into a call that fails on quantized "
                               "tensors (bilinear upsampling works)")};
    return {};
}

QString stepFailure(const char *step, const torch::jit::Module &source, const std::exception &e)
{
    // Name the node of the source the failing op came from: the converted graph's op shares
    // its stem ("quantized::conv_transpose2d_prepack" -> aten::conv_transpose2d).
    QString op = failingOp(e);
    QString where;
    if (!op.isEmpty()) {
        QString stem = op.section(QStringLiteral("::"), 1);
        for (const char *suffix : {"_prepack", "_unpack"})
            stem.remove(QLatin1String(suffix));
        stem.remove(QRegularExpression(QStringLiteral("\\d+d$")));
        walk(source, [&](const NodeSite &site) {
            const QString kind = QString::fromStdString(site.node->kind().toQualString());
            if (where.isEmpty() && kind.startsWith(QLatin1String("aten::") + stem))
                where = describeNode(site);
        });
    }
    return QStringLiteral("LibTorch's graph-mode int8 passes fail on %1 (in %2: %3). Static "
                          "int8 cannot handle this graph; %4.")
        .arg(!where.isEmpty() ? where : !op.isEmpty() ? op : QStringLiteral("this model"),
             QString::fromLatin1(step), firstLine(e), QString::fromLatin1(kAlternatives));
}

template <typename F>
auto runStep(const char *step, const torch::jit::Module &source, F &&f) -> decltype(f())
{
    try {
        return f();
    } catch (const Error &) {
        throw;
    } catch (const std::exception &e) {
        throw Error(stepFailure(step, source, e));
    }
}

// The calibration set: a seeded draw of `wanted` training samples (the spec path's draw).
at::Tensor calibrationSet(const Dataset &data, qint64 wanted, at::Tensor *indices)
{
    const qint64 count = std::min(wanted, data.train.count());
    if (count < 1)
        throw Error(QStringLiteral("The dataset %1 has no training samples to calibrate with.")
                        .arg(data.name));
    std::vector<int64_t> shape{data.train.count()};
    shape.insert(shape.end(), data.sampleShape.begin(), data.sampleShape.end());
    const at::Tensor all = at::from_blob(const_cast<float *>(data.train.features.data()), shape,
                                         at::kFloat);
    at::Generator gen = at::detail::createCPUGenerator(0);
    *indices = at::randperm(data.train.count(), gen, at::kLong).slice(0, 0, count);
    return all.index_select(0, *indices);
}

void checkFinite(const at::Tensor &set, const at::Tensor &indices, const Dataset &data)
{
    const at::Tensor bad = at::logical_not(at::isfinite(set)).flatten(1).any(1);
    if (!bad.any().item<bool>())
        return;
    const int64_t first = bad.nonzero()[0][0].item<int64_t>();
    throw Error(QStringLiteral("Training sample %1 of %2 holds NaN or infinite values (%3 of "
                               "the %4 calibration samples do); calibration needs finite data. "
                               "Fix or drop those samples.")
                    .arg(indices[first].item<int64_t>())
                    .arg(data.name)
                    .arg(bad.sum().item<int64_t>())
                    .arg(set.size(0)));
}

torch::jit::Module prepare(const torch::jit::Module &source, const Settings &s)
{
    torch::jit::Module copy = source.clone();
    copy.eval();   // FoldConvBatchNorm folds running statistics: eval-mode semantics
    torch::jit::Module folded = runStep("FoldConvBatchNorm", source, [&] {
        return torch::jit::FoldConvBatchNorm(copy);
    });
    torch::jit::QConfigDict qconfig;
    qconfig[""] = std::make_tuple(activationObserver(s.histogram, s.percentile),
                                  weightObserver());
    // No qconfig: not observed, so InsertQuantDeQuant leaves the submodule's ops in float,
    // with a dequantize before and a quantize after it (Python's qconfig_dict {name: None}).
    for (const QString &path : s.keepFloat)
        qconfig[path.toStdString()] = c10::nullopt;
    return runStep("InsertObservers", source, [&] {
        return torch::jit::InsertObservers(folded, "forward", qconfig, /*inplace=*/false,
                                           torch::jit::QuantType::STATIC);
    });
}

// One pass over the calibration set (two with the histogram observer: ranges, then counts).
void calibrate(torch::jit::Module &observed, const torch::jit::Module &source, const at::Tensor &set,
               const Settings &s, JobContext &context)
{
    const int passes = s.histogram ? 2 : 1;
    const qint64 n = set.size(0);
    c10::NoGradGuard noGrad;
    for (int pass = 0; pass < passes; ++pass) {
        if (pass == 1)
            setHistogramPass(observed);
        for (qint64 start = 0; start < n; start += s.batchSize) {
            if (!context.checkPoint())
                throw Cancelled(QStringLiteral("Stopped while calibrating; nothing was "
                                               "registered."));
            runStep("calibration", source, [&] {
                return observed.forward({set.slice(0, start, std::min(n, start + s.batchSize))});
            });
            context.setProgress(0.05 + 0.55 * double(pass * n + std::min(n, start + s.batchSize))
                                           / double(passes * n),
                                QStringLiteral("Calibrating"));
        }
    }
}

bool finiteRange(const at::Tensor &lo, const at::Tensor &hi)
{
    return lo.numel() > 0 && at::isfinite(lo).all().item<bool>()
           && at::isfinite(hi).all().item<bool>();
}

// Refuses calibration that made an observer record NaN or an infinity, naming the first such
// node in graph order.
void checkObservedFinite(const torch::jit::Module &observed)
{
    QMap<std::string, QString> observedNode;   // observer path -> the node it watches
    std::vector<std::string> order;
    walk(observed, [&](const NodeSite &site) {
        std::string name;
        const QString what = observedValueOf(site, &name);
        if (!what.isEmpty() && !observedNode.contains(name)) {
            observedNode.insert(name, what);
            order.push_back(name);
        }
    });
    QSet<QString> bad;
    for (const ObserverRef &o : observersOf(observed)) {
        const at::Tensor lo = o.module.attr("min_val").toTensor();
        const at::Tensor hi = o.module.attr("max_val").toTensor();
        const bool neverRan = o.activation && std::isinf(lo.item<float>())
                              && lo.item<float>() > 0 && std::isinf(hi.item<float>())
                              && hi.item<float>() < 0;
        if (!neverRan && !finiteRange(lo, hi))
            bad.insert(QString::fromStdString(o.path));
    }
    if (bad.isEmpty())
        return;
    for (const std::string &name : order) {
        if (bad.contains(QString::fromStdString(name)))
            throw Error(QStringLiteral("On the calibration data, %1 yields NaN or infinite "
                                       "values (%2 of the %3 observed tensors do); int8 needs "
                                       "finite activations and weights. Check the data's scale "
                                       "(images as floats in [0, 1]) and the model's weights.")
                            .arg(observedNode.value(name))
                            .arg(bad.size())
                            .arg(observedNode.size()));
    }
    throw Error(QStringLiteral("On the calibration data, %1 observed tensors of the model hold "
                               "NaN or infinite values; int8 needs finite ones.")
                    .arg(bad.size()));
}

bool reduceRangeFor(const QString &engine)
{
    // 7-bit activations on oneDNN without VNNI, as the spec path does (QuantizeStatic.cpp).
    return engine == QLatin1String("onednn") && !quant::cpuHasVnni();
}

// InsertQuantDeQuant and Finalize for the engine in effect, on a copy of the calibrated module.
torch::jit::Module convert(const torch::jit::Module &calibrated, const torch::jit::Module &source)
{
    torch::jit::Module m = calibrated.clone();
    setActivationQuantMax(m, reduceRangeFor(quant::engineName(at::globalContext().qEngine()))
                                 ? 127 : 255);
    // The pass returns the converted module (a clone even when "inplace"): use its result.
    m = runStep("InsertQuantDeQuant", source, [&] {
        return torch::jit::InsertQuantDeQuant(m, "forward", /*inplace=*/true, /*debug=*/false,
                                              torch::jit::QuantType::STATIC);
    });
    std::vector<std::string> keep;
    for (const char *name : kStudioAttributes) {
        if (m.hasattr(name))
            keep.emplace_back(name);
    }
    torch::jit::Module q = runStep("Finalize", source, [&] {
        return torch::jit::Finalize(m, torch::jit::QuantType::STATIC, keep);
    });
    auto graph = q.get_method("forward").graph();
    torch::jit::ConstantPropagation(graph);
    torch::jit::EliminateDeadCode(graph);
    // Freezing drops `training`, which Python's m.eval() and m.training need (as in
    // quant::freezeForRewrite).
    if (!q.hasattr("training"))
        q.register_attribute("training", c10::BoolType::get(), false);
    return q;
}

QString defaultEngine(const QString &param)
{
    if (param != QLatin1String("auto"))
        return param;
    const QStringList engines = quant::supportedEngineNames();
    return engines.contains(QStringLiteral("onednn")) ? QStringLiteral("onednn")
                                                      : engines.value(0);
}

} // namespace

void checkGraph(const Model &source, const QString &ref)
{
    const torch::jit::Module &module = source.impl()->module;
    if (!module.find_method("forward"))
        throw Error(QStringLiteral("%1 has no forward method to quantize.").arg(ref));
    const c10::FunctionSchema &schema = module.get_method("forward").function().getSchema();
    if (schema.arguments().size() != 2
        || !schema.arguments()[1].type()->isSubtypeOf(*c10::TensorType::get()))
        throw Error(QStringLiteral("%1's forward takes %2; static int8 calibrates a model that "
                                   "takes one tensor.")
                        .arg(ref, excerpt(QString::fromStdString(c10::toString(schema)))));
    int quantizable = 0;
    QString refusal;
    walk(module, [&](const NodeSite &site) {
        const std::string kind = site.node->kind().toQualString();
        quantizable += isQuantizable(kind);
        if (!refusal.isEmpty())
            return;
        if (site.node->kind().ns().toUnqualString() == std::string("quantized")
            || kind == "aten::quantize_per_tensor" || kind == "aten::quantize_per_channel") {
            refusal = QStringLiteral("%1 is already int8: %2. Quantize its fp32 source "
                                     "instead.").arg(ref, describeNode(site));
        } else if (const auto [family, why] = knownFailure(kind); !family.isEmpty()) {
            refusal = QStringLiteral("%1 cannot be quantized statically: it runs %2, and %3. "
                                     "Replace that layer; otherwise %4.")
                          .arg(ref, describeNode(site, family), why,
                               QString::fromLatin1(kAlternatives));
        }
    });
    if (!refusal.isEmpty())
        throw Error(refusal);
    if (quantizable == 0) {
        auto graph = module.get_method("forward").graph()->copy();
        torch::jit::Inline(*graph);
        throw Error(QStringLiteral("%1 has no convolution or linear layer for static int8 to "
                                   "quantize (its forward runs: %2).")
                        .arg(ref, quant::opsSummary(graph)));
    }
}

void checkKeepFloat(const Model &source, const QString &ref, const QString &keepFloat)
{
    const QStringList paths = keepFloatPaths(keepFloat);
    if (paths.isEmpty())
        return;
    QMap<QString, QString> kinds;   // submodule -> its class
    QStringList layers;   // what to suggest: the convolutions and linear layers
    for (const auto &item : source.impl()->module.named_modules()) {
        const QString name = QString::fromStdString(item.name);
        const auto type = item.value.type()->name();
        const QString kind = type ? QString::fromStdString(type->name()) : QString();
        kinds.insert(name, kind);
        if (!name.isEmpty() && (kind.startsWith(QLatin1String("Conv"))
                                || kind == QLatin1String("Linear")))
            layers << name;
    }
    const QString some = layers.mid(0, 6).join(QStringLiteral(", "))
                         + (layers.size() > 6 ? QStringLiteral(" and %1 more").arg(layers.size() - 6)
                                              : QString());
    for (const QString &path : paths) {
        if (!kinds.contains(path))
            throw Error(QStringLiteral("--keep-float names \"%1\", which is not a submodule of "
                                       "%2; its convolution and linear layers include: %3.")
                            .arg(excerpt(path), ref, some));
        // Only convolutions and linear layers are quantized: a batch norm (folded into the
        // convolution before it), an activation or a pooling kept in float changes nothing.
        const bool holdsLayer = std::any_of(layers.begin(), layers.end(), [&](const QString &l) {
            return l == path || l.startsWith(path + QLatin1Char('.'));
        });
        if (!holdsLayer)
            throw Error(QStringLiteral("--keep-float names \"%1\", a %2 of %3 that holds no "
                                       "convolution or linear layer, so keeping it in float would "
                                       "change nothing (a batch norm is folded into the "
                                       "convolution before it: name that one). Its convolution "
                                       "and linear layers include: %4.")
                            .arg(excerpt(path), excerpt(kinds.value(path)), ref, some));
    }
}

void checkData(CompressInput &input, JobContext &context)
{
    const Settings s = settingsOf(input.params);
    const torch::jit::Module &source = input.model.impl()->module;
    const QString ref = input.source.ref().isEmpty() ? QStringLiteral("The model")
                                                     : input.source.ref();
    const Dataset &data = input.dataset();
    // The job matched the data to the version's signature already; a direct caller has not.
    if (!input.source.inputs.isEmpty() && input.source.inputs.first().shape.size() > 1) {
        const std::vector<qint64> &shape = input.source.inputs.first().shape;
        checkDataFitsModel(std::vector<qint64>(shape.begin() + 1, shape.end()), 0, ref,
                           data.sampleShape, 0, QStringLiteral("the dataset %1").arg(data.name));
    }
    at::Tensor indices;
    const at::Tensor set = calibrationSet(data, s.samples, &indices);
    checkFinite(set, indices, data);

    auto prepared = std::make_shared<Prepared>();
    prepared->samples = set.size(0);
    prepared->timing = set.slice(0, 0, std::min<int64_t>(32, set.size(0)));
    context.setProgress(0.02, QStringLiteral("Folding BatchNorm, inserting observers"));
    context.log(QStringLiteral("static int8 through LibTorch's graph-mode passes (%1), %2 "
                               "observer, %3 calibration samples")
                    .arg(QString::fromLatin1(kPasses),
                         s.histogram ? QStringLiteral("histogram") : QStringLiteral("minmax"))
                    .arg(prepared->samples));
    QElapsedTimer timer;
    timer.start();
    prepared->calibrated = prepare(source, s);
    prepared->clipped = clipToBoundedActivations(prepared->calibrated);
    calibrate(prepared->calibrated, source, set, s, context);
    checkObservedFinite(prepared->calibrated);
    prepared->calibrate_s = timer.elapsed() / 1000.0;
    prepared->agreementSet = set.slice(0, 0, std::min<int64_t>(128, set.size(0)));
    {
        torch::jit::Module reference = source.clone();
        reference.eval();
        c10::InferenceMode inference;
        prepared->reference = reference.forward({prepared->agreementSet}).toTensor();
    }

    // The trial conversion and run, for the engine asked for (oneDNN for "auto"): a failure of
    // the passes surfaces here, before the run starts. Its result is the variant for that
    // engine, so apply() does not convert twice.
    context.setProgress(0.6, QStringLiteral("Converting to int8 (trial)"));
    timer.restart();
    const QString engine = defaultEngine(s.engine);
    quant::EngineScope scope(quant::engineFromName(engine));
    torch::jit::Module converted = convert(prepared->calibrated, source);
    runStep("the converted forward", source, [&] {
        c10::InferenceMode inference;
        const at::Tensor out = converted.forward({set.slice(0, 0, 2)}).toTensor();
        if (!at::isfinite(out).all().item<bool>())
            throw Error(QStringLiteral("%1's int8 forward yields NaN or infinite values on the "
                                       "calibration data.").arg(ref));
        return out;
    });
    prepared->converted.insert(engine, converted);
    prepared->trial_s = timer.elapsed() / 1000.0;
    input.prepared = prepared;
}

CompressOutput apply(CompressInput &input, JobContext &context)
{
    if (!input.prepared.has_value())
        checkData(input, context);
    const auto prepared = std::any_cast<std::shared_ptr<Prepared>>(input.prepared);
    const Settings s = settingsOf(input.params);
    const torch::jit::Module &source = input.model.impl()->module;

    QElapsedTimer timer;
    timer.start();
    context.setProgress(0.7, QStringLiteral("Converting to int8"));
    auto build = [&]() {
        const QString engine = quant::engineName(at::globalContext().qEngine());
        if (prepared->converted.contains(engine))
            return prepared->converted.value(engine);
        torch::jit::Module converted = convert(prepared->calibrated, source);
        prepared->converted.insert(engine, converted);
        return converted;
    };
    // Top-1 agreement with fp32 on calibration samples, for a classifier's [N, classes] output.
    std::function<double(torch::jit::Module &)> agreement;
    if (prepared->reference.dim() == 2 && prepared->reference.size(1) > 1) {
        agreement = [&](torch::jit::Module &m) {
            c10::InferenceMode inference;
            const at::Tensor out = m.forward({prepared->agreementSet}).toTensor();
            return out.argmax(1).eq(prepared->reference.argmax(1)).to(at::kDouble).mean()
                .item<double>();
        };
    }
    QJsonObject details;
    QString engine;
    torch::jit::Module variant = quant::buildForEngine(s.engine, build, prepared->timing,
                                                       details, &engine, agreement);
    if (context.isCancelled())
        return CompressOutput();
    variant.register_attribute("quantized_engine", c10::StringType::get(), engine.toStdString());

    const auto graph = variant.get_method("forward").graph();
    details.insert(QStringLiteral("path"), QStringLiteral("graph"));
    details.insert(QStringLiteral("passes"), QString::fromLatin1(kPasses));
    details.insert(QStringLiteral("scheme"),
                   QStringLiteral("static int8 (graph mode): per-channel symmetric qint8 weights, "
                                  "quint8 activations calibrated per tensor"));
    details.insert(QStringLiteral("observer"), s.histogram ? QStringLiteral("histogram")
                                                           : QStringLiteral("minmax"));
    if (s.histogram)
        details.insert(QStringLiteral("percentile"), s.percentile);
    details.insert(QStringLiteral("calibration_samples"), prepared->samples);
    if (!s.keepFloat.isEmpty())
        details.insert(QStringLiteral("kept_float"), QJsonArray::fromStringList(s.keepFloat));
    details.insert(QStringLiteral("reduce_range"), reduceRangeFor(engine));
    details.insert(QStringLiteral("calibration_s"), prepared->calibrate_s);
    details.insert(QStringLiteral("conversion_s"), prepared->trial_s + timer.elapsed() / 1000.0);
    details.insert(QStringLiteral("ops"), quant::opsSummary(graph));
    details.insert(QStringLiteral("clipped_activations"), prepared->clipped);
    if (agreement) {
        const double agree = agreement(variant);
        details.insert(QStringLiteral("calibration_agreement"), agree);
        if (agree < 0.9)
            context.log(QStringLiteral("warning: the int8 model's top class agrees with fp32 on "
                                       "only %1 % of the calibration samples (engine %2)")
                            .arg(100.0 * agree, 0, 'f', 1).arg(engine));
    }
    context.setProgress(1.0, QStringLiteral("Quantized for %1").arg(engine));
    return quant::quantizedOutput(variant, details, engine);
}

} // namespace ms::quantgraph
