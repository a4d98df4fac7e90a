#pragma once

#include "common/Names.h"   // checkModelName, for the front-ends that check a typed name
#include "registry/Registry.h"

#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <memory>

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
    // The input's dtype: "float32" (images, tables), "int64" or "int32" (token ids: the
    // example input is zeros, an id every vocabulary holds). parseInputDtype checks a typed one.
    QString inputDtype = QStringLiteral("float32");
    // The normalisation the network expects, one value per channel (dimension 1 of the
    // example shape), folded into the registered artifact (models/ImportedModel.h); both empty
    // when the network takes its input as it comes.
    std::vector<float> mean;
    std::vector<float> stdev;
    // The class names, one per output score; empty = the names the file records, if any.
    QStringList classNames;
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

// "0.485,0.456,0.406" -> the numbers; throws ms::Error naming `what` ("--mean", "the Mean
// field") when a part is not a finite number or the text is empty.
std::vector<float> parseValueList(const QString &text, const QString &what);
// "cat,dog,bird", or the path of a text file with one name per line (blank lines skipped).
// Throws ms::Error naming `what` for an empty list, an unreadable file or a repeated name.
QStringList parseClassNames(const QString &text, const QString &what);

// "float32", "int64" or "int32" (case and surrounding spaces ignored); throws ms::Error naming
// `what` ("--input-dtype", "the Input dtype field") for anything else.
QString parseInputDtype(const QString &text, const QString &what);

// What prepareImport makes: the version to register and, when the import folds a
// normalisation in, the folder holding the wrapped artifact version.artifactPath points at.
// Keep it until Registry::addVersion has copied the artifact.
struct PreparedImport
{
    NewVersion version;
    std::shared_ptr<QTemporaryDir> scratch;
};

// Checks the file's unpacked size against options.maxModelBytes, loads it, runs it once on a
// zero input of the example shape and describes it as a NewVersion of kind Imported:
//  - inputs: [-1, example shape without its batch] in options.inputDtype, with the
//    preprocessing it records (InputPreprocessing: "normalize" with the mean/std given, or the
//    buffers of a model that normalises itself; "none" otherwise). An integer [batch, sequence]
//    input whose model also runs at another length records the sequence as dynamic (-1, the
//    example kept as exampleShape), and the vocabulary size of the embedding the input feeds
//    straight into, when the graph shows one;
//  - outputs: the output's shape as seen, batch -1 ([-1, 10] for a classifier, [-1, 5, 32, 32]
//    for a segmenter), never flattened;
//  - class names from options.classNames, else from the module; parameter count.
// With mean/std the artifact is the file wrapped in an ImportedModel (models/ImportedModel.h),
// run again before it is accepted; without, the file as it is. Nothing is registered yet.
// Throws ms::Error with one line a person can act on: the name is not valid, the file is
// missing or not TorchScript, it records no shape and none was given, the shape lacks the
// batch dimension, the model does not run on it, --mean/--std do not fit the channels (or the
// model normalises itself already), the class names do not match the scores.
// `warnings` gets what is odd but not wrong (class names in the file that disagree with the
// output).
PreparedImport prepareImport(const ImportOptions &options, QStringList *warnings = nullptr);

} // namespace ms
