#include "common/Excerpt.h"

#include <QLocale>

namespace ms {

namespace {

QString escaped(QStringView text)
{
    QString out;
    out.reserve(text.size());
    for (const QChar c : text) {
        switch (c.unicode()) {
        case '\n': out += QLatin1String("\\n"); break;
        case '\r': out += QLatin1String("\\r"); break;
        case '\t': out += QLatin1String("\\t"); break;
        default:
            if (c.category() == QChar::Other_Control || c.category() == QChar::Other_Format)
                out += QStringLiteral("\\x%1").arg(c.unicode(), 2, 16, QLatin1Char('0'));
            else
                out += c;
        }
    }
    return out;
}

QString withLength(const QString &head, qint64 length, const char *unit)
{
    // The C locale with its group separator: messages read the same on every machine.
    QLocale c = QLocale::c();
    c.setNumberOptions(QLocale::DefaultNumberOptions);
    return head + QStringLiteral("… (%1 %2)").arg(c.toString(length), QLatin1String(unit));
}

} // namespace

QString excerpt(QStringView text, int maxChars)
{
    if (text.size() <= maxChars)
        return escaped(text);
    return withLength(escaped(text.left(maxChars)), text.size(), "characters");
}

QString excerpt(std::string_view utf8, int maxChars)
{
    // A UTF-8 character is at most 4 bytes: that many bytes hold the characters shown.
    const size_t headBytes = std::min(utf8.size(), size_t(maxChars) * 4 + 4);
    const QString head = QString::fromUtf8(utf8.data(), qsizetype(headBytes));
    if (utf8.size() == headBytes && head.size() <= maxChars)
        return escaped(head);
    return withLength(escaped(QStringView(head).left(maxChars)), qint64(utf8.size()), "bytes");
}

} // namespace ms
