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

// "cnn:3" as a file stem: "cnn-v3".
QString fileStem(const VersionRecord &version);

// A Python list literal of the class names (JSON string escaping is valid Python).
QByteArray pythonStringList(const QStringList &items);

// The version's first input shape without the batch dimension ({1, 28, 28}), or an ms::Error
// saying the version has no input signature and how to give it one.
std::vector<qint64> sampleShape(const VersionRecord &version);

} // namespace ms::exportsupport
