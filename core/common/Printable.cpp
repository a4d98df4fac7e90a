#include "common/Printable.h"

namespace ms {

namespace {

// Characters that move the cursor, reorder text or start a terminal sequence. Written by hand
// (not QChar::category) because Cf, the Unicode "format" class, also holds the zero-width
// joiner that emoji sequences need; only the bidirectional controls of Cf are a danger.
bool needsEscape(char16_t c)
{
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x061c || c == 0x200e || c == 0x200f
           || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0x2028
           || c == 0x2029;
}

QString escaped(const QString &text, bool keepNewlines)
{
    QString out;
    out.reserve(text.size() + 8);
    for (const QChar qc : text) {
        const char16_t c = qc.unicode();
        if (!needsEscape(c) || (keepNewlines && (c == u'\n' || c == u'\t'))) {
            out += qc;
            continue;
        }
        switch (c) {
        case u'\n': out += QLatin1String("\\n"); break;
        case u'\r': out += QLatin1String("\\r"); break;
        case u'\t': out += QLatin1String("\\t"); break;
        case 0x1b: out += QLatin1String("\\e"); break;
        default:
            out += c < 0x100 ? QStringLiteral("\\x%1").arg(uint(c), 2, 16, QLatin1Char('0'))
                             : QStringLiteral("\\u{%1}").arg(uint(c), 4, 16, QLatin1Char('0'));
        }
    }
    return out;
}

} // namespace

QString printable(const QString &text)
{
    return hasControlCharacters(text) ? escaped(text, false) : text;
}

QString printableLines(const QString &text)
{
    return hasControlCharacters(text) ? escaped(text, true) : text;
}

bool hasControlCharacters(const QString &text)
{
    for (const QChar c : text) {
        if (needsEscape(c.unicode()))
            return true;
    }
    return false;
}

} // namespace ms
