#pragma once

// What a model name may be, and the one door through which a name (or any text a user typed)
// becomes part of a file path. A model name ends up as a file or folder name in every export
// (cnn-v3.pt, cnn.mar, a Triton model folder) and in references typed on a command line
// (cnn:3, cnn@production), so it is held to the characters that are safe in all of them.
// docs/security.md says why.

#include <QString>

namespace ms {

// Names longer than this are refused: they end up in file names (255 bytes on most file
// systems, with "-v12345.README.md" appended) and in one-line messages.
constexpr int kMaxModelNameLength = 100;

// The rule in one sentence, for messages and help texts.
QString modelNameRule();

// Why `name` cannot be a model name, or an empty string when it can: ASCII letters, digits and
// '-', '_', '.', starting with a letter, a digit or '_', at most kMaxModelNameLength long.
QString modelNameProblem(const QString &name);
bool isValidModelName(const QString &name);

// Throws ms::Error, quoting the name (escaped) and the rule, when `name` cannot be given to a
// new model or a renamed one.
void checkModelName(const QString &name);

// Throws ms::Error when a model already in the registry has a name the rule refuses (made by a
// studio older than the rule): every verb but listing and `rename` refuses it, and the message
// names the command that fixes it.
void checkStoredModelName(const QString &name);

// A valid model name made from any text (a file's base name, an architecture's name): every
// character outside the rule becomes '-', runs of '-' collapse, a leading '.' or '-' goes, and
// it is cut to the length limit. `fallback` when nothing is left.
QString modelNameFrom(const QString &text, const QString &fallback = QStringLiteral("model"));

// `fileName` (one path component, e.g. "cnn-v3.pt") inside the folder `dir`, as an absolute,
// clean path. Throws ms::Error when it would not stay inside `dir`: an empty name, ".", "..",
// a separator, a NUL. Every exporter and every place that makes a file name from a model name
// builds its path with this.
QString pathInside(const QString &dir, const QString &fileName);

} // namespace ms
