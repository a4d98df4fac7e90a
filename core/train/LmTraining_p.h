#pragma once

// Private: what training a language model adds to TrainJob's run (TrainJob.cpp calls it where
// a classifier's run reads tensors, builds a classifier, scores accuracy and signs a version).
// Core .cpp files only (torch headers).

#include "data/TextDataset.h"
#include "data/Tokenizer.h"
#include "models/Model.h"
#include "train/TrainConfig.h"
#include "train/TrainLoop_p.h"

#include <QJsonObject>

#include <memory>

namespace ms {

struct NewVersion;

// A language model's run on a text dataset: the corpus of each split tokenized into one token
// stream, batches of random windows (inputs and their next tokens, as nanoGPT and
// shared/peers/lm_peer.py draw them), and validation on fixed, evenly spaced windows (the
// peer's), so the loss of two runs, or of a run and the peer, are measured on the same text.
class LmTraining
{
public:
    // Windows of the validation split scored after every epoch (and of the training split for
    // train_eval_loss), evenly spaced: lm_peer.py's 64.
    static constexpr int kEvalWindows = 64;

    explicit LmTraining(const TrainConfig &config);
    ~LmTraining();

    // Reads the text dataset (options carry source, limit, seed, cancel and limits) and
    // tokenizes it: with `tokenizer` (a model's Tokenizer::toJson()) when given, else with the
    // config's, trained on the training split when it is a SentencePiece one.
    void load(const DatasetOptions &options, const QJsonObject &tokenizer = {});
    // The dataset's describe() with the token counts and the tokenizer.
    QJsonObject describeData() const;
    QString logLine() const;

    // The bound gpt (or other language-model) spec the config names, with its arch_params.
    QJsonObject resolveSpec() const;
    // Both take the model's context (block_size) for the windows they cut.
    Model build(const QJsonObject &spec, quint64 seed);
    // A checkpoint's model must read this tokenizer's tokens: throws ms::Error saying which
    // differs (task, tokenizer, vocabulary) before a step.
    void checkModel(const Model &model, const QString &what);

    int64_t stepsPerEpoch() const { return stepsPerEpoch(m_config); }
    // Random windows of block_size tokens of the training stream, next-token cross-entropy.
    void setUp(trainloop::EpochLoop &loop) { setUp(loop, m_config); }
    // The same with another run's batch size and steps per epoch (a distilled student's),
    // on the windows of the model last given to build() or checkModel().
    int64_t stepsPerEpoch(const TrainConfig &config) const;
    void setUp(trainloop::EpochLoop &loop, const TrainConfig &config);
    // Mean next-token cross-entropy of logits (N, T, V) against targets (N, T).
    static at::Tensor nextTokenLoss(const at::Tensor &logits, const at::Tensor &targets);
    int vocabSize() const { return m_tokenizer->vocabSize(); }
    // {train_loss, train_ppl, val_loss, val_ppl, tokens_per_s, epoch_s} after an epoch.
    QJsonObject epochMetrics(torch::jit::Module &module,
                             const trainloop::EpochOutcome &outcome) const;
    // Next-token loss of `module` on the fixed validation windows (after load() and build() or
    // checkModel()): what epochMetrics reports as val_loss, for scoring a compressed variant.
    double validationLoss(torch::jit::Module &module) const
    {
        return evalLoss(module, m_valX, m_valY);
    }
    // Signature (int64 tokens in, float logits per position out), no class names, and the
    // description of the model it creates.
    void describeVersion(NewVersion &version, const QJsonObject &spec) const;

private:
    // Throws ms::Error when a split is shorter than one window of `blockSize` tokens.
    void checkContext(qint64 blockSize) const;
    void useContext(int blockSize);
    double evalLoss(torch::jit::Module &module, const at::Tensor &x, const at::Tensor &y) const;

    const TrainConfig &m_config;
    TextDataset m_data;
    std::unique_ptr<Tokenizer> m_tokenizer;
    at::Tensor m_train;                 // int64 token streams
    at::Tensor m_val;
    int m_blockSize = 0;                // of the model being trained (build, checkModel)
    at::Tensor m_valX, m_valY;          // the fixed evaluation windows
};

} // namespace ms
