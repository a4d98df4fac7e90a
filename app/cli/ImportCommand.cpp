// modelstudio-cli import: registers a TorchScript file from elsewhere (Python's torch.jit.save,
// another workspace) as a new version, once it has been seen to load and run.

#include "Command.h"
#include "Output.h"
#include "RegistryOutput.h"

#include "common/Error.h"
#include "models/Model.h"
#include "registry/Registry.h"

#include <QFileInfo>
#include <QRegularExpression>

#include <cstdio>
#include <exception>

namespace cli {

namespace {

// The full example input shape, batch first: "1,1,28,28".
std::vector<qint64> parseFullShape(const QString &text)
{
    const std::vector<qint64> shape = parseShape(text, QStringLiteral("--input-shape"),
                                                 QStringLiteral("1,1,28,28 (batch first)"));
    if (shape.size() < 2)
        throw ms::Error(QStringLiteral("--input-shape needs the batch dimension and at least one "
                                       "more, such as 1,4 or 1,1,28,28; \"%1\" has %2.")
                            .arg(text).arg(shape.size()));
    return shape;
}

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

int runImport(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("FILE"),
                                 QStringLiteral("A TorchScript file (torch.jit.save output)."),
                                 QStringLiteral("FILE.pt"));
    parser.addOption({QStringLiteral("name"),
                      QStringLiteral("The model to add the version to (created when new)."),
                      QStringLiteral("NAME")});
    parser.addOption({QStringLiteral("input-shape"),
                      QStringLiteral("Example input shape, batch first (default: the shape the "
                                     "file records, which Python exports usually lack)."),
                      QStringLiteral("1,C,H,W|1,F")});
    parser.addOption({QStringLiteral("description"),
                      QStringLiteral("The model's description, when the import creates it."),
                      QStringLiteral("TEXT")});
    parser.addOption({QStringLiteral("notes"), QStringLiteral("The version's notes."),
                      QStringLiteral("TEXT")});
    // A model derived outside the studio (pruned or fine-tuned in Python, say) keeps its
    // lineage: the versions it came from and how.
    parser.addOption({QStringLiteral("parent"),
                      QStringLiteral("A version this one was made from (repeat for several)."),
                      QStringLiteral("REF")});
    parser.addOption({QStringLiteral("role"),
                      QStringLiteral("How it came from its parents: source (default), "
                                     "teacher, finetuned-from, ..."),
                      QStringLiteral("ROLE")});
    parser.addOption({QStringLiteral("kind"),
                      QStringLiteral("imported (default), trained, finetuned, pruned, "
                                     "quantized or distilled."),
                      QStringLiteral("KIND")});
    int code = Ok;
    const QString usage = QStringLiteral("FILE.pt --name NAME [--input-shape 1,1,28,28]");
    if (!parse(parser, QStringLiteral("import"),
               QStringLiteral("Register a TorchScript file as a new version (kind imported "
                              "unless --kind), "
                              "after checking that it loads and runs on a zero input of the "
                              "example shape; the output shape gives the class count."),
               arguments, &code)
        || !expectArguments(parser, QStringLiteral("import"), usage, 1, 1, &code))
        return code;
    const QString name = parser.value(QStringLiteral("name")).trimmed();
    if (name.isEmpty())
        return fail(QStringLiteral("missing --name NAME. Usage: modelstudio-cli import %1")
                        .arg(usage),
                    Usage);
    if (name.contains(QLatin1Char(':')) || name.contains(QLatin1Char('@')))
        return fail(QStringLiteral("\"%1\" cannot be a model name: ':' and '@' separate a name "
                                   "from a version or an alias.").arg(name),
                    Usage);
    // Everything the arguments name is checked before the model is loaded and run.
    const ms::VersionKind kind = parser.isSet(QStringLiteral("kind"))
                                     ? ms::versionKindFromName(parser.value(QStringLiteral("kind")))
                                     : ms::VersionKind::Imported;
    const QString role = parser.isSet(QStringLiteral("role"))
                             ? parser.value(QStringLiteral("role")).trimmed()
                             : QStringLiteral("source");
    if (role.isEmpty())
        return fail(QStringLiteral("--role needs a name, such as source or teacher."), Usage);
    if (parser.isSet(QStringLiteral("role")) && !parser.isSet(QStringLiteral("parent")))
        return fail(QStringLiteral("--role says how the version came from its --parent: give "
                                   "the parent too."),
                    Usage);
    ms::Registry registry = openRegistry(parser);
    QVector<QPair<qint64, QString>> parents;
    for (const QString &ref : parser.values(QStringLiteral("parent")))
        parents.append({registry.resolve(ref).id, role});

    std::vector<qint64> shape;
    if (parser.isSet(QStringLiteral("input-shape")))
        shape = parseFullShape(parser.value(QStringLiteral("input-shape")));

    const QString path = parser.positionalArguments().first();
    const ms::Model model = ms::Model::load(path);
    if (shape.empty()) {
        shape = model.inputShape();
        if (shape.empty())
            return fail(QStringLiteral("%1 does not record its input shape: give an example "
                                       "one with --input-shape, batch first, such as "
                                       "1,1,28,28.").arg(path),
                        Usage);
        shape.insert(shape.begin(), 1);
    }
    qint64 count = 1;
    for (qint64 d : shape)
        count *= d;
    std::vector<float> output;
    try {
        output = model.predict(std::vector<float>(size_t(count), 0.0f), shape);
    } catch (const ms::Error &e) {
        return fail(QStringLiteral("%1 loads but does not run on an input of shape %2: %3")
                        .arg(path, shapeText(shape), oneLine(e.message())));
    } catch (const std::exception &e) {
        // Model::predict lets torch::jit::JITException (a std::runtime_error) through.
        return fail(QStringLiteral("%1 loads but does not run on an input of shape %2: %3")
                        .arg(path, shapeText(shape), oneLine(QString::fromLocal8Bit(e.what()))));
    }
    const qint64 batch = shape.front();
    if (output.empty() || qint64(output.size()) % batch != 0)
        return fail(QStringLiteral("%1 returns %2 values for a batch of %3: expected one row of "
                                   "scores per sample.")
                        .arg(path).arg(output.size()).arg(batch));
    const qint64 classes = qint64(output.size()) / batch;

    ms::NewVersion version;
    version.modelName = name;
    version.modelDescription = parser.value(QStringLiteral("description"));
    version.kind = kind;
    version.parents = parents;
    version.artifactPath = QFileInfo(path).absoluteFilePath();
    ms::TensorSignature input;
    input.name = QStringLiteral("input");
    input.dtype = QStringLiteral("float32");
    input.shape = shape;
    input.shape.front() = -1;
    ms::TensorSignature outputSignature;
    outputSignature.name = QStringLiteral("output");
    outputSignature.dtype = QStringLiteral("float32");
    outputSignature.shape = {-1, classes};
    version.inputs = {input};
    version.outputs = {outputSignature};
    version.classNames = model.classNames();
    if (!version.classNames.isEmpty() && version.classNames.size() != classes)
        std::fputs(QStringLiteral("warning: %1 names %2 classes but returns %3 scores per "
                                  "sample.\n")
                       .arg(path).arg(version.classNames.size()).arg(classes)
                       .toLocal8Bit().constData(),
                   stderr);
    version.parameterCount = model.parameterCount();
    version.notes = parser.value(QStringLiteral("notes"));

    const ms::VersionRecord added = registry.addVersion(version);
    if (parser.isSet(QStringLiteral("json")))
        printJsonLine(added.toJson());
    else
        printLine(added.ref());
    return Ok;
}

} // namespace

QList<Command> importCommands()
{
    return {{QStringLiteral("import"),
             QStringLiteral("Register a TorchScript file (.pt) as a new version"), runImport}};
}

} // namespace cli
