// modelstudio-cli models / versions / show / lineage / metrics (diff: DiffCommand.cpp): reading
// the studio's memory of every version, from the shell.

#include "Command.h"
#include "Output.h"
#include "RegistryOutput.h"

#include "common/Error.h"
#include "common/Printable.h"
#include "registry/Registry.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace cli {

namespace {

int runModels(const QStringList &arguments)
{
    QCommandLineParser parser;
    int code = Ok;
    if (!parse(parser, QStringLiteral("models"),
               QStringLiteral("List the models of the workspace's registry."), arguments, &code)
        || !expectArguments(parser, QStringLiteral("models"), QString(), 0, 0, &code))
        return code;
    const ms::Registry registry = openRegistry(parser);
    const QVector<ms::ModelRecord> models = registry.models();
    if (wantsJson(parser)) {
        QJsonArray list;
        for (const ms::ModelRecord &m : models)
            list.append(QJsonObject{{QStringLiteral("name"), m.name},
                                    {QStringLiteral("description"), m.description},
                                    {QStringLiteral("created"),
                                     m.created.toUTC().toString(Qt::ISODate)},
                                    {QStringLiteral("versions"), m.versionCount},
                                    {QStringLiteral("latest"), m.latestVersion}});
        printJsonLine(QJsonObject{{QStringLiteral("models"), list}});
        return Ok;
    }
    if (models.isEmpty()) {
        printLine(QStringLiteral("No models in %1 yet: train one (modelstudio-cli train) or "
                                 "import one (modelstudio-cli import FILE.pt --name NAME).")
                      .arg(registry.root()));
        return Ok;
    }
    QList<QStringList> rows;
    for (const ms::ModelRecord &m : models)
        rows << QStringList{m.name, QString::number(m.versionCount),
                            m.latestVersion > 0 ? QString::number(m.latestVersion)
                                                : QStringLiteral("-"),
                            QString(m.description).replace(QLatin1Char('\n'), QLatin1Char(' '))};
    printLine(table({QStringLiteral("NAME"), QStringLiteral("VERSIONS"), QStringLiteral("LATEST"),
                     QStringLiteral("DESCRIPTION")},
                    rows));
    return Ok;
}

int runVersions(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("NAME"), QStringLiteral("The model."));
    int code = Ok;
    if (!parse(parser, QStringLiteral("versions"),
               QStringLiteral("List a model's versions, newest first: kind, accuracy (test, else "
                              "validation), parameters, artifact size, aliases and tags."),
               arguments, &code)
        || !expectArguments(parser, QStringLiteral("versions"), QStringLiteral("NAME"), 1, 1,
                            &code))
        return code;
    const QString name = parser.positionalArguments().first();
    const ms::Registry registry = openRegistry(parser);
    if (!registry.model(name)) {
        QStringList names;
        for (const ms::ModelRecord &m : registry.models())
            names << m.name;
        return fail(names.isEmpty()
                        ? QStringLiteral("no model named \"%1\": the registry has no models yet.")
                              .arg(name)
                        : QStringLiteral("no model named \"%1\". Models: %2.")
                              .arg(name, names.join(QStringLiteral(", "))));
    }
    const QVector<ms::VersionRecord> versions = registry.versions(name);
    if (wantsJson(parser)) {
        QJsonArray list;
        for (const ms::VersionRecord &v : versions)
            list.append(v.toJson());
        printJsonLine(QJsonObject{{QStringLiteral("model"), name},
                                  {QStringLiteral("versions"), list}});
        return Ok;
    }
    QList<QStringList> rows;
    for (const ms::VersionRecord &v : versions)
        rows << QStringList{QString::number(v.number), ms::versionKindName(v.kind),
                            dateText(v.created), accuracyText(v.metrics),
                            countText(v.parameterCount), humanSize(v.sizeBytes),
                            v.aliases.join(QStringLiteral(", ")), tagsText(v.tags)};
    printLine(table({QStringLiteral("VERSION"), QStringLiteral("KIND"), QStringLiteral("CREATED"),
                     QStringLiteral("ACCURACY"), QStringLiteral("PARAMS"), QStringLiteral("SIZE"),
                     QStringLiteral("ALIASES"), QStringLiteral("TAGS")},
                    rows));
    return Ok;
}

QString edgeText(const ms::LineageEdge &edge)
{
    return QStringLiteral("%1 --%2--> %3")
        .arg(ms::printable(edge.parentRef), ms::printable(edge.role),
             ms::printable(edge.childRef));
}

// Items of a list shown on one field line: each escaped, so none can start a line of its own.
QString listText(const QStringList &items)
{
    QStringList shown;
    for (const QString &item : items)
        shown << ms::printable(item);
    return shown.join(QStringLiteral(", "));
}

int runShow(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("REF"), refHelp());
    int code = Ok;
    if (!parse(parser, QStringLiteral("show"),
               QStringLiteral("Show everything the registry knows about one version: artifact, "
                              "signature, classes, metrics, tags, aliases, notes, recipe, run "
                              "and lineage."),
               arguments, &code)
        || !expectArguments(parser, QStringLiteral("show"), QStringLiteral("REF"), 1, 1, &code))
        return code;
    const ms::Registry registry = openRegistry(parser);
    const ms::VersionRecord v = registry.resolve(parser.positionalArguments().first());

    QVector<ms::LineageEdge> parents;
    QVector<ms::LineageEdge> children;
    for (const ms::LineageEdge &edge : registry.lineage(v.id)) {
        if (edge.childId == v.id)
            parents << edge;
        else if (edge.parentId == v.id)
            children << edge;
    }
    std::optional<ms::RunRecord> run;
    QString runProblem;
    if (v.runId != 0) {
        try {
            run = registry.run(v.runId);
        } catch (const ms::Error &e) {
            runProblem = e.message();   // show the rest: a lost run row is no reason to fail
        }
    }
    const QVector<QJsonObject> benchmarks = registry.benchmarks(v.id);

    if (wantsJson(parser)) {
        QJsonObject json = v.toJson();
        json.insert(QStringLiteral("ref"), v.ref());
        json.insert(QStringLiteral("artifact_path"), registry.artifactPath(v));
        QJsonArray parentList;
        for (const ms::LineageEdge &edge : parents)
            parentList.append(lineageEdgeToJson(edge));
        QJsonArray childList;
        for (const ms::LineageEdge &edge : children)
            childList.append(lineageEdgeToJson(edge));
        json.insert(QStringLiteral("parents"), parentList);
        json.insert(QStringLiteral("children"), childList);
        if (run)
            json.insert(QStringLiteral("run"), run->toJson());
        QJsonArray benchmarkList;
        for (const QJsonObject &b : benchmarks)
            benchmarkList.append(b);
        json.insert(QStringLiteral("benchmarks"), benchmarkList);
        printJsonLine(json);
        return Ok;
    }

    QStringList lines{v.ref()};
    lines << fieldLine(QStringLiteral("kind"), ms::versionKindName(v.kind));
    lines << fieldLine(QStringLiteral("created"), dateText(v.created));
    lines << fieldLine(QStringLiteral("sha256"), v.sha256);
    lines << fieldLine(QStringLiteral("size"), QStringLiteral("%1 (%2 bytes)")
                                                   .arg(humanSize(v.sizeBytes),
                                                        countText(v.sizeBytes)));
    lines << fieldLine(QStringLiteral("artifact"), registry.artifactPath(v));
    lines << fieldLine(QStringLiteral("parameters"), countText(v.parameterCount));
    QStringList inputs;
    for (const ms::TensorSignature &t : v.inputs)
        inputs << signatureText(t);
    lines << fieldLine(QStringLiteral("inputs"),
                       inputs.isEmpty() ? QStringLiteral("-") : inputs.join(QLatin1Char('\n')));
    QStringList outputs;
    for (const ms::TensorSignature &t : v.outputs)
        outputs << signatureText(t);
    lines << fieldLine(QStringLiteral("outputs"),
                       outputs.isEmpty() ? QStringLiteral("-") : outputs.join(QLatin1Char('\n')));
    lines << fieldLine(QStringLiteral("classes"),
                       v.classNames.isEmpty() ? QStringLiteral("-") : listText(v.classNames));
    QStringList metrics;
    for (auto it = v.metrics.constBegin(); it != v.metrics.constEnd(); ++it)
        metrics << QStringLiteral("%1 %2").arg(ms::printable(it.key()),
                                               it->isDouble() ? metricText(it.key(),
                                                                           it->toDouble())
                                                              : compactJson(*it));
    lines << fieldLine(QStringLiteral("metrics"),
                       metrics.isEmpty() ? QStringLiteral("-") : metrics.join(QLatin1Char('\n')));
    lines << fieldLine(QStringLiteral("tags"),
                       v.tags.isEmpty() ? QStringLiteral("-") : tagsText(v.tags));
    lines << fieldLine(QStringLiteral("aliases"),
                       v.aliases.isEmpty() ? QStringLiteral("-") : listText(v.aliases));
    lines << fieldLine(QStringLiteral("notes"),
                       v.notes.isEmpty() ? QStringLiteral("-") : v.notes);
    if (v.runId == 0) {
        lines << fieldLine(QStringLiteral("run"), QStringLiteral("-"));
    } else if (run) {
        QString text = QStringLiteral("#%1 %2, %3 to %4")
                           .arg(QString::number(run->id), ms::runStatusName(run->status),
                                dateText(run->started), dateText(run->ended));
        if (!run->runDir.isEmpty())
            text += QLatin1Char('\n') + run->runDir;
        if (!run->error.isEmpty())
            text += QLatin1Char('\n') + run->error;
        lines << fieldLine(QStringLiteral("run"), text);
    } else {
        lines << fieldLine(QStringLiteral("run"),
                           QStringLiteral("#%1 (%2)").arg(QString::number(v.runId),
                                                          ms::printable(runProblem)));
    }
    QStringList parentLines;
    for (const ms::LineageEdge &edge : parents)
        parentLines << QStringLiteral("%1 (%2)").arg(ms::printable(edge.parentRef),
                                                     ms::printable(edge.role));
    lines << fieldLine(QStringLiteral("parents"), parentLines.isEmpty()
                                                      ? QStringLiteral("-")
                                                      : parentLines.join(QLatin1Char('\n')));
    if (!children.isEmpty()) {
        QStringList childLines;
        for (const ms::LineageEdge &edge : children)
            childLines << QStringLiteral("%1 (%2)").arg(ms::printable(edge.childRef),
                                                        ms::printable(edge.role));
        lines << fieldLine(QStringLiteral("children"), childLines.join(QLatin1Char('\n')));
    }
    if (!benchmarks.isEmpty())
        lines << fieldLine(QStringLiteral("benchmarks"),
                           QStringLiteral("%1 (see --json)").arg(benchmarks.size()));
    lines << fieldLine(QStringLiteral("recipe"),
                       v.recipe.isEmpty()
                           ? QStringLiteral("-")
                           : QString::fromUtf8(QJsonDocument(v.recipe).toJson()).trimmed());
    printLine(lines.join(QLatin1Char('\n')));
    return Ok;
}

int runLineage(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("REF"), refHelp());
    int code = Ok;
    if (!parse(parser, QStringLiteral("lineage"),
               QStringLiteral("Print the lineage edges around a version (its ancestors and "
                              "descendants), one \"parent --role--> child\" per line."),
               arguments, &code)
        || !expectArguments(parser, QStringLiteral("lineage"), QStringLiteral("REF"), 1, 1,
                            &code))
        return code;
    const ms::Registry registry = openRegistry(parser);
    const ms::VersionRecord v = registry.resolve(parser.positionalArguments().first());
    const QVector<ms::LineageEdge> edges = registry.lineage(v.id);
    if (wantsJson(parser)) {
        QJsonArray list;
        for (const ms::LineageEdge &edge : edges)
            list.append(lineageEdgeToJson(edge));
        printJsonLine(QJsonObject{{QStringLiteral("ref"), v.ref()},
                                  {QStringLiteral("edges"), list}});
        return Ok;
    }
    if (edges.isEmpty()) {
        printLine(QStringLiteral("%1 has no parents and no descendants.").arg(v.ref()));
        return Ok;
    }
    for (const ms::LineageEdge &edge : edges)
        printLine(edgeText(edge));
    return Ok;
}

int runMetrics(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("REF"), refHelp());
    parser.addOption({QStringLiteral("key"),
                      QStringLiteral("Print this series point by point (step, epoch, value)."),
                      QStringLiteral("K")});
    int code = Ok;
    if (!parse(parser, QStringLiteral("metrics"),
               QStringLiteral("List the metric series of the run that produced a version (keys, "
                              "point counts, last values), or one series with --key."),
               arguments, &code)
        || !expectArguments(parser, QStringLiteral("metrics"), QStringLiteral("REF [--key K]"),
                            1, 1, &code))
        return code;
    const ms::Registry registry = openRegistry(parser);
    const ms::VersionRecord v = registry.resolve(parser.positionalArguments().first());
    if (v.runId == 0)
        return fail(QStringLiteral("%1 was not produced by a run the registry recorded (kind "
                                   "%2), so it has no metric series; its final metrics are in "
                                   "modelstudio-cli show %1.")
                        .arg(v.ref(), ms::versionKindName(v.kind)));
    const QStringList keys = registry.metricKeys(v.runId);
    const bool json = wantsJson(parser);

    if (parser.isSet(QStringLiteral("key"))) {
        const QString key = parser.value(QStringLiteral("key"));
        if (!keys.contains(key))
            return fail(QStringLiteral("run #%1 of %2 has no metric \"%3\". Keys: %4.")
                            .arg(QString::number(v.runId), v.ref(), key,
                                 keys.isEmpty() ? QStringLiteral("none")
                                                : keys.join(QStringLiteral(", "))));
        const QVector<ms::MetricSample> samples = registry.metrics(v.runId, key);
        if (json) {
            QJsonArray points;
            for (const ms::MetricSample &s : samples)
                points.append(QJsonObject{{QStringLiteral("step"), s.step},
                                          {QStringLiteral("epoch"), s.epoch},
                                          {QStringLiteral("value"), s.value},
                                          {QStringLiteral("wall_s"), s.wallTime_s}});
            printJsonLine(QJsonObject{{QStringLiteral("ref"), v.ref()},
                                      {QStringLiteral("run"), v.runId},
                                      {QStringLiteral("key"), key},
                                      {QStringLiteral("points"), points}});
            return Ok;
        }
        QList<QStringList> rows;
        for (const ms::MetricSample &s : samples)
            rows << QStringList{QString::number(s.step), QString::number(s.epoch),
                                QString::number(s.value, 'g', 6)};
        printLine(table({QStringLiteral("STEP"), QStringLiteral("EPOCH"), QStringLiteral("VALUE")},
                        rows));
        return Ok;
    }

    QJsonArray list;
    QList<QStringList> rows;
    for (const QString &key : keys) {
        const QVector<ms::MetricSample> samples = registry.metrics(v.runId, key);
        QJsonObject entry{{QStringLiteral("key"), key},
                          {QStringLiteral("points"), samples.size()}};
        QStringList row{key, QString::number(samples.size()), QStringLiteral("-"),
                        QStringLiteral("-"), QStringLiteral("-")};
        if (!samples.isEmpty()) {
            const ms::MetricSample &last = samples.last();
            entry.insert(QStringLiteral("last"), last.value);
            entry.insert(QStringLiteral("last_step"), last.step);
            entry.insert(QStringLiteral("last_epoch"), last.epoch);
            row[2] = QString::number(last.step);
            row[3] = QString::number(last.epoch);
            row[4] = metricText(key, last.value);
        }
        list.append(entry);
        rows << row;
    }
    if (json) {
        printJsonLine(QJsonObject{{QStringLiteral("ref"), v.ref()},
                                  {QStringLiteral("run"), v.runId},
                                  {QStringLiteral("keys"), list}});
        return Ok;
    }
    if (rows.isEmpty()) {
        printLine(QStringLiteral("Run #%1 of %2 recorded no metric points.")
                      .arg(QString::number(v.runId), v.ref()));
        return Ok;
    }
    printLine(table({QStringLiteral("KEY"), QStringLiteral("POINTS"), QStringLiteral("LAST STEP"),
                     QStringLiteral("EPOCH"), QStringLiteral("LAST")},
                    rows));
    return Ok;
}

} // namespace

QList<Command> registryCommands()
{
    return {
        {QStringLiteral("models"), QStringLiteral("List the registry's models"), runModels},
        {QStringLiteral("versions"), QStringLiteral("List a model's versions"), runVersions},
        {QStringLiteral("show"), QStringLiteral("Show one version in full"), runShow},
        {QStringLiteral("lineage"), QStringLiteral("Print a version's lineage edges"),
         runLineage},
        {QStringLiteral("diff"), QStringLiteral("Compare two versions side by side"),
         runDiffCommand},
        {QStringLiteral("metrics"), QStringLiteral("List a version's run metrics, or one series"),
         runMetrics},
    };
}

} // namespace cli
