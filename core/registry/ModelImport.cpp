#include "registry/ModelImport.h"

#include "common/Error.h"
#include "common/Limits.h"
#include "common/Excerpt.h"
#include "models/ImportedModel.h"
#include "common/ShapeText.h"
#include "models/Model.h"
#include "models/ModelArchive.h"
#include "models/ModelImpl_p.h"

#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSet>

#include <cmath>

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

std::vector<float> parseValueList(const QString &text, const QString &what)
{
    std::vector<float> values;
    const QStringList parts = text.split(QLatin1Char(','), Qt::SkipEmptyParts);
    for (const QString &part : parts) {
        bool ok = false;
        const double v = part.trimmed().toDouble(&ok);
        if (!ok || !std::isfinite(v))
            throw Error(QStringLiteral("%1 takes numbers separated by commas, such as "
                                       "0.485,0.456,0.406; \"%2\" is not a number.")
                            .arg(what, excerpt(part.trimmed())));
        values.push_back(float(v));
    }
    if (values.empty())
        throw Error(QStringLiteral("%1 takes numbers separated by commas, one per channel, such "
                                   "as 0.485,0.456,0.406.").arg(what));
    return values;
}

QStringList parseClassNames(const QString &text, const QString &what)
{
    QStringList names;
    const QString trimmed = text.trimmed();
    if (QFileInfo(trimmed).isFile()) {
        QFile file(trimmed);
        if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
            throw Error(QStringLiteral("Cannot read the class names in %1: %2.")
                            .arg(trimmed, file.errorString()));
        // A class-name file is a few kilobytes; a megabyte is plenty for 10,000 long names.
        const QByteArray bytes = file.read(1 << 20);
        for (const QString &line : QString::fromUtf8(bytes).split(QLatin1Char('\n'))) {
            if (!line.trimmed().isEmpty())
                names << line.trimmed();
        }
    } else {
        for (const QString &part : trimmed.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            if (!part.trimmed().isEmpty())
                names << part.trimmed();
        }
    }
    if (names.isEmpty())
        throw Error(QStringLiteral("%1 takes the class names separated by commas (cat,dog) or "
                                   "a text file with one name per line.").arg(what));
    QSet<QString> seen;
    for (const QString &name : std::as_const(names)) {
        if (seen.contains(name))
            throw Error(QStringLiteral("%1 names the class \"%2\" twice: every class needs its "
                                       "own name.").arg(what, excerpt(name)));
        seen.insert(name);
    }
    return names;
}

namespace {

struct RunOutcome
{
    std::vector<qint64> outputShape;
    QString error;   // empty when it ran
};

RunOutcome tryRun(const Model &model, const std::vector<qint64> &shape)
{
    qint64 count = 1;
    for (const qint64 dim : shape)
        count *= dim;
    RunOutcome outcome;
    try {
        model.predict(std::vector<float>(size_t(count), 0.0f), shape, &outcome.outputShape);
    } catch (const Error &e) {
        outcome.error = oneLine(e.message());
    } catch (const std::exception &e) {
        // Model::predict lets torch::jit::JITException (a std::runtime_error) through.
        outcome.error = oneLine(QString::fromLocal8Bit(e.what()));
    }
    return outcome;
}

// Runs the model once on zeros of `shape` (batch first) and returns the output's shape.
// A shape given without its batch dimension ("3,32,32") mostly fails, or gives an output whose
// first dimension is not the batch; when [1, shape...] runs, the message says so.
std::vector<qint64> runOnce(const Model &model, const std::vector<qint64> &shape,
                            const ImportOptions &options)
{
    const RunOutcome outcome = tryRun(model, shape);
    const bool batchKept = outcome.error.isEmpty() && !outcome.outputShape.empty()
                           && outcome.outputShape.front() == shape.front();
    if (batchKept)
        return outcome.outputShape;
    std::vector<qint64> batched{1};
    batched.insert(batched.end(), shape.begin(), shape.end());
    const RunOutcome withBatch = tryRun(model, batched);
    if (withBatch.error.isEmpty() && !withBatch.outputShape.empty()
        && withBatch.outputShape.front() == 1) {
        QStringList dims;
        for (const qint64 d : batched)
            dims << QString::number(d);
        throw Error(QStringLiteral("The input shape %1 has no batch dimension: %2 runs on %3. "
                                   "Give %4 batch first, such as %5.")
                        .arg(shapeText(shape, ShapeStyle::List), options.path, shapeText(batched, ShapeStyle::List),
                             options.shapeHint, dims.join(QLatin1Char(','))));
    }
    if (!outcome.error.isEmpty())
        throw Error(QStringLiteral("%1 loads but does not run on an input of shape %2: %3")
                        .arg(options.path, shapeText(shape, ShapeStyle::List), outcome.error));
    throw Error(QStringLiteral("%1 returns shape %2 for a batch of %3: expected the batch "
                               "first, one output per sample.")
                    .arg(options.path, shapeText(outcome.outputShape, ShapeStyle::List),
                         QString::number(shape.front())));
}

// What the module does to its input itself: a studio model or an earlier wrapper normalises
// with its input_mean/input_std buffers.
InputPreprocessing recordedPreprocessing(const Model &model)
{
    InputPreprocessing p;
    p.kind = InputPreprocessing::Kind::None;
    const torch::jit::Module &m = model.impl()->module;
    if (!m.hasattr("input_mean") || !m.hasattr("input_std"))
        return p;
    const c10::IValue mean = m.attr("input_mean");
    const c10::IValue stdev = m.attr("input_std");
    if (!mean.isTensor() || !stdev.isTensor())
        return p;
    const at::Tensor mt = mean.toTensor().detach().to(at::kDouble).flatten().contiguous();
    const at::Tensor st = stdev.toTensor().detach().to(at::kDouble).flatten().contiguous();
    p.kind = InputPreprocessing::Kind::Normalize;
    p.mean.assign(mt.data_ptr<double>(), mt.data_ptr<double>() + mt.numel());
    p.stdev.assign(st.data_ptr<double>(), st.data_ptr<double>() + st.numel());
    return p;
}

void checkOptions(const ImportOptions &options)
{
    checkModelName(options.modelName.trimmed());   // before loading: a bad name is cheap
    if (!options.exampleShape.empty() && options.exampleShape.size() < 2)
        throw Error(QStringLiteral("The example input shape needs the batch dimension and at "
                                   "least one more, such as 1,4 or 1,1,28,28; %1 has %2.")
                        .arg(shapeText(options.exampleShape, ShapeStyle::List))
                        .arg(options.exampleShape.size()));
    if (options.mean.empty() != options.stdev.empty())
        throw Error(QStringLiteral("Give the normalisation whole: --mean and --std together "
                                   "(one value per channel each), or neither."));
}

// The class names the version records: the ones given, checked against the output, else the
// module's own (a warning when they disagree with the output).
QStringList classNamesFor(const ImportOptions &options, const Model &model,
                          const std::vector<qint64> &output, QStringList *warnings)
{
    const bool scores = output.size() == 2;
    if (!options.classNames.isEmpty()) {
        if (!scores || output[1] != options.classNames.size())
            throw Error(QStringLiteral("%1 class names were given but %2 returns %3 per batch, "
                                       "not one score per class (%4): give as many names as "
                                       "the model has scores, or none.")
                            .arg(QString::number(options.classNames.size()), options.path,
                                 shapeText(output, ShapeStyle::List),
                                 scores ? QStringLiteral("%1 scores").arg(output[1])
                                        : QStringLiteral("it is no classifier")));
        return options.classNames;
    }
    const QStringList names = model.classNames();
    if (warnings && !names.isEmpty() && (!scores || names.size() != output[1]))
        warnings->append(QStringLiteral("%1 names %2 classes but returns %3 per batch.")
                             .arg(options.path, QString::number(names.size()),
                                  shapeText(output, ShapeStyle::List)));
    return names;
}

} // namespace

PreparedImport prepareImport(const ImportOptions &options, QStringList *warnings)
{
    checkOptions(options);
    const QString &path = options.path;
    // Before torch::jit::load: the loader inflates whatever the archive declares.
    checkModelArchive(path, options.maxModelBytes > 0 ? options.maxModelBytes
                                                      : Limits::maxModelBytes());
    Model model = Model::load(path);
    std::vector<qint64> shape = options.exampleShape;
    if (shape.empty()) {
        shape = model.inputShape();
        if (shape.empty())
            throw Error(QStringLiteral("%1 does not record its input shape: give an example one "
                                       "with %2, batch first, such as 1,1,28,28.")
                            .arg(path, options.shapeHint));
        shape.insert(shape.begin(), 1);
    }
    std::vector<qint64> output = runOnce(model, shape, options);

    PreparedImport prepared;
    NewVersion &version = prepared.version;
    version.artifactPath = QFileInfo(path).absoluteFilePath();
    InputPreprocessing preprocessing = recordedPreprocessing(model);
    if (!options.mean.empty()) {
        if (preprocessing.kind == InputPreprocessing::Kind::Normalize)
            throw Error(QStringLiteral("%1 normalises its input itself already (it holds "
                                       "input_mean and input_std): import it without --mean "
                                       "and --std.").arg(path));
        model = wrapWithNormalization(model, shape, options.mean, options.stdev);
        // The wrapper runs on the same shape with the same output, or it is refused here.
        output = runOnce(model, shape, options);
        prepared.scratch = std::make_shared<QTemporaryDir>();
        if (!prepared.scratch->isValid())
            throw Error(QStringLiteral("Cannot make a temporary folder for the normalised "
                                       "model: %1.").arg(prepared.scratch->errorString()));
        version.artifactPath = prepared.scratch->filePath(QStringLiteral("model.pt"));
        model.save(version.artifactPath);
        preprocessing = recordedPreprocessing(model);
    }

    version.modelName = options.modelName.trimmed();
    version.modelDescription = options.modelDescription;
    version.kind = VersionKind::Imported;
    TensorSignature input;
    input.name = QStringLiteral("input");
    input.dtype = QStringLiteral("float32");
    input.shape = shape;
    input.shape.front() = -1;
    input.preprocessing = preprocessing;
    TensorSignature outputSignature;
    outputSignature.name = QStringLiteral("output");
    outputSignature.dtype = QStringLiteral("float32");
    outputSignature.shape = output;
    outputSignature.shape.front() = -1;
    version.inputs = {input};
    version.outputs = {outputSignature};
    version.classNames = classNamesFor(options, model, output, warnings);
    version.parameterCount = model.parameterCount();
    version.notes = options.notes;
    return prepared;
}

} // namespace ms
