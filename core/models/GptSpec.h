#pragma once

#include "models/ArchSpec.h"

#include <QJsonObject>
#include <QString>

namespace ms {

// The spec of a GPT language model (nanoGPT's shape): token and learned position embeddings,
// n_layer pre-LayerNorm blocks (causal self-attention with n_head heads, a 4x GELU MLP),
// a final LayerNorm and a bias-free LM head.
//   {"name": "gpt", "family": "gpt", "vocab_size": 256, "block_size": 128, "n_layer": 4,
//    "n_head": 4, "n_embd": 128, "dropout": 0.0, "bias": true}
// vocab_size stays open (absent) until the spec is bound to a tokenizer: ArchSpec's
// boundTo(shape, numClasses) takes the vocabulary as numClasses, and a shape {T} as the
// block size. ArchSpec dispatches here when "family" is "gpt". Torch-free.
struct GptSpec
{
    QString name = QStringLiteral("gpt");
    int vocabSize = 0;      // 0 while open
    int blockSize = 128;    // the longest context, in tokens
    int nLayer = 4;
    int nHead = 4;
    int nEmbd = 128;
    double dropout = 0.0;
    bool bias = true;       // in the LayerNorms and Linear layers (never in the LM head)

    static bool isGpt(const QJsonObject &json);
    // Throws ms::Error naming the key that is unknown, missing its type or out of range
    // (n_embd must divide by n_head).
    static GptSpec fromJson(const QJsonObject &json);
    QJsonObject toJson() const;
    // Rows: wte, wpe, then per block ln_1, attn, ln_2, mlp, then ln_f and lm_head. MACs are
    // per token with a full context of block_size tokens (attention reads every earlier key
    // and value: 2 x block_size x n_embd of its MACs).
    ModelSummary summary() const;
    // The keys a spec may set (name and family aside).
    static QStringList settingKeys();
};

// One row of a layer table, added to the totals.
void addLayerRow(ModelSummary &summary, const QString &name, const QString &type,
                 std::vector<qint64> outShape, qint64 params, qint64 macs);
// The layer table of the transformer the gpt and the text classifier share, up to and with
// the final LayerNorm: token (`vocabRows` rows) and position embeddings, `nLayer` pre-LayerNorm
// blocks whose attention is named `attention`, MACs per token. Each adds its own head.
ModelSummary transformerTrunkSummary(qint64 vocabRows, qint64 blockSize, int nLayer,
                                     qint64 nEmbd, bool bias, const QString &attention);

} // namespace ms
