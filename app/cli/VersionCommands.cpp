// modelstudio-cli tag / alias / note / export / rm / verify / gc: editing the registry and
// looking after its artifact store.

#include "Command.h"
#include "Output.h"
#include "RegistryOutput.h"

#include "common/Error.h"
#include "common/Names.h"
#include "common/Printable.h"
#include "export/Exporter.h"
#include "registry/Registry.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QSet>

#include <cstdio>

namespace cli {

namespace {

int runTag(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("REF"), refHelp());
    parser.addPositionalArgument(QStringLiteral("KEY=VALUE"),
                                 QStringLiteral("Tags to set (an existing key is overwritten)."),
                                 QStringLiteral("[KEY=VALUE...]"));
    parser.addOption({QStringLiteral("rm"), QStringLiteral("Remove this tag (repeatable)."),
                      QStringLiteral("KEY")});
    int code = Ok;
    const QString usage = QStringLiteral("REF KEY=VALUE... [--rm KEY]");
    if (!parse(parser, QStringLiteral("tag"),
               QStringLiteral("Set or remove key=value tags on a version."), arguments, &code)
        || !expectArguments(parser, QStringLiteral("tag"), usage, 1, -1, &code))
        return code;
    const QStringList args = parser.positionalArguments();
    const QStringList removals = parser.values(QStringLiteral("rm"));
    if (args.size() == 1 && removals.isEmpty())
        return fail(QStringLiteral("nothing to do: give KEY=VALUE or --rm KEY. Usage: "
                                   "modelstudio-cli tag %1").arg(usage),
                    Usage);
    QList<QPair<QString, QString>> tags;
    for (const QString &arg : args.mid(1)) {
        const qsizetype eq = arg.indexOf(QLatin1Char('='));
        if (eq <= 0)
            return fail(QStringLiteral("\"%1\" is not KEY=VALUE.").arg(arg), Usage);
        tags << qMakePair(arg.left(eq), arg.mid(eq + 1));
    }
    ms::Registry registry = openRegistry(parser);
    const ms::VersionRecord v = registry.resolve(args.first());
    for (const QString &key : removals) {
        if (!v.tags.contains(key))
            return fail(QStringLiteral("%1 has no tag \"%2\". Tags: %3.")
                            .arg(v.ref(), key,
                                 v.tags.isEmpty() ? QStringLiteral("none") : tagsText(v.tags)));
    }
    for (const QString &key : removals)
        registry.removeTag(v.id, key);
    for (const auto &tag : tags)
        registry.setTag(v.id, tag.first, tag.second);
    const ms::VersionRecord after = registry.version(v.id);
    if (wantsJson(parser))
        printJsonLine(after.toJson());
    else
        printLine(QStringLiteral("%1 tags: %2").arg(after.ref(),
                                                    after.tags.isEmpty()
                                                        ? QStringLiteral("none")
                                                        : tagsText(after.tags)));
    return Ok;
}

QStringList aliasesOf(const ms::Registry &registry, const QString &model)
{
    QStringList aliases;
    for (const ms::VersionRecord &v : registry.versions(model))
        aliases += v.aliases;
    aliases.sort();
    return aliases;
}

int runAlias(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(
        QStringLiteral("set|rm"),
        QStringLiteral("set MODEL ALIAS REF   point MODEL@ALIAS at REF (moving it from the "
                       "version it named)\n"
                       "set REF ALIAS         the same, the model taken from REF\n"
                       "rm MODEL ALIAS        remove the alias (also: rm MODEL@ALIAS)\n"
                       "REF may be NAME:VERSION, NAME@ALIAS, or a bare version number of "
                       "MODEL."),
        QStringLiteral("set|rm ARGS..."));
    int code = Ok;
    const QString usage = QStringLiteral("set MODEL ALIAS REF | set REF ALIAS | rm MODEL ALIAS");
    if (!parse(parser, QStringLiteral("alias"),
               QStringLiteral("Name a version of a model (production, candidate, any name); "
                              "one version per alias. A bare model name as a REF means its "
                              "production version."),
               arguments, &code)
        || !expectArguments(parser, QStringLiteral("alias"), usage, 2, 4, &code))
        return code;
    const QStringList args = parser.positionalArguments();
    const QString action = args.first();
    ms::Registry registry = openRegistry(parser);

    if (action == QLatin1String("set")) {
        if (args.size() < 3)
            return fail(QStringLiteral("missing arguments. Usage: modelstudio-cli alias %1")
                            .arg(usage),
                        Usage);
        QString model;
        QString alias;
        QString ref;
        if (args.size() == 4) {
            model = args.at(1);
            alias = args.at(2);
            ref = args.at(3);
            bool isNumber = false;
            ref.toInt(&isNumber);
            if (isNumber)
                ref = model + QLatin1Char(':') + ref;
        } else {
            ref = args.at(1);
            alias = args.at(2);
        }
        if (alias.isEmpty() || alias.contains(QLatin1Char(':'))
            || alias.contains(QLatin1Char('@')))
            return fail(QStringLiteral("\"%1\" cannot be an alias: it must be non-empty and "
                                       "without ':' or '@'.").arg(alias),
                        Usage);
        const ms::VersionRecord v = registry.resolve(ref);
        if (model.isEmpty())
            model = v.modelName;
        if (v.modelName != model)
            return fail(QStringLiteral("%1 is a version of \"%2\", not of \"%3\": an alias names "
                                       "a version of its own model.")
                            .arg(v.ref(), v.modelName, model));
        registry.setAlias(model, alias, v.id);
        if (wantsJson(parser))
            printJsonLine(QJsonObject{{QStringLiteral("model"), model},
                                      {QStringLiteral("alias"), alias},
                                      {QStringLiteral("ref"), v.ref()}});
        else
            printLine(QStringLiteral("%1@%2 -> %3").arg(model, alias, v.ref()));
        return Ok;
    }
    if (action == QLatin1String("rm")) {
        QString model;
        QString alias;
        if (args.size() == 2 && args.at(1).contains(QLatin1Char('@'))) {
            model = args.at(1).section(QLatin1Char('@'), 0, 0);
            alias = args.at(1).section(QLatin1Char('@'), 1);
        } else if (args.size() == 3) {
            model = args.at(1);
            alias = args.at(2);
        } else {
            return fail(QStringLiteral("alias rm takes MODEL ALIAS (or MODEL@ALIAS)."), Usage);
        }
        if (!registry.model(model))
            return fail(QStringLiteral("no model named \"%1\".").arg(model));
        const QStringList aliases = aliasesOf(registry, model);
        if (!aliases.contains(alias))
            return fail(QStringLiteral("%1 has no alias \"%2\". Aliases: %3.")
                            .arg(model, alias,
                                 aliases.isEmpty() ? QStringLiteral("none")
                                                   : aliases.join(QStringLiteral(", "))));
        registry.removeAlias(model, alias);
        if (wantsJson(parser))
            printJsonLine(QJsonObject{{QStringLiteral("model"), model},
                                      {QStringLiteral("removed_alias"), alias}});
        else
            printLine(QStringLiteral("removed %1@%2").arg(model, alias));
        return Ok;
    }
    return fail(QStringLiteral("unknown alias action \"%1\": set or rm. Usage: modelstudio-cli "
                               "alias %2").arg(action, usage),
                Usage);
}

int runNote(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("REF"), refHelp());
    parser.addPositionalArgument(QStringLiteral("TEXT"),
                                 QStringLiteral("The notes (quote them; several arguments are "
                                                "joined by spaces; \"\" clears them)."),
                                 QStringLiteral("[TEXT]"));
    parser.addOption({QStringLiteral("file"),
                      QStringLiteral("Read the notes from this UTF-8 file (- for stdin)."),
                      QStringLiteral("F")});
    int code = Ok;
    const QString usage = QStringLiteral("REF TEXT | REF --file F");
    if (!parse(parser, QStringLiteral("note"),
               QStringLiteral("Replace a version's notes."), arguments, &code)
        || !expectArguments(parser, QStringLiteral("note"), usage, 1, -1, &code))
        return code;
    const QStringList args = parser.positionalArguments();
    const bool fromFile = parser.isSet(QStringLiteral("file"));
    if (fromFile == (args.size() > 1))
        return fail(QStringLiteral("%1. Usage: modelstudio-cli note %2")
                        .arg(fromFile ? QStringLiteral("give the notes as TEXT or with --file, "
                                                       "not both")
                                      : QStringLiteral("missing the notes (TEXT, or --file F; "
                                                       "\"\" clears them)"),
                             usage),
                    Usage);
    QString notes;
    if (fromFile) {
        const QString path = parser.value(QStringLiteral("file"));
        QFile file;
        const bool opened = path == QLatin1String("-")
                                ? file.open(stdin, QIODevice::ReadOnly)
                                : (file.setFileName(path), file.open(QIODevice::ReadOnly));
        if (!opened)
            return fail(QStringLiteral("cannot read the notes file %1: %2.")
                            .arg(path, file.errorString()));
        notes = QString::fromUtf8(file.readAll());
    } else {
        notes = args.mid(1).join(QLatin1Char(' '));
    }
    ms::Registry registry = openRegistry(parser);
    const ms::VersionRecord v = registry.resolve(args.first());
    registry.setNotes(v.id, notes);
    if (wantsJson(parser))
        printJsonLine(registry.version(v.id).toJson());
    else
        printLine(notes.isEmpty() ? QStringLiteral("%1 notes cleared").arg(v.ref())
                                  : QStringLiteral("%1 notes set").arg(v.ref()));
    return Ok;
}

int runExport(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("REF"), refHelp());
    QStringList formats;
    for (const std::shared_ptr<ms::Exporter> &e : ms::ExporterRegistry::instance().exporters()
                                                      .all())
        formats << QStringLiteral("%1 (%2)").arg(e->name(), e->description());
    parser.addOption({QStringLiteral("format"),
                      QStringLiteral("The format, default pt: %1.")
                          .arg(formats.join(QStringLiteral("; "))),
                      QStringLiteral("FORMAT"), QStringLiteral("pt")});
    parser.addOption({QStringLiteral("to"),
                      QStringLiteral("Where to write: a file (pt: NAME-vN.pt in a folder; "
                                     "torchserve: NAME.mar in a folder) or, for triton, the "
                                     "model repository folder."),
                      QStringLiteral("PATH")});
    parser.addOption({QStringLiteral("max-batch-size"),
                      QStringLiteral("triton: the config's max_batch_size (default 32; 0 turns "
                                     "dynamic batching off)."),
                      QStringLiteral("N")});
    parser.addOption({QStringLiteral("force"),
                      QStringLiteral("pt, torchserve: replace a file already there (pt: the "
                                     "model and its README). A Triton model folder that is "
                                     "not empty is never replaced.")});
    int code = Ok;
    const QString usage =
        QStringLiteral("REF [--format pt|torchserve|triton] --to PATH [--force]");
    if (!parse(parser, QStringLiteral("export"),
               QStringLiteral("Write a version out of the registry, after checking its hash: a "
                              "TorchScript file, a TorchServe archive or a Triton model."),
               arguments, &code)
        || !expectArguments(parser, QStringLiteral("export"), usage, 1, 1, &code))
        return code;
    if (parser.value(QStringLiteral("to")).isEmpty())
        return fail(QStringLiteral("missing --to PATH. Usage: modelstudio-cli export %1")
                        .arg(usage),
                    Usage);
    // Bad flags are refused before the registry is opened or a file is touched.
    std::shared_ptr<ms::Exporter> exporter;
    try {
        const QString format = parser.value(QStringLiteral("format"));
        exporter = ms::ExporterRegistry::instance().exporter(format);
    } catch (const ms::Error &e) {
        return fail(e.message(), Usage);
    }
    QJsonObject options;
    if (parser.isSet(QStringLiteral("max-batch-size"))) {
        bool ok = false;
        const int max_batch_size = parser.value(QStringLiteral("max-batch-size")).toInt(&ok);
        if (!ok || max_batch_size < 0)
            return fail(QStringLiteral("--max-batch-size takes a whole number, 0 or more, not "
                                       "\"%1\".")
                            .arg(parser.value(QStringLiteral("max-batch-size"))),
                        Usage);
        if (exporter->name() != QLatin1String("triton"))
            return fail(QStringLiteral("--max-batch-size applies to --format triton only."),
                        Usage);
        options.insert(QStringLiteral("max_batch_size"), max_batch_size);
    }
    if (parser.isSet(QStringLiteral("force"))) {
        if (exporter->name() == QLatin1String("triton"))
            return fail(QStringLiteral("--force does not apply to --format triton: a model "
                                       "folder that is not empty is never replaced (it may "
                                       "hold other versions); remove it first."),
                        Usage);
        options.insert(QStringLiteral("force"), true);
    }
    const ms::Registry registry = openRegistry(parser);
    ms::ExportInput input;
    input.version = registry.resolve(parser.positionalArguments().first());
    input.artifactPath = registry.verifiedArtifactPath(input.version);
    input.options = options;
    const QStringList written = exporter->write(input, parser.value(QStringLiteral("to")));
    const ms::VersionRecord &v = input.version;
    if (wantsJson(parser)) {
        printJsonLine(QJsonObject{{QStringLiteral("ref"), v.ref()},
                                  {QStringLiteral("format"), exporter->name()},
                                  {QStringLiteral("path"), written.value(0)},
                                  {QStringLiteral("files"), QJsonArray::fromStringList(written)},
                                  {QStringLiteral("sha256"), v.sha256},
                                  {QStringLiteral("size_bytes"), v.sizeBytes}});
    } else {
        printLine(QStringLiteral("%1 written to %2 (%3, %4)")
                      .arg(ms::printable(v.ref()), ms::printable(written.value(0)),
                           exporter->name(), humanSize(v.sizeBytes)));
        for (const QString &file : written.mid(1))
            printLine(QStringLiteral("  %1").arg(ms::printable(file)));
    }
    return Ok;
}

int runRm(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("REF"), refHelp());
    parser.addOption({QStringLiteral("force"),
                      QStringLiteral("Remove it even while aliases or other versions' lineage "
                                     "point at it.")});
    int code = Ok;
    if (!parse(parser, QStringLiteral("rm"),
               QStringLiteral("Remove a version from the registry. Refuses while an alias or "
                              "another version's lineage points at it, unless --force. Its "
                              "artifact file stays until modelstudio-cli gc."),
               arguments, &code)
        || !expectArguments(parser, QStringLiteral("rm"), QStringLiteral("REF [--force]"), 1, 1,
                            &code))
        return code;
    ms::Registry registry = openRegistry(parser);
    const ms::VersionRecord v = registry.resolve(parser.positionalArguments().first());
    registry.removeVersion(v.id, parser.isSet(QStringLiteral("force")));
    if (wantsJson(parser))
        printJsonLine(QJsonObject{{QStringLiteral("removed"), v.ref()}});
    else
        printLine(QStringLiteral("removed %1 (its artifact stays until modelstudio-cli gc)")
                      .arg(v.ref()));
    return Ok;
}

int runVerify(const QStringList &arguments)
{
    QCommandLineParser parser;
    int code = Ok;
    if (!parse(parser, QStringLiteral("verify"),
               QStringLiteral("Check the registry database (SQLite's integrity_check and "
                              "foreign_key_check) and re-hash every artifact, reporting each "
                              "missing, changed or truncated one with its version. Exit status "
                              "1 when anything is wrong."),
               arguments, &code)
        || !expectArguments(parser, QStringLiteral("verify"), QString(), 0, 0, &code))
        return code;
    const ms::Registry registry = openRegistry(parser);
    // The database first: a damaged page may also make the artifact listing below fail, and
    // then what the database checks found is the message that helps.
    const QStringList databaseProblems = registry.databaseProblems();
    QVector<ms::Registry::Problem> problems;
    QString listingError;
    // Versions of one model often share an artifact (the same file imported twice): count files.
    QSet<QString> artifacts;
    int versionCount = 0;
    try {
        problems = registry.verify();
        for (const ms::ModelRecord &m : registry.models()) {
            for (const ms::VersionRecord &v : registry.versions(m.name,
                                                                ms::Registry::Detail::Listing)) {
                artifacts.insert(v.sha256);
                ++versionCount;
            }
        }
    } catch (const ms::Error &e) {
        if (databaseProblems.isEmpty())
            throw;
        listingError = e.message();
    }
    const bool ok = problems.isEmpty() && databaseProblems.isEmpty();
    if (wantsJson(parser)) {
        QJsonArray list;
        for (const ms::Registry::Problem &p : problems)
            list.append(QJsonObject{{QStringLiteral("ref"), p.ref},
                                    {QStringLiteral("problem"), p.problem}});
        QJsonObject result{{QStringLiteral("ok"), ok},
                           {QStringLiteral("database_ok"), databaseProblems.isEmpty()},
                           {QStringLiteral("database_problems"),
                            QJsonArray::fromStringList(databaseProblems)},
                           {QStringLiteral("artifacts"), int(artifacts.size())},
                           {QStringLiteral("versions"), versionCount},
                           {QStringLiteral("problems"), list}};
        if (!listingError.isEmpty())
            result.insert(QStringLiteral("artifacts_unchecked"), listingError);
        printJsonLine(result);
    } else {
        for (const QString &problem : databaseProblems)
            printLine(QStringLiteral("database: %1").arg(ms::printable(problem)));
        if (!listingError.isEmpty())
            printLine(QStringLiteral("artifacts not checked: %1")
                          .arg(ms::printable(listingError)));
        for (const ms::Registry::Problem &p : problems)
            printLine(
                QStringLiteral("%1: %2").arg(ms::printable(p.ref), ms::printable(p.problem)));
    }
    if (!databaseProblems.isEmpty())
        return fail(QStringLiteral("the registry database %1 is damaged (%2 finding%3 above). "
                                   "Keep a copy of it before anything else; SQLite's .recover "
                                   "command can save what is readable.")
                        .arg(registry.databasePath(), QString::number(databaseProblems.size()),
                             databaseProblems.size() == 1 ? QString() : QStringLiteral("s")));
    if (!problems.isEmpty())
        return fail(QStringLiteral("%1 of %2 versions failed verification.")
                        .arg(QString::number(problems.size()), QString::number(versionCount)));
    if (!wantsJson(parser))
        printLine(QStringLiteral("database ok; %1 artifacts verified (%2 versions)")
                      .arg(QString::number(artifacts.size()), QString::number(versionCount)));
    return Ok;
}

int runGc(const QStringList &arguments)
{
    QCommandLineParser parser;
    int code = Ok;
    if (!parse(parser, QStringLiteral("gc"),
               QStringLiteral("Delete the artifact files no version references any more (left "
                              "by rm), temporary files of copies that stopped, and run folders "
                              "with no file in them (runs killed or failed before they wrote "
                              "anything). Never what a running run may still be making."),
               arguments, &code)
        || !expectArguments(parser, QStringLiteral("gc"), QString(), 0, 0, &code))
        return code;
    ms::Registry registry = openRegistry(parser);
    const ms::Registry::GcResult result = registry.gc();
    if (wantsJson(parser))
        printJsonLine(QJsonObject{{QStringLiteral("removed_files"), result.removedFiles},
                                  {QStringLiteral("freed_bytes"), result.freedBytes},
                                  {QStringLiteral("removed_run_folders"),
                                   result.removedRunFolders}});
    else
        printLine(QStringLiteral("removed %1 unreferenced artifact file%2, freed %3; removed %4 "
                                 "empty run folder%5")
                      .arg(QString::number(result.removedFiles),
                           result.removedFiles == 1 ? QString() : QStringLiteral("s"),
                           humanSize(result.freedBytes),
                           QString::number(result.removedRunFolders),
                           result.removedRunFolders == 1 ? QString() : QStringLiteral("s")));
    return Ok;
}

int runRename(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("OLD"), QStringLiteral("The model's name now."));
    parser.addPositionalArgument(QStringLiteral("NEW"),
                                 QStringLiteral("Its new name: %1.").arg(ms::modelNameRule()));
    int code = Ok;
    if (!parse(parser, QStringLiteral("rename"),
               QStringLiteral("Rename a model: its versions, lineage, aliases and runs follow. "
                              "The way to keep using a model whose name an older studio "
                              "accepted and this one refuses."),
               arguments, &code)
        || !expectArguments(parser, QStringLiteral("rename"), QStringLiteral("OLD NEW"), 2, 2,
                            &code))
        return code;
    const QString from = parser.positionalArguments().at(0);
    const QString to = parser.positionalArguments().at(1);
    try {
        ms::checkModelName(to);
    } catch (const ms::Error &e) {
        return fail(e.message(), Usage);
    }
    ms::Registry registry = openRegistry(parser);
    registry.renameModel(from, to);
    if (wantsJson(parser))
        printJsonLine(QJsonObject{{QStringLiteral("renamed"), from}, {QStringLiteral("to"), to}});
    else
        printLine(QStringLiteral("renamed %1 to %2").arg(ms::printable(from), to));
    return Ok;
}

} // namespace

QList<Command> versionCommands()
{
    return {
        {QStringLiteral("tag"), QStringLiteral("Set or remove a version's key=value tags"),
         runTag},
        {QStringLiteral("alias"), QStringLiteral("Point an alias (production, ...) at a version"),
         runAlias},
        {QStringLiteral("note"), QStringLiteral("Replace a version's notes"), runNote},
        {QStringLiteral("export"),
         QStringLiteral("Write a version out: .pt, TorchServe .mar or Triton repository"),
         runExport},
        {QStringLiteral("rm"), QStringLiteral("Remove a version"), runRm},
        {QStringLiteral("rename"), QStringLiteral("Rename a model"), runRename},
        {QStringLiteral("verify"), QStringLiteral("Re-hash every artifact"), runVerify},
        {QStringLiteral("gc"), QStringLiteral("Delete unreferenced artifact files"), runGc},
    };
}

} // namespace cli
