#include "data/Tokenizer.h"

#include "common/Error.h"

#include <QStringList>

namespace ms {

// SentencePieceTokenizer.cpp: the library's headers stay in that one file.
void checkSentencePiece();
std::unique_ptr<Tokenizer> makeSentencePiece(const QString &kind, const QByteArray &modelProto);
std::unique_ptr<Tokenizer> trainSentencePiece(const QString &kind, int vocabSize,
                                              const std::vector<QByteArray> &records,
                                              quint64 seed);

QStringList Tokenizer::kinds()
{
    return {QStringLiteral("byte"), QStringLiteral("spm-bpe"), QStringLiteral("spm-unigram")};
}

bool Tokenizer::isTrained(const QString &kind)
{
    return kind == QLatin1String("spm-bpe") || kind == QLatin1String("spm-unigram");
}

void Tokenizer::checkAvailable(const QString &kind)
{
    if (isTrained(kind))
        checkSentencePiece();
}

std::unique_ptr<Tokenizer> Tokenizer::make(const QString &kind, int vocabSize,
                                           const std::vector<QByteArray> &records, quint64 seed)
{
    if (!isTrained(kind))
        return named(kind);
    return trainSentencePiece(kind, vocabSize, records, seed);
}

std::unique_ptr<Tokenizer> Tokenizer::named(const QString &kind)
{
    if (kind == QLatin1String("byte"))
        return std::make_unique<ByteTokenizer>();
    if (isTrained(kind))
        throw Error(QStringLiteral("The %1 tokenizer is trained on a corpus: it comes with a "
                                   "model (train --tokenizer %1 makes one).").arg(kind));
    throw Error(QStringLiteral("Unknown tokenizer \"%1\"; known: %2.")
                    .arg(kind, kinds().join(QStringLiteral(", "))));
}

std::unique_ptr<Tokenizer> Tokenizer::fromJson(const QJsonObject &json)
{
    const QString kind = json.value(QStringLiteral("kind")).toString();
    std::unique_ptr<Tokenizer> tokenizer =
        isTrained(kind) ? makeSentencePiece(kind, QByteArray::fromBase64(
                                                      json.value(QStringLiteral("model"))
                                                          .toString().toLatin1()))
                        : named(kind);
    const int vocab = json.value(QStringLiteral("vocab_size")).toInt(tokenizer->vocabSize());
    if (vocab != tokenizer->vocabSize())
        throw Error(QStringLiteral("The %1 tokenizer has %2 symbols, not %3.")
                        .arg(kind, QString::number(tokenizer->vocabSize()),
                             QString::number(vocab)));
    return tokenizer;
}

std::vector<qint64> ByteTokenizer::encode(const QByteArray &utf8) const
{
    std::vector<qint64> ids(size_t(utf8.size()));
    for (qsizetype i = 0; i < utf8.size(); ++i)
        ids[size_t(i)] = qint64(static_cast<unsigned char>(utf8[i]));
    return ids;
}

QByteArray ByteTokenizer::decode(const std::vector<qint64> &ids) const
{
    QByteArray bytes(qsizetype(ids.size()), Qt::Uninitialized);
    for (size_t i = 0; i < ids.size(); ++i) {
        if (ids[i] < 0 || ids[i] > 255)
            throw Error(QStringLiteral("Token id %1 is outside the byte tokenizer's vocabulary "
                                       "of 256 (ids 0-255).").arg(ids[i]));
        bytes[qsizetype(i)] = char(ids[i]);
    }
    return bytes;
}

QJsonObject ByteTokenizer::toJson() const
{
    return QJsonObject{{QStringLiteral("kind"), kind()}, {QStringLiteral("vocab_size"), 256}};
}

} // namespace ms
