#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <memory>
#include <vector>

namespace ms {

// Turns UTF-8 text into token ids and back. A language model's artifact records its tokenizer
// as toJson() (the `tokenizer_json` attribute), and so does the recipe, so generation and
// serving rebuild the same one with fromJson().
class Tokenizer
{
public:
    virtual ~Tokenizer() = default;

    virtual QString kind() const = 0;          // "byte"
    virtual int vocabSize() const = 0;
    virtual std::vector<qint64> encode(const QByteArray &utf8) const = 0;
    // Throws ms::Error for an id outside [0, vocabSize()). The bytes may end inside a UTF-8
    // sequence (a model can emit any byte): decode incrementally to show text as it comes.
    virtual QByteArray decode(const std::vector<qint64> &ids) const = 0;
    // {"kind": "byte", "vocab_size": 256}
    virtual QJsonObject toJson() const = 0;

    // Throws ms::Error naming the kinds known when `json` names none of them.
    static std::unique_ptr<Tokenizer> fromJson(const QJsonObject &json);
    // A tokenizer that needs no training, by kind ("byte"); throws ms::Error otherwise.
    static std::unique_ptr<Tokenizer> named(const QString &kind);
    static QStringList kinds();
};

// UTF-8 bytes as tokens: 256 symbols, any text round-trips exactly, nothing to train or store.
// The tokenizer of nanoGPT's character models and of shared/peers/lm_peer.py --tokenizer char.
class ByteTokenizer final : public Tokenizer
{
public:
    QString kind() const override { return QStringLiteral("byte"); }
    int vocabSize() const override { return 256; }
    std::vector<qint64> encode(const QByteArray &utf8) const override;
    QByteArray decode(const std::vector<qint64> &ids) const override;
    QJsonObject toJson() const override;
};

} // namespace ms
