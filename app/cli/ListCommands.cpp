// modelstudio-cli datasets / archs: what the studio can train on and with.

#include "Command.h"
#include "Output.h"
#include "RegistryOutput.h"

#include "common/Error.h"
#include "common/ShapeText.h"
#include "data/DatasetRegistry.h"
#include "models/ArchSpec.h"
#include "models/ArchitectureRegistry.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QLocale>

namespace cli {

namespace {

// `datasets SOURCE`: what the Data panel shows, as text: sizes, shape and the samples per
// class of every split, split as a training run with the same options would split it.
int describeDataset(const QCommandLineParser &parser)
{
    ms::DatasetOptions options;
    options.source = parser.positionalArguments().first();
    options.labelColumn = parser.value(QStringLiteral("label-column"));
    options.warn = [](const QString &message) {
        std::fputs(QStringLiteral("warning: %1\n").arg(message).toLocal8Bit().constData(),
                   stderr);
    };
    const ms::Dataset dataset = ms::DatasetRegistry::instance().load(options);
    const QList<QPair<QString, const ms::DatasetSplit *>> splits{
        {QStringLiteral("train"), &dataset.train},
        {QStringLiteral("validation"), &dataset.validation},
        {QStringLiteral("test"), &dataset.test}};
    QJsonObject json = dataset.describe();
    QJsonObject counts;
    QList<QStringList> rows;
    for (int c = 0; c < dataset.numClasses(); ++c)
        rows << QStringList{dataset.classNames.at(c)};
    QStringList header{QStringLiteral("CLASS")};
    QStringList totals{QStringLiteral("total")};
    const QLocale locale = QLocale::c();
    for (const auto &[name, split] : splits) {
        if (split->count() == 0)
            continue;   // a CSV has no test split
        const std::vector<qint64> perClass = split->classCounts(dataset.numClasses());
        QJsonArray array;
        for (size_t c = 0; c < perClass.size(); ++c) {
            array.append(perClass[c]);
            rows[int(c)] << locale.toString(perClass[c]);
        }
        counts.insert(name, array);
        header << name.toUpper();
        totals << locale.toString(split->count());
    }
    json.insert(QStringLiteral("class_counts"), counts);
    if (parser.isSet(QStringLiteral("json"))) {
        printJsonLine(json);
        return Ok;
    }
    printLine(QStringLiteral("%1 (%2): samples of %3, %4 classes")
                  .arg(dataset.name, dataset.readerName,
                       ms::shapeText(dataset.sampleShape, ms::ShapeStyle::Compact),
                       QString::number(dataset.numClasses())));
    rows << totals;
    printLine(table(header, rows));
    return Ok;
}

int runDatasets(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(
        QStringLiteral("SOURCE"),
        QStringLiteral("Describe this dataset (a built-in name, an IDX folder or a CSV file): "
                       "shape, split sizes and samples per class."),
        QStringLiteral("[SOURCE]"));
    parser.addOption({QStringLiteral("label-column"),
                      QStringLiteral("CSV: the label column, by header name or 0-based index "
                                     "(default: the last)."),
                      QStringLiteral("NAME|N")});
    int code = Ok;
    if (!parse(parser, QStringLiteral("datasets"),
               QStringLiteral("List the built-in datasets and the dataset formats --dataset "
                              "reads, or describe one dataset."),
               arguments, &code)
        || !expectArguments(parser, QStringLiteral("datasets"), QStringLiteral("[SOURCE]"), 0,
                            1, &code))
        return code;
    if (!parser.positionalArguments().isEmpty())
        return describeDataset(parser);
    ms::DatasetRegistry &registry = ms::DatasetRegistry::instance();
    QJsonArray builtins;
    QList<QStringList> rows;
    for (const auto &provider : registry.builtins().all()) {
        const ms::BuiltinDataset &d = provider->info();
        const bool installed = QFileInfo::exists(d.path);
        builtins.append(QJsonObject{{QStringLiteral("name"), d.name},
                                    {QStringLiteral("description"), d.description},
                                    {QStringLiteral("path"), d.path},
                                    {QStringLiteral("reader"), d.reader},
                                    {QStringLiteral("installed"), installed},
                                    {QStringLiteral("debian_package"), d.debianPackage}});
        rows << QStringList{d.name,
                            installed ? QStringLiteral("yes")
                                      : QStringLiteral("no (apt-get install %1)")
                                            .arg(d.debianPackage),
                            d.description};
    }
    QJsonArray readers;
    QList<QStringList> readerRows;
    for (const auto &reader : registry.readers().all()) {
        readers.append(QJsonObject{{QStringLiteral("name"), reader->name()},
                                   {QStringLiteral("description"), reader->description()}});
        readerRows << QStringList{reader->name(), reader->description()};
    }
    if (parser.isSet(QStringLiteral("json"))) {
        printJsonLine(QJsonObject{{QStringLiteral("builtin"), builtins},
                                  {QStringLiteral("readers"), readers}});
        return Ok;
    }
    printLine(table({QStringLiteral("NAME"), QStringLiteral("INSTALLED"),
                     QStringLiteral("DESCRIPTION")},
                    rows));
    printLine(QString());
    printLine(QStringLiteral("--dataset also takes a path that one of these readers accepts:"));
    printLine(table({QStringLiteral("READER"), QStringLiteral("DESCRIPTION")}, readerRows));
    return Ok;
}

int runArchs(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("NAME"),
                                 QStringLiteral("Show this architecture's layer table."),
                                 QStringLiteral("[NAME|FILE]"));
    parser.addOption({QStringLiteral("input-shape"),
                      QStringLiteral("Input shape per sample (default 1,28,28)."),
                      QStringLiteral("C,H,W|F")});
    parser.addOption({QStringLiteral("classes"), QStringLiteral("Classes (default 10)."),
                      QStringLiteral("N")});
    int code = Ok;
    if (!parse(parser, QStringLiteral("archs"),
               QStringLiteral("List the architectures, or show one's layers, output shapes, "
                              "parameters and MACs."),
               arguments, &code))
        return code;
    const std::vector<qint64> shape = parseShape(
        parser.value(QStringLiteral("input-shape")).isEmpty()
            ? QStringLiteral("1,28,28") : parser.value(QStringLiteral("input-shape")),
        QStringLiteral("--input-shape"), QStringLiteral("1,28,28"));
    const int classes = parser.value(QStringLiteral("classes")).isEmpty()
                            ? 10 : parser.value(QStringLiteral("classes")).toInt();
    if (classes < 2)
        return fail(QStringLiteral("--classes must be at least 2."), Usage);
    const bool json = parser.isSet(QStringLiteral("json"));
    ms::ArchitectureRegistry &registry = ms::ArchitectureRegistry::instance();

    if (!parser.positionalArguments().isEmpty()) {
        const QJsonObject spec =
            registry.resolve(parser.positionalArguments().first(), shape, classes);
        const ms::ModelSummary summary = ms::ArchSpec::fromJson(spec).summary();
        if (json)
            printJsonLine(QJsonObject{{QStringLiteral("spec"), spec},
                                      {QStringLiteral("summary"), summary.toJson()}});
        else
            printLine(summary.table());
        return Ok;
    }

    QJsonArray list;
    QList<QStringList> rows;
    const QLocale locale(QLocale::English);
    for (const auto &provider : registry.providers().all()) {
        QJsonObject entry{{QStringLiteral("name"), provider->name()},
                          {QStringLiteral("description"), provider->description()}};
        QString params = QStringLiteral("-");
        try {
            const ms::ModelSummary summary =
                ms::ArchSpec::fromJson(provider->makeSpec(shape, classes)).summary();
            entry.insert(QStringLiteral("params"), summary.totalParams);
            entry.insert(QStringLiteral("macs"), summary.totalMacs);
            params = locale.toString(summary.totalParams);
        } catch (const ms::Error &e) {
            // Not every family takes every input (a CNN on a table); say so, do not fail.
            entry.insert(QStringLiteral("unavailable"), e.message());
        }
        list.append(entry);
        rows << QStringList{provider->name(), params, provider->description()};
    }
    if (json) {
        printJsonLine(QJsonObject{{QStringLiteral("architectures"), list}});
        return Ok;
    }
    printLine(table({QStringLiteral("NAME"), QStringLiteral("PARAMS"),
                     QStringLiteral("DESCRIPTION")},
                    rows));
    return Ok;
}

} // namespace

QList<Command> listCommands()
{
    return {
        {QStringLiteral("datasets"), QStringLiteral("List built-in datasets and readable formats"),
         runDatasets},
        {QStringLiteral("archs"), QStringLiteral("List architectures, or show one's layer table"),
         runArchs},
    };
}

} // namespace cli
