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

    virtual QString kind() const = 0;          // "byte", "spm-bpe", "spm-unigram"
    virtual int vocabSize() const = 0;
    virtual std::vector<qint64> encode(const QByteArray &utf8) const = 0;
    // Throws ms::Error for an id outside [0, vocabSize()). The bytes may end inside a UTF-8
    // sequence (a model can emit any byte): decode incrementally to show text as it comes.
    virtual QByteArray decode(const std::vector<qint64> &ids) const = 0;
    // {"kind": "byte", "vocab_size": 256}; a trained tokenizer's model inside (base64), so
    // fromJson() rebuilds it from an artifact alone.
    virtual QJsonObject toJson() const = 0;
    // What a recipe and a log say of it: toJson() without a trained model's bytes (their
    // sha256 instead).
    virtual QJsonObject describe() const { return toJson(); }

    // Throws ms::Error naming the kinds known when `json` names none of them.
    static std::unique_ptr<Tokenizer> fromJson(const QJsonObject &json);
    // A tokenizer that needs no training, by kind ("byte"); throws ms::Error otherwise.
    static std::unique_ptr<Tokenizer> named(const QString &kind);
    // byte, spm-bpe, spm-unigram.
    static QStringList kinds();
    // True for the kinds trained on a corpus (SentencePiece's bpe and unigram).
    static bool isTrained(const QString &kind);
    // Throws ms::Error saying what is missing and what to install when `kind` needs a library
    // this process cannot load (SentencePiece's module, libmodelstudio-spm.so); call it
    // before any work that will need the tokenizer. Nothing for byte.
    static void checkAvailable(const QString &kind);
    // A tokenizer of `kind`: byte as named(); spm-bpe or spm-unigram trained by SentencePiece
    // on the records (a training split) with `vocabSize` symbols, deterministically for a
    // seed.
    // Throws ms::Error saying what to change when training fails (too little text).
    static std::unique_ptr<Tokenizer> make(const QString &kind, int vocabSize,
                                           const std::vector<QByteArray> &records,
                                           quint64 seed);
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
