#include "registry/ModelImport.h"

#include "common/Error.h"
#include "common/Limits.h"
#include "common/ShapeText.h"
#include "models/Model.h"
#include "models/ModelArchive.h"

#include <QFileInfo>
#include <QRegularExpression>

#include <exception>

namespace ms {

namespace {

// TorchScript's interpreter errors carry both tracebacks over twenty lines; the line a person
// can act on is the exception's own ("RuntimeError: mat1 and mat2 shapes cannot be ..."),
// which comes last. Anything else keeps its first line.
QString oneLine(const QString &message)
{
    const QStringList lines = message.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    if (lines.isEmpty())
        return message;
    static const QRegularExpression exceptionLine(QStringLiteral("^\\w*(Error|Exception): "));
    for (qsizetype i = lines.size() - 1; i > 0; --i) {
        if (exceptionLine.match(lines.at(i)).hasMatch())
            return lines.at(i).trimmed();
    }
    return lines.first().trimmed();
}

} // namespace

QString modelNameForFile(const QString &path)
{
    return modelNameFrom(QFileInfo(path).completeBaseName(), QStringLiteral("imported"));
}

NewVersion prepareImport(const ImportOptions &options, QStringList *warnings)
{
    const QString name = options.modelName.trimmed();
    checkModelName(name);   // before loading: a bad name is cheap to report
    const QString &path = options.path;
    if (!options.exampleShape.empty() && options.exampleShape.size() < 2)
        throw Error(QStringLiteral("The example input shape needs the batch dimension and at "
                                   "least one more, such as 1,4 or 1,1,28,28; %1 has %2.")
                        .arg(shapeText(options.exampleShape, ShapeStyle::List))
                        .arg(options.exampleShape.size()));

    // Before torch::jit::load: the loader inflates whatever the archive declares.
    checkModelArchive(path, options.maxModelBytes > 0 ? options.maxModelBytes
                                                      : Limits::maxModelBytes());
    const Model model = Model::load(path);
    std::vector<qint64> shape = options.exampleShape;
    if (shape.empty()) {
        shape = model.inputShape();
        if (shape.empty())
            throw Error(QStringLiteral("%1 does not record its input shape: give an example one "
                                       "with %2, batch first, such as 1,1,28,28.")
                            .arg(path, options.shapeHint));
        shape.insert(shape.begin(), 1);
    }
    qint64 count = 1;
    for (const qint64 dim : shape)
        count *= dim;
    std::vector<float> output;
    try {
        output = model.predict(std::vector<float>(size_t(count), 0.0f), shape);
    } catch (const std::exception &e) {
        // Model::predict lets torch::jit::JITException (a std::runtime_error) through.
        throw Error(QStringLiteral("%1 loads but does not run on an input of shape %2: %3")
                        .arg(path, shapeText(shape, ShapeStyle::List), oneLine(errorMessage(e))));
    }
    const qint64 batch = shape.front();
    if (output.empty() || qint64(output.size()) % batch != 0)
        throw Error(QStringLiteral("%1 returns %2 values for a batch of %3: expected one row of "
                                   "scores per sample.")
                        .arg(path, QString::number(output.size()), QString::number(batch)));
    const qint64 classes = qint64(output.size()) / batch;

    NewVersion version;
    version.modelName = name;
    version.modelDescription = options.modelDescription;
    version.kind = VersionKind::Imported;
    version.artifactPath = QFileInfo(path).absoluteFilePath();
    TensorSignature input;
    input.name = QStringLiteral("input");
    input.dtype = QStringLiteral("float32");
    input.shape = shape;
    input.shape.front() = -1;
    TensorSignature outputSignature;
    outputSignature.name = QStringLiteral("output");
    outputSignature.dtype = QStringLiteral("float32");
    outputSignature.shape = {-1, classes};
    version.inputs = {input};
    version.outputs = {outputSignature};
    version.classNames = model.classNames();
    if (warnings && !version.classNames.isEmpty() && version.classNames.size() != classes)
        warnings->append(QStringLiteral("%1 names %2 classes but returns %3 scores per sample.")
                             .arg(path, QString::number(version.classNames.size()),
                                  QString::number(classes)));
    version.parameterCount = model.parameterCount();
    version.notes = options.notes;
    return version;
}

} // namespace ms
