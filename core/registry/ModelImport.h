#pragma once

#include "common/Names.h"   // checkModelName, for the front-ends that check a typed name
#include "registry/Registry.h"

#include <QString>
#include <QStringList>

#include <vector>

namespace ms {

// What importing a TorchScript file from elsewhere (Python's torch.jit.save, another workspace)
// needs. `modelstudio-cli import`, File › Import model… and a .pt dropped on the window all go
// through prepareImport, so they accept and refuse the same files with the same words.
struct ImportOptions
{
    QString path;                       // the .pt file
    QString modelName;                  // the model the version joins (created when new)
    QString modelDescription;           // used only when the import creates the model
    QString notes;
    std::vector<qint64> exampleShape;   // batch first; empty = the shape the file records
    // How the front-end asks for an example shape, for the message when the file records none
    // ("--input-shape", "the Input shape field").
    QString shapeHint = QStringLiteral("an example input shape");
    // The most the file's contents may take once unpacked (a .pt is a zip archive), checked
    // before it is loaded; 0 = Limits::maxModelBytes() (environment, else the default).
    qint64 maxModelBytes = 0;
};

// The model name a file suggests: its base name made valid by ms::modelNameFrom
// ("resnet@v2.pt" -> "resnet-v2", "my model.pt" -> "my-model").
QString modelNameForFile(const QString &path);

// Checks the file's unpacked size against options.maxModelBytes, loads it, runs it once on a zero input of the example shape and describes it as a
// NewVersion of kind Imported (signature from the shapes seen, class count from the output,
// class names and parameter count from the module). Nothing is registered yet. Throws ms::Error
// with one line a person can act on: the name is not valid, the file is missing or not
// TorchScript, it records no shape and none was given, or it does not run on that shape.
// `warnings` gets what is odd but not wrong (class names that disagree with the output).
NewVersion prepareImport(const ImportOptions &options, QStringList *warnings = nullptr);

} // namespace ms
