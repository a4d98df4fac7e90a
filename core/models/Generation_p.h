#pragma once

// Private: what LanguageModel::generate() and the GenerationScheduler share, so a prompt
// continued alone and one continued in a batch of streams sample and cut their text the same
// way. Core .cpp files only (torch).

#include "models/LanguageModel.h"

#include <ATen/ATen.h>

#include <QByteArray>

namespace ms::generation {

// One token from the logits of the last position (vocab), as GenerateOptions describes.
int64_t sample(const at::Tensor &lastLogits, const GenerateOptions &options, at::Generator &gen);

// The generated text of one stream as its tokens arrive: cut before the stop text, and handed
// out only once certain (bytes that could be the start of the stop text are held back until
// they cannot be).
class TextStream
{
public:
    explicit TextStream(QByteArray stop) : m_stop(std::move(stop)) {}

    // Adds one token's bytes. True when the stop text is now complete: the text is cut before
    // it, and the stream is over.
    bool add(const QByteArray &bytes)
    {
        m_text += bytes;
        if (m_stop.isEmpty())
            return false;
        const qsizetype from =
            std::max<qsizetype>(0, m_text.size() - bytes.size() - m_stop.size() + 1);
        const qsizetype at = m_text.indexOf(m_stop, from);
        if (at < 0)
            return false;
        m_text.truncate(at);
        m_taken = std::min(m_taken, m_text.size());
        return true;
    }
    // The text that became certain since the last take.
    QByteArray takeCertain()
    {
        const qsizetype certain = m_text.size() - std::max<qsizetype>(0, m_stop.size() - 1);
        if (certain <= m_taken)
            return QByteArray();
        const QByteArray out = m_text.mid(m_taken, certain - m_taken);
        m_taken = certain;
        return out;
    }
    // Everything not taken yet (the stream is over: nothing can start the stop text any more).
    QByteArray takeRest()
    {
        const QByteArray out = m_text.mid(m_taken);
        m_taken = m_text.size();
        return out;
    }
    const QByteArray &text() const { return m_text; }

private:
    QByteArray m_stop;
    QByteArray m_text;
    qsizetype m_taken = 0;
};

} // namespace ms::generation
