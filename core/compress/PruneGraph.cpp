// The walk over a forward graph that finds the channel groups (PruneWalker_p.h): spaces,
// control flow and values here, the ops in PruneOps.cpp.

#include "compress/PruneWalker_p.h"

#include "common/Error.h"
#include "common/Excerpt.h"

#include <torch/csrc/jit/passes/inliner.h>

namespace ms::prune {

namespace detail {

namespace {

QString joinPath(const QString &prefix, const std::string &name)
{
    const QString n = QString::fromStdString(name);
    return prefix.isEmpty() ? n : prefix + QLatin1Char('.') + n;
}

// " in module features.3.conv (mobilenetv2.py:62: `x + self.conv(x)`)": where a node came from.
QString whereFrom(const Node *node)
{
    QStringList modules;
    if (node->callstack()) {
        for (const torch::jit::InlinedCallStackEntry &e : (*node->callstack())->vec()) {
            const auto &instance = std::get<2>(e);
            if (instance && !instance->instance_name().empty())
                modules << QString::fromStdString(instance->instance_name());
        }
    }
    QString text;
    if (!modules.isEmpty())
        text = QStringLiteral(" in module %1").arg(excerpt(modules.join(QLatin1Char('.')), 80));
    torch::jit::SourceRange range = node->sourceRange();
    if (const auto original = range.findSourceRangeThatGenerated())
        range = *original;
    if (const auto flc = range.file_line_col()) {
        // The whole line the op is on: the range itself is often just the callee (`x.view`).
        const std::string line =
            range.source()->get_line(range.source()->lineno_for_offset(range.start())).str();
        text += QStringLiteral(" (%1:%2: `%3`)")
                    .arg(excerpt(std::get<0>(*flc), 80))
                    .arg(qulonglong(std::get<1>(*flc)))
                    .arg(excerpt(QString::fromStdString(line).trimmed(), 100));
    }
    return text;
}

bool isListKind(const std::string &kind)
{
    return kind == "prim::ListConstruct" || kind == "prim::TupleConstruct";
}

} // namespace

void Walker::refuse(const Node *node, const QString &why) const
{
    QString value;
    if (!node->outputs().empty() && node->outputs()[0]->hasDebugName())
        value = QStringLiteral(" (value %") + excerpt(node->outputs()[0]->debugName(), 40)
                + QLatin1Char(')');
    throw Error(QStringLiteral("%1 cannot be pruned structurally: the channel analysis of its "
                               "graph stops at %2%3%4: %5. Nothing was changed; "
                               "prune-unstructured and quantize-dynamic work on any graph.")
                    .arg(m_what, excerpt(node->kind().toQualString(), 60), value,
                         whereFrom(node), why));
}

void Walker::setAct(const Value *v, const Layout &layout)
{
    Info &out = info(v);
    out = Info();
    out.kind = Info::Kind::Act;
    out.layout = layout;
}

int Walker::newSpace(int64_t size, const QString &pinned, const QString &producer)
{
    const int id = int(m_spaces.size());
    m_spaces.push_back(Space{id, size, pinned, producer});
    return id;
}

int Walker::find(int s)
{
    while (m_spaces[size_t(s)].parent != s) {
        m_spaces[size_t(s)].parent = m_spaces[size_t(m_spaces[size_t(s)].parent)].parent;
        s = m_spaces[size_t(s)].parent;
    }
    return s;
}

void Walker::unite(const Node *node, int a, int b)
{
    a = find(a);
    b = find(b);
    if (a == b)
        return;
    Space &sa = m_spaces[size_t(a)];
    Space &sb = m_spaces[size_t(b)];
    if (sa.size >= 0 && sb.size >= 0 && sa.size != sb.size)
        refuse(node, QStringLiteral("it joins %1 channels with %2").arg(sa.size).arg(sb.size));
    sb.parent = a;
    if (sa.size < 0)
        sa.size = sb.size;
    if (sa.pinned.isEmpty())
        sa.pinned = sb.pinned;
}

void Walker::unite(const Node *node, const Layout &a, const Layout &b)
{
    if (a.segments.size() != b.segments.size())
        refuse(node, QStringLiteral("it joins a concatenation of %1 parts with one of %2 parts")
                         .arg(a.segments.size()).arg(b.segments.size()));
    if (a.area != b.area && a.area > 0 && b.area > 0)
        refuse(node, QStringLiteral("it joins features of channels %1 and %2 wide")
                         .arg(a.area).arg(b.area));
    for (size_t i = 0; i < a.segments.size(); ++i)
        unite(node, a.segments[i].space, b.segments[i].space);
}

int64_t Walker::total(const Layout &l)
{
    int64_t n = 0;
    for (const Segment &s : l.segments) {
        const int64_t size = m_spaces[size_t(find(s.space))].size;
        if (size < 0)
            return -1;
        n += size;
    }
    return n;
}

// Makes `l` (channels x area) account for the `features` a weight reads: an open space (the
// model's input of unknown channels) takes the rest, an unknown area (after a flatten) the
// quotient.
void Walker::fitFeatures(const Node *node, Layout &l, int64_t features)
{
    if (l.area == 0 && total(l) > 0) {
        if (features % total(l) != 0)
            refuse(node, QStringLiteral("its weight takes %1 features, no multiple of the %2 "
                                        "channels that arrive").arg(features).arg(total(l)));
        l.area = features / total(l);
    }
    if (l.area == 0)
        l.area = 1;
    int64_t known = 0;
    int open = -1;
    for (const Segment &s : l.segments) {
        const int64_t size = m_spaces[size_t(find(s.space))].size;
        if (size < 0)
            open = find(s.space);
        else
            known += size;
    }
    if (open >= 0 && features % l.area == 0 && features / l.area > known)
        m_spaces[size_t(open)].size = features / l.area - known;
    for (Segment &s : l.segments)
        s.size = m_spaces[size_t(find(s.space))].size;
    if (total(l) < 0 || total(l) * l.area != features)
        refuse(node, QStringLiteral("its weight takes %1 features where %2 channels of %3 "
                                    "arrive").arg(features).arg(total(l)).arg(l.area));
}

void Walker::addMembers(const Node *node, const Layout &l, int tensor, int dim, bool scored)
{
    int64_t offset = 0;
    for (const Segment &s : l.segments) {
        const Member m{tensor, dim, offset * l.area, l.area, scored};
        const auto key = std::make_tuple(tensor, dim, m.offset, m.stride);
        const auto seen = m_sliceSpace.find(key);
        if (seen != m_sliceSpace.end()) {
            unite(node, seen->second, s.space);
        } else {
            m_sliceSpace.emplace(key, s.space);
            m_members.emplace_back(s.space, m);
        }
        offset += m_spaces[size_t(find(s.space))].size;
    }
}

void Walker::pin(const Info &value, const QString &why)
{
    if (value.kind == Info::Kind::List) {
        for (const Info &item : value.items)
            pin(item, why);
    }
    if (value.kind != Info::Kind::Act)
        return;
    for (const Segment &s : value.layout.segments) {
        Space &root = m_spaces[size_t(find(s.space))];
        if (root.pinned.isEmpty())
            root.pinned = why;
    }
}

int Walker::tensorOf(const at::Tensor &t, const Holder &holder)
{
    const auto it = m_tensorIndex.find(t.unsafeGetTensorImpl());
    if (it != m_tensorIndex.end()) {
        TensorUse &use = m_graph.tensors[size_t(it->second)];
        bool known = false;
        for (const Holder &h : use.holders)
            known = known || (h.owner._ivalue() == holder.owner._ivalue() && h.attr == holder.attr);
        if (!known)
            use.holders.push_back(holder);
        return it->second;
    }
    const int id = int(m_graph.tensors.size());
    m_graph.tensors.push_back(TensorUse{t, {holder}});
    m_tensorIndex.emplace(t.unsafeGetTensorImpl(), id);
    return id;
}

void Walker::run(const torch::jit::Module &module, const std::vector<int64_t> &inputShape)
{
    const std::shared_ptr<torch::jit::Graph> graph =
        module.get_method("forward").graph()->copy();
    torch::jit::Inline(*graph);
    const auto inputs = graph->inputs();
    Info &self = info(inputs[0]);
    self.kind = Info::Kind::Module;
    self.module = module;
    for (size_t i = 1; i < inputs.size(); ++i) {
        if (!inputs[i]->type()->cast<c10::TensorType>())
            continue;
        const bool known = i == 1 && inputShape.size() >= 2;
        const int space = newSpace(known ? inputShape[1] : -1,
                                   QStringLiteral("the model's input"), QString());
        setAct(inputs[i], Layout{{Segment{space, known ? inputShape[1] : -1}},
                                 known ? int(inputShape.size()) : 0, 1});
    }
    walk(graph->block());
    finish(graph);
}

void Walker::walk(Block *block)
{
    for (Node *node : block->nodes())
        visit(node);
}

void Walker::visit(Node *node)
{
    const std::string kind = node->kind().toQualString();
    if (kind == "prim::Constant") {
        if (const auto v = torch::jit::toIValue(node->output())) {
            info(node->output()).kind = Info::Kind::Const;
            info(node->output()).value = *v;
        }
        return;
    }
    if (kind == "prim::GetAttr")
        return visitGetAttr(node);
    if (kind == "prim::If")
        return visitIf(node);
    if (kind == "prim::Loop")
        return visitLoop(node);
    if (isListKind(kind))
        return visitList(node);
    if (kind == "prim::unchecked_cast" || kind == "aten::_unwrap_optional") {
        info(node->output()) = Info(info(node->input(0)));
        return;
    }
    bool readsChannels = false;
    for (const Value *v : node->inputs())
        readsChannels = readsChannels || isAct(v) || info(v).kind == Info::Kind::List;
    if (!readsChannels) {
        const Info &in = node->inputs().empty() ? Info() : info(node->input(0));
        if (kind == "aten::__not__" && in.kind == Info::Kind::Const && in.value.isBool()) {
            info(node->output()).kind = Info::Kind::Const;
            info(node->output()).value = !in.value.toBool();
        }
        return;   // bookkeeping (statistics counters, checks, messages): no channels
    }
    if (kind == "prim::ListUnpack" || kind == "prim::TupleUnpack" || kind == "prim::TupleIndex"
        || kind == "aten::__getitem__")
        return visitItem(node);
    const auto op = opTable().find(kind);
    if (op == opTable().end())
        refuse(node, QStringLiteral("the analysis does not know how this op treats channels"));
    visitOp(node, op->second);
}

void Walker::visitGetAttr(Node *node)
{
    const Info &owner = info(node->input(0));
    if (owner.kind != Info::Kind::Module)
        return;
    const std::string name = node->s(c10::attr::name);
    const c10::IValue v = owner.module.attr(name);
    Info out;
    out.path = joinPath(owner.path, name);
    if (v.isModule()) {
        out.kind = Info::Kind::Module;
        out.module = v.toModule();
    } else if (v.isTensor()) {
        out.kind = Info::Kind::Tensor;
        out.module = owner.module;
        out.tensor = tensorOf(v.toTensor(), Holder{owner.module, name, out.path});
    } else if (name != "training") {
        // `training` flips between train() and eval(): a branch on it is followed both ways.
        out.kind = Info::Kind::Const;
        out.value = v;
    }
    info(node->output()) = std::move(out);
}

void Walker::visitIf(Node *node)
{
    const Info cond = info(node->input(0));
    const auto blocks = node->blocks();
    if (cond.kind == Info::Kind::Const && cond.value.isBool()) {
        // A module's flag (use_res_connect): only the branch its value takes runs.
        Block *taken = blocks[cond.value.toBool() ? 0 : 1];
        walk(taken);
        for (size_t i = 0; i < node->outputs().size(); ++i)
            info(node->outputs()[i]) = Info(info(taken->outputs()[i]));
        return;
    }
    // Unknown until run time: both branches; a value with channels either way joins them.
    walk(blocks[0]);
    walk(blocks[1]);
    for (size_t i = 0; i < node->outputs().size(); ++i) {
        const Info a = info(blocks[0]->outputs()[i]);
        const Info b = info(blocks[1]->outputs()[i]);
        const bool actA = a.kind == Info::Kind::Act, actB = b.kind == Info::Kind::Act;
        if (actA && actB) {
            unite(node, a.layout, b.layout);
            Layout out = a.layout;
            if (out.rank != b.layout.rank)
                out.rank = 0;
            setAct(node->outputs()[i], out);
        } else if (actA || actB || a.kind == Info::Kind::List || b.kind == Info::Kind::List) {
            refuse(node, QStringLiteral("one branch returns channels the other does not, "
                                        "on a condition known only when it runs"));
        } else if (a.kind == Info::Kind::Tensor && b.kind == Info::Kind::Tensor
                   && a.tensor == b.tensor) {
            info(node->outputs()[i]) = a;
        }
    }
}

void Walker::visitLoop(Node *node)
{
    // prim::Loop(max, cond, carried...) with block(i, carried...) -> (cond, carried...).
    for (size_t i = 2; i < node->inputs().size(); ++i) {
        if (isAct(node->input(i)) || info(node->input(i)).kind == Info::Kind::List)
            refuse(node, QStringLiteral("a loop carries channels from one iteration to the "
                                        "next"));
    }
    Block *body = node->blocks()[0];
    walk(body);
    for (size_t i = 1; i < body->outputs().size(); ++i) {
        if (isAct(body->outputs()[i]) || info(body->outputs()[i]).kind == Info::Kind::List)
            refuse(node, QStringLiteral("a loop carries channels from one iteration to the "
                                        "next"));
    }
}

void Walker::visitList(Node *node)
{
    Info out;
    bool channels = false;
    for (const Value *v : node->inputs()) {
        out.items.push_back(info(v));
        channels = channels || isAct(v) || info(v).kind == Info::Kind::List;
    }
    if (channels)
        out.kind = Info::Kind::List;
    else
        out.items.clear();
    info(node->output()) = std::move(out);
}

void Walker::visitItem(Node *node)
{
    const Info list = info(node->input(0));
    const std::string kind = node->kind().toQualString();
    if (list.kind != Info::Kind::List)
        refuse(node, QStringLiteral("it takes items of something that is not a list"));
    if (kind == "prim::ListUnpack" || kind == "prim::TupleUnpack") {
        if (list.items.size() != node->outputs().size())
            refuse(node, QStringLiteral("it unpacks %1 values from %2")
                             .arg(node->outputs().size()).arg(list.items.size()));
        for (size_t i = 0; i < node->outputs().size(); ++i)
            info(node->outputs()[i]) = list.items[i];
        return;
    }
    const int64_t i = constInt(node, 1, "index");
    const int64_t n = int64_t(list.items.size());
    if (i < -n || i >= n)
        refuse(node, QStringLiteral("index %1 is outside the %2 items").arg(i).arg(n));
    info(node->output()) = list.items[size_t(i < 0 ? i + n : i)];
}

void Walker::finish(const std::shared_ptr<torch::jit::Graph> &graph)
{
    for (const Value *v : graph->outputs())
        pin(info(v), QStringLiteral("the model's output"));
    std::map<int, size_t> groupOf;
    for (const auto &[space, member] : m_members) {
        const int root = find(space);
        auto it = groupOf.find(root);
        if (it == groupOf.end()) {
            const Space &s = m_spaces[size_t(root)];
            it = groupOf.emplace(root, m_graph.groups.size()).first;
            Group group;
            group.channels = s.size;
            group.pinned = s.size < 0 ? QStringLiteral("of unknown size") : s.pinned;
            m_graph.groups.push_back(group);
        }
        m_graph.groups[it->second].members.push_back(member);
    }
    for (size_t i = 0; i < m_spaces.size(); ++i) {
        const auto it = groupOf.find(find(int(i)));
        if (it != groupOf.end() && !m_spaces[i].producer.isEmpty())
            m_graph.groups[it->second].producers << m_spaces[i].producer;
    }
}

} // namespace detail

ChannelGraph analyseChannels(const torch::jit::Module &module,
                             const std::vector<int64_t> &inputShape, const QString &what)
{
    ChannelGraph graph;
    graph.root = module;
    detail::Walker(graph, what).run(module, inputShape);
    return graph;
}

} // namespace ms::prune
