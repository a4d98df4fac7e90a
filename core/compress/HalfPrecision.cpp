// fp16 / bf16: weight STORAGE in half precision, COMPUTE in fp32. The module is frozen (weights
// become constants of its forward graph), each fp32 weight constant is replaced by its fp16 (or
// bfloat16) value followed by a cast back to fp32, so the artifact holds half-size weights and
// forward casts them to fp32 on every call before the usual fp32 kernels run. This CPU has no
// fast fp16 matrix kernels in LibTorch 1.13, so computing in half would be slower, not faster;
// the point of these variants is size (and the rounding they cost), which is what they claim.

#include "compress/QuantizeMethods_p.h"

#include "common/Error.h"
#include "compress/Quantization_p.h"
#include "jobs/JobContext.h"
#include "models/ModelImpl_p.h"

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>

#include <map>

namespace ms {

namespace {

void floatConstants(torch::jit::Block *block, std::vector<torch::jit::Node *> &out)
{
    for (torch::jit::Node *node : block->nodes()) {
        for (torch::jit::Block *sub : node->blocks())
            floatConstants(sub, out);
        if (node->kind() != c10::prim::Constant
            || !node->output()->type()->cast<c10::TensorType>())
            continue;
        const c10::optional<c10::IValue> v = torch::jit::toIValue(node->output());
        if (v && v->isTensor() && v->toTensor().scalar_type() == at::kFloat)
            out.push_back(node);
    }
}

class HalfPrecision final : public CompressionMethod
{
public:
    explicit HalfPrecision(bool bf16)
        : m_bf16(bf16)
    {}

    QString name() const override
    {
        return m_bf16 ? QStringLiteral("bf16") : QStringLiteral("fp16");
    }
    QString description() const override
    {
        return m_bf16 ? QStringLiteral("Weights stored as bfloat16 (half the size), cast to fp32 "
                                       "in forward; computes in fp32")
                      : QStringLiteral("Weights stored as IEEE fp16 (half the size), cast to fp32 "
                                       "in forward; computes in fp32");
    }
    QList<CompressParameter> parameters() const override { return {}; }

    void check(const Model &source, const VersionRecord &record,
               const QJsonObject &params) const override
    {
        const torch::jit::Module frozen = quant::freezeForRewrite(source.impl()->module);
        std::vector<torch::jit::Node *> nodes;
        const auto graph = frozen.get_method("forward").graph();
        floatConstants(graph->block(), nodes);
        if (nodes.empty())
            throw Error(QStringLiteral("%1 has no fp32 weights to store in %2 (its forward runs: "
                                       "%3); is it already quantized or in half precision?")
                            .arg(record.ref().isEmpty() ? QStringLiteral("The model")
                                                        : record.ref(),
                                 name(), quant::opsSummary(graph)));
    }

    CompressOutput apply(CompressInput &input, JobContext &context) const override
    {
        context.setProgress(0.1, QStringLiteral("Freezing the graph"));
        torch::jit::Module frozen = quant::freezeForRewrite(input.model.impl()->module);
        const at::ScalarType storage = m_bf16 ? at::kBFloat16 : at::kHalf;
        // forward and, for a language model, step() and step_rows(): freezing inlined the same
        // weight tensors into each, and one stored copy serves them all (the file keeps one
        // storage per tensor).
        const std::vector<std::string> methods = quant::rewrittenMethods(frozen);
        std::map<quant::WeightKey, at::Tensor> storedOf;
        qint64 values = 0;
        double maxError = 0.0;
        for (const std::string &method : methods) {
            const auto graph = frozen.get_method(method).graph();
            std::vector<torch::jit::Node *> nodes;
            floatConstants(graph->block(), nodes);
            for (torch::jit::Node *node : nodes) {
                const at::Tensor weight = torch::jit::toIValue(node->output())->toTensor();
                at::Tensor &stored = storedOf[quant::weightKey(weight)];
                if (!stored.defined()) {
                    stored = weight.to(storage);
                    values += weight.numel();
                    if (weight.numel() > 0)
                        maxError = std::max(
                            maxError, (stored.to(at::kFloat) - weight).abs().max().item<double>());
                }
                torch::jit::WithInsertPoint guard(node);
                torch::jit::Value *constant = graph->insertConstant(stored);
                torch::jit::Value *cast = graph->insert(c10::aten::to, {constant, at::kFloat});
                node->output()->replaceAllUsesWith(cast);
                node->destroy();
            }
            torch::jit::EliminateDeadCode(graph);
        }
        if (context.isCancelled())
            return CompressOutput();

        QJsonObject details{
            {QStringLiteral("storage"), name()},
            {QStringLiteral("compute"),
             QStringLiteral("fp32: each weight is cast from %1 to fp32 inside forward, on every "
                            "call").arg(name())},
            {QStringLiteral("tensors"), int(storedOf.size())},
            {QStringLiteral("values"), values},
            {QStringLiteral("max_abs_rounding"), maxError}};
        context.setProgress(1.0, QStringLiteral("Stored %1 weights in %2").arg(values).arg(name()));
        return quant::quantizedOutput(frozen, details);
    }

private:
    bool m_bf16 = false;
};

} // namespace

std::shared_ptr<CompressionMethod> makeHalfPrecision(bool bf16)
{
    return std::make_shared<HalfPrecision>(bf16);
}

} // namespace ms
