// modelstudio-cli bench / compare: measure versions (the benchmark job, results stored in the
// registry) and put their latest results side by side.

#include "Command.h"
#include "JobRun.h"
#include "Output.h"
#include "RegistryOutput.h"

#include "bench/BenchmarkJob.h"
#include "bench/Comparison.h"
#include "common/Error.h"
#include "common/Runtime.h"
#include "common/Workspace.h"
#include "jobs/JobRunner.h"
#include "registry/Registry.h"

#include <QJsonArray>
#include <QSaveFile>

namespace cli {

namespace {

QString mib(const QJsonValue &bytes)
{
    return bytes.isDouble() ? humanSize(qint64(bytes.toDouble())) : QStringLiteral("-");
}

void printResult(const QJsonObject &r)
{
    const QJsonValue engine = r.value(QStringLiteral("quantized_engine"));
    printLine(QStringLiteral("%1 (%2%3), %4 thread(s)")
                  .arg(r.value(QStringLiteral("version")).toString(),
                       r.value(QStringLiteral("kind")).toString(),
                       engine.isString() ? QStringLiteral(", engine ") + engine.toString()
                                         : QString())
                  .arg(r.value(QStringLiteral("threads")).toInt()));
    QList<QStringList> rows;
    for (const QJsonValue &v : r.value(QStringLiteral("latency")).toArray()) {
        const QJsonObject o = v.toObject();
        rows << QStringList{QString::number(o.value(QStringLiteral("batch_size")).toInt()),
                            QString::number(o.value(QStringLiteral("p50_ms")).toDouble(), 'f', 3),
                            QString::number(o.value(QStringLiteral("p95_ms")).toDouble(), 'f', 3),
                            QString::number(o.value(QStringLiteral("p99_ms")).toDouble(), 'f', 3),
                            QString::number(o.value(QStringLiteral("throughput_per_s")).toDouble(),
                                            'f', 0)};
    }
    printLine(table({QStringLiteral("batch"), QStringLiteral("p50 ms"), QStringLiteral("p95 ms"),
                     QStringLiteral("p99 ms"), QStringLiteral("samples/s")},
                    rows));
    const QJsonValue acc = r.value(QStringLiteral("test_acc"));
    if (r.value(QStringLiteral("task")).toString() == QLatin1String("lm")) {
        const QJsonValue loss = r.value(QStringLiteral("val_loss"));
        printLine(loss.isDouble()
                      ? QStringLiteral("  validation loss %1 (perplexity %2) on %3 windows of %4")
                            .arg(QString::number(loss.toDouble(), 'f', 4),
                                 QString::number(r.value(QStringLiteral("val_ppl")).toDouble(),
                                                 'f', 3),
                                 QString::number(r.value(QStringLiteral("val_windows")).toInt()),
                                 r.value(QStringLiteral("dataset")).toString())
                      : QStringLiteral("  validation loss - (%1)")
                            .arg(r.value(QStringLiteral("val_note")).toString()));
        const QJsonObject g = r.value(QStringLiteral("generation")).toObject();
        printLine(QStringLiteral("  generation %1 tokens/s at batch 1 with the cache (%2 tokens, "
                                 "best of %3), first token %4 ms")
                      .arg(QString::number(r.value(QStringLiteral("gen_tokens_per_s")).toDouble(),
                                           'f', 1),
                           QString::number(g.value(QStringLiteral("tokens")).toInt()),
                           QString::number(g.value(QStringLiteral("rounds")).toInt()),
                           QString::number(r.value(QStringLiteral("gen_first_token_ms"))
                                               .toDouble(), 'f', 2)));
    } else {
        const QString where =
            acc.isDouble()
                ? QStringLiteral(" on %1 images")
                      .arg(r.value(QStringLiteral("test_count")).toInteger())
                : QStringLiteral(" (%1)").arg(r.value(QStringLiteral("accuracy_note")).toString());
        printLine(QStringLiteral("  test accuracy %1%2")
                      .arg(acc.isDouble() ? QString::number(acc.toDouble(), 'f', 4)
                                          : QStringLiteral("-"),
                           where));
    }
    printLine(QStringLiteral("  artifact %1 (zlib %2); parameters %3, non-zero %4, MACs %5")
                  .arg(mib(r.value(QStringLiteral("size_bytes"))),
                       mib(r.value(QStringLiteral("compressed_size_bytes"))),
                       countText(r.value(QStringLiteral("parameters")).toInteger()),
                       countText(r.value(QStringLiteral("nonzero_parameters")).toInteger()),
                       r.value(QStringLiteral("macs")).isDouble()
                           ? countText(r.value(QStringLiteral("macs")).toInteger())
                           : QStringLiteral("-")));
    printLine(QStringLiteral("  peak resident memory %1 (%2 above the process before loading)")
                  .arg(mib(r.value(QStringLiteral("peak_rss_bytes"))),
                       mib(r.value(QStringLiteral("peak_rss_delta_bytes")))));
}

int runBench(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("SPEC"),
                                 QStringLiteral("Versions: NAME:N, NAME@ALIAS or NAME."),
                                 QStringLiteral("SPEC..."));
    parser.addOption({QStringLiteral("batch-sizes"),
                      QStringLiteral("Batch sizes to time (default 1,8,32,128)."),
                      QStringLiteral("LIST")});
    parser.addOption({QStringLiteral("threads"),
                      QStringLiteral("Intra-op threads while timing (default 1)."),
                      QStringLiteral("N")});
    parser.addOption({QStringLiteral("warmup"),
                      QStringLiteral("Untimed passes per batch size (default 10)."),
                      QStringLiteral("N")});
    parser.addOption({QStringLiteral("repetitions"),
                      QStringLiteral("Timed passes per batch size (default 50)."),
                      QStringLiteral("N")});
    parser.addOption({QStringLiteral("dataset"),
                      QStringLiteral("Test data for accuracy (default: each version's own)."),
                      QStringLiteral("NAME|PATH")});
    parser.addOption({QStringLiteral("no-accuracy"),
                      QStringLiteral("Skip test accuracy and the confusion matrix (a language "
                                     "model's validation loss).")});
    parser.addOption({QStringLiteral("generate-tokens"),
                      QStringLiteral("Language models: tokens per timed generation at batch 1 "
                                     "with the key/value cache (default 128)."),
                      QStringLiteral("N")});
    int exitCode = Ok;
    if (!parse(parser, QStringLiteral("bench"),
               QStringLiteral("Benchmark versions: latency percentiles and throughput per batch "
                              "size, peak memory, size, parameters, MACs, test accuracy and "
                              "confusion matrix (a language model: validation loss, perplexity "
                              "and generation tokens/s). Results are stored in the registry."),
               arguments, &exitCode))
        return exitCode;
    if (!expectArguments(parser, QStringLiteral("bench"), QStringLiteral("SPEC..."), 1, -1,
                         &exitCode))
        return exitCode;
    const bool json = parser.isSet(QStringLiteral("json"));

    ms::BenchmarkConfig config;
    config.versions = parser.positionalArguments();
    auto intOption = [&](const QString &name, int fallback) {
        if (!parser.isSet(name))
            return fallback;
        bool ok = false;
        const int value = parser.value(name).toInt(&ok);
        if (!ok)
            throw ms::Error(QStringLiteral("--%1 takes a whole number, not \"%2\".")
                                .arg(name, parser.value(name)));
        return value;
    };
    if (parser.isSet(QStringLiteral("batch-sizes")))
        config.batchSizes =
            ms::BenchmarkConfig::parseBatchSizes(parser.value(QStringLiteral("batch-sizes")));
    config.threads = intOption(QStringLiteral("threads"), config.threads);
    config.warmup = intOption(QStringLiteral("warmup"), config.warmup);
    config.repetitions = intOption(QStringLiteral("repetitions"), config.repetitions);
    config.generateTokens = intOption(QStringLiteral("generate-tokens"), config.generateTokens);
    config.dataset = parser.value(QStringLiteral("dataset"));
    config.accuracy = !parser.isSet(QStringLiteral("no-accuracy"));
    config.validate();
    const QString root = ms::Workspace::resolve(parser.value(QStringLiteral("workspace")));
    {
        // Every reference before any work, with the registry's own message.
        const ms::Registry registry = openRegistry(parser);
        for (const QString &ref : config.versions)
            registry.resolve(ref);
    }
    if (const QString warning = ms::Runtime::blasWarning(); !warning.isEmpty())
        printWarning(warning);

    const ms::JobResult result = runJob(
        std::make_unique<ms::BenchmarkJob>(root, config), !json && isTerminal(stderr),
        [&](const QJsonObject &event) {
            if (json)
                printJsonLine(event.value(QStringLiteral("result")).toObject());
            else
                printResult(event.value(QStringLiteral("result")).toObject());
        },
        true);   // Ctrl-C stops a long benchmark like any other verb; nothing is stored for
                 // the version it was measuring
    if (result.status == ms::JobStatus::Finished)
        return Ok;
    return fail(result.message.isEmpty() ? ms::jobStatusName(result.status) : result.message,
                result.status == ms::JobStatus::Cancelled ? interruptExitCode() : Failed);
}

int runCompare(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("SPEC"),
                                 QStringLiteral("Versions; the first is the baseline of the "
                                                "deltas."),
                                 QStringLiteral("A B [C...]"));
    parser.addOption({QStringLiteral("csv"), QStringLiteral("Print CSV.")});
    parser.addOption({QStringLiteral("html"), QStringLiteral("Write an HTML page to FILE."),
                      QStringLiteral("FILE")});
    int exitCode = Ok;
    if (!parse(parser, QStringLiteral("compare"),
               QStringLiteral("Compare versions from their latest benchmarks: one row each, "
                              "deltas against the first. Versions without a benchmark are "
                              "refused; run modelstudio-cli bench on them first."),
               arguments, &exitCode))
        return exitCode;
    if (!expectArguments(parser, QStringLiteral("compare"), QStringLiteral("A B [C...]"), 2, -1,
                         &exitCode))
        return exitCode;
    const int formats = int(parser.isSet(QStringLiteral("json")))
                        + int(parser.isSet(QStringLiteral("csv")))
                        + int(parser.isSet(QStringLiteral("html")));
    if (formats > 1)
        return fail(QStringLiteral("Choose one of --json, --csv and --html."), Usage);

    const ms::Registry registry = openRegistry(parser);
    QVector<QPair<QString, QJsonObject>> benchmarks;
    QStringList missing;
    for (const QString &ref : parser.positionalArguments()) {
        const ms::VersionRecord v = registry.resolve(ref);
        const QVector<QJsonObject> results = registry.benchmarks(v.id);
        if (results.isEmpty())
            missing << v.ref();
        else
            benchmarks.append({v.ref(), results.last()});
    }
    if (!missing.isEmpty())
        return fail(QStringLiteral("%1 %2 no benchmark yet; run modelstudio-cli bench %3 first.")
                        .arg(missing.join(QStringLiteral(", ")),
                             missing.size() == 1 ? QStringLiteral("has") : QStringLiteral("have"),
                             missing.join(QLatin1Char(' '))));
    const ms::Comparison comparison = ms::Comparison::fromBenchmarks(benchmarks);
    if (parser.isSet(QStringLiteral("json"))) {
        printJsonLine(QJsonObject{{QStringLiteral("rows"), comparison.toJson()},
                                  {QStringLiteral("warnings"),
                                   QJsonArray::fromStringList(comparison.warnings())}});
        return Ok;
    }
    if (parser.isSet(QStringLiteral("csv"))) {
        std::fputs(comparison.toCsv().toUtf8().constData(), stdout);
        return Ok;
    }
    if (parser.isSet(QStringLiteral("html"))) {
        const QString path = parser.value(QStringLiteral("html"));
        QSaveFile file(path);
        const QByteArray html = comparison.toHtml().toUtf8();
        if (!file.open(QIODevice::WriteOnly) || file.write(html) != html.size() || !file.commit())
            return fail(QStringLiteral("Cannot write %1: %2").arg(path, file.errorString()));
        printLine(QStringLiteral("wrote %1").arg(path));
        return Ok;
    }
    printLine(table(comparison.headers(), comparison.textRows()));
    for (const QString &w : comparison.warnings())
        printWarning(w);
    return Ok;
}

} // namespace

QList<Command> benchCommands()
{
    return {{QStringLiteral("bench"),
             QStringLiteral("Benchmark versions (latency, memory, size, accuracy)"), runBench},
            {QStringLiteral("compare"),
             QStringLiteral("Compare versions' benchmarks side by side (--csv, --html)"),
             runCompare}};
}

} // namespace cli
