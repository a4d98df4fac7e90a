#include "compress/QuantizeGraphSupport_p.h"

#include "common/Excerpt.h"

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/passes/quantization/helper.h>

#include <QRegularExpression>
#include <QStringList>

#include <cfloat>
#include <limits>
#include <optional>

namespace ms::quantgraph {

namespace {

// The observers' source. Dtypes are written as numbers (3 int32, 4 int64): dtype names do not
// resolve in source compiled from C++. The maths is torch.ao's MinMaxObserver /
// PerChannelMinMaxObserver (_calculate_qparams), the percentile clipping the spec path's
// histogram observer's (QuantizeStatic.cpp). Why our own and not torch.ao's: those are Python
// classes, and the studio runs no Python.
const char *const kActivationSource = R"(
def forward(self, x):
    v = x.detach()
    if self.histogram_pass:
        if bool(self.max_val > self.min_val):
            self.histogram.add_(torch.histc(v.float(), 2048, float(self.min_val), float(self.max_val)))
    else:
        self.min_val = torch.minimum(self.min_val, torch.min(v))
        self.max_val = torch.maximum(self.max_val, torch.max(v))
    return x

def calculate_qparams(self):
    lo = self.min_val
    hi = self.max_val
    if self.use_histogram and bool(self.histogram.sum() > 0):
        c = torch.cumsum(self.histogram, 0)
        total = float(c[-1])
        tail = total * (1.0 - self.percentile / 100.0)
        width = (self.max_val - self.min_val) / 2048.0
        low = min(int(torch.sum(c <= tail)), 2047)
        high = int(torch.sum(c[:-1] < total - tail))
        lo = self.min_val + width * low
        hi = self.min_val + width * (high + 1)
    lo = torch.clamp(lo, self.clip_min, self.clip_max)
    hi = torch.clamp(hi, self.clip_min, self.clip_max)
    zero = torch.zeros_like(lo)
    lo = torch.minimum(lo, zero)
    hi = torch.maximum(hi, zero)
    scale = torch.maximum((hi - lo) / float(self.quant_max - self.quant_min), self.eps)
    zero_point = self.quant_min - torch.round(lo / scale).to(3)
    zero_point = torch.clamp(zero_point, self.quant_min, self.quant_max)
    return scale, zero_point
)";

const char *const kWeightSource = R"(
def forward(self, x):
    v = x.detach().flatten(1)
    lo = torch.amin(v, 1)
    hi = torch.amax(v, 1)
    if self.min_val.numel() == 0:
        self.min_val = lo
        self.max_val = hi
    else:
        self.min_val = torch.minimum(self.min_val, lo)
        self.max_val = torch.maximum(self.max_val, hi)
    return x

def calculate_qparams(self):
    zero = torch.zeros_like(self.min_val)
    amax = torch.maximum(-torch.minimum(self.min_val, zero), torch.maximum(self.max_val, zero))
    scale = torch.maximum(amax / (float(self.quant_max - self.quant_min) / 2.0), self.eps)
    return scale, torch.zeros_like(scale).to(4)
)";

torch::jit::Module newObserver(const char *className, bool activation)
{
    torch::jit::Module m(className);
    m.register_attribute("training", c10::BoolType::get(), false);
    m.register_attribute("ms_observer", c10::BoolType::get(), true);
    m.register_attribute("activation", c10::BoolType::get(), activation);
    m.register_buffer("eps", at::full({1}, FLT_EPSILON, at::kFloat));
    return m;
}

struct Owned
{
    torch::jit::Module module;
    std::string path;
};

std::string joined(const std::string &path, const std::string &name)
{
    return path.empty() ? name : path + "." + name;
}

// The module a value holds, when it is `self` or an attribute chain from it.
std::optional<Owned> moduleOf(torch::jit::Value *v, torch::jit::Value *self, const Owned &owner)
{
    if (self && v == self)
        return owner;
    torch::jit::Node *n = v->node();
    if (n->kind() != c10::prim::GetAttr)
        return std::nullopt;
    const std::optional<Owned> parent = moduleOf(n->input(0), self, owner);
    const std::string name = n->s(c10::attr::name);
    if (!parent || !parent->module.hasattr(name))
        return std::nullopt;
    const c10::IValue attr = parent->module.attr(name);
    if (!attr.isModule())
        return std::nullopt;
    return Owned{attr.toModule(), joined(parent->path, name)};
}

void walkBlock(torch::jit::Block *block, torch::jit::Value *self, const Owned &owner,
               torch::jit::Node *callSite, const NodeVisitor &visit, int depth)
{
    if (depth > 64)
        return;   // deeper than any real network nests; a guard, not a limit anyone meets
    for (torch::jit::Node *node : block->nodes()) {
        visit(NodeSite{node, owner.path, owner.module, callSite});
        for (torch::jit::Block *sub : node->blocks())
            walkBlock(sub, self, owner, callSite, visit, depth);
        if (node->kind() == c10::prim::CallMethod) {
            const std::optional<Owned> target = moduleOf(node->input(0), self, owner);
            const std::string method = node->s(c10::attr::name);
            if (target && target->module.find_method(method)) {
                const auto graph = target->module.get_method(method).graph();
                walkBlock(graph->block(), graph->inputs()[0], *target, nullptr, visit,
                          depth + 1);
            }
        } else if (node->kind() == c10::prim::CallFunction) {
            try {
                const auto graph = torch::jit::getCallFunctionGraph(node);
                walkBlock(graph->block(), nullptr, owner, callSite ? callSite : node, visit,
                          depth + 1);
            } catch (const std::exception &) {
                // A builtin without a graph: nothing inside to visit.
            }
        }
    }
}

QString typeName(const torch::jit::Module &m)
{
    const auto name = m.type()->name();
    return name ? QString::fromStdString(torch::jit::removeTorchMangle(name->name()))
                : QStringLiteral("?");
}

} // namespace

torch::jit::Module activationObserver(bool histogram, double percentile)
{
    torch::jit::Module m = newObserver("MsActivationObserver", true);
    m.register_attribute("histogram_pass", c10::BoolType::get(), false);
    m.register_attribute("use_histogram", c10::BoolType::get(), histogram);
    m.register_attribute("percentile", c10::FloatType::get(), percentile);
    m.register_attribute("dtype", c10::IntType::get(), int64_t(at::kQUInt8));
    m.register_attribute("qscheme", c10::IntType::get(), int64_t(at::kPerTensorAffine));
    m.register_attribute("quant_min", c10::IntType::get(), int64_t(0));
    m.register_attribute("quant_max", c10::IntType::get(), int64_t(255));
    m.register_attribute("clip_min", c10::FloatType::get(),
                         -std::numeric_limits<double>::infinity());
    m.register_attribute("clip_max", c10::FloatType::get(),
                         std::numeric_limits<double>::infinity());
    m.register_buffer("min_val", at::full({}, std::numeric_limits<float>::infinity()));
    m.register_buffer("max_val", at::full({}, -std::numeric_limits<float>::infinity()));
    m.register_buffer("histogram", at::zeros({2048}, at::kFloat));
    m.define(kActivationSource);
    return m;
}

torch::jit::Module weightObserver()
{
    torch::jit::Module m = newObserver("MsWeightObserver", false);
    m.register_attribute("dtype", c10::IntType::get(), int64_t(at::kQInt8));
    m.register_attribute("qscheme", c10::IntType::get(), int64_t(at::kPerChannelSymmetric));
    m.register_attribute("ch_axis", c10::IntType::get(), int64_t(0));
    m.register_attribute("quant_min", c10::IntType::get(), int64_t(-128));
    m.register_attribute("quant_max", c10::IntType::get(), int64_t(127));
    m.register_buffer("min_val", at::empty({0}, at::kFloat));
    m.register_buffer("max_val", at::empty({0}, at::kFloat));
    m.define(kWeightSource);
    return m;
}

std::vector<ObserverRef> observersOf(const torch::jit::Module &observed)
{
    std::vector<ObserverRef> out;
    for (const auto &named : observed.named_modules()) {
        if (named.value.hasattr("ms_observer"))
            out.push_back({named.name, named.value, named.value.attr("activation").toBool()});
    }
    return out;
}

void setHistogramPass(const torch::jit::Module &observed)
{
    for (ObserverRef &o : observersOf(observed)) {
        if (o.activation)
            o.module.setattr("histogram_pass", true);
    }
}

namespace {

std::optional<double> constantDouble(torch::jit::Value *v)
{
    const c10::optional<c10::IValue> iv = torch::jit::toIValue(v);
    if (iv && (iv->isDouble() || iv->isInt()))
        return iv->toScalar().toDouble();
    return std::nullopt;
}

// The constant bounds of a bounded activation applied to `x` by `node` (in a graph whose self
// is `self`, of module `owner`), looking one submodule call deep.
std::optional<std::pair<double, double>> boundsOf(torch::jit::Node *node, torch::jit::Value *x,
                                                  torch::jit::Value *self, const Owned &owner,
                                                  int depth)
{
    const std::string kind = node->kind().toQualString();
    if ((kind == "aten::hardtanh" || kind == "aten::hardtanh_" || kind == "aten::clamp"
         || kind == "aten::clamp_") && node->inputs().size() >= 3 && node->input(0) == x) {
        const std::optional<double> lo = constantDouble(node->input(1));
        const std::optional<double> hi = constantDouble(node->input(2));
        if (lo && hi)
            return std::make_pair(*lo, *hi);
    }
    if ((kind == "aten::relu6" || kind == "aten::relu6_") && node->input(0) == x)
        return std::make_pair(0.0, 6.0);
    if (node->kind() == c10::prim::CallFunction && node->inputs().size() >= 4
        && node->input(1) == x) {
        // torch.nn.functional.hardtanh(x, min_val, max_val, inplace) / relu6(x, inplace)
        const auto fn = node->input(0)->type()->cast<c10::FunctionType>();
        const std::string name = fn ? fn->function()->name() : std::string();
        if (name == "hardtanh") {
            const std::optional<double> lo = constantDouble(node->input(2));
            const std::optional<double> hi = constantDouble(node->input(3));
            if (lo && hi)
                return std::make_pair(*lo, *hi);
        }
        if (name == "relu6")
            return std::make_pair(0.0, 6.0);
    }
    if (node->kind() == c10::prim::CallMethod && depth == 0 && node->inputs().size() == 2
        && node->input(1) == x && node->s(c10::attr::name) == "forward") {
        // A submodule (nn.ReLU6, nn.Hardtanh) whose forward returns the bounded activation of
        // its input.
        const std::optional<Owned> target = moduleOf(node->input(0), self, owner);
        if (!target || !target->module.find_method("forward"))
            return std::nullopt;
        const auto graph = target->module.get_method("forward").graph();
        if (graph->inputs().size() != 2 || graph->outputs().size() != 1)
            return std::nullopt;
        torch::jit::Node *last = graph->outputs()[0]->node();
        return boundsOf(last, graph->inputs()[1], graph->inputs()[0], *target, depth + 1);
    }
    return std::nullopt;
}

} // namespace

int clipToBoundedActivations(const torch::jit::Module &observed)
{
    int narrowed = 0;
    for (const auto &named : observed.named_modules()) {
        const Owned owner{named.value, named.name};
        for (const torch::jit::Method &method : named.value.get_methods()) {
            const auto graph = method.graph();
            for (torch::jit::Node *node : graph->nodes()) {
                if (node->kind() != c10::prim::CallMethod || node->inputs().size() != 2
                    || node->input(0)->node()->kind() != c10::prim::GetAttr)
                    continue;
                const std::string name = node->input(0)->node()->s(c10::attr::name);
                if (name.rfind("_observer_", 0) != 0 || !named.value.hasattr(name))
                    continue;
                torch::jit::Module obs = named.value.attr(name).toModule();
                if (!obs.hasattr("clip_min") || node->input(1)->uses().size() != 1
                    || node->output()->uses().size() != 1)
                    continue;
                torch::jit::Node *user = node->output()->uses()[0].user;
                const auto bounds = boundsOf(user, node->output(), graph->inputs()[0], owner, 0);
                if (!bounds || !(bounds->first < bounds->second))
                    continue;
                obs.setattr("clip_min", bounds->first);
                obs.setattr("clip_max", bounds->second);
                ++narrowed;
            }
        }
    }
    return narrowed;
}

void setActivationQuantMax(const torch::jit::Module &observed, int64_t quantMax)
{
    for (ObserverRef &o : observersOf(observed)) {
        if (o.activation)
            o.module.setattr("quant_max", quantMax);
    }
}

void walk(const torch::jit::Module &module, const NodeVisitor &visit)
{
    const auto graph = module.get_method("forward").graph();
    walkBlock(graph->block(), graph->inputs()[0], Owned{module, std::string()}, nullptr, visit,
              0);
}

QString describeNode(const NodeSite &site, const QString &op)
{
    QString text = op.isEmpty() ? QString::fromStdString(site.node->kind().toQualString()) : op;
    text += site.path.empty()
                ? QStringLiteral(" in the top module (%1)").arg(typeName(site.owner))
                : QStringLiteral(" in `%1` (%2)").arg(excerpt(QString::fromStdString(site.path)),
                                                      typeName(site.owner));
    const torch::jit::Node *at = site.callSite ? site.callSite : site.node;
    if (at->sourceRange().source()) {
        const QString code = QString::fromStdString(at->sourceRange().text().str())
                                 .simplified();
        // Code loaded from a .pt is TorchScript's own serialisation: a call to an inlined
        // function reads `_0(...)`, a bare `_0` says nothing.
        if (code.contains(QLatin1Char('(')))
            text += QStringLiteral(", at `%1`").arg(excerpt(code, 70));
    }
    return text;
}

QString observedValueOf(const NodeSite &site, std::string *observerName)
{
    torch::jit::Node *node = site.node;
    if (node->kind() != c10::prim::CallMethod || node->inputs().size() < 2
        || node->input(0)->node()->kind() != c10::prim::GetAttr)
        return QString();
    const std::string name = node->input(0)->node()->s(c10::attr::name);
    if (name.rfind("_observer_", 0) != 0)
        return QString();
    *observerName = joined(site.path, name);
    torch::jit::Node *producer = node->input(1)->node();
    if (producer->kind() == c10::prim::GetAttr)   // a weight
        return QStringLiteral("the `%1` of `%2` (%3)")
            .arg(QString::fromStdString(producer->s(c10::attr::name)),
                 excerpt(QString::fromStdString(site.path)), typeName(site.owner));
    if (producer->kind() == c10::prim::Param)
        return site.path.empty() ? QStringLiteral("the model's input")
                                 : QStringLiteral("the input of `%1`")
                                       .arg(excerpt(QString::fromStdString(site.path)));
    return describeNode(NodeSite{producer, site.path, site.owner, site.callSite});
}

QString firstLine(const std::exception &e)
{
    const auto *c10error = dynamic_cast<const c10::Error *>(&e);
    const QString text = QString::fromUtf8(c10error ? c10error->what_without_backtrace()
                                                    : e.what());
    const QStringList lines = text.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    if (lines.isEmpty())
        return QString();
    // An interpreter error starts with "The following operation failed..." and ends with the
    // reason; the reason is the line a person needs.
    const QString line = text.contains(QLatin1String("Traceback of TorchScript"))
                             ? lines.last().trimmed()
                             : lines.first().trimmed();
    return excerpt(line, 240);
}

QString failingOp(const std::exception &e)
{
    const QStringList lines = QString::fromUtf8(e.what()).split(QLatin1Char('\n'));
    static const QRegularExpression op(QStringLiteral("\\b([a-z_]+::[A-Za-z0-9_]+)\\("));
    for (int i = 0; i < lines.size(); ++i) {
        if (!lines[i].contains(QLatin1String("<--- HERE")))
            continue;
        for (int j = i - 1; j >= 0 && j >= i - 3; --j) {
            QRegularExpressionMatchIterator it = op.globalMatch(lines[j]);
            QString last;
            while (it.hasNext())
                last = it.next().captured(1);
            if (!last.isEmpty())
                return last;
        }
    }
    return QString();
}

} // namespace ms::quantgraph
