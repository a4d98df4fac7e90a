#include "models/ModelBuilder_p.h"

#include "common/Error.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/script.h>

#include <QJsonDocument>
#include <QLocale>

#include <cmath>
#include <string>

namespace ms {

namespace {

// A TorchScript float literal: "1" would be read as an int and fail the op's schema.
std::string floatLiteral(double v)
{
    std::string s = QString::number(v, 'g', QLocale::FloatingPointShortest).toStdString();
    if (s.find_first_of(".eEn") == std::string::npos)
        s += ".0";
    return s;
}

std::string intPair(const qint64 v[2])
{
    return "[" + std::to_string(v[0]) + ", " + std::to_string(v[1]) + "]";
}

std::vector<int64_t> dims(const std::vector<qint64> &shape)
{
    return std::vector<int64_t>(shape.begin(), shape.end());
}

// PyTorch's reset_parameters() for Linear and Conv2d: kaiming_uniform_(a=sqrt(5)) on the
// weight, uniform(+-1/sqrt(fan_in)) on the bias, computed with the same double arithmetic as
// torch.nn.init so the drawn values match Python bit for bit.
void defaultInit(at::Tensor &weight, at::Tensor *bias, qint64 fanIn, at::Generator &gen)
{
    const double a = std::sqrt(5.0);
    const double gain = std::sqrt(2.0 / (1 + a * a));
    const double std = gain / std::sqrt(double(fanIn));
    const double bound = std::sqrt(3.0) * std;
    weight.uniform_(-bound, bound, gen);
    if (bias) {
        const double biasBound = fanIn > 0 ? 1 / std::sqrt(double(fanIn)) : 0;
        bias->uniform_(-biasBound, biasBound, gen);
    }
}

// `scope` makes the class names of a residual block's inner layers unique in the model
// ("Conv2d_3_0" for conv2d0 of residual3): one class per layer, whatever the nesting.
std::string className(const LayerPlan &layer, const std::string &scope)
{
    std::string base;
    if (layer.type == QLatin1String("linear"))
        base = "Linear";
    else if (layer.type == QLatin1String("conv2d"))
        base = "Conv2d";
    else
        base = layer.inputShape.size() == 1 ? "BatchNorm1d" : "BatchNorm2d";
    // One class per layer: layers of one kind differ in their constants and shapes.
    return base + "_" + scope + std::to_string(layer.index);
}

torch::jit::Module weightedLayer(const LayerPlan &layer, const std::string &scope,
                                 at::Generator &gen)
{
    torch::jit::Module m = newModule(className(layer, scope));
    const auto opts = at::TensorOptions().dtype(at::kFloat);
    std::string body;
    if (layer.type == QLatin1String("batchnorm")) {
        const qint64 c = layer.inputShape[0];
        m.register_parameter("weight", at::ones({c}, opts).requires_grad_(true), false);
        m.register_parameter("bias", at::zeros({c}, opts).requires_grad_(true), false);
        m.register_buffer("running_mean", at::zeros({c}, opts));
        m.register_buffer("running_var", at::ones({c}, opts));
        m.register_buffer("num_batches_tracked", at::zeros({}, at::kLong));
        body = "    if self.training:\n"
               "        self.num_batches_tracked.add_(1)\n"
               "    return torch.batch_norm(x, self.weight, self.bias, self.running_mean, "
               "self.running_var, self.training, " + floatLiteral(layer.momentum) + ", "
               + floatLiteral(layer.eps) + ", False)\n";
    } else {
        const bool conv = layer.type == QLatin1String("conv2d");
        const qint64 fanIn = conv ? layer.inputShape[0] * layer.kernel[0] * layer.kernel[1]
                                  : layer.inputShape[0];
        at::Tensor weight = conv ? at::empty({layer.out, layer.inputShape[0], layer.kernel[0],
                                              layer.kernel[1]}, opts)
                                 : at::empty({layer.out, layer.inputShape[0]}, opts);
        at::Tensor bias = layer.bias ? at::empty({layer.out}, opts) : at::Tensor();
        defaultInit(weight, layer.bias ? &bias : nullptr, fanIn, gen);
        m.register_parameter("weight", weight.requires_grad_(true), false);
        if (layer.bias)
            m.register_parameter("bias", bias.requires_grad_(true), false);
        const std::string biasArg = layer.bias ? "self.bias" : "None";
        body = conv ? "    return torch.conv2d(x, self.weight, " + biasArg + ", "
                          + intPair(layer.stride) + ", " + intPair(layer.padding) + ")\n"
                    : "    return torch.linear(x, self.weight, " + biasArg + ")\n";
    }
    m.define("def forward(self, x):\n" + body);
    return m;
}

// The inline TorchScript statement of a stateless layer.
std::string statelessLine(const LayerPlan &layer)
{
    const QString &t = layer.type;
    if (t == QLatin1String("relu"))
        return "torch.relu(x)";
    if (t == QLatin1String("gelu"))
        return "torch.gelu(x)";
    if (t == QLatin1String("flatten"))
        return "torch.flatten(x, 1)";
    if (t == QLatin1String("dropout"))
        return "torch.dropout(x, " + floatLiteral(layer.p) + ", self.training)";
    const std::string op = t == QLatin1String("maxpool2d") ? "torch.max_pool2d"
                                                             : "torch.avg_pool2d";
    return op + "(x, " + intPair(layer.kernel) + ", " + intPair(layer.stride) + ", "
           + intPair(layer.padding) + ")";
}

bool isWeighted(const LayerPlan &layer)
{
    return layer.type == QLatin1String("linear") || layer.type == QLatin1String("conv2d")
           || layer.type == QLatin1String("batchnorm");
}

std::string activationOf(const QString &activation, const std::string &value)
{
    if (activation == QLatin1String("relu"))
        return "torch.relu(" + value + ")";
    if (activation == QLatin1String("gelu"))
        return "torch.gelu(" + value + ")";
    return value;
}

std::string layerStatement(torch::jit::Module &owner, const LayerPlan &layer,
                           const std::string &scope, at::Generator &gen);

// act(body(x) + shortcut(x)) as a submodule whose body layers are its own submodules, so the
// saved model reads as the spec: residual3.conv2d0.weight, residual3.shortcut.weight.
torch::jit::Module residualModule(const LayerPlan &block, const std::string &scope,
                                  at::Generator &gen)
{
    const std::string inner = scope + std::to_string(block.index) + "_";
    torch::jit::Module m = newModule("Residual_" + inner.substr(0, inner.size() - 1));
    // The body's weights are drawn before the projection's, in torchvision's BasicBlock order
    // (conv1, bn1, conv2, bn2, downsample), so that a Python ResNet seeded alike starts from
    // the very same weights; the forward still takes the shortcut from the block's input.
    std::string body;
    for (const LayerPlan &layer : block.body)
        body += layerStatement(m, layer, inner, gen);
    std::string forward = "def forward(self, x):\n";
    if (block.shortcut.empty()) {
        forward += "    shortcut = x\n";
    } else {
        m.register_module("shortcut", weightedLayer(block.shortcut.front(), inner + "s", gen));
        forward += "    shortcut = self.shortcut.forward(x)\n";
    }
    forward += body + "    return " + activationOf(block.activation, "x + shortcut") + "\n";
    m.define(forward);
    return m;
}

// Registers what `layer` needs on `owner` and returns its line of owner's forward.
std::string layerStatement(torch::jit::Module &owner, const LayerPlan &layer,
                           const std::string &scope, at::Generator &gen)
{
    const std::string name = layer.name.toStdString();
    if (layer.type == QLatin1String("residual")) {
        owner.register_module(name, residualModule(layer, scope, gen));
        return "    x = self." + name + ".forward(x)\n";
    }
    if (isWeighted(layer)) {
        owner.register_module(name, weightedLayer(layer, scope, gen));
        // Source compiled from C++ sees `self` as a plain object, so `self.sub(x)` would
        // look for __call__: name the method.
        return "    x = self." + name + ".forward(x)\n";
    }
    return "    x = " + statelessLine(layer) + "\n";
}

// Mean/std buffers shaped to broadcast over (N, *inputShape): per channel [C, 1, 1] for
// images, per feature [F] for tables, one value [1] for either.
std::pair<at::Tensor, at::Tensor> normalisation(const ModelDataInfo &data,
                                                const std::vector<qint64> &inputShape)
{
    std::vector<float> mean = data.mean;
    std::vector<float> stdev = data.stdev;
    if (mean.empty())
        mean = {0.0f};
    if (stdev.empty())
        stdev = {1.0f};
    if (mean.size() != stdev.size())
        throw Error(QStringLiteral("the data gives %1 mean values but %2 standard deviations")
                        .arg(mean.size()).arg(stdev.size()));
    // A constant feature has std 0: leave it unscaled rather than turn it into inf/NaN.
    for (float &s : stdev) {
        if (!(std::isfinite(s) && s > 1e-12f))
            s = 1.0f;
    }
    const qint64 n = qint64(mean.size());
    std::vector<int64_t> shape{n};
    if (n != 1) {
        if (n != inputShape[0])
            throw Error(QStringLiteral("the data gives %1 normalisation values but samples "
                                       "have %2 %3").arg(n).arg(inputShape[0])
                            .arg(inputShape.size() == 1 ? QStringLiteral("features")
                                                        : QStringLiteral("channels")));
        shape.resize(inputShape.size(), 1);   // [C, 1, 1] broadcasts over H and W
    }
    const at::Tensor m = at::tensor(at::ArrayRef<float>(mean), at::kFloat).reshape(shape);
    const at::Tensor s = at::tensor(at::ArrayRef<float>(stdev), at::kFloat).reshape(shape);
    return {m.clone(), s.clone()};
}

} // namespace

// Modules built in C++ get no `training` attribute of their own, and `self.training` in
// dropout/batchnorm source would not compile without it; train()/eval() flip it later.
torch::jit::Module newModule(const std::string &className)
{
    torch::jit::Module m(className);
    m.register_attribute("training", c10::BoolType::get(), true);
    return m;
}

torch::jit::Module buildModule(const ArchSpec &spec, const ModelDataInfo &data,
                               const QStringList &classNames, quint64 seed)
{
    const std::vector<LayerPlan> plan = spec.plan();
    const std::vector<qint64> inputShape = spec.inputShape();

    // Parameters are created here, not inside the caller's autograd context.
    at::NoGradGuard noGrad;
    at::Generator gen = at::detail::createCPUGenerator(seed);

    torch::jit::Module net = newModule("ModelStudioNet");
    const auto [mean, stdev] = normalisation(data, inputShape);
    net.register_buffer("input_mean", mean);
    net.register_buffer("input_std", stdev);

    c10::List<std::string> names;
    for (const QString &n : classNames)
        names.push_back(n.toStdString());
    net.register_attribute("class_names", c10::ListType::ofStrings(), names);
    net.register_attribute("input_shape", c10::ListType::ofInts(),
                           c10::List<int64_t>(dims(inputShape)));
    const QByteArray json = QJsonDocument(spec.toJson()).toJson(QJsonDocument::Compact);
    net.register_attribute("spec_json", c10::StringType::get(), json.toStdString());

    std::string forward = "def forward(self, x):\n"
                          "    x = (x - self.input_mean) / self.input_std\n";
    for (const LayerPlan &layer : plan)
        forward += layerStatement(net, layer, std::string(), gen);
    forward += "    return x\n";
    net.define(forward);
    return net;
}

} // namespace ms
