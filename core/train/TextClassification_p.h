#pragma once

// Private: what training a text classifier adds to TrainJob's run (TrainJob.cpp calls it where
// a classifier of tensors reads its dataset, builds its model and signs its version). The step
// loop, evaluation and checkpoints are the classifier's own. Core .cpp files only (torch).

#include "data/TextDataset.h"
#include "data/Tokenizer.h"
#include "models/Model.h"
#include "train/TrainConfig.h"

#include <torch/script.h>

#include <QJsonObject>

#include <memory>

namespace ms {

struct NewVersion;

// A text dataset (fortunes, a folder of .txt files per class, a CSV with a text column) as
// token-id tensors: each record tokenized, cut to the model's block_size and padded with its
// pad id (the vocabulary size) to the longest record of the run, its class the label.
class TextClassification
{
public:
    explicit TextClassification(const TrainConfig &config);
    ~TextClassification();

    // Reads the text dataset and tokenizes it. Throws ms::Error when it has fewer than two
    // classes.
    void load(const DatasetOptions &options);
    QJsonObject describeData() const;
    QString logLine() const;
    const QStringList &classNames() const { return m_data.classNames; }
    qint64 trainCount() const { return m_data.train.count(); }

    // The bound text-classifier spec the config names (its arch_params applied, the
    // tokenizer's vocabulary and the data's classes). Throws ms::Error for another family.
    QJsonObject resolveSpec() const;
    Model build(const QJsonObject &spec, quint64 seed);
    // A checkpoint's model must be a text classifier of this tokenizer and these classes.
    void checkModel(const Model &model, const QString &what);

    // (N x T) int64 token ids and (N) labels of a split, after build() or checkModel().
    at::Tensor trainX() const { return m_trainX; }
    at::Tensor trainY() const { return m_trainY; }
    at::Tensor valX() const { return m_valX; }
    at::Tensor valY() const { return m_valY; }

    // Signature: int64 tokens [N, T] (T dynamic, example [1, block_size], vocab_size the
    // embedding's rows) in, float32 logits [N, classes] out.
    void describeVersion(NewVersion &version, const QJsonObject &spec) const;

private:
    void tokenize(int blockSize, int padId);

    const TrainConfig &m_config;
    TextDataset m_data;
    std::unique_ptr<Tokenizer> m_tokenizer;
    at::Tensor m_trainX, m_trainY, m_valX, m_valY;
};

// Compiles a text-classifier spec (models/TextClassifierSpec.h) bound to `tokenizer`'s
// vocabulary and `classNames` (ModelBuilder_p.h's buildTextClassifierModule), tried on a short
// batch. Throws ms::Error naming the spec.
Model buildTextClassifier(const QJsonObject &spec, const QJsonObject &tokenizer,
                          const QStringList &classNames, quint64 seed);

} // namespace ms
