#pragma once

#include <QString>
#include <QStringView>

#include <string_view>

namespace ms {

// User data quoted in a message: at most `maxChars` characters of it, control characters
// escaped (\n, \t, \x1b ...) so a cell or a name cannot forge a line on a terminal or in a log,
// and, when cut, an ellipsis and the full length. A CSV cell of a gigabyte must not become a
// gigabyte of error message.
//   excerpt(u"abc")            -> abc
//   excerpt(longText, 10)      -> 0123456789… (1,048,576 characters)
QString excerpt(QStringView text, int maxChars = 80);
// The same for UTF-8 bytes, decoding only the head it shows (the length is in bytes then).
QString excerpt(std::string_view utf8, int maxChars = 80);

} // namespace ms
