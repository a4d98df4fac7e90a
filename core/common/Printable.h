#pragma once

// Text a user typed (notes, tags, class names, a model name from an old registry, an error
// quoting them) shown on a terminal or written to a log. A raw ESC lets a note repaint the
// terminal or hide what follows; a raw newline or carriage return forges a line of output that
// looks like the program's own; a bidirectional override reorders what a reader sees. Every
// such character is shown as an escape instead, so what is printed is what is stored.

#include <QString>

namespace ms {

// `text` with control characters escaped: "\n", "\r", "\t", "\e" for ESC, "\xHH" for the other
// C0 and C1 controls and DEL, "\u{HHHH}" for the bidirectional controls and the Unicode line
// and paragraph separators. Everything else (accents, CJK, emoji) is kept as it is.
QString printable(const QString &text);

// The same, keeping '\n' and '\t' (notes, descriptions and generated text are meant to span
// lines, and fortunes indent their attributions with tabs; the caller indents the continuation
// lines so they cannot pass for the program's own).
QString printableLines(const QString &text);

// True when printable(text) would change it.
bool hasControlCharacters(const QString &text);

} // namespace ms
