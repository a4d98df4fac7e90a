#pragma once

// Private to PruneGraph.cpp and PruneOps.cpp: the walk over a forward graph that finds the
// channel groups (PruneGraph_p.h says what they are for).
//
// An abstract interpretation of the inlined forward graph: every tensor value that carries
// channels on its dimension 1 gets a layout (which channel spaces, in order); a convolution or
// linear layer starts a new space, element-wise ops pass the layout on, an addition unites the
// spaces of its operands, a concatenation chains them. Union-find over the spaces then gives
// the groups. Why our own walk and not a LibTorch pass: none relates channels across layers
// (shape analysis propagates sizes, not which slice of one weight meets which slice of
// another), and freezing would turn the weights into constants we could not write back.

#include "compress/PruneGraph_p.h"

#include <torch/script.h>

#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>

namespace ms::prune::detail {

using torch::jit::Block;
using torch::jit::Node;
using torch::jit::Value;

enum class Op { Conv, Linear, BatchNorm, Unary, Binary, Flatten, View, Reduce, Cat, Query };

// The ops the walk knows by qualified name ("aten::conv2d").
const std::unordered_map<std::string, Op> &opTable();

struct Segment
{
    int space = -1;
    int64_t size = 0;
};

// Channels on dimension 1, made of spaces in order (one unless a concatenation made it).
// After a flatten of C x H x W every channel is `area` consecutive features; 0 while unknown
// (the weight of the layer that reads them tells).
struct Layout
{
    std::vector<Segment> segments;
    int rank = 0;   // 0: unknown
    int64_t area = 1;
};

// What the walk knows of one value of the graph.
struct Info
{
    enum class Kind { Other, Module, Tensor, Const, Act, List } kind = Kind::Other;
    torch::jit::Module module;   // Module: itself; Tensor: the module holding it
    QString path;                // "layer1.0.conv1" / "layer1.0.conv1.weight"
    int tensor = -1;             // Tensor: index into ChannelGraph::tensors
    c10::IValue value;           // Const
    Layout layout;               // Act: a tensor with channels
    std::vector<Info> items;     // List: a list or tuple holding channels somewhere
};

struct Space
{
    int parent = 0;
    int64_t size = -1;   // -1: not known yet
    QString pinned;
    QString producer;
};

class Walker
{
public:
    Walker(ChannelGraph &graph, QString what)
        : m_graph(graph)
        , m_what(std::move(what))
    {}

    void run(const torch::jit::Module &module, const std::vector<int64_t> &inputShape);

private:
    [[noreturn]] void refuse(const Node *node, const QString &why) const;
    Info &info(const Value *v) { return m_infos[v]; }
    bool isAct(const Value *v) { return info(v).kind == Info::Kind::Act; }
    void setAct(const Value *v, const Layout &layout);

    // Spaces (PruneGraph.cpp).
    int newSpace(int64_t size, const QString &pinned, const QString &producer);
    int find(int s);
    void unite(const Node *node, int a, int b);
    void unite(const Node *node, const Layout &a, const Layout &b);
    int64_t total(const Layout &l);
    void fitFeatures(const Node *node, Layout &l, int64_t features);
    void addMembers(const Node *node, const Layout &l, int tensor, int dim, bool scored);
    void pin(const Info &value, const QString &why);
    int tensorOf(const at::Tensor &t, const Holder &holder);

    // Control flow and values (PruneGraph.cpp).
    void walk(Block *block);
    void visit(Node *node);
    void visitGetAttr(Node *node);
    void visitIf(Node *node);
    void visitLoop(Node *node);
    void visitList(Node *node);
    void visitItem(Node *node);
    void finish(const std::shared_ptr<torch::jit::Graph> &graph);

    // Ops (PruneOps.cpp).
    void visitOp(Node *node, Op op);
    void visitUnary(Node *node);
    void visitConv(Node *node);
    void visitLinear(Node *node);
    void visitBatchNorm(Node *node);
    void visitBinary(Node *node);
    void perChannelOperand(const Node *node, Layout &l, const Info &operand,
                           const Value *value);
    void visitFlatten(Node *node, bool view);
    void visitReduce(Node *node);
    void visitCat(Node *node);
    const Info &tensorArg(const Node *node, size_t i, const char *what, bool optional);
    int64_t constInt(const Node *node, size_t i, const char *what);
    std::optional<std::vector<std::optional<int64_t>>> intList(const Value *v);

    ChannelGraph &m_graph;
    QString m_what;
    std::vector<Space> m_spaces;
    std::vector<std::pair<int, Member>> m_members;   // (space, member)
    // A weight slice reached twice (a layer applied twice) ties the channels of both uses.
    std::map<std::tuple<int, int, int64_t, int64_t>, int> m_sliceSpace;
    std::unordered_map<const Value *, Info> m_infos;
    std::unordered_map<const c10::TensorImpl *, int> m_tensorIndex;
};

} // namespace ms::prune::detail
