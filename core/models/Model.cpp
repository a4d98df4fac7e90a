#include "models/Model.h"

#include "common/Error.h"
#include "models/ArchSpec.h"
#include "models/ModelBuilder_p.h"
#include "models/ModelImpl_p.h"

#include <torch/script.h>
#include <ATen/Parallel.h>

#include <QFileInfo>
#include <QJsonDocument>
#include <QThread>
#include <QSaveFile>

#include <sstream>

namespace ms {

namespace {

// c10::Error::what() carries a C++ backtrace; a person needs the first lines only.
QString torchMessage(const c10::Error &e)
{
    return QString::fromStdString(e.what_without_backtrace()).trimmed();
}

QString shapeText(const std::vector<qint64> &shape)
{
    QStringList parts;
    for (qint64 d : shape)
        parts << QString::number(d);
    return parts.join(QLatin1Char('x'));
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
    if (m.hasattr("spec_json")) {
        const c10::IValue v = m.attr("spec_json");
        if (v.isString())
            impl.spec = QJsonDocument::fromJson(QByteArray::fromStdString(v.toStringRef()))
                            .object();
    }
}

} // namespace

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

std::vector<float> Model::predict(const std::vector<float> &input,
                                  const std::vector<qint64> &shape) const
{
    if (!d)
        throw Error(QStringLiteral("Cannot predict with an empty model."));
    qint64 count = shape.empty() ? 0 : 1;
    for (qint64 dim : shape)
        count *= dim;
    if (shape.empty() || count != qint64(input.size()))
        throw Error(QStringLiteral("The input has %1 values but its shape %2 needs %3.")
                        .arg(input.size()).arg(shapeText(shape)).arg(count));
    if (!d->inputShape.empty()
        && std::vector<qint64>(shape.begin() + 1, shape.end()) != d->inputShape)
        throw Error(QStringLiteral("The model takes samples of shape %1 but the input has "
                                   "shape %2 (batch first).")
                        .arg(shapeText(d->inputShape), shapeText(shape)));

    std::lock_guard<std::mutex> lock(d->predictMutex);
    try {
        EvalScope eval(d->module);
        c10::InferenceMode inference;
        // from_blob does not copy; the input outlives the call and is only read.
        const at::Tensor x = at::from_blob(const_cast<float *>(input.data()),
                                           std::vector<int64_t>(shape.begin(), shape.end()),
                                           at::kFloat);
        const c10::IValue result = d->module.forward({x});
        if (!result.isTensor())
            throw Error(QStringLiteral("The model returns %1, not a tensor of scores.")
                            .arg(QString::fromStdString(result.tagKind())));
        const at::Tensor out = result.toTensor().to(at::kFloat).contiguous();
        return std::vector<float>(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
    } catch (const Error &) {
        throw;
    } catch (const c10::Error &e) {
        throw Error(QStringLiteral("The model failed on an input of shape %1: %2")
                        .arg(shapeText(shape), torchMessage(e).section(QLatin1Char('\n'), 0, 2)));
    } catch (const std::exception &e) {
        // A scripted forward that raises (a Python module fed the wrong shape) throws
        // torch::jit::JITException, whose text is a traceback ending in the error line.
        const QStringList lines = QString::fromUtf8(e.what()).trimmed().split(QLatin1Char('\n'));
        throw Error(QStringLiteral("The model failed on an input of shape %1: %2")
                        .arg(shapeText(shape), lines.isEmpty() ? QString() : lines.last().trimmed()));
    }
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
    for (const at::Tensor &p : d->module.parameters())
        count += p.numel();
    return count;
}

} // namespace ms
