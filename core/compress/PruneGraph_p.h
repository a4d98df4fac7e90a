#pragma once

// Private: structured pruning of any TorchScript CNN from its IR. Core .cpp files only (torch).
//
// The idea is Torch-Pruning's dependency graph (DepGraph, Fang et al., CVPR 2023): removing
// output channel c of a convolution also removes input channel c of every layer that reads it,
// channel c of the batchnorm between them, and, where a residual addition ties the outputs of
// several convolutions, channel c of all of them. Such a set of tensor slices that can only go
// together is a *group*. Torch-Pruning finds groups by tracing a Python forward; here they are
// found by walking the forward graph of the TorchScript module, calls inlined, with the
// weights reached through prim::GetAttr (analyseChannels). Ranking and rebuilding work on the
// groups alone (makePrunePlan, applyPrunePlan), so a studio-built net and an imported
// torchvision model take the same path.

#include <torch/script.h>

#include <QJsonArray>
#include <QString>

#include <cstdint>
#include <string>
#include <vector>

namespace ms::prune {

// A tensor of the module that a channel axis runs through (a parameter or a buffer), with the
// module attributes that hold it (more than one when weights are shared).
struct Holder
{
    torch::jit::Module owner;
    std::string attr;
    QString path;   // "layer1.0.conv1.weight"
};

struct TensorUse
{
    at::Tensor value;
    std::vector<Holder> holders;
};

// Channel c of a group is the slice [offset + c*stride, offset + (c+1)*stride) along `dim` of
// tensor `tensor`: stride 1 for a conv's output or input channels, H*W for the inputs of a
// linear layer after a flatten of C x H x W.
struct Member
{
    int tensor = -1;
    int dim = 0;
    int64_t offset = 0;
    int64_t stride = 1;
    bool scored = false;   // counted in the channel's norm (weights; not biases or statistics)
};

// Channels that must be removed together.
struct Group
{
    int64_t channels = 0;
    // Empty when the group can be pruned; otherwise why not ("the model's input").
    QString pinned;
    std::vector<Member> members;
    QStringList producers;   // the layers whose outputs these channels are ("layer1.0.conv2")
};

// A layer whose TorchScript class may carry its sizes as constants (in_channels, groups, ...).
struct LayerUse
{
    enum class Kind { Conv, Linear, BatchNorm } kind = Kind::Conv;
    torch::jit::Module owner;
    QString path;                 // "features.2.conv.1"
    int tensor = -1;              // its weight (a batchnorm without affine: running_mean)
    bool depthwise = false;
    int64_t groups = 1;
};

struct ChannelGraph
{
    torch::jit::Module root;
    std::vector<TensorUse> tensors;
    std::vector<Group> groups;
    std::vector<LayerUse> layers;
};

// The channel groups of `module`'s forward, whose first input has `inputShape` (batch
// included; empty when unknown). Throws ms::Error naming the node it cannot follow (kind,
// value, module and source line) when the graph holds an op whose effect on channels it does
// not know; `what` names the model in that message.
ChannelGraph analyseChannels(const torch::jit::Module &module,
                             const std::vector<int64_t> &inputShape,
                             const QString &what);

// Which channels of every group go: round(sparsity * n) of smallest norm (L1 or L2 of all the
// group's weight slices of that channel), at least one channel kept; none of a pinned group.
struct PrunePlan
{
    std::vector<std::vector<int64_t>> removed;   // per group, ascending
};
PrunePlan makePrunePlan(const ChannelGraph &graph, double sparsity, bool l2);

// Throws ms::Error when the plan cannot be written into the module's classes: two modules
// that share one TorchScript class would need different sizes in its constants, or a
// depthwise convolution's groups are not a constant of its own code. Changes nothing.
void checkPrunePlan(const ChannelGraph &graph, const PrunePlan &plan, const QString &what);

// Replaces every tensor of the plan by its smaller slice (parameters stay parameters), and the
// size constants (in_channels, out_channels, groups, num_features, in_features, out_features)
// of the layers' classes, the groups of depthwise convolutions in their code included. The
// module must be one no forward has run on yet (its compiled plans would keep the old
// constants): a fresh copy from cloneFresh(). Returns the changed layers' weight shapes.
QJsonArray applyPrunePlan(ChannelGraph &graph, const PrunePlan &plan);

// A copy of `module` through serialisation: its own classes and code, never run.
torch::jit::Module cloneFresh(const torch::jit::Module &module);

} // namespace ms::prune
