// modelstudio-cli datasets / archs: what the studio can train on and with.

#include "Command.h"
#include "Output.h"
#include "RegistryOutput.h"

#include "common/Error.h"
#include "common/ShapeText.h"
#include "data/DatasetRegistry.h"
#include "data/TextDataset.h"
#include "models/ArchSpec.h"
#include "models/ArchitectureRegistry.h"
#include "models/GptSpec.h"
#include "models/TextClassifierSpec.h"

#include <QFileInfo>
#include <QJsonArray>
#include <QLocale>

namespace cli {

namespace {

// `datasets SOURCE` for a text dataset: records per class and split, bytes, the split rule.
int describeTextDataset(const QCommandLineParser &parser)
{
    ms::DatasetOptions options;
    options.source = parser.positionalArguments().first();
    options.labelColumn = parser.value(QStringLiteral("label-column"));
    options.textColumn = parser.value(QStringLiteral("text-column"));
    const ms::TextDataset dataset = ms::TextDatasetRegistry::instance().load(options);
    const QJsonObject json = dataset.describe();
    if (parser.isSet(QStringLiteral("json"))) {
        printJsonLine(json);
        return Ok;
    }
    const QJsonObject counts = json.value(QStringLiteral("class_counts")).toObject();
    const QLocale locale = QLocale::c();
    QList<QStringList> rows;
    for (int c = 0; c < dataset.numClasses(); ++c)
        rows << QStringList{dataset.classNames.at(c),
                            locale.toString(counts.value(QStringLiteral("train")).toArray()
                                                .at(c).toInteger()),
                            locale.toString(counts.value(QStringLiteral("validation"))
                                                .toArray().at(c).toInteger())};
    rows << QStringList{QStringLiteral("total"), locale.toString(dataset.train.count()),
                        locale.toString(dataset.validation.count())};
    printLine(QStringLiteral("%1 (%2): text, %3 classes, %4 + %5 bytes; %6")
                  .arg(dataset.name, dataset.readerName, QString::number(dataset.numClasses()),
                       locale.toString(dataset.train.bytes()),
                       locale.toString(dataset.validation.bytes()), ms::TextDataset::splitRule()));
    printLine(table({QStringLiteral("CLASS"), QStringLiteral("TRAIN"),
                     QStringLiteral("VALIDATION")},
                    rows));
    return Ok;
}

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
    parser.addOption({QStringLiteral("text-column"),
                      QStringLiteral("CSV of text: the text column, by header name or 0-based "
                                     "index (default: the column named text, else the one "
                                     "column of text besides the label)."),
                      QStringLiteral("NAME|N")});
    int code = Ok;
    if (!parse(parser, QStringLiteral("datasets"),
               QStringLiteral("List the built-in datasets and the dataset formats --dataset "
                              "reads, or describe one dataset."),
               arguments, &code)
        || !expectArguments(parser, QStringLiteral("datasets"), QStringLiteral("[SOURCE]"), 0,
                            1, &code))
        return code;
    if (!parser.positionalArguments().isEmpty()) {
        ms::DatasetOptions text;
        text.source = parser.positionalArguments().first();
        text.textColumn = parser.value(QStringLiteral("text-column"));
        return ms::TextDatasetRegistry::instance().accepts(text) ? describeTextDataset(parser)
                                                                 : describeDataset(parser);
    }
    ms::DatasetRegistry &registry = ms::DatasetRegistry::instance();
    QJsonArray builtins;
    QList<QStringList> rows;
    QList<std::pair<std::shared_ptr<ms::BuiltinDatasetProvider>, QString>> all;
    for (const auto &provider : registry.builtins().all())
        all.append({provider, QStringLiteral("tensors")});
    for (const auto &provider : ms::TextDatasetRegistry::instance().builtins().all())
        all.append({provider, QStringLiteral("text")});
    for (const auto &[provider, kind] : all) {
        const ms::BuiltinDataset &d = provider->info();
        const bool installed = QFileInfo::exists(d.path);
        builtins.append(QJsonObject{{QStringLiteral("name"), d.name},
                                    {QStringLiteral("kind"), kind},
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
    for (const auto &reader : ms::TextDatasetRegistry::instance().readers().all()) {
        readers.append(QJsonObject{{QStringLiteral("name"), reader->name()},
                                   {QStringLiteral("kind"), QStringLiteral("text")},
                                   {QStringLiteral("description"), reader->description()}});
        readerRows << QStringList{reader->name(),
                                  QStringLiteral("text (--task lm): ") + reader->description()};
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

    // A language model or text classifier reads tokens, not samples: without --input-shape it
    // is shown bound to the byte tokenizer's 256 symbols.
    const auto resolve = [&](const QString &name) {
        try {
            return registry.resolve(name, shape, classes);
        } catch (const ms::Error &) {
            if (parser.isSet(QStringLiteral("input-shape")))
                throw;
            QJsonObject tokens;
            try {
                tokens = registry.resolve(name, {}, 256);
                if (ms::TextClassifierSpec::isTextClassifier(tokens)) {
                    // A text classifier: --classes classes over the byte tokenizer's symbols.
                    ms::TextClassifierSpec text = ms::TextClassifierSpec::fromJson(tokens);
                    text.numClasses = classes;
                    text.vocabSize = text.vocabSize > 0 ? text.vocabSize : 256;
                    tokens = text.toJson();
                }
            } catch (const ms::Error &) {
            }
            if (!ms::GptSpec::isGpt(tokens) && !ms::TextClassifierSpec::isTextClassifier(tokens))
                throw;
            return tokens;
        }
    };
    if (!parser.positionalArguments().isEmpty()) {
        const QJsonObject spec = resolve(parser.positionalArguments().first());
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
                ms::ArchSpec::fromJson(resolve(provider->name())).summary();
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
