// The gpt architecture as a TorchScript module built in C++: parameters registered on small
// holder submodules named as nanoGPT names them (h0.attn.c_attn.weight, lm_head.weight, ...),
// the computation written as TorchScript source and compiled with Module::define, like every
// other architecture of the studio (DESIGN.md §1.1). The source mirrors shared/peers/
// lm_peer.py's GPT, so a module made here trains in C++ and runs unchanged in Python.

#include "models/GptSpec.h"
#include "models/TextClassifierSpec.h"
#include "models/ModelBuilder_p.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/script.h>

#include <QJsonDocument>

#include <cmath>
#include <string>

namespace ms {

namespace {

std::string num(double v)
{
    std::string s = QString::number(v, 'g', 17).toStdString();
    if (s.find_first_of(".eEn") == std::string::npos)
        s += ".0";
    return s;
}

std::string str(qint64 v)
{
    return std::to_string(v);
}

// Draws the weights in a fixed order from one seeded generator (GptBuilder's own, so a trainer
// using the global generator on another thread is left alone).
class GptFactory
{
public:
    GptFactory(const GptSpec &spec, quint64 seed)
        : m_spec(spec), m_gen(at::detail::createCPUGenerator(seed))
    {}

    // A holder submodule with a weight (normal(0, std), or ones for a LayerNorm when std is
    // 0) and, when the spec has biases and `withBias`, a zero bias.
    torch::jit::Module holder(const std::string &cls, std::vector<int64_t> shape, double std,
                              bool withBias)
    {
        torch::jit::Module m = newModule(cls);
        at::Tensor w = std == 0.0 ? at::ones(shape) : at::empty(shape).normal_(0.0, std, m_gen);
        m.register_parameter("weight", w.requires_grad_(true), false);
        if (withBias && m_spec.bias)
            m.register_parameter("bias", at::zeros({shape[0]}).requires_grad_(true), false);
        return m;
    }

    torch::jit::Module block(int i);
    std::string blockSource() const;
    std::string bodySource() const;
    std::string stepRowsSource() const;
    std::string classifierSource(int64_t padId) const;

private:
    std::string dropout(const std::string &value) const
    {
        return m_spec.dropout > 0.0
                   ? "torch.dropout(" + value + ", " + num(m_spec.dropout) + ", self.training)"
                   : value;
    }
    std::string biasOf(const std::string &path) const
    {
        return m_spec.bias ? path + ".bias" : "None";
    }

    const GptSpec &m_spec;
    at::Generator m_gen;
};

torch::jit::Module GptFactory::block(int i)
{
    const int64_t E = m_spec.nEmbd;
    const double std = 0.02;
    // GPT-2's scaled init of the projections into the residual stream.
    const double residualStd = 0.02 / std::sqrt(2.0 * m_spec.nLayer);
    const std::string tag = "_" + std::to_string(i);
    torch::jit::Module b = newModule("GptBlock" + tag);
    b.register_module("ln_1", holder("GptLn1" + tag, {E}, 0.0, true));
    torch::jit::Module attn = newModule("GptAttn" + tag);
    attn.register_module("c_attn", holder("GptAttnQkv" + tag, {3 * E, E}, std, true));
    attn.register_module("c_proj", holder("GptAttnProj" + tag, {E, E}, residualStd, true));
    b.register_module("attn", attn);
    b.register_module("ln_2", holder("GptLn2" + tag, {E}, 0.0, true));
    torch::jit::Module mlp = newModule("GptMlp" + tag);
    mlp.register_module("c_fc", holder("GptMlpFc" + tag, {4 * E, E}, std, true));
    mlp.register_module("c_proj", holder("GptMlpProj" + tag, {E, 4 * E}, residualStd, true));
    b.register_module("mlp", mlp);
    b.define(blockSource());
    return b;
}

// One pre-LayerNorm block: x + attn(ln_1(x)), then x + mlp(ln_2(x)). `past` holds the keys and
// values of earlier positions ([] when there are none); the block returns its keys and values
// with them, the cache of the next step.
std::string GptFactory::blockSource() const
{
    const int64_t E = m_spec.nEmbd, H = m_spec.nHead, D = E / H;
    const std::string e = str(E);
    const std::string heads = "view(B, T, " + str(H) + ", " + str(D) + ").transpose(1, 2)";
    return "def forward(self, x: Tensor, mask: Tensor, past: List[Tensor]) -> "
           "Tuple[Tensor, Tensor, Tensor]:\n"
           "    B = x.size(0)\n"
           "    T = x.size(1)\n"
           "    h = torch.layer_norm(x, [" + e + "], self.ln_1.weight, " + biasOf("self.ln_1")
           + ", 1e-05)\n"
           "    qkv = torch.linear(h, self.attn.c_attn.weight, " + biasOf("self.attn.c_attn")
           + ")\n"
           // Scaling q (T x D) costs less than scaling the scores (T x T).
           "    q = qkv.narrow(2, 0, " + e + ")." + heads + " * " + num(1.0 / std::sqrt(double(D)))
           + "\n"
           "    k = qkv.narrow(2, " + e + ", " + e + ")." + heads + "\n"
           "    v = qkv.narrow(2, " + str(2 * E) + ", " + e + ")." + heads + "\n"
           "    if len(past) > 0:\n"
           "        k = torch.cat([past[0], k], 2)\n"
           "        v = torch.cat([past[1], v], 2)\n"
           "    att = torch.matmul(q, k.transpose(-2, -1)).masked_fill(mask, float(\"-inf\"))\n"
           "    att = " + dropout("torch.softmax(att, -1)") + "\n"
           "    y = torch.matmul(att, v).transpose(1, 2).reshape(B, T, " + e + ")\n"
           "    x = x + " + dropout("torch.linear(y, self.attn.c_proj.weight, "
                                   + biasOf("self.attn.c_proj") + ")") + "\n"
           "    h = torch.layer_norm(x, [" + e + "], self.ln_2.weight, " + biasOf("self.ln_2")
           + ", 1e-05)\n"
           "    h = torch.gelu(torch.linear(h, self.mlp.c_fc.weight, " + biasOf("self.mlp.c_fc")
           + "))\n"
           "    x = x + " + dropout("torch.linear(h, self.mlp.c_proj.weight, "
                                   + biasOf("self.mlp.c_proj") + ")") + "\n"
           "    return x, k, v\n";
}

// body() runs the blocks over tokens at positions t0 .. t0+T-1 (t0: the positions already in
// the cache); forward() and step() put the LM head on it.
std::string GptFactory::bodySource() const
{
    const std::string L = str(m_spec.nLayer), block = str(m_spec.blockSize);
    std::string src =
        "def body(self, idx: Tensor, cache: List[Tensor]) -> Tuple[Tensor, List[Tensor]]:\n"
        "    assert len(cache) == 0 or len(cache) == 2 * " + L + ", "
        "\"the cache holds a key and a value per block (2 * n_layer tensors), or nothing\"\n"
        "    T = idx.size(1)\n"
        "    t0 = 0\n"
        "    if len(cache) > 0:\n"
        "        t0 = cache[0].size(2)\n"
        "    assert t0 + T <= " + block + ", \"the context is longer than block_size (" + block
        + " tokens): crop it\"\n"
        "    pos = torch.arange(t0, t0 + T, device=idx.device)\n"   // ints: int64
        "    x = " + dropout("torch.embedding(self.wte.weight, idx) + "
                             "torch.embedding(self.wpe.weight, pos)") + "\n"
        "    mask = self.mask[:, :, t0:t0 + T, :t0 + T]\n"
        "    new_cache: List[Tensor] = []\n";
    for (int i = 0; i < m_spec.nLayer; ++i) {
        const std::string h = "self.h" + std::to_string(i);
        src += "    x, k, v = " + h + ".forward(x, mask, cache[" + str(2 * i) + ":"
               + str(2 * i + 2) + "])\n"
               "    new_cache.append(k)\n"
               "    new_cache.append(v)\n";
    }
    src += "    x = torch.layer_norm(x, [" + str(m_spec.nEmbd) + "], self.ln_f.weight, "
           + biasOf("self.ln_f") + ", 1e-05)\n"
           "    return x, new_cache\n"
           "\n"
           "def forward(self, idx: Tensor) -> Tensor:\n"
           "    x, cache = self.body(idx, [])\n"
           "    return torch.linear(x, self.lm_head.weight)\n"
           "\n"
           "def step(self, idx: Tensor, cache: List[Tensor]) -> Tuple[Tensor, List[Tensor]]:\n"
           "    x, new_cache = self.body(idx, cache)\n"
           "    return torch.linear(x.select(1, -1), self.lm_head.weight), new_cache\n"
           "\n"
           + stepRowsSource();
    return src;
}

// step_rows(): one decode step for B sequences at different positions, so that concurrent
// generations share one call (continuous batching, GenerationScheduler). The rows' caches are
// left-padded to one length: `pos` (B) is each row's position (the tokens already in its own
// cache), `keep` (B x cache length + 1) is true where a row may attend (its own cache columns
// and the new token), false on its padding. Masked scores are -inf, so a padded row's
// attention is the unpadded one's: the step equals step() of each row alone, up to rounding.
std::string GptFactory::stepRowsSource() const
{
    const std::string block = str(m_spec.blockSize);
    std::string src =
        "def step_rows(self, idx: Tensor, pos: Tensor, keep: Tensor, cache: List[Tensor]) -> "
        "Tuple[Tensor, List[Tensor]]:\n"
        "    assert idx.size(1) == 1, \"step_rows takes one new token per row (B x 1)\"\n"
        "    assert len(cache) == 0 or len(cache) == 2 * " + str(m_spec.nLayer) + ", "
        "\"the cache holds a key and a value per block (2 * n_layer tensors), or nothing\"\n"
        "    assert bool((pos < " + block + ").all()), \"a position is past block_size (" + block
        + " tokens): refill that row's cache\"\n"
        "    x = " + dropout("torch.embedding(self.wte.weight, idx) + "
                             "torch.embedding(self.wpe.weight, pos).unsqueeze(1)") + "\n"
        "    mask = torch.logical_not(keep).view(idx.size(0), 1, 1, keep.size(1))\n"
        "    new_cache: List[Tensor] = []\n";
    for (int i = 0; i < m_spec.nLayer; ++i) {
        const std::string h = "self.h" + std::to_string(i);
        src += "    x, k, v = " + h + ".forward(x, mask, cache[" + str(2 * i) + ":"
               + str(2 * i + 2) + "])\n"
               "    new_cache.append(k)\n"
               "    new_cache.append(v)\n";
    }
    src += "    x = torch.layer_norm(x, [" + str(m_spec.nEmbd) + "], self.ln_f.weight, "
           + biasOf("self.ln_f") + ", 1e-05)\n"
           "    return torch.linear(x.select(1, -1), self.lm_head.weight), new_cache\n";
    return src;
}

// The text classifier's forward: the gpt's blocks over all positions, where a query sees every
// key that is not padding (a row of padding only sees them all, so its softmax has no row of
// -inf; its pooled value is zero), then the mean of the final LayerNorm over the non-padding
// positions and the head. Inputs past block_size are cut, as tokenizers truncate for
// classifiers.
std::string GptFactory::classifierSource(int64_t padId) const
{
    const std::string block = str(m_spec.blockSize);
    std::string src =
        "def forward(self, idx: Tensor) -> Tensor:\n"
        "    if idx.size(1) > " + block + ":\n"
        "        idx = idx.narrow(1, 0, " + block + ")\n"
        "    B = idx.size(0)\n"
        "    T = idx.size(1)\n"
        "    pad = idx == " + str(padId) + "\n"
        "    mask = torch.logical_and(pad, torch.logical_not(pad).any(1, keepdim=True))"
        ".view(B, 1, 1, T)\n"
        "    pos = torch.arange(0, T, device=idx.device)\n"
        "    x = " + dropout("torch.embedding(self.wte.weight, idx) + "
                             "torch.embedding(self.wpe.weight, pos)") + "\n"
        "    none: List[Tensor] = []\n";
    for (int i = 0; i < m_spec.nLayer; ++i)
        src += "    x, k, v = self.h" + std::to_string(i) + ".forward(x, mask, none)\n";
    src += "    x = torch.layer_norm(x, [" + str(m_spec.nEmbd) + "], self.ln_f.weight, "
           + biasOf("self.ln_f") + ", 1e-05)\n"
           "    keep = torch.logical_not(pad).unsqueeze(2).to(x.dtype)\n"
           "    pooled = (x * keep).sum(1) / keep.sum(1).clamp_min(1.0)\n"
           "    return torch.linear(" + dropout("pooled") + ", self.head.weight, "
           + biasOf("self.head") + ")\n";
    return src;
}

} // namespace

torch::jit::Module buildTextClassifierModule(const TextClassifierSpec &spec,
                                             const QJsonObject &tokenizer,
                                             const QStringList &classNames, quint64 seed)
{
    at::NoGradGuard noGrad;
    // The blocks are the gpt's: a gpt spec of the same shape makes them.
    GptSpec blocks;
    blocks.vocabSize = spec.vocabSize + 1;
    blocks.blockSize = spec.blockSize;
    blocks.nLayer = spec.nLayer;
    blocks.nHead = spec.nHead;
    blocks.nEmbd = spec.nEmbd;
    blocks.dropout = spec.dropout;
    blocks.bias = spec.bias;
    GptFactory factory(blocks, seed);
    const int64_t V = spec.vocabSize + 1, T = spec.blockSize, E = spec.nEmbd;
    const int64_t padId = spec.vocabSize;

    torch::jit::Module net = newModule("ModelStudioTextClassifier");
    net.register_module("wte", factory.holder("TcWte", {V, E}, 0.02, false));
    net.register_module("wpe", factory.holder("TcWpe", {T, E}, 0.02, false));
    for (int i = 0; i < spec.nLayer; ++i)
        net.register_module("h" + std::to_string(i), factory.block(i));
    net.register_module("ln_f", factory.holder("TcLnF", {E}, 0.0, true));
    net.register_module("head", factory.holder("TcHead", {spec.numClasses, E}, 0.02, true));

    c10::List<std::string> names;
    for (const QString &name : classNames)
        names.push_back(name.toStdString());
    net.register_attribute("class_names", c10::ListType::ofStrings(), names);
    const QByteArray json = QJsonDocument(spec.toJson()).toJson(QJsonDocument::Compact);
    net.register_attribute("spec_json", c10::StringType::get(), json.toStdString());
    net.register_attribute(
        "tokenizer_json", c10::StringType::get(),
        QJsonDocument(tokenizer).toJson(QJsonDocument::Compact).toStdString());
    net.register_attribute("block_size", c10::IntType::get(), int64_t(T));
    net.register_attribute("vocab_size", c10::IntType::get(), int64_t(spec.vocabSize));
    net.register_attribute("pad_id", c10::IntType::get(), padId);
    net.define(factory.classifierSource(padId));
    return net;
}

torch::jit::Module buildGptModule(const GptSpec &spec, const QJsonObject &tokenizer, quint64 seed)
{
    at::NoGradGuard noGrad;
    GptFactory factory(spec, seed);
    const int64_t V = spec.vocabSize, T = spec.blockSize, E = spec.nEmbd;

    torch::jit::Module net = newModule("ModelStudioGPT");
    net.register_module("wte", factory.holder("GptWte", {V, E}, 0.02, false));
    net.register_module("wpe", factory.holder("GptWpe", {T, E}, 0.02, false));
    for (int i = 0; i < spec.nLayer; ++i)
        net.register_module("h" + std::to_string(i), factory.block(i));
    net.register_module("ln_f", factory.holder("GptLnF", {E}, 0.0, true));
    net.register_module("lm_head", factory.holder("GptLmHead", {V, E}, 0.02, false));
    // True above the diagonal: the future positions a query must not see.
    net.register_buffer("mask", at::ones({T, T}, at::kBool).triu(1).view({1, 1, T, T}));

    net.register_attribute("class_names", c10::ListType::ofStrings(), c10::List<std::string>());
    net.register_attribute("input_shape", c10::ListType::ofInts(), c10::List<int64_t>({-1}));
    const QByteArray json = QJsonDocument(spec.toJson()).toJson(QJsonDocument::Compact);
    net.register_attribute("spec_json", c10::StringType::get(), json.toStdString());
    net.register_attribute("task", c10::StringType::get(), std::string("lm"));
    net.register_attribute(
        "tokenizer_json", c10::StringType::get(),
        QJsonDocument(tokenizer).toJson(QJsonDocument::Compact).toStdString());
    net.register_attribute("block_size", c10::IntType::get(), int64_t(T));
    net.register_attribute("vocab_size", c10::IntType::get(), int64_t(V));
    net.define(factory.bodySource());
    return net;
}

} // namespace ms
