#include "models/ModelLayers.h"

#include "common/Error.h"
#include "models/ImportedModel_p.h"
#include "models/ModelImpl_p.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/inliner.h>

#include <QHash>
#include <QMap>

namespace ms {

namespace {

// Why not forward hooks: a TorchScript module loaded in C++ has none to attach. Instead the
// forward graph is inlined; every inlined node remembers the chain of submodule calls it came
// from (its InlinedCallStack, which the inliner fills with the attribute names of the called
// submodules), and the values of interest become extra outputs of a copy of the graph, run
// once. The model itself is not changed.

// "layer1.0.conv1" for a node inlined from self.layer1[0].conv1's forward; "" for the
// model's own code.
QString modulePath(const torch::jit::Node *node)
{
    const c10::optional<torch::jit::InlinedCallStackPtr> stack = node->callstack();
    if (!stack)
        return QString();
    QStringList parts;
    for (const torch::jit::InlinedCallStackEntry &entry : (*stack)->vec()) {
        const c10::optional<torch::jit::ModuleInstanceInfo> &info = std::get<2>(entry);
        if (!info)
            continue;
        const std::string name = info->instance_name();
        if (name == "SELF" || name == "INSTANCE_NAME_UNKNOWN")
            continue;   // a method of the same module: no new level
        parts << QString::fromStdString(name);
    }
    return parts.join(QLatin1Char('.'));
}

bool countsMacs(const torch::jit::Node *node)
{
    const c10::Symbol k = node->kind();
    return k == c10::aten::conv2d || k == c10::aten::conv1d || k == c10::aten::_convolution
           || k == c10::aten::linear || k == c10::aten::batch_norm;
}

bool insideControlFlow(const torch::jit::Node *node, const torch::jit::Block *top)
{
    return node->owningBlock() != top;
}

// Every node of `block` and of the blocks nested in it, in order.
void collectNodes(torch::jit::Block *block, std::vector<torch::jit::Node *> &out)
{
    for (torch::jit::Node *node : block->nodes()) {
        out.push_back(node);
        for (torch::jit::Block *inner : node->blocks())
            collectNodes(inner, out);
    }
}

// Multiply-accumulates per sample of one counted node, from its output and weight.
qint64 macsOf(const torch::jit::Node *node, const at::Tensor &out, const at::Tensor &weight)
{
    const int64_t perSample = out.dim() > 0 && out.size(0) > 0 ? out.numel() / out.size(0)
                                                                : out.numel();
    if (node->kind() == c10::aten::batch_norm)
        return perSample;
    if (node->kind() == c10::aten::linear)   // in features per output element
        return perSample * weight.size(-1);
    // Convolutions: weight [Cout, Cin/groups, k...]: each output element sums Cin/groups*k...
    return perSample * (weight.numel() / weight.size(0));
}

bool isPrefix(const QString &row, const QString &path)
{
    return row.isEmpty() || path == row || path.startsWith(row + QLatin1Char('.'));
}

struct Probe
{
    std::shared_ptr<torch::jit::Graph> graph;
    // For each counted node: the index of its output and of its weight among the extra outputs.
    std::vector<std::pair<torch::jit::Node *, std::pair<size_t, size_t>>> counted;
    // Nodes in control flow whose MACs cannot be read from one pass: their module paths.
    QStringList uncounted;
    // For each row: the index of its last tensor value among the extra outputs.
    QHash<QString, size_t> rowOutput;
};

Probe makeProbe(const torch::jit::Module &module, const QStringList &rows)
{
    Probe probe;
    probe.graph = module.get_method("forward").graph()->copy();
    torch::jit::Inline(*probe.graph);
    torch::jit::Block *top = probe.graph->block();
    std::vector<torch::jit::Value *> extras;
    auto extra = [&extras](torch::jit::Value *v) {
        extras.push_back(v);
        return extras.size() - 1;
    };
    std::vector<torch::jit::Node *> nodes;
    collectNodes(top, nodes);
    for (torch::jit::Node *node : nodes) {
        if (!countsMacs(node))
            continue;
        if (insideControlFlow(node, top))
            probe.uncounted << modulePath(node);
        else
            probe.counted.push_back({node, {extra(node->output()), extra(node->input(1))}});
    }
    for (torch::jit::Node *node : top->nodes()) {
        if (node->kind() == c10::prim::Constant || node->kind() == c10::prim::GetAttr
            || node->outputs().size() != 1 || !node->output()->type()->cast<c10::TensorType>())
            continue;
        // The last tensor a row's code makes is its output: it takes the next extra's index.
        const QString path = modulePath(node);
        bool wanted = false;
        for (const QString &row : rows) {
            if (!row.isEmpty() && isPrefix(row, path)) {
                probe.rowOutput[row] = extras.size();
                wanted = true;
            }
        }
        if (wanted)
            extra(node->output());
    }
    // The original output first, then the extras, as one tuple.
    std::vector<torch::jit::Value *> values{probe.graph->outputs()[0]};
    values.insert(values.end(), extras.begin(), extras.end());
    torch::jit::Node *tuple = probe.graph->createTuple(values);
    probe.graph->appendNode(tuple);
    probe.graph->eraseOutput(0);
    probe.graph->registerOutput(tuple->output());
    return probe;
}

std::vector<qint64> shapeOf(const at::Tensor &t)
{
    // Per sample: without the batch dimension of the one-sample pass.
    return t.dim() > 0 ? std::vector<qint64>(t.sizes().begin() + 1, t.sizes().end())
                       : std::vector<qint64>{};
}

// The rows: every submodule down to maxDepth, in the module's own order.
QVector<LayerSummary> rowsOf(const torch::jit::Module &module, int maxDepth)
{
    QVector<LayerSummary> rows;
    for (const torch::jit::NameModule &named : module.named_modules()) {
        if (named.name.empty())
            continue;
        const QString name = QString::fromStdString(named.name);
        if (name.count(QLatin1Char('.')) >= maxDepth)
            continue;
        LayerSummary row;
        row.name = name;
        const auto type = named.value.type()->name();
        row.type = type ? QString::fromStdString(type->name()) : QStringLiteral("Module");
        for (const at::Tensor &p : named.value.parameters(/*recurse=*/true))
            row.params += p.numel();
        rows << row;
    }
    return rows;
}

} // namespace

ModelSummary describeLayers(const Model &model, const std::vector<qint64> &sampleShape,
                            int maxDepth, const QString &dtype)
{
    if (model.isNull())
        throw Error(QStringLiteral("There is no model to describe."));
    torch::jit::Module module = imported::network(model.impl()->module);
    ModelSummary summary;
    summary.inputShape = sampleShape;
    summary.layers = rowsOf(module, std::max(1, maxDepth));
    for (const at::Tensor &p : module.parameters(/*recurse=*/true))
        summary.totalParams += p.numel();
    QStringList rowNames;
    for (const LayerSummary &row : std::as_const(summary.layers))
        rowNames << row.name;

    const bool wasTraining = module.is_training();
    c10::IValue result;
    Probe probe;
    try {
        probe = makeProbe(module, rowNames);
        torch::jit::GraphFunction probeFunction("describe_layers", probe.graph, nullptr);
        std::vector<int64_t> shape{1};
        shape.insert(shape.end(), sampleShape.begin(), sampleShape.end());
        module.eval();
        at::NoGradGuard noGrad;
        const at::ScalarType type = dtype == QLatin1String("int64")   ? at::kLong
                                    : dtype == QLatin1String("int32") ? at::kInt
                                                                      : at::kFloat;
        std::vector<c10::IValue> stack{module._ivalue(), at::zeros(shape, type)};
        probeFunction.run(stack);
        result = stack.front();
    } catch (const std::exception &e) {
        if (wasTraining)
            module.train();
        throw Error(QStringLiteral("Cannot describe the layers on an input of %1 values per "
                                   "sample: %2")
                        .arg(QString::number(sampleShape.size()),
                             QString::fromLocal8Bit(e.what()).section(QLatin1Char('\n'), 0, 0)));
    }
    if (wasTraining)
        module.train();
    const std::vector<c10::IValue> &values = result.toTupleRef().elements();
    auto extraAt = [&values](size_t i) { return values.at(i + 1).toTensor(); };

    QMap<QString, qint64> macs;
    for (const auto &[node, index] : probe.counted) {
        const qint64 m = macsOf(node, extraAt(index.first), extraAt(index.second));
        const QString path = modulePath(node);
        summary.totalMacs += m;
        for (const QString &row : std::as_const(rowNames)) {
            if (isPrefix(row, path))
                macs[row] += m;
        }
    }
    for (LayerSummary &row : summary.layers) {
        row.macs = macs.value(row.name, 0);
        for (const QString &path : std::as_const(probe.uncounted))
            row.macs = isPrefix(row.name, path) ? -1 : row.macs;
        if (probe.rowOutput.contains(row.name))
            row.outputShape = shapeOf(extraAt(probe.rowOutput.value(row.name)));
    }
    if (!probe.uncounted.isEmpty())
        summary.totalMacs = -1;
    return summary;
}

ModelSummary summarizeArtifact(const QString &artifactPath,
                               const std::vector<qint64> &sampleShape, const QString &dtype)
{
    const Model model = Model::load(artifactPath);
    if (!model.spec().isEmpty()) {
        try {
            return ArchSpec::fromJson(model.spec()).summary();
        } catch (const Error &) {
            // A spec this build cannot read (a plugin's layer type): describe the module.
        }
    }
    return describeLayers(model, sampleShape, 3, dtype);
}

} // namespace ms
