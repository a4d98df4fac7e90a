// prune-unstructured: magnitude pruning of single weights, layer by layer or globally, one-shot
// or on the gradual cubic schedule of Zhu & Gupta (2017, "To prune, or not to prune"), with
// optional fine-tuning that keeps the pruned weights at zero.

#include "compress/BuiltinMethods_p.h"

#include "common/Error.h"
#include "compress/FineTune_p.h"
#include "jobs/JobContext.h"
#include "models/ModelImpl_p.h"

#include <QJsonArray>

#include <cmath>

namespace ms {

namespace {

struct Target
{
    std::string name;   // "conv2d0.weight"
    at::Tensor weight;
    at::Tensor mask;    // 1 keeps, 0 prunes
};

// Any floating weight of 2 or more dimensions (linear, conv) whose name says "weight": biases
// and normalisation scales are too few to matter and hurt most when pruned. Works the same on
// modules built here and on TorchScript imported from Python.
std::vector<Target> targetsOf(const torch::jit::Module &module)
{
    std::vector<Target> targets;
    for (const auto &p : module.named_parameters(true)) {
        const std::string leaf = p.name.substr(p.name.rfind('.') + 1);
        if (leaf.find("weight") != std::string::npos && p.value.is_floating_point()
            && p.value.dim() >= 2)
            targets.push_back(Target{p.name, p.value, at::ones_like(p.value)});
    }
    return targets;
}

// Masks that zero exactly round(sparsity * n) of the smallest magnitudes: per tensor
// ("layer"), or of all targets ranked together ("global"). Ranking by sort rather than a
// threshold keeps the count exact when magnitudes tie (zeros from an earlier step do).
void computeMasks(std::vector<Target> &targets, double sparsity, bool global)
{
    at::NoGradGuard noGrad;
    if (!global) {
        for (Target &t : targets) {
            const at::Tensor flat = t.weight.detach().abs().flatten();
            const int64_t k = int64_t(std::llround(sparsity * double(flat.numel())));
            at::Tensor mask = at::ones_like(flat);
            if (k > 0)
                mask.index_fill_(0, flat.argsort().slice(0, 0, k), 0.0);
            t.mask = mask.view_as(t.weight);
        }
        return;
    }
    std::vector<at::Tensor> all;
    for (const Target &t : targets)
        all.push_back(t.weight.detach().abs().flatten().to(at::kFloat));
    const at::Tensor flat = at::cat(all);
    const int64_t k = int64_t(std::llround(sparsity * double(flat.numel())));
    at::Tensor mask = at::ones_like(flat);
    if (k > 0)
        mask.index_fill_(0, flat.argsort().slice(0, 0, k), 0.0);
    int64_t offset = 0;
    for (Target &t : targets) {
        t.mask = mask.slice(0, offset, offset + t.weight.numel()).view_as(t.weight)
                     .to(t.weight.scalar_type());
        offset += t.weight.numel();
    }
}

void applyMasks(std::vector<Target> &targets)
{
    at::NoGradGuard noGrad;
    for (Target &t : targets)
        t.weight.mul_(t.mask);
}

class PruneUnstructured final : public CompressionMethod
{
public:
    QString name() const override { return QStringLiteral("prune-unstructured"); }
    QString description() const override
    {
        return QStringLiteral("Zero the smallest weights (magnitude pruning), per layer or "
                              "globally; optional gradual schedule with fine-tuning.");
    }
    QList<CompressParameter> parameters() const override
    {
        QList<CompressParameter> list{
            {QStringLiteral("sparsity"), CompressParameter::Type::Double, 0.5, 0.0, 1.0, {},
             QStringLiteral("Fraction of the weights set to zero, strictly between 0 and 1 "
                            "(default 0.5).")},
            {QStringLiteral("scope"), CompressParameter::Type::Choice, QStringLiteral("layer"),
             0, 0, {QStringLiteral("layer"), QStringLiteral("global")},
             QStringLiteral("layer: every layer to the same sparsity; global: rank all weights "
                            "together (default layer).")},
            {QStringLiteral("schedule"), CompressParameter::Type::Choice,
             QStringLiteral("one-shot"), 0, 0,
             {QStringLiteral("one-shot"), QStringLiteral("gradual")},
             QStringLiteral("one-shot: prune, then fine-tune; gradual: raise the sparsity on a "
                            "cubic schedule while fine-tuning (default one-shot).")},
        };
        list += fineTuneParameters(QStringLiteral("finetune-epochs"), 0,
                                   QStringLiteral("Fine-tuning epochs after (or, gradual, "
                                                  "while) pruning (default 0)."));
        return list;
    }

    void check(const Model &source, const VersionRecord &record,
               const QJsonObject &params) const override
    {
        const double sparsity = params.value(QStringLiteral("sparsity")).toDouble();
        if (!(sparsity > 0.0 && sparsity < 1.0))
            throw Error(QStringLiteral("--sparsity must be strictly between 0 and 1, not %1: 0 "
                                       "prunes nothing and 1 every weight.").arg(sparsity));
        if (params.value(QStringLiteral("schedule")).toString() == QLatin1String("gradual")
            && params.value(QStringLiteral("finetune-epochs")).toInt() < 1)
            throw Error(QStringLiteral("--schedule gradual raises the sparsity while "
                                       "fine-tuning: give --finetune-epochs 1 or more, or use "
                                       "--schedule one-shot."));
        if (targetsOf(source.impl()->module).empty())
            throw Error(QStringLiteral("%1 has no weight to prune: prune-unstructured looks for "
                                       "floating-point parameters of 2 or more dimensions named "
                                       "*weight* (linear and convolution weights).")
                            .arg(record.ref()));
    }

    CompressOutput apply(CompressInput &input, JobContext &context) const override
    {
        torch::jit::Module &module = input.model.impl()->module;
        const QJsonObject &p = input.params;
        const double sparsity = p.value(QStringLiteral("sparsity")).toDouble();
        const bool global = p.value(QStringLiteral("scope")).toString() == QLatin1String("global");
        const bool gradual =
            p.value(QStringLiteral("schedule")).toString() == QLatin1String("gradual");
        const TrainConfig config = fineTuneConfig(p, QStringLiteral("finetune-epochs"));
        std::vector<Target> targets = targetsOf(module);

        if (!gradual) {
            context.setProgress(0.0, QStringLiteral("Pruning"));
            computeMasks(targets, sparsity, global);
            applyMasks(targets);
        }
        if (config.epochs > 0) {
            FineTuneHooks hooks;
            hooks.afterStep = [&targets] { applyMasks(targets); };
            if (gradual) {
                // Zhu & Gupta: s_k = s_f (1 - (1 - k/n)^3) at n evenly spaced steps over the
                // first two thirds of fine-tuning; the last third recovers at the final sparsity.
                hooks.beforeStep = [&](qint64 step, qint64 totalSteps) {
                    const qint64 window = std::max<qint64>(1, totalSteps * 2 / 3);
                    const qint64 events = std::min<qint64>(window, 10);
                    const qint64 every = std::max<qint64>(1, window / events);
                    if (step % every != 0 || step / every >= events)
                        return;
                    const double done = double(step / every + 1) / double(events);
                    computeMasks(targets, sparsity * (1.0 - std::pow(1.0 - done, 3.0)), global);
                    applyMasks(targets);
                };
            }
            if (!fineTune(module, mutableData(input.dataset()), config, hooks, context,
                          QStringLiteral("fine-tuning"), 0.0, 0.95))
                return {};
            // The schedule ends at the target; make sure of it whatever the step count was.
            if (gradual) {
                computeMasks(targets, sparsity, global);
                applyMasks(targets);
            }
        }

        CompressOutput out;
        out.model = input.model;
        out.kind = VersionKind::Pruned;
        QJsonArray layers;
        qint64 zeros = 0;
        qint64 total = 0;
        for (const Target &t : targets) {
            const qint64 n = t.weight.numel();
            const qint64 z = n - t.weight.count_nonzero().item<int64_t>();
            zeros += z;
            total += n;
            layers.append(QJsonObject{{QStringLiteral("layer"), QString::fromStdString(t.name)},
                                      {QStringLiteral("weights"), n},
                                      {QStringLiteral("zeros"), z},
                                      {QStringLiteral("sparsity"), double(z) / double(n)}});
        }
        out.details = QJsonObject{{QStringLiteral("target_sparsity"), sparsity},
                                  {QStringLiteral("scope"), global ? QStringLiteral("global")
                                                                   : QStringLiteral("layer")},
                                  {QStringLiteral("schedule"), gradual ? QStringLiteral("gradual")
                                                                       : QStringLiteral("one-shot")},
                                  {QStringLiteral("sparsity"), double(zeros) / double(total)},
                                  {QStringLiteral("layers"), layers}};
        return out;
    }
};

} // namespace

std::shared_ptr<CompressionMethod> makePruneUnstructured()
{
    return std::make_shared<PruneUnstructured>();
}

} // namespace ms
