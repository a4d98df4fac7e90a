#include "compress/Quantization_p.h"

#include "common/Error.h"
#include "common/Runtime.h"
#include "models/ModelImpl_p.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/csrc/jit/frontend/sugared_value.h>
#include <torch/csrc/jit/passes/freeze_module.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/custom_class.h>

#include <QJsonArray>
#include <QMap>

#include <algorithm>
#include <chrono>

namespace ms::quant {

namespace {

const char *const kStudioAttributes[] = {"class_names", "input_shape", "spec_json",
                                         "input_mean", "input_std", "task", "tokenizer_json",
                                         "block_size", "vocab_size"};

struct QuantizedOpsResolver final : torch::jit::Resolver
{
    std::shared_ptr<torch::jit::SugaredValue> resolveValue(
        const std::string &name, torch::jit::GraphFunction &f,
        const torch::jit::SourceRange &loc) override
    {
        if (name == "quantized")
            return std::make_shared<torch::jit::BuiltinModule>("quantized");
        return torch::jit::nativeResolver()->resolveValue(name, f, loc);
    }
    c10::TypePtr resolveType(const std::string &name,
                             const torch::jit::SourceRange &loc) override
    {
        return torch::jit::nativeResolver()->resolveType(name, loc);
    }
};

} // namespace

QString engineName(at::QEngine engine)
{
    switch (engine) {
    case at::QEngine::ONEDNN: return QStringLiteral("onednn");
    case at::QEngine::QNNPACK: return QStringLiteral("qnnpack");
    case at::QEngine::FBGEMM: return QStringLiteral("fbgemm");
    default: return QStringLiteral("none");
    }
}

QStringList supportedEngineNames()
{
    QStringList names;
    for (at::QEngine e : at::globalContext().supportedQEngines()) {
        if (e == at::QEngine::ONEDNN || e == at::QEngine::QNNPACK || e == at::QEngine::FBGEMM)
            names << engineName(e);
    }
    return names;
}

CompressParameter engineParameter()
{
    CompressParameter p;
    p.name = QStringLiteral("engine");
    p.type = CompressParameter::Type::Choice;
    p.defaultValue = QStringLiteral("auto");
    // fbgemm is PyTorch's third x86 engine; Debian's LibTorch lacks it, and check() says so.
    p.choices = {QStringLiteral("auto"), QStringLiteral("onednn"), QStringLiteral("qnnpack"),
                 QStringLiteral("fbgemm")};
    p.help = QStringLiteral("Quantized engine; auto times both on this CPU and keeps the faster");
    return p;
}

void checkEngine(const QString &name)
{
    if (name == QLatin1String("auto")) {
        if (supportedEngineNames().isEmpty())
            throw Error(QStringLiteral("This LibTorch build has no quantized engine (neither "
                                       "oneDNN nor QNNPACK); int8 quantization cannot run here."));
        return;
    }
    if (name != QLatin1String("onednn") && name != QLatin1String("qnnpack")
        && name != QLatin1String("fbgemm"))
        throw Error(QStringLiteral("Unknown quantized engine \"%1\"; use auto, onednn, qnnpack "
                                   "or fbgemm.").arg(name));
    if (!supportedEngineNames().contains(name))
        throw Error(QStringLiteral("This LibTorch build lacks the quantized engine \"%1\" "
                                   "(it has: %2); choose --engine auto or one of those.")
                        .arg(name, supportedEngineNames().join(QStringLiteral(", "))));
}

at::QEngine engineFromName(const QString &name)
{
    checkEngine(name);
    if (name == QLatin1String("qnnpack"))
        return at::QEngine::QNNPACK;
    return name == QLatin1String("fbgemm") ? at::QEngine::FBGEMM : at::QEngine::ONEDNN;
}

EngineScope::EngineScope(at::QEngine engine)
    : m_previous(at::globalContext().qEngine())
{
    at::globalContext().setQEngine(engine);
}

EngineScope::~EngineScope()
{
    at::globalContext().setQEngine(m_previous);
}

bool cpuHasVnni()
{
    const QJsonArray features = Runtime::describe().value(QStringLiteral("features")).toArray();
    return features.contains(QStringLiteral("avx512_vnni"))
           || features.contains(QStringLiteral("avx_vnni"));
}

at::Tensor quantizeWeightPerChannel(const at::Tensor &weight)
{
    const at::Tensor w = weight.detach().to(at::kFloat).contiguous();
    const at::Tensor absMax = w.reshape({w.size(0), -1}).abs().amax(1);
    // 127.5 = (qmax - qmin) / 2 for qint8: PyTorch's symmetric per-channel observer.
    const at::Tensor scales = (absMax / 127.5).clamp_min(1e-8).to(at::kDouble);
    const at::Tensor zeroPoints = at::zeros({w.size(0)}, at::kLong);
    return at::quantize_per_channel(w, scales, zeroPoints, 0, at::kQInt8);
}

c10::intrusive_ptr<LinearPackedParamsBase> prepackLinear(const at::Tensor &qweight,
                                                         const c10::optional<at::Tensor> &bias)
{
    static auto op = c10::Dispatcher::singleton()
                         .findSchemaOrThrow("quantized::linear_prepack", "")
                         .typed<c10::intrusive_ptr<LinearPackedParamsBase>(
                             at::Tensor, c10::optional<at::Tensor>)>();
    return op.call(qweight, bias);
}

c10::intrusive_ptr<ConvPackedParamsBase<2>> prepackConv(const at::Tensor &qweight,
                                                        const c10::optional<at::Tensor> &bias,
                                                        const std::vector<int64_t> &stride,
                                                        const std::vector<int64_t> &padding)
{
    static auto op = c10::Dispatcher::singleton()
                         .findSchemaOrThrow("quantized::conv2d_prepack", "")
                         .typed<c10::intrusive_ptr<ConvPackedParamsBase<2>>(
                             at::Tensor, c10::optional<at::Tensor>, c10::List<int64_t>,
                             c10::List<int64_t>, c10::List<int64_t>, int64_t)>();
    return op.call(qweight, bias, c10::List<int64_t>(stride), c10::List<int64_t>(padding),
                   c10::List<int64_t>({1, 1}), 1);
}

c10::TypePtr linearPackedType()
{
    return c10::getCustomClassType<c10::intrusive_ptr<LinearPackedParamsBase>>();
}

c10::TypePtr convPackedType()
{
    return c10::getCustomClassType<c10::intrusive_ptr<ConvPackedParamsBase<2>>>();
}

std::shared_ptr<torch::jit::Resolver> quantizedResolver()
{
    return std::make_shared<QuantizedOpsResolver>();
}

torch::jit::Module freezeForRewrite(const torch::jit::Module &source)
{
    try {
        torch::jit::Module copy = source.clone();
        copy.eval();
        std::vector<std::string> keep;
        for (const char *name : kStudioAttributes) {
            if (copy.hasattr(name))
                keep.emplace_back(name);
        }
        // A language model generates through step() and step_rows() (the key/value cache):
        // named here, freezing keeps them, with the weights inlined as in forward.
        for (const std::string &method : generationMethods(copy))
            keep.push_back(method);
        torch::jit::Module frozen = torch::jit::freeze_module(copy, keep);
        // Freezing drops the `training` flag, without which Python's m.training raises and
        // m.eval() (every serving handler calls it) fails: a frozen module is in eval mode.
        if (!frozen.hasattr("training"))
            frozen.register_attribute("training", c10::BoolType::get(), false);
        return frozen;
    } catch (const c10::Error &e) {
        throw Error(QStringLiteral("TorchScript cannot freeze this module (inline its weights "
                                   "into the graph), which the rewrite needs: %1")
                        .arg(QString::fromStdString(e.what_without_backtrace())
                                 .section(QLatin1Char('\n'), 0, 0)));
    } catch (const std::exception &e) {
        throw Error(QStringLiteral("TorchScript cannot freeze this module (inline its weights "
                                   "into the graph), which the rewrite needs: %1")
                        .arg(QString::fromLocal8Bit(e.what()).section(QLatin1Char('\n'), 0, 0)));
    }
}

std::vector<std::string> generationMethods(const torch::jit::Module &module)
{
    std::vector<std::string> names;
    for (const char *name : {"step", "step_rows"}) {
        if (module.find_method(name))
            names.emplace_back(name);
    }
    return names;
}

std::vector<std::string> rewrittenMethods(const torch::jit::Module &module)
{
    std::vector<std::string> names{"forward"};
    for (std::string &name : generationMethods(module))
        names.push_back(std::move(name));
    return names;
}

WeightKey weightKey(const at::Tensor &weight)
{
    return WeightKey{weight.data_ptr(), weight.sizes().vec(), weight.strides().vec()};
}

QString opsSummary(const std::shared_ptr<torch::jit::Graph> &graph)
{
    QMap<QString, int> counts;
    std::function<void(torch::jit::Block *)> walk = [&](torch::jit::Block *block) {
        for (torch::jit::Node *node : block->nodes()) {
            const c10::Symbol kind = node->kind();
            if (kind.is_aten() || kind.ns().toUnqualString() == std::string("quantized"))
                counts[QString::fromStdString(kind.toQualString())] += 1;
            for (torch::jit::Block *sub : node->blocks())
                walk(sub);
        }
    };
    walk(graph->block());
    QStringList parts;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
        parts << (it.value() > 1 ? QStringLiteral("%1 x%2").arg(it.key()).arg(it.value())
                                 : it.key());
    return parts.isEmpty() ? QStringLiteral("none") : parts.join(QStringLiteral(", "));
}

double medianForward_ms(torch::jit::Module &module, const at::Tensor &batch, int runs)
{
    c10::InferenceMode inference;
    module.forward({batch});   // warm-up: first-call allocations and kernel selection
    module.forward({batch});
    std::vector<double> times;
    for (int i = 0; i < runs; ++i) {
        const auto start = std::chrono::steady_clock::now();
        module.forward({batch});
        times.push_back(std::chrono::duration<double, std::milli>(
                            std::chrono::steady_clock::now() - start).count());
    }
    std::sort(times.begin(), times.end());
    return times.empty() ? 0.0 : times[times.size() / 2];
}

torch::jit::Module buildForEngine(const QString &engineParam,
                                  const std::function<torch::jit::Module()> &build,
                                  const at::Tensor &batch, QJsonObject &details,
                                  QString *chosen,
                                  const std::function<double(torch::jit::Module &)> &agreement)
{
    checkEngine(engineParam);
    if (engineParam != QLatin1String("auto")) {
        at::globalContext().setQEngine(engineFromName(engineParam));
        *chosen = engineParam;
        details.insert(QStringLiteral("quantized_engine"), engineParam);
        details.insert(QStringLiteral("engine_choice"),
                       QStringLiteral("--engine %1").arg(engineParam));
        return build();
    }
    const QStringList engines = supportedEngineNames();
    if (engines.size() == 1 || !batch.defined()) {
        // Nothing to measure with (an imported module of unknown input shape and no data) or
        // nothing to choose from: oneDNN, measured the faster here
        // (docs/architecture.md, "Measured here").
        const QString pick = engines.contains(QStringLiteral("onednn")) ? QStringLiteral("onednn")
                                                                         : engines.first();
        at::globalContext().setQEngine(engineFromName(pick));
        *chosen = pick;
        details.insert(QStringLiteral("quantized_engine"), pick);
        details.insert(QStringLiteral("engine_choice"),
                       engines.size() == 1 ? QStringLiteral("auto: the only engine of this build")
                                           : QStringLiteral("auto: no input to time with; oneDNN "
                                                            "by default"));
        return build();
    }
    QMap<QString, torch::jit::Module> built;
    QMap<QString, std::vector<double>> times;
    for (const QString &e : engines) {
        EngineScope scope(engineFromName(e));
        built.insert(e, build());
    }
    // Alternating rounds so that a drift of the machine's speed hits both engines alike.
    for (int round = 0; round < 3; ++round) {
        for (const QString &e : engines) {
            EngineScope scope(engineFromName(e));
            times[e].push_back(medianForward_ms(built[e], batch, 3));
        }
    }
    QMap<QString, double> scores;
    double bestScore = 0.0;
    if (agreement) {
        QJsonObject scored;
        for (const QString &e : engines) {
            EngineScope scope(engineFromName(e));
            scores.insert(e, agreement(built[e]));
            scored.insert(e, scores.value(e));
            bestScore = std::max(bestScore, scores.value(e));
        }
        details.insert(QStringLiteral("engine_agreement"), scored);
    }
    QString best;
    double bestMs = 0.0;
    QJsonObject measured;
    for (const QString &e : engines) {
        std::vector<double> &t = times[e];
        std::sort(t.begin(), t.end());
        const double ms = t[t.size() / 2];
        measured.insert(e, ms);
        if (agreement && scores.value(e) < bestScore - 0.02)
            continue;   // fast but wrong
        if (best.isEmpty() || ms < bestMs) {
            best = e;
            bestMs = ms;
        }
    }
    at::globalContext().setQEngine(engineFromName(best));
    *chosen = best;
    details.insert(QStringLiteral("quantized_engine"), best);
    details.insert(QStringLiteral("engine_choice"),
                   agreement ? QStringLiteral("auto: the faster at batch %1 of those that agree "
                                              "with fp32 within 2 points").arg(batch.size(0))
                   : batch.scalar_type() == at::kLong
                       ? QStringLiteral("auto: measured the faster on a one-token call, as "
                                        "generation makes them")
                       : QStringLiteral("auto: measured the faster at batch %1")
                             .arg(batch.size(0)));
    details.insert(QStringLiteral("engine_forward_ms"), measured);
    return built[best];
}

at::Tensor sampleBatch(CompressInput &input, qint64 count)
{
    if (input.model.task() == QLatin1String("lm"))
        return at::zeros({1, 1}, at::kLong);
    if (!input.source.inputs.isEmpty() && input.source.inputs.first().isInteger()) {
        // Token ids of the length the version was checked with: seeded ids below the
        // vocabulary when it is known, else zeros (an id every vocabulary holds).
        const TensorSignature &tokens = input.source.inputs.first();
        const std::vector<qint64> runnable = tokens.runnableShape(count);
        const std::vector<int64_t> shape(runnable.begin(), runnable.end());
        const at::TensorOptions type(tokens.dtype == QLatin1String("int32") ? at::kInt
                                                                            : at::kLong);
        if (tokens.vocabSize <= 0)
            return at::zeros(shape, type);
        at::Generator gen = at::detail::createCPUGenerator(0);
        return at::randint(tokens.vocabSize, shape, gen, type);
    }
    if (input.dataset) {
        try {
            const Dataset &data = input.dataset();
            const qint64 n = std::min<qint64>(count, data.train.count());
            if (n > 0) {
                std::vector<int64_t> shape{n};
                shape.insert(shape.end(), data.sampleShape.begin(), data.sampleShape.end());
                return at::from_blob(const_cast<float *>(data.train.features.data()), shape,
                                     at::kFloat).clone();
            }
        } catch (const Error &) {
            // An imported version with no known data: fall back to the input shape.
        }
    }
    const std::vector<qint64> sample = input.model.inputShape();
    if (sample.empty())
        return at::Tensor();
    std::vector<int64_t> shape{count};
    shape.insert(shape.end(), sample.begin(), sample.end());
    at::Generator gen = at::detail::createCPUGenerator(0);
    return at::rand(shape, gen);
}

CompressOutput quantizedOutput(torch::jit::Module variant, QJsonObject details,
                               const QString &engine)
{
    auto impl = std::make_shared<Model::Impl>();
    impl->module = std::move(variant);
    CompressOutput output;
    output.model = Model::fromImpl(impl);
    output.kind = VersionKind::Quantized;
    output.details = std::move(details);
    output.quantizedEngine = engine;
    return output;
}

} // namespace ms::quant
