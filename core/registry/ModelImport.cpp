#include "registry/ModelImport.h"

#include "common/Error.h"
#include "common/Limits.h"
#include "common/Excerpt.h"
#include "models/ImportedModel.h"
#include "common/ShapeText.h"
#include "models/Model.h"
#include "models/ModelArchive.h"
#include "models/ModelImpl_p.h"

#include <torch/csrc/jit/passes/inliner.h>

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

QString parseInputDtype(const QString &text, const QString &what)
{
    const QString dtype = text.trimmed().toLower();
    for (const char *known : {"float32", "int64", "int32"}) {
        if (dtype == QLatin1String(known))
            return dtype;
    }
    throw Error(QStringLiteral("%1 is float32 (images, tables), int64 or int32 (token ids); "
                               "\"%2\" is none of them.")
                    .arg(what, excerpt(text.trimmed())));
}

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

RunOutcome tryRun(const Model &model, const std::vector<qint64> &shape, const QString &dtype)
{
    qint64 count = 1;
    for (const qint64 dim : shape)
        count *= dim;
    RunOutcome outcome;
    try {
        // Zeros: an id every vocabulary holds, a value every float model takes.
        if (dtype == QLatin1String("float32"))
            model.predict(std::vector<float>(size_t(count), 0.0f), shape, &outcome.outputShape);
        else
            model.predictTokens(std::vector<qint64>(size_t(count), 0), shape,
                                dtype == QLatin1String("int32"), &outcome.outputShape);
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
    const RunOutcome outcome = tryRun(model, shape, options.inputDtype);
    const bool batchKept = outcome.error.isEmpty() && !outcome.outputShape.empty()
                           && outcome.outputShape.front() == shape.front();
    if (batchKept)
        return outcome.outputShape;
    std::vector<qint64> batched{1};
    batched.insert(batched.end(), shape.begin(), shape.end());
    const RunOutcome withBatch = tryRun(model, batched, options.inputDtype);
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
        throw Error(QStringLiteral("%1 loads but does not run on %2 input of shape %3: %4%5")
                        .arg(options.path, options.inputDtype,
                             shapeText(shape, ShapeStyle::List), outcome.error,
                             options.inputDtype == QLatin1String("float32")
                                     && outcome.error.contains(QLatin1String("Long"))
                                 ? QStringLiteral(" (a model of token ids takes --input-dtype "
                                                  "int64, the Input dtype int64)")
                                 : QString()));
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

// The size of the embedding table that the forward's input goes straight into
// (aten::embedding(weight, input, ...) in the inlined graph, the weight reached through
// attributes of self), 0 when there is none or it cannot be told: then an id past the table is
// the model's own error at run time.
qint64 embeddingSizeOf(const Model &model)
{
    const torch::jit::Module &module = model.impl()->module;
    if (!module.find_method("forward"))
        return 0;
    const std::shared_ptr<torch::jit::Graph> graph = module.get_method("forward").graph()->copy();
    torch::jit::Inline(*graph);
    if (graph->inputs().size() < 2)
        return 0;
    torch::jit::Value *self = graph->inputs()[0];
    torch::jit::Value *ids = graph->inputs()[1];
    for (torch::jit::Node *node : graph->nodes()) {
        if (node->kind() != c10::Symbol::fromQualString("aten::embedding")
            || node->inputs().size() < 2 || node->inputs()[1] != ids)
            continue;
        // The attribute names from self down to the weight, then followed on the module.
        std::vector<std::string> names;
        torch::jit::Value *v = node->inputs()[0];
        while (v != self && v->node()->kind() == c10::prim::GetAttr) {
            names.push_back(v->node()->s(c10::attr::name));
            v = v->node()->inputs()[0];
        }
        if (v != self || names.empty())
            return 0;
        c10::IValue at = module._ivalue();
        for (auto name = names.rbegin(); name != names.rend(); ++name) {
            if (!at.isObject() || !at.toObject()->type()->hasAttribute(*name))
                return 0;
            at = at.toObject()->getAttr(*name);
        }
        return at.isTensor() && at.toTensor().dim() == 2 ? qint64(at.toTensor().size(0)) : 0;
    }
    return 0;
}

// The input's signature; for an integer [batch, sequence] input, whether the sequence is
// dynamic: the model runs at another length too (half the example's, which a positional table
// of the example's length also holds). Output dimensions that follow the length become -1.
void describeTokenInput(const Model &model, const ImportOptions &options,
                        TensorSignature &input, TensorSignature &output)
{
    input.vocabSize = embeddingSizeOf(model);
    const std::vector<qint64> &example = input.exampleShape;
    if (example.size() != 2)
        return;
    const qint64 length = example[1];
    std::vector<qint64> other{example[0], length > 1 ? length / 2 : 2};
    const RunOutcome outcome = tryRun(model, other, options.inputDtype);
    if (!outcome.error.isEmpty() || outcome.outputShape.size() != output.shape.size())
        return;
    input.shape[1] = -1;
    for (size_t i = 1; i < output.shape.size(); ++i) {
        if (outcome.outputShape[i] != output.shape[i])
            output.shape[i] = -1;
    }
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
    if (!options.mean.empty() && options.inputDtype != QLatin1String("float32"))
        throw Error(QStringLiteral("--mean and --std normalise float inputs; an %1 input (token "
                                   "ids) is not normalised: import it without them.")
                        .arg(options.inputDtype));
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

PreparedImport prepareImport(const ImportOptions &given, QStringList *warnings)
{
    ImportOptions options = given;
    options.inputDtype = parseInputDtype(given.inputDtype, QStringLiteral("The input dtype"));
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
    input.dtype = options.inputDtype;
    input.shape = shape;
    input.shape.front() = -1;
    input.preprocessing = preprocessing;
    TensorSignature outputSignature;
    outputSignature.name = QStringLiteral("output");
    outputSignature.dtype = QStringLiteral("float32");
    outputSignature.shape = output;
    outputSignature.shape.front() = -1;
    if (input.isInteger()) {
        input.exampleShape = shape;
        describeTokenInput(model, options, input, outputSignature);
        if (input.dynamicDims().size() < 2)
            input.exampleShape.clear();   // nothing past the batch to remember
    }
    version.inputs = {input};
    version.outputs = {outputSignature};
    version.classNames = classNamesFor(options, model, output, warnings);
    version.parameterCount = model.parameterCount();
    version.notes = options.notes;
    return prepared;
}

} // namespace ms
