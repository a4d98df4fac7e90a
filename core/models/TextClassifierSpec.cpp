#include "models/TextClassifierSpec.h"

#include "common/Error.h"
#include "models/GptSpec.h"

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
        throw Error(QStringLiteral("the text-classifier spec's \"%1\" must be a whole number "
                                   "from %2 to %3, not %4")
                        .arg(key, QString::number(min), QString::number(max),
                             v.isDouble() ? QString::number(d) : QStringLiteral("that")));
    return int(d);
}

} // namespace

bool TextClassifierSpec::isTextClassifier(const QJsonObject &json)
{
    return json.value(QLatin1String("family"))
               .toString()
               .compare(QLatin1String("text-classifier"), Qt::CaseInsensitive)
           == 0;
}

QStringList TextClassifierSpec::settingKeys()
{
    return {QStringLiteral("vocab_size"), QStringLiteral("num_classes"),
            QStringLiteral("block_size"), QStringLiteral("n_layer"), QStringLiteral("n_head"),
            QStringLiteral("n_embd"), QStringLiteral("dropout"), QStringLiteral("bias")};
}

TextClassifierSpec TextClassifierSpec::fromJson(const QJsonObject &json)
{
    QSet<QString> known{QStringLiteral("name"), QStringLiteral("family")};
    for (const QString &key : settingKeys())
        known.insert(key);
    for (auto it = json.begin(); it != json.end(); ++it) {
        if (!known.contains(it.key()))
            throw Error(QStringLiteral("the text-classifier spec has no setting \"%1\"; its "
                                       "settings: %2")
                            .arg(it.key(), settingKeys().join(QStringLiteral(", "))));
    }
    TextClassifierSpec s;
    s.name = json.value(QLatin1String("name")).toString(s.name);
    s.vocabSize = intKey(json, QStringLiteral("vocab_size"), 0, 0, 1 << 20);
    s.numClasses = intKey(json, QStringLiteral("num_classes"), 0, 0, 1 << 20);
    s.blockSize = intKey(json, QStringLiteral("block_size"), s.blockSize, 1, 1 << 16);
    s.nLayer = intKey(json, QStringLiteral("n_layer"), s.nLayer, 1, 256);
    s.nHead = intKey(json, QStringLiteral("n_head"), s.nHead, 1, 1024);
    s.nEmbd = intKey(json, QStringLiteral("n_embd"), s.nEmbd, 1, 1 << 16);
    const QJsonValue dropout = json.value(QLatin1String("dropout"));
    if (!dropout.isUndefined()) {
        if (!dropout.isDouble() || dropout.toDouble() < 0.0 || dropout.toDouble() >= 1.0)
            throw Error(QStringLiteral("the text-classifier spec's \"dropout\" must be a number "
                                       "in [0, 1)"));
        s.dropout = dropout.toDouble();
    }
    const QJsonValue bias = json.value(QLatin1String("bias"));
    if (!bias.isUndefined()) {
        if (!bias.isBool())
            throw Error(QStringLiteral("the text-classifier spec's \"bias\" must be true or "
                                       "false"));
        s.bias = bias.toBool();
    }
    if (s.nEmbd % s.nHead != 0)
        throw Error(QStringLiteral("the text-classifier spec's n_embd (%1) must divide by "
                                   "n_head (%2): each head takes n_embd / n_head features")
                        .arg(s.nEmbd).arg(s.nHead));
    return s;
}

QJsonObject TextClassifierSpec::toJson() const
{
    QJsonObject json{{QStringLiteral("name"), name},
                     {QStringLiteral("family"), QStringLiteral("text-classifier")},
                     {QStringLiteral("block_size"), blockSize},
                     {QStringLiteral("n_layer"), nLayer},
                     {QStringLiteral("n_head"), nHead},
                     {QStringLiteral("n_embd"), nEmbd},
                     {QStringLiteral("dropout"), dropout},
                     {QStringLiteral("bias"), bias}};
    if (vocabSize > 0)
        json.insert(QStringLiteral("vocab_size"), vocabSize);
    if (numClasses > 0)
        json.insert(QStringLiteral("num_classes"), numClasses);
    return json;
}

ModelSummary TextClassifierSpec::summary() const
{
    if (vocabSize <= 0 || numClasses <= 0)
        throw Error(QStringLiteral("the text-classifier spec leaves %1 open; bind it to a text "
                                   "dataset and its tokenizer first")
                        .arg(vocabSize <= 0 ? QStringLiteral("vocab_size")
                                            : QStringLiteral("num_classes")));
    const qint64 E = nEmbd, T = blockSize, V = vocabSize + 1, C = numClasses;
    const qint64 b = bias ? 1 : 0;
    ModelSummary s = transformerTrunkSummary(V, T, nLayer, E, bias,
                                             QStringLiteral("self-attention"));
    addLayerRow(s, QStringLiteral("pool"), QStringLiteral("mean-pool"), {E}, 0, 0);
    addLayerRow(s, QStringLiteral("head"), QStringLiteral("linear"), {C}, E * C + b * C,
                (E * C + T - 1) / T);
    return s;
}

} // namespace ms
