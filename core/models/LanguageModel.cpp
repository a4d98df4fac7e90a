#include "models/LanguageModel.h"

#include "common/Error.h"
#include "models/Generation_p.h"
#include "models/ModelImpl_p.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/script.h>

#include <QElapsedTimer>

#include <cmath>
#include <limits>

namespace ms {

namespace {

// Eval mode for one call, restored however the call leaves (a trainer's module stays in the
// mode it was in).
class EvalMode
{
public:
    explicit EvalMode(torch::jit::Module &module) : m_module(module), m_was(module.is_training())
    {
        if (m_was)
            m_module.eval();
    }
    ~EvalMode()
    {
        if (m_was)
            m_module.train();
    }
    EvalMode(const EvalMode &) = delete;
    EvalMode &operator=(const EvalMode &) = delete;

private:
    torch::jit::Module &m_module;
    bool m_was = false;
};

at::Tensor tokenTensor(const std::vector<qint64> &ids, size_t from, int64_t batch = 1)
{
    const int64_t count = int64_t(ids.size() - from);
    return torch::from_blob(const_cast<qint64 *>(ids.data() + from), {batch, count / batch},
                            torch::kLong)
        .clone();
}

QString torchText(const std::exception &e)
{
    const c10::Error *torchError = dynamic_cast<const c10::Error *>(&e);
    const QString text = torchError
                             ? QString::fromStdString(torchError->what_without_backtrace())
                             : QString::fromUtf8(e.what());
    const QStringList lines = text.trimmed().split(QLatin1Char('\n'));
    return lines.isEmpty() ? text : lines.last().trimmed();
}

} // namespace

int64_t generation::sample(const at::Tensor &lastLogits, const GenerateOptions &o,
                           at::Generator &gen)
{
    if (o.temperature == 0.0)
        return lastLogits.argmax().item<int64_t>();
    at::Tensor logits = lastLogits.to(at::kFloat) / o.temperature;
    const int64_t vocab = logits.size(0);
    if (o.topK > 0 && o.topK < vocab) {
        const at::Tensor kth = std::get<0>(logits.topk(o.topK)).select(0, o.topK - 1);
        logits = logits.masked_fill(logits < kth, -std::numeric_limits<float>::infinity());
    }
    at::Tensor probs = logits.softmax(-1);
    if (o.topP < 1.0) {
        const auto [sorted, order] = probs.sort(-1, /*descending=*/true);
        // A token goes when the more likely ones before it already reach top_p; the first
        // always stays.
        const at::Tensor kept = sorted.masked_fill((sorted.cumsum(-1) - sorted) >= o.topP, 0.0);
        probs = at::zeros_like(probs).scatter(0, order, kept);
    }
    return at::multinomial(probs, 1, /*replacement=*/false, gen).item<int64_t>();
}


LanguageModel::LanguageModel(Model model, const QString &what)
    : m_model(std::move(model)), m_what(what)
{
    if (m_model.isNull())
        throw Error(QStringLiteral("%1: no model.").arg(what));
    const torch::jit::Module &module = m_model.impl()->module;
    const bool hasStep = module.find_method("step").has_value();
    if (m_model.task() != QLatin1String("lm") || !hasStep) {
        const QString is = hasStep
            ? QStringLiteral("has a step method but no record of its tokenizer (task \"lm\" "
                             "and tokenizer_json attributes)")
            : !m_model.classNames().isEmpty()
                  ? QStringLiteral("is a classifier of %1 classes")
                        .arg(m_model.classNames().size())
                  : QStringLiteral("has no step method and no tokenizer");
        throw Error(QStringLiteral("%1 is not a language model: it %2. Generation needs a "
                                   "version trained with --task lm (for example --arch gpt "
                                   "--dataset fortunes).")
                        .arg(what, is));
    }
    m_tokenizer = Tokenizer::fromJson(m_model.tokenizer());
    if (m_tokenizer->vocabSize() != vocabSize())
        throw Error(QStringLiteral("%1: its tokenizer has %2 symbols but the model reads %3.")
                        .arg(what, QString::number(m_tokenizer->vocabSize()),
                             QString::number(vocabSize())));
}

LanguageModel::~LanguageModel() = default;
LanguageModel::LanguageModel(LanguageModel &&) noexcept = default;

int LanguageModel::blockSize() const
{
    return m_model.blockSize();
}

int LanguageModel::vocabSize() const
{
    const torch::jit::Module &module = m_model.impl()->module;
    return module.hasattr("vocab_size") && module.attr("vocab_size").isInt()
               ? int(module.attr("vocab_size").toInt())
               : 0;
}

std::vector<float> LanguageModel::logits(const std::vector<qint64> &tokens, qint64 batch) const
{
    if (batch < 1 || tokens.empty() || qint64(tokens.size()) % batch != 0)
        throw Error(QStringLiteral("%1 tokens do not split into %2 sequences of one length.")
                        .arg(tokens.size()).arg(batch));
    const qint64 length = qint64(tokens.size()) / batch;
    if (length > blockSize())
        throw Error(QStringLiteral("Sequences of %1 tokens are longer than the context of %2 "
                                   "(%3 tokens).").arg(length).arg(m_what).arg(blockSize()));
    for (const qint64 id : tokens) {
        if (id < 0 || id >= vocabSize())
            throw Error(QStringLiteral("Token id %1 is outside the vocabulary of %2 (ids 0-%3).")
                            .arg(id).arg(m_what).arg(vocabSize() - 1));
    }
    Model::Impl &impl = *m_model.impl();
    std::lock_guard<std::mutex> lock(impl.predictMutex);
    try {
        EvalMode eval(impl.module);
        c10::InferenceMode inference;
        const at::Tensor out =
            impl.module.forward({tokenTensor(tokens, 0, batch)}).toTensor().contiguous();
        return std::vector<float>(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
    } catch (const std::exception &e) {
        throw Error(QStringLiteral("%1 failed on %2 x %3 tokens: %4")
                        .arg(m_what).arg(batch).arg(length).arg(torchText(e)));
    }
}

void LanguageModel::check(const QByteArray &prompt, const GenerateOptions &o) const
{
    if (prompt.isEmpty())
        throw Error(QStringLiteral("The prompt is empty: give at least one character to "
                                   "continue."));
    if (!QUtf8StringView(prompt).isValidUtf8())
        throw Error(QStringLiteral("The prompt is not valid UTF-8 text."));
    const qint64 length = qint64(m_tokenizer->encode(prompt).size());
    if (length > blockSize() && !o.cropPrompt)
        throw Error(QStringLiteral("The prompt is %1 tokens long, more than the context of %2 "
                                   "(%3 tokens). Shorten it, or let it be cut to its last %3 "
                                   "tokens (--crop-prompt).")
                        .arg(length).arg(m_what).arg(blockSize()));
    if (o.maxTokens < 1)
        throw Error(QStringLiteral("The number of tokens to generate (--max-tokens) must be at "
                                   "least 1, not %1.").arg(o.maxTokens));
    if (!(o.temperature >= 0.0) || !std::isfinite(o.temperature))
        throw Error(QStringLiteral("The temperature (--temperature) must be 0 (greedy) or "
                                   "more, not %1.").arg(o.temperature));
    if (o.topK < 0)
        throw Error(QStringLiteral("top-k (--top-k) must be 0 (off) or more, not %1.")
                        .arg(o.topK));
    if (!(o.topP > 0.0 && o.topP <= 1.0))
        throw Error(QStringLiteral("top-p (--top-p) must be above 0 and at most 1, not %1.")
                        .arg(o.topP));
}

GenerateResult LanguageModel::generate(const QByteArray &prompt, const GenerateOptions &o,
                                       const std::function<bool(const QByteArray &)> &onText)
    const
{
    check(prompt, o);
    QElapsedTimer clock;
    clock.start();
    GenerateResult result;
    std::vector<qint64> ids = m_tokenizer->encode(prompt);
    const size_t block = size_t(blockSize());
    if (ids.size() > block) {
        ids.erase(ids.begin(), ids.end() - qint64(block));
        result.promptCropped = true;
    }
    result.promptTokens = ids;

    Model::Impl &impl = *m_model.impl();
    std::lock_guard<std::mutex> lock(impl.predictMutex);
    EvalMode eval(impl.module);
    c10::InferenceMode inference;
    torch::jit::Method step = impl.module.get_method("step");
    at::Generator gen = at::detail::createCPUGenerator(o.seed);
    const c10::List<at::Tensor> none;
    c10::List<at::Tensor> cache;
    generation::TextStream text(o.stop);
    result.finishReason = QStringLiteral("length");
    try {
        for (int i = 0; i < o.maxTokens; ++i) {
            c10::IValue out;
            if (!o.useCache) {   // nanoGPT: the (cropped) context again for every token
                out = step({tokenTensor(ids, ids.size() - std::min(ids.size(), block)), none});
            } else if (i == 0 || size_t(cache.get(0).size(2)) == block) {
                // The prompt; or, with the cache full, its last half-context again (the peer's
                // refill), which keeps a refill every block/2 tokens.
                const size_t keep = std::min(ids.size(), i == 0 ? block : block / 2);
                out = step({tokenTensor(ids, ids.size() - keep), none});
            } else {
                out = step({tokenTensor(ids, ids.size() - 1), cache});
            }
            const auto tuple = out.toTuple();
            if (o.useCache)
                cache = tuple->elements()[1].toTensorList();
            const int64_t next =
                generation::sample(tuple->elements()[0].toTensor().select(0, 0), o, gen);
            if (i == 0)
                result.firstToken_s = double(clock.nsecsElapsed()) / 1e9;
            ids.push_back(next);
            result.tokens.push_back(next);
            if (text.add(m_tokenizer->decode({next}))) {
                result.finishReason = QStringLiteral("stop");
                break;
            }
            const QByteArray certain = onText ? text.takeCertain() : QByteArray();
            if (!certain.isEmpty() && !onText(certain)) {
                result.finishReason = QStringLiteral("cancelled");
                break;
            }
        }
    } catch (const Error &) {
        throw;
    } catch (const std::exception &e) {
        throw Error(QStringLiteral("%1 failed while generating: %2").arg(m_what, torchText(e)));
    }
    if (onText && result.finishReason != QLatin1String("cancelled")) {
        const QByteArray rest = text.takeRest();
        if (!rest.isEmpty())
            onText(rest);
    }
    result.text = text.text();
    result.total_s = double(clock.nsecsElapsed()) / 1e9;
    return result;
}

} // namespace ms
