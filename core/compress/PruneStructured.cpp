// prune-structured: removes whole channels of smallest norm, with every slice of every layer
// that must go with them, and writes the smaller weights into the module, so the variant
// really has fewer parameters and multiply-accumulates.
//
// One path for every model: the channel groups come from the module's TorchScript graph
// (PruneGraph_p.h), so a torchvision resnet or mobilenet imported from Python and a net the
// studio built from its spec are pruned the same way. A studio net keeps its spec current
// (each layer's "out" rewritten) so that what reads the spec (summary, MACs, static int8)
// sees the smaller net. The spec-only path this replaced could not follow residual blocks.

#include "compress/BuiltinMethods_p.h"

#include "common/Error.h"
#include "compress/FineTune_p.h"
#include "compress/PruneGraph_p.h"
#include "jobs/JobContext.h"
#include "models/ArchSpec.h"
#include "models/ModelImpl_p.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace ms {

namespace {

const QString kSparsity = QStringLiteral("sparsity");

// The example input's shape, batch included: the model's own or its recorded signature's.
std::vector<int64_t> exampleShape(const Model &model, const VersionRecord &record)
{
    std::vector<int64_t> shape{2};
    const std::vector<qint64> own = model.inputShape();
    if (!own.empty()) {
        shape.insert(shape.end(), own.begin(), own.end());
        return shape;
    }
    if (record.inputs.isEmpty() || record.inputs.first().shape.size() < 2)
        return {};
    for (size_t i = 1; i < record.inputs.first().shape.size(); ++i) {
        if (record.inputs.first().shape[i] <= 0)
            return {};
        shape.push_back(record.inputs.first().shape[i]);
    }
    return shape;
}

// The layers' "out" of a studio net's spec, as its pruned module now has them; a residual
// block's shortcut is written out as it was planned (an "auto" could turn into a projection
// once the widths change).
void resizeSpecLayers(const torch::jit::Module &owner, const std::vector<LayerPlan> &plan,
                      QJsonArray &layers)
{
    for (const LayerPlan &l : plan) {
        QJsonObject json = layers.at(l.index).toObject();
        const std::string name = l.name.toStdString();
        if (l.type == QLatin1String("residual")) {
            const torch::jit::Module block = owner.attr(name).toModule();
            QJsonArray body = json.value(QStringLiteral("layers")).toArray();
            resizeSpecLayers(block, l.body, body);
            json.insert(QStringLiteral("layers"), body);
            json.insert(QStringLiteral("shortcut"), l.shortcut.empty()
                                                        ? QStringLiteral("identity")
                                                        : QStringLiteral("projection"));
        } else if (l.type == QLatin1String("conv2d") || l.type == QLatin1String("linear")) {
            const int64_t out =
                owner.attr(name).toModule().attr("weight").toTensor().size(0);
            if (out != l.out)
                json.insert(QStringLiteral("out"), qint64(out));
        }
        layers.replace(l.index, json);
    }
}

void updateSpec(torch::jit::Module &net)
{
    if (!net.hasattr("spec_json"))
        return;
    QJsonObject spec = QJsonDocument::fromJson(
        QByteArray::fromStdString(net.attr("spec_json").toStringRef())).object();
    if (spec.isEmpty())
        return;
    QJsonArray layers = spec.value(QStringLiteral("layers")).toArray();
    resizeSpecLayers(net, ArchSpec::fromJson(spec).plan(), layers);
    spec.insert(QStringLiteral("layers"), layers);
    net.setattr("spec_json",
                QJsonDocument(spec).toJson(QJsonDocument::Compact).toStdString());
}

std::vector<float> exampleInput(const std::vector<int64_t> &shape)
{
    int64_t n = 1;
    for (const int64_t d : shape)
        n *= d;
    std::vector<float> x(static_cast<size_t>(n));
    for (size_t i = 0; i < x.size(); ++i)
        x[i] = float((i * 37 + 11) % 256) / 255.0f;
    return x;
}

// One forward of the example through both: the variant must give the source's output shape.
void verify(const Model &source, const Model &pruned, const std::vector<int64_t> &shape)
{
    const std::vector<qint64> dims(shape.begin(), shape.end());
    const std::vector<float> x = exampleInput(shape);
    std::vector<qint64> before, after;
    source.predict(x, dims, &before);
    try {
        pruned.predict(x, dims, &after);
    } catch (const Error &e) {
        throw Error(QStringLiteral("The pruned model does not run: %1 This is a fault of "
                                   "prune-structured; nothing was registered.").arg(e.message()));
    }
    if (before != after)
        throw Error(QStringLiteral("The pruned model's output has another shape than the "
                                   "source's; this is a fault of prune-structured and nothing "
                                   "was registered."));
}

QJsonObject groupReport(const prune::Group &group, qint64 after)
{
    QStringList names = group.producers;
    if (names.size() > 8)
        names = names.mid(0, 7) << QStringLiteral("%1 more").arg(names.size() - 7);
    QJsonObject row{{QStringLiteral("layers"), names.join(QStringLiteral(", "))},
                    {QStringLiteral("before"), qint64(group.channels)},
                    {QStringLiteral("after"), after}};
    if (!group.pinned.isEmpty())
        row.insert(QStringLiteral("kept_whole"), group.pinned);
    return row;
}

class PruneStructured final : public CompressionMethod
{
public:
    QString name() const override { return QStringLiteral("prune-structured"); }
    QString description() const override
    {
        return QStringLiteral("Remove whole channels of smallest norm, with everything tied to "
                              "them in the model's graph (batchnorms, the next layers' inputs, "
                              "residual additions, depthwise convolutions), and rebuild "
                              "smaller weights; any TorchScript CNN; optional fine-tuning.");
    }
    QList<CompressParameter> parameters() const override
    {
        QList<CompressParameter> list{
            {kSparsity, CompressParameter::Type::Double, 0.5, 0.0, 1.0, {},
             QStringLiteral("Fraction of the channels removed from every group of channels "
                            "that go together, strictly between 0 and 1 (default 0.5); the "
                            "model's input and output channels stay.")},
            {QStringLiteral("criterion"), CompressParameter::Type::Choice, QStringLiteral("l1"),
             0, 0, {QStringLiteral("l1"), QStringLiteral("l2")},
             QStringLiteral("Norm of a channel's weights across its group that ranks it: l1 "
                            "or l2 (default l1).")},
        };
        list += fineTuneParameters(QStringLiteral("finetune-epochs"), 0,
                                   QStringLiteral("Fine-tuning epochs after pruning "
                                                  "(default 0)."));
        // The fine-tune's schedule, as distill offers it. Steps per epoch are a
        // language-model setting, and structured pruning takes CNNs only.
        for (const CompressParameter &p : scheduleParameters())
            if (p.name != QLatin1String("steps-per-epoch"))
                list << p;
        // Its own defaults: a network that lost half of every channel group needs large steps
        // to come back and a decaying rate to settle. Two cosine epochs from 3e-3 brought
        // resnet18, mobilenet_v2 and the studio's cnn within a point of their sources, where
        // a constant 1e-3 left them 1.6-5.6 points under (bench/README.md).
        for (CompressParameter &p : list) {
            if (p.name == QLatin1String("lr")) {
                p.defaultValue = 3e-3;
                p.help = QStringLiteral("Learning rate of the fine-tuning (Adam), default "
                                        "0.003, decayed by --schedule.");
            } else if (p.name == QLatin1String("schedule")) {
                p.defaultValue = QStringLiteral("cosine");
                p.help = QStringLiteral("Learning-rate schedule of the fine-tuning: cosine "
                                        "down to --min-lr (default), or constant.");
            }
        }
        return list;
    }

    void check(const Model &source, const VersionRecord &record,
               const QJsonObject &params) const override
    {
        const double sparsity = params.value(kSparsity).toDouble();
        if (!(sparsity > 0.0 && sparsity < 1.0))
            throw Error(QStringLiteral("--sparsity must be strictly between 0 and 1, not %1: 0 "
                                       "removes nothing and 1 every channel.").arg(sparsity));
        if (!source.quantizedEngine().isEmpty())
            throw Error(QStringLiteral("%1 is an int8 variant: prune-structured works on float "
                                       "weights. Prune its source, then quantize the pruned "
                                       "version.").arg(record.ref()));
        const std::vector<int64_t> shape = exampleShape(source, record);
        if (shape.empty())
            throw Error(QStringLiteral("%1 records no input shape, which structured pruning "
                                       "needs to check the smaller model: import it again "
                                       "with --input-shape (e.g. 1,3,224,224).")
                            .arg(record.ref()));
        const prune::ChannelGraph graph =
            prune::analyseChannels(source.impl()->module, shape, record.ref());
        const prune::PrunePlan plan = prune::makePrunePlan(graph, sparsity, false);
        bool any = false;
        QStringList kept;
        for (size_t g = 0; g < graph.groups.size(); ++g) {
            any = any || !plan.removed[g].empty();
            if (!graph.groups[g].pinned.isEmpty() && kept.size() < 3)
                kept << graph.groups[g].pinned;
        }
        if (!any)
            throw Error(QStringLiteral("%1 has no channels structured pruning could remove at "
                                       "--sparsity %2: every group of channels is tied to %3, "
                                       "or too small. Use prune-unstructured.")
                            .arg(record.ref()).arg(sparsity)
                            .arg(kept.isEmpty() ? QStringLiteral("nothing prunable")
                                                : kept.join(QStringLiteral(" or "))));
        prune::checkPrunePlan(graph, plan, record.ref());
    }

    CompressOutput apply(CompressInput &input, JobContext &context) const override
    {
        context.setProgress(0.0, QStringLiteral("Finding the channel groups"));
        const double sparsity = input.params.value(kSparsity).toDouble();
        const bool l2 = input.params.value(QStringLiteral("criterion")).toString()
                        == QLatin1String("l2");
        const std::vector<int64_t> shape = exampleShape(input.model, input.source);
        // A copy no forward has run on: its classes' code can still change (PruneGraph_p.h).
        torch::jit::Module work = prune::cloneFresh(input.model.impl()->module);
        prune::ChannelGraph graph = prune::analyseChannels(work, shape, input.source.ref());
        const prune::PrunePlan plan = prune::makePrunePlan(graph, sparsity, l2);
        prune::checkPrunePlan(graph, plan, input.source.ref());
        context.setProgress(0.02, QStringLiteral("Removing channels"));
        const QJsonArray layers = prune::applyPrunePlan(graph, plan);
        updateSpec(work);

        auto impl = std::make_shared<Model::Impl>();
        impl->module = prune::cloneFresh(work);   // compiled afresh with the new constants
        Model smaller = Model::fromImpl(impl);
        verify(input.model, smaller, shape);

        QJsonArray groups;
        for (size_t g = 0; g < graph.groups.size(); ++g) {
            const prune::Group &group = graph.groups[g];
            if (group.producers.isEmpty())
                continue;   // the model's input channels: no layer makes them
            groups.append(groupReport(group, group.channels - qint64(plan.removed[g].size())));
        }
        // The job has filled in parameters() defaults (cosine from 3e-3).
        const TrainConfig config = fineTuneConfig(input.params, QStringLiteral("finetune-epochs"));
        if (config.epochs > 0) {
            at::AutoGradMode enableGrad(true);
            if (!fineTune(impl->module, mutableData(input.dataset()), config, {}, context,
                          QStringLiteral("fine-tuning"), 0.05, 0.95))
                return {};
        }
        CompressOutput result;
        result.model = smaller;
        result.kind = VersionKind::Pruned;
        result.details = QJsonObject{{QStringLiteral("criterion"),
                                      l2 ? QStringLiteral("l2") : QStringLiteral("l1")},
                                     {QStringLiteral("channel_sparsity"), sparsity},
                                     {QStringLiteral("groups"), groups},
                                     {QStringLiteral("layers"), layers},
                                     {QStringLiteral("parameters_before"),
                                      input.model.parameterCount()},
                                     {QStringLiteral("parameters_after"),
                                      smaller.parameterCount()}};
        return result;
    }
};

} // namespace

std::shared_ptr<CompressionMethod> makePruneStructured()
{
    return std::make_shared<PruneStructured>();
}

} // namespace ms
