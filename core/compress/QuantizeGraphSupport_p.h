#pragma once

// Private: what QuantizeGraph.cpp needs beside the passes themselves: the observer modules the
// passes call (compiled here from TorchScript source) and a walk over a module's graphs that
// knows the submodule path of every node, so that a refusal names the node it stopped at.
// Core .cpp files only.

#include <torch/script.h>

#include <QString>

#include <functional>
#include <string>
#include <vector>

namespace ms::quantgraph {

// Activation observer: records the min and max of what it sees (torch.ao's MinMaxObserver,
// quint8 per-tensor affine); with `histogram`, a second pass (setHistogramPass) counts values in
// 2048 bins over that range and calculate_qparams clips both tails at `percentile` (what the
// spec path's histogram observer does). Weight observer: per output channel, symmetric qint8
// (torch.ao's PerChannelMinMaxObserver with per_channel_symmetric, the weight observer of
// get_default_qconfig("onednn")). Both carry the members InsertObservers and InsertQuantDeQuant
// read: forward(x) -> x, calculate_qparams() -> (scale, zero_point), int attributes dtype,
// qscheme (and ch_axis); they are marked with a bool attribute `ms_observer`.
torch::jit::Module activationObserver(bool histogram, double percentile);
torch::jit::Module weightObserver();

// Every observer the passes cloned into `observed` (activation and weight), with its path
// ("layer1.0._observer_3").
struct ObserverRef
{
    std::string path;
    torch::jit::Module module;
    bool activation = true;
};
std::vector<ObserverRef> observersOf(const torch::jit::Module &observed);
// Switches every activation observer to counting its histogram (second calibration pass).
void setHistogramPass(const torch::jit::Module &observed);
// Narrows the range of each activation observer whose value goes only into a bounded
// activation (ReLU6 / hardtanh / clamp with constant bounds, called directly, as a function or
// as a submodule such as torchvision's nn.ReLU6) to those bounds. The passes fuse conv+ReLU but
// not conv+ReLU6: without this, the convolution's output is quantized over its whole range
// (often -30..+30) although everything outside 0..6 is clipped right after, which wastes most
// of the 256 levels (MobileNetV2's top-1 agreement with fp32 rose from 88 % to 92 % here). The
// result is exact: quantization saturates at the bounds, as the activation would clip. Returns
// how many observers it narrowed.
int clipToBoundedActivations(const torch::jit::Module &observed);

// The top of the activations' integer range: 255, or 127 for reduced range (7 bits).
void setActivationQuantMax(const torch::jit::Module &observed, int64_t quantMax);

// A node of the module's forward with the path of the submodule whose graph holds it ("" for
// the top module, "layer1.0.conv1") and, for a node inside a called function, the call in that
// submodule's graph it came from (else null). walk() follows prim::CallMethod into submodules
// reached through attribute chains from `self`, prim::CallFunction into the function's graph
// (torch.nn.functional.interpolate, ...), and the blocks of if/loop nodes.
struct NodeSite
{
    torch::jit::Node *node = nullptr;
    std::string path;
    torch::jit::Module owner;
    torch::jit::Node *callSite = nullptr;
};
using NodeVisitor = std::function<void(const NodeSite &site)>;
void walk(const torch::jit::Module &module, const NodeVisitor &visit);

// "aten::upsample_nearest2d in `up` (Upsample), at `F.interpolate(x, ...)`": the op (or `op`
// when given), the submodule path and type, and the source text of the call site or the node
// (quoted with ms::excerpt: it is user text).
QString describeNode(const NodeSite &site, const QString &op = QString());

// For an observer call inside `owner`'s graph (prim::CallMethod on an `_observer_N`
// attribute), the node whose output it observes, described; empty when `node` is none.
QString observedValueOf(const NodeSite &site, std::string *observerName);

// The first line of a LibTorch error, without its C++ backtrace.
QString firstLine(const std::exception &e);
// The op a TorchScript interpreter error points at ("<--- HERE"), e.g. "aten::upsample_
// nearest3d", or empty.
QString failingOp(const std::exception &e);

} // namespace ms::quantgraph
