// modelstudio-cli import: registers a TorchScript file from elsewhere (Python's torch.jit.save,
// another workspace) as a new version, once it has been seen to load and run.

#include "Command.h"
#include "Output.h"
#include "RegistryOutput.h"

#include "common/Error.h"
#include "common/Limits.h"
#include "registry/ModelImport.h"
#include "registry/Registry.h"

#include <cstdio>

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
                            .arg(text, QString::number(shape.size())));
    return shape;
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
    parser.addOption({QStringLiteral("input-dtype"),
                      QStringLiteral("The input's dtype: float32 (default), or int64/int32 for "
                                     "token ids (the example input is then zeros, and a "
                                     "[batch, sequence] input is checked for a dynamic "
                                     "length)."),
                      QStringLiteral("float32|int64|int32")});
    parser.addOption({QStringLiteral("mean"),
                      QStringLiteral("The per-channel mean the network expects its input "
                                     "normalised with (with --std): folded into the registered "
                                     "model, which then takes floats in [0, 1] like every "
                                     "studio model."),
                      QStringLiteral("M1,M2,..")});
    parser.addOption({QStringLiteral("std"),
                      QStringLiteral("The per-channel standard deviation (with --mean)."),
                      QStringLiteral("S1,S2,..")});
    parser.addOption({QStringLiteral("classes"),
                      QStringLiteral("The class names, one per output score: a,b,c or a text "
                                     "file with one name per line (default: the names the file "
                                     "records)."),
                      QStringLiteral("a,b,c|FILE.txt")});
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
    parser.addOption({QStringLiteral("max-model-bytes"),
                      QStringLiteral("Refuse a file whose contents unpack to more than SIZE "
                                     "(default: $MODELSTUDIO_MAX_MODEL_BYTES, else the "
                                     "workspace's settings.json \"max_model_bytes\", else "
                                     "2G)."),
                      QStringLiteral("SIZE")});
    int code = Ok;
    const QString usage = QStringLiteral("FILE.pt --name NAME [--input-shape 1,3,224,224] "
                                         "[--input-dtype float32|int64|int32] "
                                         "[--mean M,.. --std S,..] [--classes a,b,c|FILE]");
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
    try {
        ms::checkModelName(name);
    } catch (const ms::Error &e) {
        return fail(e.message(), Usage);
    }
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

    ms::ImportOptions options;
    options.path = parser.positionalArguments().first();
    options.modelName = name;
    options.modelDescription = parser.value(QStringLiteral("description"));
    options.notes = parser.value(QStringLiteral("notes"));
    options.shapeHint = QStringLiteral("--input-shape");
    if (parser.isSet(QStringLiteral("max-model-bytes"))) {
        options.maxModelBytes =
            ms::Limits::parseBytes(parser.value(QStringLiteral("max-model-bytes")));
        if (options.maxModelBytes <= 0)
            return fail(QStringLiteral("--max-model-bytes takes a size such as 4294967296, "
                                       "512M or 4G, not \"%1\".")
                            .arg(parser.value(QStringLiteral("max-model-bytes"))),
                        Usage);
    } else {
        options.maxModelBytes = ms::Limits::maxModelBytes(registry.root());
    }
    if (parser.isSet(QStringLiteral("input-shape")))
        options.exampleShape = parseFullShape(parser.value(QStringLiteral("input-shape")));
    if (parser.isSet(QStringLiteral("input-dtype")))
        options.inputDtype = ms::parseInputDtype(parser.value(QStringLiteral("input-dtype")),
                                                 QStringLiteral("--input-dtype"));
    if (parser.isSet(QStringLiteral("mean")))
        options.mean = ms::parseValueList(parser.value(QStringLiteral("mean")),
                                          QStringLiteral("--mean"));
    if (parser.isSet(QStringLiteral("std")))
        options.stdev = ms::parseValueList(parser.value(QStringLiteral("std")),
                                           QStringLiteral("--std"));
    if (parser.isSet(QStringLiteral("classes")))
        options.classNames = ms::parseClassNames(parser.value(QStringLiteral("classes")),
                                                 QStringLiteral("--classes"));

    // The same checks File › Import model… and a dropped .pt go through (core ModelImport).
    QStringList warnings;
    ms::PreparedImport prepared = ms::prepareImport(options, &warnings);
    ms::NewVersion &version = prepared.version;
    version.kind = kind;
    version.parents = parents;
    for (const QString &warning : std::as_const(warnings))
        printWarning(warning);

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
