#include "train/FromVersion_p.h"

#include "common/Error.h"
#include "common/ShapeText.h"
#include "models/ModelImpl_p.h"
#include "models/ModelLayers.h"

#include <ATen/CPUGeneratorImpl.h>

#include <QJsonArray>
#include <QJsonDocument>

#include <cmath>

namespace ms::fromversion {

namespace {

// The shape of one sample as the version records it (its signature, else the model's own
// attribute); empty when neither knows.
std::vector<qint64> recordedSampleShape(const VersionRecord &v, const Model &model)
{
    if (!v.inputs.isEmpty() && v.inputs.first().shape.size() > 1)
        return std::vector<qint64>(v.inputs.first().shape.begin() + 1,
                                   v.inputs.first().shape.end());
    return model.inputShape();
}

// Throws unless the version's output is one row of scores per sample; returns their count.
int scoresOf(const VersionRecord &v, const Model &model)
{
    if (!v.outputs.isEmpty()) {
        const std::vector<qint64> &shape = v.outputs.first().shape;
        if (shape.size() != 2)
            throw Error(QStringLiteral("%1 returns %2 per batch, not one score per class: "
                                       "train --from fine-tunes classifiers.")
                            .arg(v.ref(), shapeText(shape, ShapeStyle::Batch)));
        return int(shape[1]);
    }
    return int(model.classNames().size());
}

// PyTorch's reset_parameters() for Linear and Conv2d (kaiming_uniform_ with a = sqrt(5), the
// bias uniform in +-1/sqrt(fan_in)), from a generator of its own so a seed gives one head.
void defaultInit(at::Tensor &weight, at::Tensor *bias, at::Generator &gen)
{
    const double fanIn = double(weight.numel() / weight.size(0));
    const double gain = std::sqrt(2.0 / (1 + 5.0));
    const double bound = std::sqrt(3.0) * gain / std::sqrt(fanIn);
    weight.uniform_(-bound, bound, gen);
    if (bias)
        bias->uniform_(-1 / std::sqrt(fanIn), 1 / std::sqrt(fanIn), gen);
}

void replaceClassifier(const Classifier &head, int64_t classes, quint64 seed)
{
    at::NoGradGuard noGrad;
    torch::jit::Module owner = head.owner;
    const at::Tensor old = owner.attr("weight").toTensor();
    std::vector<int64_t> shape(old.sizes().begin(), old.sizes().end());
    shape[0] = classes;
    at::Generator gen = at::detail::createCPUGenerator(seed);
    at::Tensor weight = at::empty(shape, old.options());
    const bool hasBias = owner.hasattr("bias") && owner.attr("bias").isTensor();
    at::Tensor bias = hasBias ? at::empty({classes}, old.options()) : at::Tensor();
    defaultInit(weight, hasBias ? &bias : nullptr, gen);
    owner.register_parameter("weight", weight.requires_grad_(true), false);
    if (hasBias)
        owner.register_parameter("bias", bias.requires_grad_(true), false);
}

// A studio model records its class names and its spec: both follow the new head.
void updateRecordedClasses(torch::jit::Module &module, const QStringList &classNames)
{
    if (module.hasattr("class_names")) {
        c10::List<std::string> names;
        for (const QString &n : classNames)
            names.push_back(n.toStdString());
        module.setattr("class_names", names);
    }
    if (!module.hasattr("spec_json") || !module.attr("spec_json").isString())
        return;
    QJsonObject spec = QJsonDocument::fromJson(
                           QByteArray::fromStdString(module.attr("spec_json").toStringRef()))
                           .object();
    if (spec.isEmpty())
        return;
    spec.insert(QStringLiteral("num_classes"), int(classNames.size()));
    module.setattr("spec_json", QJsonDocument(spec).toJson(QJsonDocument::Compact).toStdString());
}

// Runs two zero samples through the model and returns its output shape.
std::vector<int64_t> outputShape(torch::jit::Module &module, const std::vector<qint64> &sample)
{
    std::vector<int64_t> shape{2};
    shape.insert(shape.end(), sample.begin(), sample.end());
    const bool training = module.is_training();
    module.eval();
    at::NoGradGuard noGrad;
    const c10::IValue out = module.forward({at::zeros(shape)});
    if (training)
        module.train();
    if (!out.isTensor())
        return {};
    return std::vector<int64_t>(out.toTensor().sizes().begin(), out.toTensor().sizes().end());
}

} // namespace

std::optional<Classifier> findClassifier(const torch::jit::Module &module, int64_t outputs)
{
    std::optional<Classifier> found;
    for (const torch::jit::NameModule &named : module.named_modules()) {
        const torch::jit::Module &m = named.value;
        if (!m.hasattr("weight") || !m.attr("weight").isTensor())
            continue;
        const at::Tensor w = m.attr("weight").toTensor();
        const bool linear = w.dim() == 2 && w.size(0) == outputs;
        const bool conv = w.dim() == 4 && w.size(0) == outputs && w.size(2) == 1
                          && w.size(3) == 1;
        if (linear || conv)
            found = Classifier{named.name, m, conv};
    }
    return found;
}

Start prepare(const TrainConfig &config, const QString &workspace, const Dataset &data)
{
    if (workspace.isEmpty())
        throw Error(QStringLiteral("Fine-tuning %1 needs the registry that holds it: run it "
                                   "in a workspace.").arg(config.from));
    Registry registry(workspace);
    Start start;
    start.source = registry.resolve(config.from);
    const QString ref = start.source.ref();
    start.model = Model::load(registry.verifiedArtifactPath(start.source));
    torch::jit::Module &module = start.model.impl()->module;
    module.train();

    // A source that is not a classifier (a language model, a segmenter) is refused for what it
    // is before its input shape is compared with the data.
    start.sourceClasses = scoresOf(start.source, start.model);
    const QString dataset = QStringLiteral("the dataset %1").arg(data.name);
    const std::vector<qint64> sample = recordedSampleShape(start.source, start.model);
    if (sample.empty())
        throw Error(QStringLiteral("%1 records no input shape: import it again with "
                                   "--input-shape.").arg(ref));
    checkDataFitsModel(sample, 0, ref, data.sampleShape, 0, dataset);
    const int classes = data.numClasses();
    if (start.sourceClasses > 0 && start.sourceClasses != classes) {
        if (!config.replaceHead)
            throw Error(QStringLiteral("%1 gives %2 scores per sample but %3 has %4 classes: "
                                       "add --replace-head to re-initialise its classifier for "
                                       "%4 classes, or fine-tune it on data of %2 classes.")
                            .arg(ref, QString::number(start.sourceClasses), dataset,
                                 QString::number(classes)));
        const std::optional<Classifier> head = findClassifier(module, start.sourceClasses);
        if (!head)
            throw Error(QStringLiteral("Cannot replace the classifier of %1: it has no Linear "
                                       "or 1x1 convolution with %2 outputs.")
                            .arg(ref, QString::number(start.sourceClasses)));
        replaceClassifier(*head, classes, config.seed);
        const std::vector<int64_t> out = outputShape(module, sample);
        if (out.size() != 2 || out[1] != classes)
            throw Error(QStringLiteral("Cannot replace the classifier of %1: %2, its last "
                                       "Linear or 1x1 convolution with %3 outputs, does not "
                                       "make its scores (with %4 outputs it returns %5).")
                            .arg(ref, QString::fromStdString(head->path),
                                 QString::number(start.sourceClasses), QString::number(classes),
                                 shapeText(std::vector<qint64>(out.begin(), out.end()), ShapeStyle::Batch)));
        start.replacedHead = QString::fromStdString(head->path);
    }
    updateRecordedClasses(module, data.classNames);
    // Read the attributes again (class names, spec) from the changed module.
    auto impl = std::make_shared<Model::Impl>();
    impl->module = module;
    start.model = Model::fromImpl(std::move(impl));
    return start;
}

std::vector<at::Tensor> trainableParameters(torch::jit::Module &module, bool freezeBackbone,
                                            int64_t classes, const QString &ref)
{
    std::vector<at::Tensor> params;
    if (!freezeBackbone) {
        for (const at::Tensor &p : module.parameters()) {
            p.requires_grad_(true);
            params.push_back(p);
        }
        return params;
    }
    const std::optional<Classifier> head = findClassifier(module, classes);
    if (!head)
        throw Error(QStringLiteral("--freeze-backbone trains only the classifier of %1, but it "
                                   "has no Linear or 1x1 convolution with %2 outputs.")
                        .arg(ref, QString::number(classes)));
    for (const at::Tensor &p : module.parameters())
        p.requires_grad_(false);
    for (const at::Tensor &p : head->owner.parameters(/*recurse=*/false)) {
        p.requires_grad_(true);
        params.push_back(p);
    }
    return params;
}

ModelSummary summaryOf(const Model &model, const std::vector<qint64> &sampleShape)
{
    try {
        ModelSummary summary = describeLayers(model, sampleShape, 1);
        summary.totalMacs = std::max<qint64>(summary.totalMacs, 0);
        return summary;
    } catch (const Error &) {
        ModelSummary summary;
        summary.inputShape = sampleShape;
        summary.totalParams = model.parameterCount();
        return summary;
    }
}

void describeVersion(NewVersion &version, const VersionRecord &source, const Dataset &data)
{
    version.kind = VersionKind::Finetuned;
    version.modelDescription = QStringLiteral("Fine-tuned from %1").arg(source.ref());
    version.parents = {{source.id, QStringLiteral("finetuned-from")}};
    if (!source.inputs.isEmpty()) {
        TensorSignature input = source.inputs.first();
        input.shape = {-1};
        input.shape.insert(input.shape.end(), data.sampleShape.begin(), data.sampleShape.end());
        version.inputs = {input};
    }
}

} // namespace ms::fromversion
