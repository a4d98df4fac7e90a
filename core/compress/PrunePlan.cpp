// Ranking the channel groups and writing the smaller tensors back (PruneGraph_p.h).

#include "compress/PruneGraph_p.h"

#include "common/Error.h"
#include "common/Excerpt.h"

#include <torch/csrc/jit/api/function_impl.h>

#include <QJsonObject>

#include <cmath>
#include <map>
#include <set>
#include <sstream>

namespace ms::prune {

namespace {

using Shape = std::vector<int64_t>;

// Per tensor and dimension, the indices that stay; an empty map for a tensor left whole.
using KeptIndices = std::vector<std::map<int, std::vector<int64_t>>>;

KeptIndices keptIndices(const ChannelGraph &graph, const PrunePlan &plan)
{
    std::vector<std::map<int, std::set<int64_t>>> gone(graph.tensors.size());
    for (size_t g = 0; g < graph.groups.size(); ++g) {
        for (const Member &m : graph.groups[g].members) {
            for (const int64_t c : plan.removed[g]) {
                for (int64_t k = 0; k < m.stride; ++k)
                    gone[size_t(m.tensor)][m.dim].insert(m.offset + c * m.stride + k);
            }
        }
    }
    KeptIndices kept(graph.tensors.size());
    for (size_t t = 0; t < gone.size(); ++t) {
        for (const auto &[dim, indices] : gone[t]) {
            std::vector<int64_t> &keep = kept[t][dim];
            for (int64_t i = 0; i < graph.tensors[t].value.size(dim); ++i) {
                if (!indices.count(i))
                    keep.push_back(i);
            }
        }
    }
    return kept;
}

QJsonArray toJson(const Shape &shape)
{
    QJsonArray out;
    for (const int64_t d : shape)
        out.append(qint64(d));
    return out;
}

Shape shapeAfter(const ChannelGraph &graph, const KeptIndices &kept, int tensor)
{
    Shape shape = graph.tensors[size_t(tensor)].value.sizes().vec();
    for (const auto &[dim, keep] : kept[size_t(tensor)])
        shape[size_t(dim)] = int64_t(keep.size());
    return shape;
}

// The size constants a layer's class holds (scripted torch.nn layers keep them as class
// constants; the studio's own layers have none), as they are and as they will be.
struct Constants
{
    std::map<std::string, int64_t> before, after;
};

Constants constantsOf(const ChannelGraph &graph, const KeptIndices &kept, const LayerUse &layer)
{
    const Shape w0 = graph.tensors[size_t(layer.tensor)].value.sizes().vec();
    const Shape w1 = shapeAfter(graph, kept, layer.tensor);
    Constants c;
    switch (layer.kind) {
    case LayerUse::Kind::Conv: {
        const int64_t groups = layer.depthwise ? w1[0] : layer.groups;
        c.before = {{"out_channels", w0[0]}, {"in_channels", w0[1] * layer.groups},
                    {"groups", layer.groups}};
        c.after = {{"out_channels", w1[0]}, {"in_channels", w1[1] * groups}, {"groups", groups}};
        break;
    }
    case LayerUse::Kind::Linear:
        c.before = {{"out_features", w0[0]}, {"in_features", w0[1]}};
        c.after = {{"out_features", w1[0]}, {"in_features", w1[1]}};
        break;
    case LayerUse::Kind::BatchNorm:
        c.before = {{"num_features", w0[0]}};
        c.after = {{"num_features", w1[0]}};
        break;
    }
    const c10::ClassTypePtr type = layer.owner.type();
    for (auto *values : {&c.before, &c.after}) {
        for (auto it = values->begin(); it != values->end();) {
            const bool attribute = it->first == "groups" && type->hasAttribute("groups");
            it = type->hasConstant(it->first) || attribute ? std::next(it) : values->erase(it);
        }
    }
    return c;
}

// Conv nodes of `block` (and the blocks in it) whose groups argument is the constant `before`;
// with `apply`, that argument becomes `after`.
int rewriteGroups(torch::jit::Block *block, torch::jit::Graph &graph, int64_t before,
                  int64_t after, bool apply)
{
    int found = 0;
    for (torch::jit::Node *node : block->nodes()) {
        for (torch::jit::Block *inner : node->blocks())
            found += rewriteGroups(inner, graph, before, after, apply);
        const std::string kind = node->kind().toQualString();
        const size_t at = kind == "aten::conv2d" ? 6
                          : kind == "aten::_convolution" || kind == "aten::convolution" ? 8
                                                                                        : 0;
        if (at == 0 || node->inputs().size() <= at)
            continue;
        const auto value = torch::jit::toIValue(node->input(at));
        if (!value || !value->isInt() || value->toInt() != before)
            continue;
        ++found;
        if (apply) {
            torch::jit::WithInsertPoint here(node);
            node->replaceInput(at, graph.insertConstant(after));
        }
    }
    return found;
}

int rewriteGroups(const c10::ClassTypePtr &type, int64_t before, int64_t after, bool apply)
{
    int found = 0;
    for (torch::jit::Function *method : type->methods()) {
        if (torch::jit::GraphFunction *f = torch::jit::tryToGraphFunction(*method))
            found += rewriteGroups(f->graph()->block(), *f->graph(), before, after, apply);
    }
    return found;
}

struct ClassEdit
{
    c10::ClassTypePtr type;
    QString path;   // the first layer of that class
    Constants constants;
};

// One edit per class whose constants change; throws when the modules of one class would need
// different values, or a depthwise convolution's groups are not a constant of its own code.
std::map<const c10::ClassType *, ClassEdit> classEdits(const ChannelGraph &graph,
                                                      const KeptIndices &kept,
                                                      const QString &what)
{
    const QString refusal = QStringLiteral("%1 cannot be pruned structurally: %2. Nothing was "
                                           "changed.").arg(what);
    std::map<const c10::ClassType *, ClassEdit> edits;
    std::set<const c10::ivalue::Object *> layers;
    for (const LayerUse &layer : graph.layers) {
        layers.insert(layer.owner._ivalue().get());
        const Constants c = constantsOf(graph, kept, layer);
        const c10::ClassTypePtr type = layer.owner.type();
        const auto [it, isNew] = edits.emplace(type.get(), ClassEdit{type, layer.path, c});
        if (!isNew && it->second.constants.after != c.after)
            throw Error(refusal.arg(QStringLiteral(
                "%1 and %2 share one TorchScript class (%3) but would need different sizes in "
                "its constants after pruning").arg(it->second.path, layer.path,
                                                    excerpt(type->repr_str(), 80))));
    }
    for (auto it = edits.begin(); it != edits.end();) {
        it = it->second.constants.before == it->second.constants.after ? edits.erase(it)
                                                                        : std::next(it);
    }
    for (const torch::jit::NameModule &m : graph.root.named_modules()) {
        const auto edit = edits.find(m.value.type().get());
        if (edit != edits.end() && !layers.count(m.value._ivalue().get()))
            throw Error(refusal.arg(QStringLiteral(
                "%1 shares its TorchScript class with %2, whose sizes change, but the forward "
                "never uses it").arg(QString::fromStdString(m.name), edit->second.path)));
    }
    for (const auto &[type, edit] : edits) {
        const auto &before = edit.constants.before, &after = edit.constants.after;
        const auto groups = before.find("groups");
        if (groups == before.end() || groups->second == after.at("groups")
            || edit.type->hasAttribute("groups"))
            continue;
        if (rewriteGroups(edit.type, groups->second, after.at("groups"), false) == 0)
            throw Error(refusal.arg(QStringLiteral(
                "the depthwise convolution %1 takes its groups from code other than its own "
                "class's, which the rebuild cannot rewrite").arg(edit.path)));
    }
    return edits;
}

} // namespace

PrunePlan makePrunePlan(const ChannelGraph &graph, double sparsity, bool l2)
{
    at::NoGradGuard noGrad;
    PrunePlan plan;
    plan.removed.resize(graph.groups.size());
    for (size_t g = 0; g < graph.groups.size(); ++g) {
        const Group &group = graph.groups[g];
        const int64_t n = group.channels;
        const int64_t remove =
            group.pinned.isEmpty() && n > 1
                ? std::min<int64_t>(n - 1, int64_t(std::llround(sparsity * double(n))))
                : 0;
        if (remove <= 0)
            continue;
        // The channel's norm over every weight slice of the group, as one vector.
        at::Tensor score = at::zeros({n}, at::kDouble);
        for (const Member &m : group.members) {
            if (!m.scored)
                continue;
            const at::Tensor rows = graph.tensors[size_t(m.tensor)].value.detach()
                                        .to(at::kDouble).movedim(m.dim, 0)
                                        .narrow(0, m.offset, n * m.stride).reshape({n, -1});
            score += l2 ? rows.pow(2).sum(1) : rows.abs().sum(1);
        }
        // Stable descending sort: equal norms keep the earlier channel, so the choice repeats.
        const at::Tensor order = std::get<1>(score.sort(/*stable=*/true, 0, /*descending=*/true));
        const at::Tensor gone = std::get<0>(order.slice(0, n - remove).sort()).contiguous();
        plan.removed[g].assign(gone.data_ptr<int64_t>(), gone.data_ptr<int64_t>() + remove);
    }
    return plan;
}

void checkPrunePlan(const ChannelGraph &graph, const PrunePlan &plan, const QString &what)
{
    classEdits(graph, keptIndices(graph, plan), what);
}

QJsonArray applyPrunePlan(ChannelGraph &graph, const PrunePlan &plan)
{
    at::NoGradGuard noGrad;
    const KeptIndices kept = keptIndices(graph, plan);
    const auto edits = classEdits(graph, kept, QStringLiteral("The model"));
    QJsonArray report;
    for (const LayerUse &layer : graph.layers) {
        const Shape before = graph.tensors[size_t(layer.tensor)].value.sizes().vec();
        const Shape after = shapeAfter(graph, kept, layer.tensor);
        if (layer.kind == LayerUse::Kind::BatchNorm || before == after)
            continue;
        report.append(QJsonObject{{QStringLiteral("layer"), layer.path},
                                  {QStringLiteral("before"), toJson(before)},
                                  {QStringLiteral("after"), toJson(after)}});
    }
    for (size_t t = 0; t < graph.tensors.size(); ++t) {
        if (kept[t].empty())
            continue;
        TensorUse &use = graph.tensors[t];
        at::Tensor value = use.value.detach();
        for (const auto &[dim, keep] : kept[t])
            value = value.index_select(dim, at::tensor(keep, at::kLong));
        value = value.contiguous().requires_grad_(use.value.requires_grad());
        for (const Holder &h : use.holders)
            h.owner._ivalue()->setAttr(h.attr, value);
        use.value = value;
    }
    for (const auto &[type, edit] : edits) {
        for (const auto &[name, value] : edit.constants.after) {
            const int64_t old = edit.constants.before.at(name);
            if (value == old)
                continue;
            if (name == "groups" && !edit.type->hasAttribute(name))
                rewriteGroups(edit.type, old, value, true);
            if (edit.type->hasConstant(name)) {
                edit.type->unsafeRemoveConstant(name);
                edit.type->addConstant(name, value);
            }
        }
    }
    for (const LayerUse &layer : graph.layers) {
        if (layer.depthwise && layer.owner.type()->hasAttribute("groups"))
            layer.owner._ivalue()->setAttr("groups",
                                           shapeAfter(graph, kept, layer.tensor).front());
    }
    return report;
}

torch::jit::Module cloneFresh(const torch::jit::Module &module)
{
    std::stringstream bytes;
    module.save(bytes);
    bytes.seekg(0);
    return torch::jit::load(bytes);
}

} // namespace ms::prune
