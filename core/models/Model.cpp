#include "models/Model.h"

#include "common/Error.h"
#include "common/ShapeText.h"
#include "models/ArchSpec.h"
#include "models/GptSpec.h"
#include "models/ModelBuilder_p.h"
#include "models/ModelImpl_p.h"

#include <torch/script.h>
#include <ATen/Parallel.h>
#include <ATen/native/quantized/PackedParams.h>
#include <torch/custom_class.h>

#include <QFileInfo>
#include <QJsonDocument>
#include <QThread>
#include <QSaveFile>

#include <algorithm>
#include <functional>
#include <optional>
#include <sstream>

namespace ms {

namespace {

// Shapes in messages read "1x28x28".
constexpr ShapeStyle kShape = ShapeStyle::Compact;

// c10::Error::what() carries a C++ backtrace; a person needs the first lines only.
QString torchMessage(const c10::Error &e)
{
    return QString::fromStdString(e.what_without_backtrace()).trimmed();
}

// Restores the training flag however predict() leaves, so a trainer's module stays in the
// mode it was in.
class EvalScope
{
public:
    explicit EvalScope(torch::jit::Module &module)
        : m_module(module)
        , m_wasTraining(module.is_training())
    {
        if (m_wasTraining)
            m_module.eval();
    }
    ~EvalScope()
    {
        if (m_wasTraining)
            m_module.train();
    }
    EvalScope(const EvalScope &) = delete;
    EvalScope &operator=(const EvalScope &) = delete;

private:
    torch::jit::Module &m_module;
    bool m_wasTraining = false;
};

// The attributes a module built here carries; Python modules imported as they are have none.
void readAttributes(Model::Impl &impl)
{
    const torch::jit::Module &m = impl.module;
    if (m.hasattr("class_names")) {
        const c10::IValue v = m.attr("class_names");
        if (v.isList()) {
            for (const c10::IValue &name : v.toListRef()) {
                if (name.isString())
                    impl.classNames << QString::fromStdString(name.toStringRef());
            }
        }
    }
    if (m.hasattr("input_shape")) {
        const c10::IValue v = m.attr("input_shape");
        if (v.isIntList()) {
            for (int64_t d : v.toIntVector())
                impl.inputShape.push_back(d);
        }
    }
    if (m.hasattr("quantized_engine")) {
        const c10::IValue v = m.attr("quantized_engine");
        if (v.isString())
            impl.quantizedEngine = QString::fromStdString(v.toStringRef());
    }
    if (m.hasattr("task") && m.attr("task").isString())
        impl.task = QString::fromStdString(m.attr("task").toStringRef());
    if (m.hasattr("tokenizer_json") && m.attr("tokenizer_json").isString())
        impl.tokenizer = QJsonDocument::fromJson(
                             QByteArray::fromStdString(m.attr("tokenizer_json").toStringRef()))
                             .object();
    if (m.hasattr("block_size") && m.attr("block_size").isInt())
        impl.blockSize = int(m.attr("block_size").toInt());
    if (m.hasattr("spec_json")) {
        const c10::IValue v = m.attr("spec_json");
        if (v.isString())
            impl.spec = QJsonDocument::fromJson(QByteArray::fromStdString(v.toStringRef()))
                            .object();
    }
}

// The engine names a quantized variant records (compress/Quantization.cpp writes them).
std::optional<at::QEngine> engineNamed(const QString &name)
{
    if (name == QLatin1String("onednn"))
        return at::QEngine::ONEDNN;
    if (name == QLatin1String("qnnpack"))
        return at::QEngine::QNNPACK;
    if (name == QLatin1String("fbgemm"))
        return at::QEngine::FBGEMM;
    return std::nullopt;
}

bool engineSupported(at::QEngine engine)
{
    const auto &engines = at::globalContext().supportedQEngines();
    return std::find(engines.begin(), engines.end(), engine) != engines.end();
}

void collectConstants(torch::jit::Block *block, std::vector<at::Tensor> &out)
{
    for (torch::jit::Node *node : block->nodes()) {
        if (node->kind() == c10::prim::Constant
            && node->output()->type()->cast<c10::TensorType>()) {
            const c10::optional<c10::IValue> v = torch::jit::toIValue(node->output());
            if (v && v->isTensor() && v->toTensor().is_floating_point())
                out.push_back(v->toTensor());
        }
        for (torch::jit::Block *sub : node->blocks())
            collectConstants(sub, out);
    }
}

void collectWeights(const torch::jit::Module &module, std::vector<at::Tensor> &out)
{
    for (const at::Tensor &p : module.parameters(/*recurse=*/false))
        out.push_back(p);
    for (const torch::jit::NameValue &a : module.named_attributes(/*recurse=*/false)) {
        if (!a.value.isCustomClass())
            continue;
        auto add = [&out](const std::tuple<at::Tensor, c10::optional<at::Tensor>> &unpacked) {
            out.push_back(std::get<0>(unpacked));
            if (std::get<1>(unpacked))
                out.push_back(*std::get<1>(unpacked));
        };
        const c10::IValue &v = a.value;
        if (v.type() == c10::getCustomClassType<c10::intrusive_ptr<LinearPackedParamsBase>>())
            add(v.toCustomClass<LinearPackedParamsBase>()->unpack());
        else if (v.type()
                 == c10::getCustomClassType<c10::intrusive_ptr<ConvPackedParamsBase<2>>>())
            add(v.toCustomClass<ConvPackedParamsBase<2>>()->unpack());
    }
    if (const auto forward = module.find_method("forward")) {
        // A frozen module keeps its weights as constants of its forward graph.
        collectConstants(forward->graph()->block(), out);
    }
    for (const torch::jit::Module &child : module.children())
        collectWeights(child, out);
}

// A gpt spec bound to the tokenizer's vocabulary, built and tried on a short batch of tokens.
std::shared_ptr<Model::Impl> buildGpt(const QJsonObject &specJson, const QJsonObject &tokenizer,
                                      quint64 seed)
{
    const int vocab = tokenizer.value(QStringLiteral("vocab_size")).toInt();
    if (vocab <= 0)
        throw Error(QStringLiteral("a gpt spec needs a tokenizer (its vocabulary size)"));
    const ArchSpec spec = ArchSpec::fromJson(specJson).boundTo({}, vocab);
    if (!spec.isGpt())
        throw Error(QStringLiteral("it is not a gpt spec (\"family\": \"gpt\")"));
    const GptSpec gpt = GptSpec::fromJson(spec.toJson());
    auto impl = std::make_shared<Model::Impl>();
    impl->module = buildGptModule(gpt, tokenizer, seed);
    readAttributes(*impl);
    const int64_t T = std::min(gpt.blockSize, 8);
    EvalScope eval(impl->module);
    at::NoGradGuard noGrad;
    const at::Tensor out =
        impl->module.forward({at::zeros({2, T}, at::kLong)}).toTensor();
    if (out.dim() != 3 || out.size(0) != 2 || out.size(1) != T || out.size(2) != vocab)
        throw Error(QStringLiteral("the forward pass returns shape %1 instead of 2x%2x%3")
                        .arg(QString::fromStdString(c10::str(out.sizes())))
                        .arg(T).arg(vocab));
    return impl;
}

} // namespace

std::vector<at::Tensor> weightTensors(const torch::jit::Module &module)
{
    std::vector<at::Tensor> out;
    collectWeights(module, out);
    return out;
}

Model::Model() = default;
Model::~Model() = default;
Model::Model(const Model &) = default;
Model &Model::operator=(const Model &) = default;

Model Model::build(const QJsonObject &specJson, const ModelDataInfo &data, quint64 seed)
{
    QString specName = specJson.value(QLatin1String("name")).toString();
    if (specName.isEmpty())
        specName = QStringLiteral("custom");
    Model model;
    try {
        if (GptSpec::isGpt(specJson))
            throw Error(QStringLiteral("a gpt spec makes a language model, which needs a "
                                       "tokenizer: train it with --task lm"));
        if (specJson.value(QLatin1String("family")).toString() == QLatin1String("text-classifier"))
            throw Error(QStringLiteral("a text-classifier spec reads tokens, which needs a "
                                       "tokenizer: train it on a text dataset"));
        ArchSpec spec = ArchSpec::fromJson(specJson);
        if (!data.inputShape.empty() || !data.classNames.isEmpty())
            spec = spec.boundTo(data.inputShape, int(data.classNames.size()));
        if (!spec.isBound())
            spec.plan();   // throws, saying what is still open
        QStringList classNames = data.classNames;
        for (int i = int(classNames.size()); i < spec.numClasses(); ++i)
            classNames << QString::number(i);   // a spec bound without names: labels as names

        auto impl = std::make_shared<Impl>();
        impl->module = buildModule(spec, data, classNames, seed);
        impl->classNames = classNames;
        impl->inputShape = spec.inputShape();
        impl->spec = spec.toJson();

        // Compiled source can still fail on real tensors (an op's own checks); find out now
        // rather than in the first training step. Eval mode: the batch must not move the
        // batchnorm statistics.
        std::vector<int64_t> batch{2};
        batch.insert(batch.end(), impl->inputShape.begin(), impl->inputShape.end());
        {
            EvalScope eval(impl->module);
            at::NoGradGuard noGrad;
            const at::Tensor out = impl->module.forward({at::zeros(batch)}).toTensor();
            if (out.dim() != 2 || out.size(0) != 2 || out.size(1) != spec.numClasses())
                throw Error(QStringLiteral("the forward pass returns shape %1 instead of 2x%2")
                                .arg(QString::fromStdString(c10::str(out.sizes())))
                                .arg(spec.numClasses()));
        }
        model.d = std::move(impl);
    } catch (const Error &e) {
        throw Error(QStringLiteral("Cannot build the model \"%1\": %2")
                        .arg(specName, e.message()));
    } catch (const c10::Error &e) {
        throw Error(QStringLiteral("Cannot build the model \"%1\": TorchScript refused it: %2")
                        .arg(specName, torchMessage(e)));
    } catch (const std::exception &e) {
        // torch::jit::ErrorReport (a compile error in generated source) is no c10::Error.
        throw Error(QStringLiteral("Cannot build the model \"%1\": TorchScript refused it: %2")
                        .arg(specName, QString::fromLocal8Bit(e.what()).trimmed()));
    }
    return model;
}

Model Model::buildLanguageModel(const QJsonObject &specJson, const QJsonObject &tokenizer,
                               quint64 seed)
{
    const QString specName = specJson.value(QLatin1String("name")).toString(
        QStringLiteral("custom"));
    Model model;
    try {
        model.d = buildGpt(specJson, tokenizer, seed);
    } catch (const Error &e) {
        throw Error(QStringLiteral("Cannot build the model \"%1\": %2").arg(specName, e.message()));
    } catch (const std::exception &e) {
        const c10::Error *torchError = dynamic_cast<const c10::Error *>(&e);
        throw Error(QStringLiteral("Cannot build the model \"%1\": TorchScript refused it: %2")
                        .arg(specName, torchError ? torchMessage(*torchError)
                                                  : QString::fromLocal8Bit(e.what()).trimmed()));
    }
    return model;
}

Model Model::load(const QString &path)
{
    const QFileInfo info(path);
    if (!info.exists())
        throw Error(QStringLiteral("Cannot load the model %1: the file does not exist.")
                        .arg(path));
    if (!info.isFile())
        throw Error(QStringLiteral("Cannot load the model %1: it is not a file.").arg(path));
    auto impl = std::make_shared<Impl>();
    try {
        impl->module = torch::jit::load(QFile::encodeName(path).toStdString());
    } catch (const c10::Error &e) {
        throw Error(QStringLiteral("Cannot load the model %1: it is not a TorchScript file "
                                   "(torch.jit.save / torch.jit.script output expected). %2")
                        .arg(path, torchMessage(e).section(QLatin1Char('\n'), 0, 0)));
    } catch (const std::exception &e) {
        throw Error(QStringLiteral("Cannot load the model %1: it is not a TorchScript file "
                                   "(torch.jit.save / torch.jit.script output expected). %2")
                        .arg(path, QString::fromLocal8Bit(e.what())));
    }
    readAttributes(*impl);
    if (!impl->quantizedEngine.isEmpty()) {
        // Loading packs an int8 variant's weights for the engine in effect at that moment:
        // load again under the engine it was made and measured for.
        const std::optional<at::QEngine> engine = engineNamed(impl->quantizedEngine);
        if (!engine || !engineSupported(*engine))
            throw Error(QStringLiteral("Cannot load the model %1: it is quantized for the "
                                       "\"%2\" engine, which this LibTorch build lacks. Make "
                                       "the variant again with --engine auto here.")
                            .arg(path, impl->quantizedEngine));
        if (at::globalContext().qEngine() != *engine) {
            at::globalContext().setQEngine(*engine);
            try {
                impl->module = torch::jit::load(QFile::encodeName(path).toStdString());
            } catch (const c10::Error &e) {
                throw Error(QStringLiteral("Cannot load the model %1 for the %2 engine: %3")
                                .arg(path, impl->quantizedEngine,
                                     torchMessage(e).section(QLatin1Char('\n'), 0, 0)));
            }
        }
    }
    Model model;
    model.d = std::move(impl);
    return model;
}

Model Model::fromImpl(std::shared_ptr<Impl> impl)
{
    readAttributes(*impl);
    Model model;
    model.d = std::move(impl);
    return model;
}

void Model::save(const QString &path) const
{
    if (!d)
        throw Error(QStringLiteral("Cannot save an empty model to %1.").arg(path));
    // Serialised in memory first: torch writes its zip wherever it is told, and QSaveFile
    // gives the temporary-file-then-rename that leaves nothing half-written on failure.
    std::ostringstream bytes;
    try {
        d->module.save(bytes);
    } catch (const c10::Error &e) {
        throw Error(QStringLiteral("Cannot save the model to %1: %2").arg(path, torchMessage(e)));
    }
    const std::string data = bytes.str();
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        throw Error(QStringLiteral("Cannot save the model to %1: %2")
                        .arg(path, file.errorString()));
    if (file.write(data.data(), qint64(data.size())) != qint64(data.size()) || !file.commit())
        throw Error(QStringLiteral("Cannot save the model to %1: %2")
                        .arg(path, file.errorString()));
}

namespace {

// The input's size against its shape and the model's recorded sample shape.
void checkPredictShape(const Model::Impl &d, size_t size, const std::vector<qint64> &shape)
{
    qint64 count = shape.empty() ? 0 : 1;
    for (qint64 dim : shape)
        count *= dim;
    if (shape.empty() || count != qint64(size))
        throw Error(QStringLiteral("The input has %1 values but its shape %2 needs %3.")
                        .arg(size).arg(shapeText(shape, kShape)).arg(count));
    if (!d.inputShape.empty()
        && std::vector<qint64>(shape.begin() + 1, shape.end()) != d.inputShape)
        throw Error(QStringLiteral("The model takes samples of shape %1 but the input has "
                                   "shape %2 (batch first).")
                        .arg(shapeText(d.inputShape, kShape), shapeText(shape, kShape)));
}

// One forward of `makeInput()` (made under the inference mode) to float outputs; predict()
// and predictTokens() differ only in the input tensor.
std::vector<float> forwardToFloats(Model::Impl &d, const std::function<at::Tensor()> &makeInput,
                                   const std::vector<qint64> &shape,
                                   std::vector<qint64> *outputShape)
{
    std::lock_guard<std::mutex> lock(d.predictMutex);
    try {
        // Quantized ops outside the packed weights (quantize, pooling) follow the process's
        // engine; set the variant's own before each call.
        if (!d.quantizedEngine.isEmpty()) {
            if (const std::optional<at::QEngine> engine = engineNamed(d.quantizedEngine))
                at::globalContext().setQEngine(*engine);
        }
        EvalScope eval(d.module);
        c10::InferenceMode inference;
        const c10::IValue result = d.module.forward({makeInput()});
        if (!result.isTensor())
            throw Error(QStringLiteral("The model returns %1, not a tensor of scores.")
                            .arg(QString::fromStdString(result.tagKind())));
        const at::Tensor out = result.toTensor().to(at::kFloat).contiguous();
        if (outputShape)
            outputShape->assign(out.sizes().begin(), out.sizes().end());
        return std::vector<float>(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
    } catch (const Error &) {
        throw;
    } catch (const c10::Error &e) {
        throw Error(QStringLiteral("The model failed on an input of shape %1: %2")
                        .arg(shapeText(shape, kShape),
                             torchMessage(e).section(QLatin1Char('\n'), 0, 2)));
    } catch (const std::exception &e) {
        // A scripted forward that raises (a Python module fed the wrong shape) throws
        // torch::jit::JITException, whose text is a traceback ending in the error line.
        const QStringList lines = QString::fromUtf8(e.what()).trimmed().split(QLatin1Char('\n'));
        throw Error(QStringLiteral("The model failed on an input of shape %1: %2")
                        .arg(shapeText(shape, kShape),
                             lines.isEmpty() ? QString() : lines.last().trimmed()));
    }
}

} // namespace

std::vector<float> Model::predict(const std::vector<float> &input,
                                  const std::vector<qint64> &shape,
                                  std::vector<qint64> *outputShape) const
{
    if (!d)
        throw Error(QStringLiteral("Cannot predict with an empty model."));
    checkPredictShape(*d, input.size(), shape);
    return forwardToFloats(*d, [&] {
        // from_blob does not copy; the input outlives the call and is only read.
        return at::from_blob(const_cast<float *>(input.data()),
                             std::vector<int64_t>(shape.begin(), shape.end()), at::kFloat);
    }, shape, outputShape);
}

std::vector<float> Model::predictTokens(const std::vector<qint64> &input,
                                        const std::vector<qint64> &shape, bool int32,
                                        std::vector<qint64> *outputShape) const
{
    if (!d)
        throw Error(QStringLiteral("Cannot predict with an empty model."));
    checkPredictShape(*d, input.size(), shape);
    static_assert(sizeof(qint64) == sizeof(int64_t));
    return forwardToFloats(*d, [&] {
        const at::Tensor ids = at::from_blob(const_cast<qint64 *>(input.data()),
                                             std::vector<int64_t>(shape.begin(), shape.end()),
                                             at::kLong);
        return int32 ? ids.to(at::kInt) : ids;
    }, shape, outputShape);
}

void Model::setComputeThreads(int threads)
{
    at::set_num_threads(threads > 0 ? threads : QThread::idealThreadCount());
}

QStringList Model::classNames() const
{
    return d ? d->classNames : QStringList();
}

std::vector<qint64> Model::inputShape() const
{
    return d ? d->inputShape : std::vector<qint64>();
}

QJsonObject Model::spec() const
{
    return d ? d->spec : QJsonObject();
}

qint64 Model::parameterCount() const
{
    if (!d)
        return 0;
    qint64 count = 0;
    for (const at::Tensor &w : weightTensors(d->module))
        count += w.numel();
    return count;
}

qint64 Model::nonzeroParameterCount() const
{
    if (!d)
        return 0;
    c10::InferenceMode inference;
    qint64 count = 0;
    for (const at::Tensor &w : weightTensors(d->module))
        count += (w.is_quantized() ? w.dequantize() : w).count_nonzero().item<int64_t>();
    return count;
}

QString Model::task() const
{
    return d ? d->task : QString();
}

QJsonObject Model::tokenizer() const
{
    return d ? d->tokenizer : QJsonObject();
}

int Model::blockSize() const
{
    return d ? d->blockSize : 0;
}

QString Model::quantizedEngine() const
{
    return d ? d->quantizedEngine : QString();
}

} // namespace ms
