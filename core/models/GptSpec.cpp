#include "models/GptSpec.h"

#include "common/Error.h"

#include <QJsonArray>
#include <QSet>

namespace ms {

namespace {

int intKey(const QJsonObject &json, const QString &key, int fallback, int min, int max)
{
    const QJsonValue v = json.value(key);
    if (v.isUndefined())
        return fallback;
    const double d = v.toDouble(-1.0);
    if (!v.isDouble() || d != double(qint64(d)) || d < min || d > max)
        throw Error(QStringLiteral("the gpt spec's \"%1\" must be a whole number from %2 to %3, "
                                   "not %4")
                        .arg(key, QString::number(min), QString::number(max),
                             v.isDouble() ? QString::number(d) : QStringLiteral("that")));
    return int(d);
}

} // namespace

bool GptSpec::isGpt(const QJsonObject &json)
{
    return json.value(QLatin1String("family")).toString().compare(QLatin1String("gpt"),
                                                                  Qt::CaseInsensitive)
           == 0;
}

QStringList GptSpec::settingKeys()
{
    return {QStringLiteral("vocab_size"), QStringLiteral("block_size"), QStringLiteral("n_layer"),
            QStringLiteral("n_head"), QStringLiteral("n_embd"), QStringLiteral("dropout"),
            QStringLiteral("bias")};
}

GptSpec GptSpec::fromJson(const QJsonObject &json)
{
    QSet<QString> known{QStringLiteral("name"), QStringLiteral("family")};
    for (const QString &key : settingKeys())
        known.insert(key);
    for (auto it = json.begin(); it != json.end(); ++it) {
        if (!known.contains(it.key()))
            throw Error(QStringLiteral("the gpt spec has no setting \"%1\"; its settings: %2")
                            .arg(it.key(), settingKeys().join(QStringLiteral(", "))));
    }
    GptSpec s;
    s.name = json.value(QLatin1String("name")).toString(s.name);
    s.vocabSize = intKey(json, QStringLiteral("vocab_size"), 0, 0, 1 << 20);
    s.blockSize = intKey(json, QStringLiteral("block_size"), s.blockSize, 1, 1 << 16);
    s.nLayer = intKey(json, QStringLiteral("n_layer"), s.nLayer, 1, 256);
    s.nHead = intKey(json, QStringLiteral("n_head"), s.nHead, 1, 1024);
    s.nEmbd = intKey(json, QStringLiteral("n_embd"), s.nEmbd, 1, 1 << 16);
    const QJsonValue dropout = json.value(QLatin1String("dropout"));
    if (!dropout.isUndefined()) {
        if (!dropout.isDouble() || dropout.toDouble() < 0.0 || dropout.toDouble() >= 1.0)
            throw Error(QStringLiteral("the gpt spec's \"dropout\" must be a number in [0, 1)"));
        s.dropout = dropout.toDouble();
    }
    const QJsonValue bias = json.value(QLatin1String("bias"));
    if (!bias.isUndefined()) {
        if (!bias.isBool())
            throw Error(QStringLiteral("the gpt spec's \"bias\" must be true or false"));
        s.bias = bias.toBool();
    }
    if (s.nEmbd % s.nHead != 0)
        throw Error(QStringLiteral("the gpt spec's n_embd (%1) must divide by n_head (%2): each "
                                   "head takes n_embd / n_head features")
                        .arg(s.nEmbd).arg(s.nHead));
    return s;
}

QJsonObject GptSpec::toJson() const
{
    QJsonObject json{{QStringLiteral("name"), name},
                     {QStringLiteral("family"), QStringLiteral("gpt")},
                     {QStringLiteral("block_size"), blockSize},
                     {QStringLiteral("n_layer"), nLayer},
                     {QStringLiteral("n_head"), nHead},
                     {QStringLiteral("n_embd"), nEmbd},
                     {QStringLiteral("dropout"), dropout},
                     {QStringLiteral("bias"), bias}};
    if (vocabSize > 0)
        json.insert(QStringLiteral("vocab_size"), vocabSize);
    return json;
}

ModelSummary GptSpec::summary() const
{
    if (vocabSize <= 0)
        throw Error(QStringLiteral("the gpt spec leaves vocab_size open; bind it to a "
                                   "tokenizer first"));
    const qint64 E = nEmbd, T = blockSize, V = vocabSize;
    ModelSummary s = transformerTrunkSummary(V, T, nLayer, E, bias,
                                             QStringLiteral("causal-self-attention"));
    addLayerRow(s, QStringLiteral("lm_head"), QStringLiteral("linear"), {T, V}, E * V, E * V);
    return s;
}

void addLayerRow(ModelSummary &summary, const QString &name, const QString &type,
                 std::vector<qint64> outShape, qint64 params, qint64 macs)
{
    summary.layers.append(LayerSummary{name, type, std::move(outShape), params, macs});
    summary.totalParams += params;
    summary.totalMacs += macs;
}

ModelSummary transformerTrunkSummary(qint64 vocabRows, qint64 blockSize, int nLayer,
                                     qint64 nEmbd, bool bias, const QString &attention)
{
    const qint64 E = nEmbd, T = blockSize, V = vocabRows;
    const qint64 b = bias ? 1 : 0;
    ModelSummary s;
    s.inputShape = {T};
    s.macsPerToken = true;
    const auto row = [&s](const QString &name, const QString &type, std::vector<qint64> out,
                          qint64 params, qint64 macs) {
        addLayerRow(s, name, type, std::move(out), params, macs);
    };
    row(QStringLiteral("wte"), QStringLiteral("embedding"), {T, E}, V * E, 0);
    row(QStringLiteral("wpe"), QStringLiteral("embedding"), {T, E}, T * E, 0);
    for (int i = 0; i < nLayer; ++i) {
        const QString h = QStringLiteral("h%1.").arg(i);
        row(h + QStringLiteral("ln_1"), QStringLiteral("layernorm"), {T, E}, E + b * E, 0);
        row(h + QStringLiteral("attn"), attention, {T, E},
            3 * E * E + b * 3 * E + E * E + b * E, 4 * E * E + 2 * T * E);
        row(h + QStringLiteral("ln_2"), QStringLiteral("layernorm"), {T, E}, E + b * E, 0);
        row(h + QStringLiteral("mlp"), QStringLiteral("mlp-gelu"), {T, E},
            8 * E * E + b * 5 * E, 8 * E * E);
    }
    row(QStringLiteral("ln_f"), QStringLiteral("layernorm"), {T, E}, E + b * E, 0);
    return s;
}

} // namespace ms
