#pragma once

#include "models/ArchSpec.h"

#include <QJsonObject>
#include <QString>

namespace ms {

// The spec of a Transformer text classifier: token and learned position embeddings, n_layer
// gpt blocks without the causal mask (every token sees every other non-padding token), a final
// LayerNorm, the mean over the non-padding positions and a Linear head over the classes.
//   {"name": "text-classifier", "family": "text-classifier", "vocab_size": 256,
//    "num_classes": 4, "block_size": 128, "n_layer": 2, "n_head": 4, "n_embd": 64,
//    "dropout": 0.0, "bias": true}
// Token id vocab_size is the padding (the embedding has vocab_size + 1 rows): a batch of
// texts of different lengths is padded with it, and the model ignores it. Inputs longer than
// block_size are cut to their first block_size tokens. vocab_size and num_classes stay open
// until bound (the tokenizer's; ArchSpec::boundTo's numClasses). Torch-free.
struct TextClassifierSpec
{
    QString name = QStringLiteral("text-classifier");
    int vocabSize = 0;      // 0 while open
    int numClasses = 0;     // 0 while open
    int blockSize = 128;    // the longest input, in tokens
    int nLayer = 2;
    int nHead = 4;
    int nEmbd = 64;
    double dropout = 0.0;
    bool bias = true;

    static bool isTextClassifier(const QJsonObject &json);
    // Throws ms::Error naming the key that is unknown or out of range.
    static TextClassifierSpec fromJson(const QJsonObject &json);
    QJsonObject toJson() const;
    // Rows: wte, wpe, per block ln_1, attn, ln_2, mlp, then ln_f, pool and head. MACs are per
    // token at a full input of block_size tokens (attention reads every key and value:
    // 2 x block_size x n_embd of its MACs); the head runs once per text, its MACs spread over
    // block_size tokens.
    ModelSummary summary() const;
    // The keys a spec may set (name and family aside).
    static QStringList settingKeys();
};

} // namespace ms
