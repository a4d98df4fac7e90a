#include "models/TextInput.h"

#include "common/Error.h"
#include "models/ModelImpl_p.h"

#include <QUtf8StringView>

#include <algorithm>

namespace ms {

namespace {

// An integer attribute of the module (vocab_size, pad_id), or `fallback`.
qint64 intAttribute(const Model &model, const char *name, qint64 fallback)
{
    const torch::jit::Module &module = model.impl()->module;
    return module.hasattr(name) && module.attr(name).isInt() ? module.attr(name).toInt()
                                                             : fallback;
}

} // namespace

TextInput::TextInput(const Model &model, const QString &what)
    : m_what(what)
    , m_languageModel(model.task() == QLatin1String("lm"))
    , m_context(model.blockSize())
{
    if (!carriesTokenizer(model))
        throw Error(QStringLiteral("%1 carries no tokenizer, so it cannot read text: send it "
                                   "what it takes (token ids, or floats). Versions trained by "
                                   "the studio on text (a gpt, a text classifier) read text.")
                        .arg(what));
    m_tokenizer = Tokenizer::fromJson(model.tokenizer());
    m_padId = intAttribute(model, "pad_id", -1);
    // The embedding holds the tokenizer's symbols (a classifier's one more when it pads with
    // the id after them).
    const qint64 modelVocab = intAttribute(model, "vocab_size", 0);
    const qint64 symbols = m_tokenizer->vocabSize();
    const bool fits = modelVocab <= 0 || modelVocab == symbols
                      || (!m_languageModel && m_padId == symbols && modelVocab == symbols + 1);
    if (!fits)
        throw Error(QStringLiteral("%1: its tokenizer (%2) has %3 symbols but the model reads "
                                   "%4: they do not belong together.")
                        .arg(what, m_tokenizer->kind(), QString::number(symbols),
                             QString::number(modelVocab)));
}

TextInput::~TextInput() = default;

std::vector<qint64> TextInput::encode(const QByteArray &utf8, const QString &what) const
{
    if (!QUtf8StringView(utf8).isValidUtf8())
        throw Error(QStringLiteral("%1 is not valid UTF-8 text.").arg(what));
    std::vector<qint64> ids = m_tokenizer->encode(utf8);
    if (ids.empty())
        throw Error(QStringLiteral("%1 is empty: give at least one character.").arg(what));
    if (m_context > 0 && qint64(ids.size()) > m_context) {
        if (m_languageModel)
            throw Error(QStringLiteral("%1 is %2 tokens long (%3 tokenizer), more than the "
                                       "context of %4 (%5 tokens): shorten it.")
                            .arg(what, QString::number(ids.size()), m_tokenizer->kind(),
                                 m_what, QString::number(m_context)));
        ids.resize(size_t(m_context));   // as the classifier's training cut its records
    }
    return ids;
}

std::vector<qint64> TextInput::padded(const std::vector<std::vector<qint64>> &texts,
                                      qint64 *width) const
{
    size_t longest = 0;
    size_t shortest = texts.empty() ? 0 : texts.front().size();
    for (const std::vector<qint64> &ids : texts) {
        longest = std::max(longest, ids.size());
        shortest = std::min(shortest, ids.size());
    }
    if (longest != shortest && m_padId < 0)
        throw Error(QStringLiteral("%1 has no pad id (a pad_id attribute), so texts of "
                                   "different token lengths (%2 to %3) cannot share a request: "
                                   "send them one at a time.")
                        .arg(m_what, QString::number(shortest), QString::number(longest)));
    std::vector<qint64> flat(texts.size() * longest, m_padId);
    for (size_t i = 0; i < texts.size(); ++i)
        std::copy(texts[i].begin(), texts[i].end(), flat.begin() + qsizetype(i * longest));
    *width = qint64(longest);
    return flat;
}

} // namespace ms
