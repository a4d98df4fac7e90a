#include "train/LmTraining_p.h"

#include "common/Error.h"
#include "models/ArchSpec.h"
#include "models/ArchitectureRegistry.h"
#include "registry/Registry.h"

#include <torch/nn/functional/loss.h>
#include <torch/script.h>

#include <QLocale>

#include <cmath>

namespace ms {

namespace {

at::Tensor tokenStream(const Tokenizer &tokenizer, const QByteArray &text)
{
    std::vector<qint64> ids = tokenizer.encode(text);
    static_assert(sizeof(qint64) == sizeof(int64_t));
    return torch::from_blob(ids.data(), {int64_t(ids.size())}, torch::kLong).clone();
}

// lm_peer.py's windows(): n windows at offsets i * (len - T - 1) // (n - 1).
std::pair<at::Tensor, at::Tensor> evenWindows(const at::Tensor &data, int64_t T, int n)
{
    std::vector<at::Tensor> xs, ys;
    const int64_t span = data.size(0) - T - 1;
    for (int i = 0; i < n; ++i) {
        const int64_t offset = int64_t(i) * span / (n - 1);
        xs.push_back(data.slice(0, offset, offset + T));
        ys.push_back(data.slice(0, offset + 1, offset + T + 1));
    }
    return {torch::stack(xs), torch::stack(ys)};
}

} // namespace

at::Tensor LmTraining::nextTokenLoss(const at::Tensor &logits, const at::Tensor &targets)
{
    return torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}),
                                                targets.reshape(-1));
}

LmTraining::LmTraining(const TrainConfig &config)
    : m_config(config)
{}

LmTraining::~LmTraining() = default;

void LmTraining::load(const DatasetOptions &options, const QJsonObject &tokenizer)
{
    m_data = TextDatasetRegistry::instance().load(options);
    // A trained tokenizer (spm-bpe, spm-unigram) learns from the training split only, as
    // lm_peer.py's.
    m_tokenizer = !tokenizer.isEmpty()
                      ? Tokenizer::fromJson(tokenizer)
                      : Tokenizer::make(m_config.tokenizer, m_config.vocabSize,
                                        m_data.train.records, m_config.seed);
    m_train = tokenStream(*m_tokenizer, m_data.train.corpus());
    m_val = tokenStream(*m_tokenizer, m_data.validation.corpus());
}

QJsonObject LmTraining::describeData() const
{
    QJsonObject json = m_data.describe();
    json.insert(QStringLiteral("train_tokens"), qint64(m_train.size(0)));
    json.insert(QStringLiteral("validation_tokens"), qint64(m_val.size(0)));
    json.insert(QStringLiteral("tokenizer"), m_tokenizer->describe());
    return json;
}

QString LmTraining::logLine() const
{
    const QLocale c = QLocale::c();
    return QStringLiteral("Text dataset %1: %2 train and %3 validation records, %4 and %5 "
                          "tokens (%6 tokenizer, %7 symbols), %8 classes")
        .arg(m_data.name, c.toString(m_data.train.count()), c.toString(m_data.validation.count()),
             c.toString(qint64(m_train.size(0))), c.toString(qint64(m_val.size(0))),
             m_tokenizer->kind(), QString::number(m_tokenizer->vocabSize()),
             QString::number(m_data.numClasses()));
}

QJsonObject LmTraining::resolveSpec() const
{
    const int vocab = m_tokenizer->vocabSize();
    const ArchSpec spec =
        m_config.archSpec.isEmpty()
            ? ArchSpec::fromJson(ArchitectureRegistry::instance().resolve(
                  m_config.arch, {}, vocab, m_config.archParams))
            : ArchSpec::fromJson(m_config.archSpec).boundTo({}, vocab);
    if (!spec.isGpt())
        throw Error(QStringLiteral("The architecture \"%1\" is not a language model: --task lm "
                                   "trains a gpt (--arch gpt).")
                        .arg(spec.name()));
    checkContext(spec.inputShape().front());   // before the model is built
    return spec.toJson();
}

void LmTraining::checkContext(qint64 blockSize) const
{
    for (const auto &[stream, name] : {std::pair{&m_train, "training"},
                                       std::pair{&m_val, "validation"}}) {
        if (stream->size(0) < blockSize + 2)
            throw Error(QStringLiteral("The %1 text of %2 is %3 tokens long, too short for one "
                                       "window of the model's context (%4 tokens + 1): use more "
                                       "records (a larger --limit) or a smaller block size "
                                       "(--block-size).")
                            .arg(QLatin1String(name), m_data.name,
                                 QString::number(stream->size(0)), QString::number(blockSize)));
    }
}

void LmTraining::useContext(int blockSize)
{
    checkContext(blockSize);
    m_blockSize = blockSize;
    std::tie(m_valX, m_valY) = evenWindows(m_val, blockSize, kEvalWindows);
}

Model LmTraining::build(const QJsonObject &spec, quint64 seed)
{
    Model model = Model::buildLanguageModel(spec, m_tokenizer->toJson(), seed);
    useContext(model.blockSize());
    return model;
}

void LmTraining::checkModel(const Model &model, const QString &what)
{
    if (model.task() != QLatin1String("lm"))
        throw Error(QStringLiteral("%1 is not a language model; it cannot continue a --task lm "
                                   "run.").arg(what));
    if (model.tokenizer() != m_tokenizer->toJson()) {
        // A trained tokenizer's JSON carries its model's bytes: said as kind and size.
        const auto shown = [](const QJsonObject &json) {
            return QStringLiteral("%1 (%2 symbols)")
                .arg(json.value(QStringLiteral("kind")).toString(),
                     QString::number(json.value(QStringLiteral("vocab_size")).toInt()));
        };
        const QJsonObject expected = m_tokenizer->toJson();
        throw Error(QStringLiteral("%1 reads tokens of another tokenizer, %2, than this run's "
                                   "data is tokenized by, %3%4.")
                        .arg(what, shown(model.tokenizer()), shown(expected),
                             shown(model.tokenizer()) == shown(expected)
                                 ? QStringLiteral(" (trained on other text)")
                                 : QString()));
    }
    useContext(model.blockSize());
}

int64_t LmTraining::stepsPerEpoch(const TrainConfig &config) const
{
    if (config.stepsPerEpoch > 0)
        return config.stepsPerEpoch;
    // One pass over the training tokens' worth of windows.
    const int64_t perStep = int64_t(config.batchSize) * std::max(1, m_blockSize);
    return std::max<int64_t>(1, (m_train.size(0) - 1 + perStep - 1) / perStep);
}

void LmTraining::setUp(trainloop::EpochLoop &loop, const TrainConfig &config)
{
    loop.batches = stepsPerEpoch(config);
    const int64_t batch = config.batchSize;
    loop.drawBatch = [this, batch]() {
        const int64_t T = m_blockSize;
        const at::Tensor starts = torch::randint(m_train.size(0) - T - 1, {batch}, torch::kLong);
        const at::Tensor at = (starts.unsqueeze(1) + torch::arange(T, torch::kLong)).view(-1);
        return std::make_pair(m_train.index_select(0, at).view({batch, T}),
                              m_train.index_select(0, at + 1).view({batch, T}));
    };
    loop.hooks.loss = [](const at::Tensor &, const at::Tensor &logits, const at::Tensor &y) {
        return nextTokenLoss(logits, y);
    };
}

double LmTraining::evalLoss(torch::jit::Module &module, const at::Tensor &x,
                            const at::Tensor &y) const
{
    torch::NoGradGuard noGrad;
    module.eval();
    double loss = 0.0;
    try {
        loss = nextTokenLoss(module.forward({x}).toTensor(), y).item<double>();
    } catch (...) {
        module.train();
        throw;
    }
    module.train();
    return loss;
}

QJsonObject LmTraining::epochMetrics(torch::jit::Module &module,
                                     const trainloop::EpochOutcome &outcome) const
{
    const double trainLoss = outcome.lossSum / double(outcome.samples);
    const double valLoss = evalLoss(module, m_valX, m_valY);
    return QJsonObject{{QStringLiteral("train_loss"), trainLoss},
                       {QStringLiteral("train_ppl"), std::exp(trainLoss)},
                       {QStringLiteral("val_loss"), valLoss},
                       {QStringLiteral("val_ppl"), std::exp(valLoss)},
                       {QStringLiteral("tokens_per_s"), double(outcome.samples) / outcome.seconds},
                       {QStringLiteral("epoch_s"), outcome.seconds}};
}

void LmTraining::describeVersion(NewVersion &version, const QJsonObject &spec) const
{
    version.modelDescription = QStringLiteral("Language model trained from the %1 architecture "
                                              "on %2 (%3 tokenizer)")
                                   .arg(ArchSpec::fromJson(spec).name(), m_data.name,
                                        m_tokenizer->kind());
    version.inputs = {TensorSignature{QStringLiteral("tokens"), QStringLiteral("int64"),
                                      {-1, -1}}};
    version.outputs = {TensorSignature{QStringLiteral("logits"), QStringLiteral("float32"),
                                       {-1, -1, qint64(m_tokenizer->vocabSize())}}};
    version.classNames.clear();
}

} // namespace ms
