// quantize-dynamic: int8 weights for every aten::linear whose weight is a constant once the module
// is frozen; activations are quantized per batch at run time by quantized::linear_dynamic. Works
// on a module built from a studio spec and on any imported TorchScript module alike, since it
// rewrites the graph rather than the spec.

#include "compress/QuantizeMethods_p.h"

#include "common/Error.h"
#include "compress/Quantization_p.h"
#include "jobs/JobContext.h"
#include "models/ModelImpl_p.h"

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include <QJsonArray>

#include <algorithm>
#include <iterator>
#include <map>
#include <tuple>
#include <vector>

namespace ms {

namespace {

struct LinearSite
{
    torch::jit::Node *node = nullptr;
    at::Tensor weight;
    c10::optional<at::Tensor> bias;
};

// The aten::linear nodes of a frozen forward, split into those whose weight (and bias) are
// constants — what can be packed once — and the others.
void findLinears(torch::jit::Block *block, std::vector<LinearSite> &constant, int *other)
{
    for (torch::jit::Node *node : block->nodes()) {
        for (torch::jit::Block *sub : node->blocks())
            findLinears(sub, constant, other);
        if (node->kind() != c10::aten::linear)
            continue;
        const c10::optional<c10::IValue> w = torch::jit::toIValue(node->input(1));
        const c10::optional<c10::IValue> b = torch::jit::toIValue(node->input(2));
        const bool weightOk = w && w->isTensor() && w->toTensor().dim() == 2
                              && w->toTensor().scalar_type() == at::kFloat;
        const bool biasOk = b && (b->isNone() || (b->isTensor()
                                                  && b->toTensor().scalar_type() == at::kFloat));
        if (!weightOk || !biasOk) {
            ++*other;
            continue;
        }
        LinearSite site;
        site.node = node;
        site.weight = w->toTensor();
        if (b->isTensor())
            site.bias = b->toTensor();
        constant.push_back(site);
    }
}

torch::jit::Node *findFusedFastPath(torch::jit::Block *block)
{
    static const c10::Symbol kFused[] = {
        c10::Symbol::fromQualString("aten::_transformer_encoder_layer_fwd"),
        c10::Symbol::fromQualString("aten::_native_multi_head_attention")};
    for (torch::jit::Node *node : block->nodes()) {
        for (torch::jit::Block *sub : node->blocks()) {
            if (torch::jit::Node *found = findFusedFastPath(sub))
                return found;
        }
        if (std::find(std::begin(kFused), std::end(kFused), node->kind()) != std::end(kFused))
            return node;
    }
    return nullptr;
}

// PyTorch's fused inference fast paths (nn.TransformerEncoderLayer's
// _transformer_encoder_layer_fwd, nn.MultiheadAttention's _native_multi_head_attention) take
// the Linear weights as float tensors into one kernel, and a scripted layer takes them whenever
// it runs in eval mode without gradients, which is how every variant runs: the int8 Linear ops
// of the other branch would never run, and the float weights would stay in the file. Each fused
// call sits in a branch of the prim::If that tests the fast path's conditions; that condition
// (everywhere it is used) is made the constant that picks the other branch (the unfused ops,
// which compute the same), and constant propagation removes the fused one. Returns how many
// were bypassed.
int bypassFusedFastPaths(std::shared_ptr<torch::jit::Graph> graph)
{
    int count = 0;
    // Each pass removes one fused call; a graph holds a few per layer at most.
    while (torch::jit::Node *fused = findFusedFastPath(graph->block())) {
        torch::jit::Node *owner = fused->owningBlock()->owningNode();
        if (!owner || owner->kind() != c10::prim::If || count >= 1024)
            break;   // not behind a test: left as it is (its Linear weights stay float)
        const bool inThen = owner->blocks()[0] == fused->owningBlock();
        {
            // Every use of the condition, not only this If: a scripted early return also
            // hands it on as the block's "returned" flag. A constant has no inputs, so at the
            // top of the graph it comes before all of them.
            torch::jit::WithInsertPoint guard(graph->block()->nodes().front());
            owner->input(0)->replaceAllUsesWith(graph->insertConstant(!inThen));
        }
        torch::jit::ConstantPropagation(graph);
        ++count;
        if (findFusedFastPath(graph->block()) == fused)
            break;   // not folded away: nothing more to do by this means
    }
    torch::jit::EliminateDeadCode(graph);
    return count;
}

class QuantizeDynamic final : public CompressionMethod
{
public:
    QString name() const override { return QStringLiteral("quantize-dynamic"); }
    QString description() const override
    {
        return QStringLiteral("Int8 weights for the Linear layers (a rewrite of aten::linear), "
                              "activations quantized per batch; other layers stay fp32");
    }
    QList<CompressParameter> parameters() const override { return {quant::engineParameter()}; }

    void check(const Model &source, const VersionRecord &record,
               const QJsonObject &params) const override
    {
        quant::checkEngine(params.value(QStringLiteral("engine")).toString(QStringLiteral("auto")));
        const torch::jit::Module frozen = quant::freezeForRewrite(source.impl()->module);
        std::vector<LinearSite> sites;
        int other = 0;
        const auto graph = frozen.get_method("forward").graph();
        bypassFusedFastPaths(graph);
        findLinears(graph->block(), sites, &other);
        if (sites.empty())
            throw Error(QStringLiteral("%1 has no Linear layer with constant weights to quantize "
                                       "dynamically (its forward runs: %2). Dynamic int8 "
                                       "covers aten::linear only; for convolutions use "
                                       "quantize-static.")
                            .arg(record.ref().isEmpty() ? QStringLiteral("The model")
                                                        : record.ref(),
                                 quant::opsSummary(graph)));
    }

    CompressOutput apply(CompressInput &input, JobContext &context) const override
    {
        const QString engineParam =
            input.params.value(QStringLiteral("engine")).toString(QStringLiteral("auto"));
        context.setProgress(0.05, QStringLiteral("Freezing the graph"));
        const torch::jit::Module &source = input.model.impl()->module;
        QJsonObject details;
        QJsonArray layers;
        int leftFloat = 0;
        int bypassed = 0;
        QString keptOps;
        auto build = [&]() {
            torch::jit::Module frozen = quant::freezeForRewrite(source);
            bypassed = 0;   // built once per engine tried: count this build's
            // forward and, for a language model, step() and step_rows(): freezing inlined the
            // same weight tensors into each, so one packed copy per weight serves them all.
            const std::vector<std::string> methods = quant::rewrittenMethods(frozen);
            std::map<quant::WeightKey, std::string> packedOf;
            QJsonArray done;
            int other = 0;
            for (const std::string &method : methods) {
                const auto graph = frozen.get_method(method).graph();
                bypassed += bypassFusedFastPaths(graph);
                std::vector<LinearSite> sites;
                int methodOther = 0;
                findLinears(graph->block(), sites, &methodOther);
                if (method == "forward")
                    other = methodOther;
                torch::jit::Value *self = graph->inputs()[0];
                for (const LinearSite &site : sites) {
                    std::string &attr = packedOf[quant::weightKey(site.weight)];
                    if (attr.empty()) {
                        attr = "_packed_linear_" + std::to_string(packedOf.size() - 1);
                        frozen.register_attribute(
                            attr, quant::linearPackedType(),
                            quant::prepackLinear(quant::quantizeWeightPerChannel(site.weight),
                                                 site.bias));
                        done.append(
                            QJsonObject{{QStringLiteral("out"), qint64(site.weight.size(0))},
                                        {QStringLiteral("in"), qint64(site.weight.size(1))}});
                    }
                    torch::jit::WithInsertPoint guard(site.node);
                    torch::jit::Value *packed = graph->insertGetAttr(self, attr);
                    torch::jit::Value *out = graph->insert(
                        c10::Symbol::fromQualString("quantized::linear_dynamic"),
                        {site.node->input(0), packed, false});
                    site.node->output()->replaceAllUsesWith(out);
                    site.node->destroy();
                }
                // The float weights are dead constants now; dropping them is what shrinks
                // the file.
                torch::jit::EliminateDeadCode(graph);
                if (method == "forward")
                    keptOps = quant::opsSummary(graph);
            }
            layers = done;
            leftFloat = other;
            return frozen;
        };
        context.setProgress(0.2, QStringLiteral("Packing int8 weights"));
        QString engine;
        const at::Tensor batch = quant::sampleBatch(input, 32);
        torch::jit::Module variant = quant::buildForEngine(engineParam, build, batch, details,
                                                           &engine);
        if (context.isCancelled())
            return CompressOutput();
        variant.register_attribute("quantized_engine", c10::StringType::get(),
                                   engine.toStdString());
        details.insert(QStringLiteral("scheme"),
                       QStringLiteral("dynamic int8: per-channel symmetric qint8 weights, "
                                      "activations quantized per batch "
                                      "(quantized::linear_dynamic)"));
        details.insert(QStringLiteral("quantized_layers"), layers);
        details.insert(QStringLiteral("linear_left_fp32"), leftFloat);
        if (bypassed > 0)
            details.insert(QStringLiteral("fused_fast_paths_bypassed"), bypassed);
        details.insert(QStringLiteral("ops_after"), keptOps);

        context.setProgress(1.0, QStringLiteral("Quantized %1 linear layers").arg(layers.size()));
        return quant::quantizedOutput(variant, details, engine);
    }
};

} // namespace

std::shared_ptr<CompressionMethod> makeQuantizeDynamic()
{
    return std::make_shared<QuantizeDynamic>();
}

} // namespace ms
