// What each op does to channels, for the walk of PruneWalker_p.h: which weight slices it
// adds to a group, whether it starts a new channel space, ties spaces or passes them on.

#include "compress/PruneWalker_p.h"

#include "common/Error.h"

namespace ms::prune::detail {

const std::unordered_map<std::string, Op> &opTable()
{
    static const std::unordered_map<std::string, Op> table = [] {
        std::unordered_map<std::string, Op> t;
        auto add = [&t](Op op, std::initializer_list<const char *> names) {
            for (const char *n : names)
                t[std::string("aten::") + n] = op;
        };
        add(Op::Conv, {"conv2d", "_convolution", "convolution"});
        add(Op::Linear, {"linear"});
        add(Op::BatchNorm, {"batch_norm"});
        // Each channel by itself: activations, dropout, pooling, copies.
        add(Op::Unary, {"relu", "relu_", "relu6", "hardtanh", "hardtanh_", "sigmoid", "sigmoid_",
                        "tanh", "tanh_", "hardswish", "hardswish_", "hardsigmoid",
                        "hardsigmoid_", "silu", "silu_", "gelu", "leaky_relu", "leaky_relu_",
                        "elu", "elu_", "mish", "clamp", "clamp_", "clamp_min", "clamp_min_",
                        "clamp_max", "clamp_max_", "dropout", "dropout_", "feature_dropout",
                        "feature_dropout_", "alpha_dropout", "clone", "contiguous", "detach",
                        "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "neg"});
        add(Op::Binary, {"add", "add_", "sub", "sub_", "rsub", "mul", "mul_", "div", "div_"});
        add(Op::Flatten, {"flatten"});
        add(Op::View, {"view", "reshape"});
        add(Op::Reduce, {"mean", "sum", "amax"});
        add(Op::Cat, {"cat"});
        add(Op::Query, {"size", "dim", "len", "numel"});
        return t;
    }();
    return table;
}

namespace {

QString layerOf(const QString &tensorPath)
{
    return tensorPath.section(QLatin1Char('.'), 0, -2);
}

bool isScalarType(const Value *v)
{
    const c10::TypeKind k = v->type()->kind();
    return k == c10::TypeKind::IntType || k == c10::TypeKind::FloatType
           || k == c10::TypeKind::NumberType || k == c10::TypeKind::BoolType;
}

} // namespace

const Info &Walker::tensorArg(const Node *node, size_t i, const char *what, bool optional)
{
    const Info &in = info(node->input(i));
    if (in.kind == Info::Kind::Tensor)
        return in;
    if (optional && in.kind == Info::Kind::Const && in.value.isNone())
        return in;
    refuse(node, QStringLiteral("its %1 is not a parameter or buffer of a module").arg(what));
}

int64_t Walker::constInt(const Node *node, size_t i, const char *what)
{
    const Info &in = info(node->input(i));
    if (in.kind != Info::Kind::Const || !in.value.isInt())
        refuse(node, QStringLiteral("its %1 is not a constant").arg(what));
    return in.value.toInt();
}

// The elements of an int list, each nullopt where only run time knows it ([x.size(0), -1]).
std::optional<std::vector<std::optional<int64_t>>> Walker::intList(const Value *v)
{
    const Info &in = info(v);
    std::vector<std::optional<int64_t>> out;
    if (in.kind == Info::Kind::Const && in.value.isIntList()) {
        for (const int64_t x : in.value.toIntVector())
            out.push_back(x);
        return out;
    }
    if (v->node()->kind().toQualString() != std::string("prim::ListConstruct"))
        return std::nullopt;
    for (const Value *item : v->node()->inputs()) {
        const Info &e = info(item);
        out.push_back(e.kind == Info::Kind::Const && e.value.isInt()
                          ? std::optional<int64_t>(e.value.toInt())
                          : std::nullopt);
    }
    return out;
}

void Walker::visitOp(Node *node, Op op)
{
    switch (op) {
    case Op::Conv: return visitConv(node);
    case Op::Linear: return visitLinear(node);
    case Op::BatchNorm: return visitBatchNorm(node);
    case Op::Unary: return visitUnary(node);
    case Op::Binary: return visitBinary(node);
    case Op::Flatten: return visitFlatten(node, false);
    case Op::View: return visitFlatten(node, true);
    case Op::Reduce: return visitReduce(node);
    case Op::Cat: return visitCat(node);
    case Op::Query: return;   // sizes, for checks: nothing that depends on which channels
    }
}

void Walker::visitUnary(Node *node)
{
    if (!isAct(node->input(0)))
        refuse(node, QStringLiteral("channels reach it in an argument other than its input"));
    for (size_t i = 1; i < node->inputs().size(); ++i) {
        const Info &arg = info(node->input(i));
        if (arg.kind == Info::Kind::Act || arg.kind == Info::Kind::List
            || arg.kind == Info::Kind::Tensor)
            refuse(node, QStringLiteral("it takes a tensor argument besides its input"));
    }
    setAct(node->output(), Layout(info(node->input(0)).layout));
}

void Walker::visitConv(Node *node)
{
    const bool conv2d = node->kind().toQualString() == std::string("aten::conv2d");
    if (!isAct(node->input(0)))
        refuse(node, QStringLiteral("its weight is computed from the input"));
    if (!conv2d) {
        const Info &transposed = info(node->input(6));
        if (transposed.kind != Info::Kind::Const || !transposed.value.isBool()
            || transposed.value.toBool())
            refuse(node, QStringLiteral("a transposed convolution is not followed"));
    }
    const Info w = tensorArg(node, 1, "weight", false);
    const Info b = tensorArg(node, 2, "bias", true);
    const int64_t groups = constInt(node, conv2d ? 6 : 8, "groups");
    const at::Tensor weight = m_graph.tensors[size_t(w.tensor)].value;
    if (weight.dim() != 4)
        refuse(node, QStringLiteral("only 2-d convolutions are followed (its weight has %1 "
                                    "dimensions)").arg(weight.dim()));
    Layout in = info(node->input(0)).layout;
    if (in.area != 1 || (in.rank != 0 && in.rank != 4))
        refuse(node, QStringLiteral("its input is not a feature map of N x C x H x W"));
    const int64_t out = weight.size(0), perGroup = weight.size(1);
    fitFeatures(node, in, perGroup * groups);
    LayerUse use{LayerUse::Kind::Conv, w.module, layerOf(w.path), w.tensor, false, groups};
    Layout result;
    if (groups == 1) {
        addMembers(node, in, w.tensor, 1, true);
        result = Layout{{Segment{newSpace(out, QString(), use.path), out}}, 4, 1};
    } else if (perGroup == 1 && out == groups) {
        // Depthwise: output channel c is input channel c filtered; one space in and out.
        use.depthwise = true;
        result = in;
        result.rank = 4;
    } else {
        refuse(node, QStringLiteral("a grouped convolution (%1 groups of %2 channels) is not "
                                    "depthwise; only groups = 1 and groups = channels are "
                                    "followed").arg(groups).arg(perGroup));
    }
    addMembers(node, result, w.tensor, 0, true);
    if (b.kind == Info::Kind::Tensor)
        addMembers(node, result, b.tensor, 0, false);
    m_graph.layers.push_back(use);
    setAct(node->output(), result);
}

void Walker::visitLinear(Node *node)
{
    if (!isAct(node->input(0)))
        refuse(node, QStringLiteral("its weight is computed from the input"));
    const Info w = tensorArg(node, 1, "weight", false);
    const Info b = tensorArg(node, 2, "bias", true);
    const at::Tensor weight = m_graph.tensors[size_t(w.tensor)].value;
    Layout in = info(node->input(0)).layout;
    if (in.rank > 2 || weight.dim() != 2)
        refuse(node, QStringLiteral("it applies to the last dimension of a %1-dimensional "
                                    "tensor, not to its channels").arg(in.rank));
    fitFeatures(node, in, weight.size(1));
    addMembers(node, in, w.tensor, 1, true);
    const QString layer = layerOf(w.path);
    const Layout result{{Segment{newSpace(weight.size(0), QString(), layer), weight.size(0)}},
                        2, 1};
    addMembers(node, result, w.tensor, 0, true);
    if (b.kind == Info::Kind::Tensor)
        addMembers(node, result, b.tensor, 0, false);
    m_graph.layers.push_back(LayerUse{LayerUse::Kind::Linear, w.module, layer, w.tensor});
    setAct(node->output(), result);
}

void Walker::visitBatchNorm(Node *node)
{
    if (!isAct(node->input(0)))
        refuse(node, QStringLiteral("its statistics are computed from the input"));
    Layout l = info(node->input(0)).layout;
    // weight, bias, running_mean, running_var: each optional, each one value per channel.
    std::vector<Info> tensors;
    for (size_t i = 1; i <= 4; ++i) {
        const Info &t = tensorArg(node, i, i <= 2 ? "weight" : "running statistics", true);
        if (t.kind == Info::Kind::Tensor)
            tensors.push_back(t);
    }
    if (!tensors.empty()) {
        fitFeatures(node, l, m_graph.tensors[size_t(tensors.front().tensor)].value.size(0));
        for (size_t i = 0; i < tensors.size(); ++i)
            addMembers(node, l, tensors[i].tensor, 0, i == 0 && info(node->input(1)).kind
                                                                  == Info::Kind::Tensor);
        m_graph.layers.push_back(LayerUse{LayerUse::Kind::BatchNorm, tensors.front().module,
                                          layerOf(tensors.front().path),
                                          tensors.front().tensor});
    }
    setAct(node->output(), l);
}

// x (op) t where t is not a tensor with channels of the walk: a scalar or a tensor that
// broadcasts over the channels changes nothing; a parameter with one value per channel (a
// scale, the mean of an input normalisation) is sliced with them; anything else pins them.
void Walker::perChannelOperand(const Node *node, Layout &l, const Info &operand,
                               const Value *value)
{
    if (isScalarType(value))
        return;
    if (operand.kind == Info::Kind::Const && operand.value.isTensor()
        && operand.value.toTensor().numel() == 1)
        return;
    if (operand.kind != Info::Kind::Tensor) {
        Info pinned;
        pinned.kind = Info::Kind::Act;
        pinned.layout = l;
        pin(pinned, QStringLiteral("combined with a tensor computed in the forward"));
        return;
    }
    const at::Tensor t = m_graph.tensors[size_t(operand.tensor)].value;
    if (t.numel() == 1)
        return;
    const int64_t axis = l.rank == 0 ? -1 : t.dim() - (l.rank - 1);
    if (l.rank != 0 && (axis < 0 || t.size(axis) == 1))
        return;   // broadcast over the channels
    if (axis < 0)
        refuse(node, QStringLiteral("it is unclear which dimension of %1 meets the channels")
                         .arg(operand.path));
    fitFeatures(node, l, t.size(axis));
    addMembers(node, l, operand.tensor, int(axis), false);
}

void Walker::visitBinary(Node *node)
{
    const bool reversed = !isAct(node->input(0));
    const Value *x = node->input(reversed ? 1 : 0);
    const Value *other = node->input(reversed ? 0 : 1);
    if (!isAct(x))
        refuse(node, QStringLiteral("channels reach it inside a list"));
    Layout l = info(x).layout;
    if (isAct(other)) {
        const Layout o = info(other).layout;
        const int64_t a = total(l), b = total(o);
        if (a == 1 && b != 1) {
            l = o;   // a one-channel map broadcast over the channels of the other
        } else if (b != 1 || a != 1) {
            if (l.rank != 0 && o.rank != 0 && l.rank != o.rank)
                refuse(node, QStringLiteral("it combines tensors of %1 and %2 dimensions")
                                 .arg(l.rank).arg(o.rank));
            unite(node, l, o);
            l.rank = l.rank == 0 ? o.rank : l.rank;
        }
    } else {
        if (info(other).kind == Info::Kind::List)
            refuse(node, QStringLiteral("channels reach it inside a list"));
        perChannelOperand(node, l, info(other), other);
    }
    setAct(node->output(), l);
}

void Walker::visitFlatten(Node *node, bool view)
{
    Layout l = info(node->input(0)).layout;
    if (!isAct(node->input(0)))
        refuse(node, QStringLiteral("channels reach it in an argument other than its input"));
    bool followed = false;
    if (!view) {
        const int64_t start = constInt(node, 1, "start dimension");
        const int64_t end = constInt(node, 2, "end dimension");
        followed = start == 1 && (end == -1 || (l.rank != 0 && end == l.rank - 1));
    } else {
        // x.view(x.size(0), -1), x.reshape(-1, C*H*W): the batch stays, the rest flattens.
        const auto shape = intList(node->input(1));
        followed = shape && shape->size() == 2
                   && ((*shape)[1] == int64_t(-1) || (*shape)[0] == int64_t(-1));
    }
    if (!followed)
        refuse(node, QStringLiteral("it reshapes the channels into a shape the analysis cannot "
                                    "follow (only the flatten of everything after the batch "
                                    "dimension is)"));
    if (l.rank != 2) {
        if (l.area != 1)
            refuse(node, QStringLiteral("it flattens features that are already flat"));
        l.area = 0;   // C x H x W: the consumer's weight tells H x W
        l.rank = 2;
    }
    setAct(node->output(), l);
}

void Walker::visitReduce(Node *node)
{
    Layout l = info(node->input(0)).layout;
    if (node->inputs().size() < 3)
        return;   // the mean of everything: no channels left
    const auto dims = intList(node->input(1));
    const Info &keep = info(node->input(2));
    bool keepsChannels = dims && !dims->empty() && l.rank != 0 && keep.kind == Info::Kind::Const
                         && keep.value.isBool();
    if (keepsChannels) {
        for (const std::optional<int64_t> &d : *dims)
            keepsChannels = keepsChannels && d && *d != 1 && *d != 1 - l.rank && *d != 0
                            && *d != -l.rank;
    }
    if (!keepsChannels) {
        // Channels summed away: nothing downstream depends on which of them there were.
        return;
    }
    if (!keep.value.toBool())
        l.rank -= int(dims->size());
    setAct(node->output(), l);
}

void Walker::visitCat(Node *node)
{
    const Info list = info(node->input(0));
    const int64_t dim = constInt(node, 1, "dimension");
    if (list.kind != Info::Kind::List || list.items.empty())
        refuse(node, QStringLiteral("it concatenates something that is not a list"));
    for (const Info &item : list.items) {
        if (item.kind != Info::Kind::Act)
            refuse(node, QStringLiteral("it concatenates tensors without channels to ones "
                                        "with"));
    }
    Layout out = list.items.front().layout;
    if (dim == 1 || (out.rank != 0 && dim == 1 - out.rank)) {
        for (size_t i = 1; i < list.items.size(); ++i) {
            const Layout &l = list.items[i].layout;
            if (l.area != 1 || out.area != 1)
                refuse(node, QStringLiteral("it concatenates flattened features"));
            out.segments.insert(out.segments.end(), l.segments.begin(), l.segments.end());
        }
    } else {
        for (size_t i = 1; i < list.items.size(); ++i)
            unite(node, out, list.items[i].layout);
    }
    setAct(node->output(), out);
}

} // namespace ms::prune::detail
