#pragma once

#include "data/Tokenizer.h"
#include "models/Model.h"

#include <QByteArray>
#include <QString>

#include <memory>
#include <vector>

namespace ms {

// Text as a model that carries its tokenizer reads it (a gpt, a text classifier: their
// artifact records `tokenizer_json`): the v2 BYTES inputs of the server. Torch-free.
//
// A language model reads each text whole, at its own length: padding would shift a gpt's
// positions and what its causal attention sees, so texts of different lengths are never padded
// into one row, and a text longer than the context is refused (cutting it would answer for
// another text). A text classifier reads texts as its training did: cut to its block_size and
// padded with its pad id (`pad_id` attribute) to the longest text of the batch.
class TextInput
{
public:
    // Throws ms::Error when `model` carries no tokenizer, when the tokenizer cannot be built
    // (SentencePiece's module missing: Tokenizer::checkAvailable's message), or when its
    // vocabulary is not the model's. `what` names the model in messages ("tiny-lm:1").
    TextInput(const Model &model, const QString &what);
    ~TextInput();

    static bool carriesTokenizer(const Model &model) { return !model.tokenizer().isEmpty(); }

    const Tokenizer &tokenizer() const { return *m_tokenizer; }
    bool isLanguageModel() const { return m_languageModel; }
    int context() const { return m_context; }   // block_size, 0 when the model has none

    // One text's token ids. Throws ms::Error, naming it as `what` ("text 2"), for text that is
    // not valid UTF-8, an empty text, and a language model's text longer than the context; a
    // classifier's text is cut to the context.
    std::vector<qint64> encode(const QByteArray &utf8, const QString &what) const;
    // A classifier's texts as one rectangular batch, flat [N, T]: each padded with the pad id
    // to the longest. Throws ms::Error when they differ in length and the model has no pad id.
    std::vector<qint64> padded(const std::vector<std::vector<qint64>> &texts,
                               qint64 *width) const;

private:
    std::unique_ptr<Tokenizer> m_tokenizer;
    QString m_what;
    bool m_languageModel = false;
    int m_context = 0;
    qint64 m_padId = -1;
};

} // namespace ms
