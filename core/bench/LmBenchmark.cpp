#include "bench/LmBenchmark_p.h"

#include "jobs/JobContext.h"
#include "models/LanguageModel.h"
#include "models/ModelImpl_p.h"
#include "train/LmTraining_p.h"

#include <cmath>

namespace ms {

bool isLanguageModelRecord(const VersionRecord &version)
{
    return !version.inputs.isEmpty() && version.inputs.first().isInteger()
           && !version.outputs.isEmpty() && version.outputs.first().shape.size() == 3;
}

LmBenchmark::LmBenchmark(const BenchmarkConfig &config, JobContext &context)
    : m_config(config), m_context(context)
{}

LmBenchmark::~LmBenchmark() = default;

LmTraining *LmBenchmark::textOf(DatasetOptions options, const Model &model)
{
    if (options.source.isEmpty())
        return nullptr;
    const QString kind = model.tokenizer().value(QStringLiteral("kind")).toString();
    const QString key = QStringLiteral("%1|%2|%3|%4")
                            .arg(options.source, QString::number(options.limit),
                                 QString::number(options.seed), kind);
    auto it = m_texts.find(key);
    if (it == m_texts.end()) {
        auto text = std::make_unique<Text>();
        text->config.task = QStringLiteral("lm");
        text->config.tokenizer = kind;
        text->data = std::make_unique<LmTraining>(text->config);
        options.isCancelled = [this] { return m_context.isCancelled(); };
        text->data->load(options);
        it = m_texts.emplace(key, std::move(text)).first;
    }
    return it->second->data.get();
}

bool LmBenchmark::measure(QJsonObject &result, const VersionRecord &v, const Model &model,
                          DatasetOptions data)
{
    result.insert(QStringLiteral("task"), QStringLiteral("lm"));
    result.insert(QStringLiteral("test_acc"), QJsonValue());
    result.insert(QStringLiteral("accuracy_note"),
                  QStringLiteral("a language model: scored by validation loss"));
    const QString source = data.source;
    LmTraining *text = m_config.accuracy ? textOf(std::move(data), model) : nullptr;
    if (m_context.isCancelled())
        return false;
    if (text) {
        text->checkModel(model, v.ref());   // the windows of its context
        const double loss = text->validationLoss(model.impl()->module);
        model.impl()->module.eval();        // validationLoss leaves it training
        result.insert(QStringLiteral("dataset"), source);
        result.insert(QStringLiteral("val_loss"), loss);
        result.insert(QStringLiteral("val_ppl"), std::exp(loss));
        result.insert(QStringLiteral("val_windows"), LmTraining::kEvalWindows);
        result.insert(QStringLiteral("val_block_size"), model.blockSize());
    } else {
        result.insert(QStringLiteral("val_loss"), QJsonValue());
        result.insert(QStringLiteral("val_note"),
                      m_config.accuracy ? QStringLiteral("no text known for this version; give "
                                                         "--dataset")
                                        : QStringLiteral("not measured (accuracy off)"));
    }
    return addGeneration(result, v, model);
}

bool LmBenchmark::addGeneration(QJsonObject &result, const VersionRecord &v, const Model &model)
{
    // bench/lm_bench.py's settings: prompt "Q: ", temperature 0.8, top-k 40, the cache. One
    // untimed call pays TorchScript's first-call profiling; then the best of the rounds, its
    // rate counted from the second token (the first is the prompt's pass), as the peer counts.
    const LanguageModel lm(model, v.ref());
    GenerateOptions options;
    options.temperature = 0.8;
    options.topK = 40;
    options.maxTokens = 8;
    const QByteArray prompt = QByteArrayLiteral("Q: ");
    lm.generate(prompt, options);
    options.maxTokens = m_config.generateTokens;
    double best = 0.0, firstToken_s = 0.0;
    for (int round = 0; round < BenchmarkConfig::kGenerationRounds; ++round) {
        if (!m_context.checkPoint())
            return false;
        options.seed = quint64(round);
        const GenerateResult g = lm.generate(prompt, options);
        const double steady_s = g.total_s - g.firstToken_s;
        const double rate = g.tokens.size() > 1 && steady_s > 0
                                ? double(g.tokens.size() - 1) / steady_s
                                : 0.0;
        if (rate > best) {
            best = rate;
            firstToken_s = g.firstToken_s;
        }
    }
    result.insert(QStringLiteral("gen_tokens_per_s"), best);
    result.insert(QStringLiteral("gen_first_token_ms"), firstToken_s * 1000.0);
    result.insert(QStringLiteral("generation"),
                  QJsonObject{{QStringLiteral("tokens"), m_config.generateTokens},
                              {QStringLiteral("rounds"), BenchmarkConfig::kGenerationRounds},
                              {QStringLiteral("prompt"), QString::fromUtf8(prompt)},
                              {QStringLiteral("temperature"), options.temperature},
                              {QStringLiteral("top_k"), options.topK},
                              {QStringLiteral("batch_size"), 1},
                              {QStringLiteral("kv_cache"), true}});
    return true;
}

} // namespace ms
