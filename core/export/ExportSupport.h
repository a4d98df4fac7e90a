#pragma once

// Small file helpers the built-in exporters share: copying the verified artifact, writing a
// text file completely or not at all, and a folder that appears whole or not at all.

#include "export/Exporter.h"

#include <QByteArray>
#include <QString>

namespace ms::exportsupport {

// Copies the version's artifact to `target` through a QSaveFile (temporary file, rename), and
// refuses when the byte count differs from the one the registry recorded: the artifact changed
// after it was verified. Throws ms::Error; nothing is left at `target` on failure.
void copyArtifact(const ExportInput &input, const QString &target);

// Writes `data` to `path` through a QSaveFile. Throws ms::Error naming the path.
void writeFile(const QString &path, const QByteArray &data);

// Throws ms::Error when `dir` exists and holds anything: an export never mixes its files with
// files already there. `what` names the folder in the message ("the Triton model folder").
void requireEmptyOrMissing(const QString &dir, const QString &what);

// Creates `dir` (and its parents). Throws ms::Error saying it cannot, and why a person could fix.
void makePath(const QString &dir);

// Throws ms::Error, saying to rename the model, when its name is one an older studio accepted
// and the naming rule refuses (common/Names.h): a name becomes a file name in every export.
void checkExportable(const VersionRecord &version);

// True when the export may replace what is at its target (ExportInput option "force").
bool forced(const ExportInput &input);

// "cnn:3" as a file stem: "cnn-v3". Builds file names only through ms::pathInside.
QString fileStem(const VersionRecord &version);

// A Python list literal of strings: each one a JSON string literal, which is a valid Python
// string literal (quotes, backslashes and control characters escaped; \uXXXX as Python
// reads it), so no item can end the literal and become code.
QByteArray pythonStringList(const QStringList &items);
// One Python string literal, the same way.
QByteArray pythonString(const QString &text);

// `text` as a Markdown code span that shows it literally: control characters escaped (a line
// break cannot end the paragraph), delimited by more backticks than any run inside it.
QString markdownCode(const QString &text);

// What a client must do to the version's input, from the preprocessing its signature records
// (InputPreprocessing): for a version that records none, an import takes its tensor as it
// comes and anything else is a studio model, which normalises its input itself.
struct InputContract
{
    bool normalisesItself = false;   // true: send raw features (images as floats in [0, 1])
    std::vector<double> mean;        // when known: what it subtracts and divides by
    std::vector<double> stdev;
    // One sentence for a README or a comment: what to send and what the model does with it.
    QString sentence;
};
InputContract inputContract(const VersionRecord &version);

// The version's first input shape without the batch dimension ({1, 28, 28}), or an ms::Error
// saying the version has no input signature and how to give it one.
std::vector<qint64> sampleShape(const VersionRecord &version);

} // namespace ms::exportsupport
