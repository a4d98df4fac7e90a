#pragma once

// Private: what a benchmark measures of a language model besides latency and size (BenchmarkJob
// calls it for a version whose model says task "lm"). Core .cpp files only (torch headers).

#include "bench/BenchmarkJob.h"
#include "data/Dataset.h"
#include "models/Model.h"
#include "registry/Registry.h"
#include "train/TrainConfig.h"

#include <QJsonObject>
#include <QString>

#include <map>
#include <memory>

namespace ms {

class JobContext;
class LmTraining;

// A record of token ids in and logits per position out: train --task lm's versions and their
// compressed variants. Their data is text, which LmTraining reads, not DatasetRegistry.
bool isLanguageModelRecord(const VersionRecord &version);

class LmBenchmark
{
public:
    LmBenchmark(const BenchmarkConfig &config, JobContext &context);
    ~LmBenchmark();

    // Adds to `result`: task "lm", no test accuracy; val_loss and val_ppl on the version's text
    // (`data`: its recorded dataset; the fixed windows training and compress score, of the
    // model's context), and gen_tokens_per_s / gen_first_token_ms: generation at batch 1 with
    // the key/value cache through LanguageModel::generate, as `generate` and the server run it.
    // False when cancelled.
    bool measure(QJsonObject &result, const VersionRecord &v, const Model &model,
                 DatasetOptions data);

private:
    // The text, tokenized by the model's tokenizer, shared by the versions trained on it.
    LmTraining *textOf(DatasetOptions options, const Model &model);
    bool addGeneration(QJsonObject &result, const VersionRecord &v, const Model &model);

    const BenchmarkConfig &m_config;
    JobContext &m_context;
    // LmTraining reads its settings by reference: each keeps its own.
    struct Text
    {
        TrainConfig config;
        std::unique_ptr<LmTraining> data;
    };
    std::map<QString, std::unique_ptr<Text>> m_texts;
};

} // namespace ms
