// prune-structured: removes whole output channels (conv) and neurons (linear) of smallest L1 or
// L2 norm, and the matching inputs of the layers that consume them, then rebuilds the model
// from a smaller spec so that it really has fewer parameters and MACs.

#include "compress/BuiltinMethods_p.h"

#include "common/Error.h"
#include "compress/FineTune_p.h"
#include "jobs/JobContext.h"
#include "models/ArchSpec.h"
#include "models/ModelImpl_p.h"

#include <QJsonArray>

#include <cmath>
#include <map>

namespace ms {

namespace {

bool isWeighted(const LayerPlan &l)
{
    return l.type == QLatin1String("conv2d") || l.type == QLatin1String("linear");
}

torch::jit::Module layerModule(const torch::jit::Module &net, const LayerPlan &l)
{
    return net.attr(l.name.toStdString()).toModule();
}

at::Tensor tensorOf(const torch::jit::Module &layer, const char *name)
{
    return layer.attr(name).toTensor().detach();
}

// The output channels of `weight` to keep, in their original order: the `keep` of largest norm.
at::Tensor keptChannels(const at::Tensor &weight, int64_t keep, bool l2)
{
    const at::Tensor rows = weight.flatten(1);
    const at::Tensor norms = l2 ? rows.pow(2).sum(1).sqrt() : rows.abs().sum(1);
    // Stable descending sort: equal norms keep the earlier channel, so the choice is repeatable.
    const at::Tensor order = std::get<1>(norms.sort(/*stable=*/true, 0, /*descending=*/true));
    return std::get<0>(order.slice(0, 0, keep).sort());
}

class PruneStructured final : public CompressionMethod
{
public:
    QString name() const override { return QStringLiteral("prune-structured"); }
    QString description() const override
    {
        return QStringLiteral("Remove whole channels and neurons of smallest norm and rebuild a "
                              "smaller model; optional fine-tuning.");
    }
    QList<CompressParameter> parameters() const override
    {
        QList<CompressParameter> list{
            {QStringLiteral("sparsity"), CompressParameter::Type::Double, 0.5, 0.0, 1.0, {},
             QStringLiteral("Fraction of the channels (neurons) removed from every layer but "
                            "the classifier, strictly between 0 and 1 (default 0.5).")},
            {QStringLiteral("criterion"), CompressParameter::Type::Choice, QStringLiteral("l1"),
             0, 0, {QStringLiteral("l1"), QStringLiteral("l2")},
             QStringLiteral("Norm of a channel's weights that ranks it: l1 or l2 (default l1).")},
        };
        list += fineTuneParameters(QStringLiteral("finetune-epochs"), 0,
                                   QStringLiteral("Fine-tuning epochs after pruning "
                                                  "(default 0)."));
        return list;
    }

    void check(const Model &source, const VersionRecord &record,
               const QJsonObject &params) const override
    {
        const double sparsity = params.value(QStringLiteral("sparsity")).toDouble();
        if (!(sparsity > 0.0 && sparsity < 1.0))
            throw Error(QStringLiteral("--sparsity must be strictly between 0 and 1, not %1: 0 "
                                       "removes nothing and 1 every channel.").arg(sparsity));
        if (source.spec().isEmpty())
            throw Error(QStringLiteral("%1 cannot be pruned structurally: it is TorchScript "
                                       "without a ModelStudio architecture spec (imported), so "
                                       "its layers and the ops that consume them cannot be "
                                       "rebuilt smaller. Use prune-unstructured or "
                                       "quantize-dynamic for it.").arg(record.ref()));
        int prunable = 0;
        for (const LayerPlan &l : ArchSpec::fromJson(source.spec()).plan())
            prunable += isWeighted(l) ? 1 : 0;
        if (prunable < 2)
            throw Error(QStringLiteral("%1 has a single linear or convolution layer, its "
                                       "classifier, which keeps all its outputs: there is "
                                       "nothing to prune structurally. Use prune-unstructured.")
                            .arg(record.ref()));
    }

    CompressOutput apply(CompressInput &input, JobContext &context) const override
    {
        context.setProgress(0.0, QStringLiteral("Pruning channels"));
        const double sparsity = input.params.value(QStringLiteral("sparsity")).toDouble();
        const bool l2 = input.params.value(QStringLiteral("criterion")).toString()
                        == QLatin1String("l2");
        const torch::jit::Module &old = input.model.impl()->module;
        QJsonObject spec = input.model.spec();
        const std::vector<LayerPlan> plan = ArchSpec::fromJson(spec).plan();
        int last = -1;
        for (const LayerPlan &l : plan)
            last = isWeighted(l) ? l.index : last;

        // Which outputs every prunable layer keeps, and the smaller spec.
        std::map<int, at::Tensor> kept;
        QJsonArray layers = spec.value(QStringLiteral("layers")).toArray();
        QJsonArray report;
        for (const LayerPlan &l : plan) {
            if (!isWeighted(l) || l.index == last)
                continue;
            const int64_t removed = std::min<int64_t>(
                l.out - 1, int64_t(std::llround(sparsity * double(l.out))));
            kept[l.index] = keptChannels(tensorOf(layerModule(old, l), "weight"),
                                         l.out - removed, l2);
            QJsonObject layer = layers.at(l.index).toObject();
            layer.insert(QStringLiteral("out"), qint64(l.out - removed));
            layers.replace(l.index, layer);
            report.append(QJsonObject{{QStringLiteral("layer"), l.name},
                                      {QStringLiteral("before"), l.out},
                                      {QStringLiteral("after"), qint64(l.out - removed)}});
        }
        spec.insert(QStringLiteral("layers"), layers);

        const ModelDataInfo info{input.model.inputShape(), {}, {}, input.model.classNames()};
        Model smaller = Model::build(spec, info, 0);
        torch::jit::Module &net = smaller.impl()->module;
        at::NoGradGuard noGrad;
        // The input normalisation travels as it is (built above with none).
        net.setattr("input_mean", tensorOf(old, "input_mean").clone());
        net.setattr("input_std", tensorOf(old, "input_std").clone());

        // Walk the layers with the channels that reach each one: a consumer keeps the input
        // channels (conv), features (linear) or statistics (batchnorm) of the kept outputs;
        // after a flatten of C x H x W, channel c is the H*W features from c*H*W.
        at::Tensor incoming;   // undefined: every channel reaches this layer
        for (const LayerPlan &l : ArchSpec::fromJson(input.model.spec()).plan()) {
            if (l.type == QLatin1String("flatten") && incoming.defined()
                && l.inputShape.size() == 3) {
                const int64_t area = l.inputShape[1] * l.inputShape[2];
                incoming = (incoming.unsqueeze(1) * area
                            + at::arange(area, incoming.options()).unsqueeze(0)).flatten();
                continue;
            }
            if (l.type == QLatin1String("batchnorm")) {
                const torch::jit::Module from = layerModule(old, l);
                torch::jit::Module to = layerModule(net, l);
                for (const char *t : {"weight", "bias", "running_mean", "running_var"}) {
                    const at::Tensor v = tensorOf(from, t);
                    to.attr(t).toTensor().copy_(incoming.defined() ? v.index_select(0, incoming)
                                                                   : v);
                }
                to.attr("num_batches_tracked").toTensor().copy_(
                    tensorOf(from, "num_batches_tracked"));
                continue;
            }
            if (!isWeighted(l))
                continue;
            const torch::jit::Module from = layerModule(old, l);
            torch::jit::Module to = layerModule(net, l);
            at::Tensor w = tensorOf(from, "weight");
            if (incoming.defined())
                w = w.index_select(1, incoming);
            const auto out = kept.find(l.index);
            if (out != kept.end())
                w = w.index_select(0, out->second);
            to.attr("weight").toTensor().copy_(w);
            if (l.bias) {
                const at::Tensor b = tensorOf(from, "bias");
                to.attr("bias").toTensor().copy_(out != kept.end() ? b.index_select(0, out->second)
                                                                   : b);
            }
            incoming = out != kept.end() ? out->second : at::Tensor();
        }

        const TrainConfig config = fineTuneConfig(input.params, QStringLiteral("finetune-epochs"));
        if (config.epochs > 0) {
            at::AutoGradMode enableGrad(true);
            if (!fineTune(net, mutableData(input.dataset()), config, {}, context,
                          QStringLiteral("fine-tuning"), 0.05, 0.95))
                return {};
        }
        CompressOutput result;
        result.model = smaller;
        result.kind = VersionKind::Pruned;
        result.details = QJsonObject{{QStringLiteral("criterion"),
                                      l2 ? QStringLiteral("l2") : QStringLiteral("l1")},
                                     {QStringLiteral("channel_sparsity"), sparsity},
                                     {QStringLiteral("layers"), report},
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
