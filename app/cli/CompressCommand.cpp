// modelstudio-cli compress: a compression method applied to a registry version, with the
// method's parameters as flags, a progress bar on a terminal or JSON lines with --json.

#include "Command.h"
#include "JobRun.h"
#include "Output.h"

#include "common/Error.h"
#include "common/Workspace.h"
#include "compress/CompressJob.h"
#include "compress/CompressionMethod.h"
#include "jobs/JobRunner.h"

#include <QMap>

namespace cli {

namespace {

// Every parameter name of every registered method, with the methods that take it: one flag
// each, so a plugin's method gets its flags without an edit here.
QMap<QString, QStringList> parameterFlags(QMap<QString, QString> *help)
{
    QMap<QString, QStringList> flags;
    for (const auto &method : ms::CompressionRegistry::instance().methods().all()) {
        for (const ms::CompressParameter &p : method->parameters()) {
            flags[p.name] << method->name();
            if (!help->contains(p.name))
                help->insert(p.name, p.help);
        }
    }
    return flags;
}

QString methodList()
{
    QString text;
    for (const auto &method : ms::CompressionRegistry::instance().methods().all()) {
        QStringList flags;
        for (const ms::CompressParameter &p : method->parameters())
            flags << QStringLiteral("--") + p.name;
        text += QStringLiteral("\n  %1  %2\n      flags: %3").arg(method->name(),
                                                               method->description(),
                                                               flags.join(QLatin1Char(' ')));
    }
    return text;
}

int runCompress(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("SOURCE"),
                                 QStringLiteral("The version to compress: NAME:N or NAME@ALIAS "
                                                "(for distill, the teacher)."));
    parser.addOption({QStringLiteral("method"), QStringLiteral("The compression method."),
                      QStringLiteral("METHOD")});
    parser.addOption({QStringLiteral("name"),
                      QStringLiteral("Register the variant as a version of NAME (default: the "
                                     "source's model)."),
                      QStringLiteral("NAME")});
    parser.addOption({QStringLiteral("dataset"),
                      QStringLiteral("Data for fine-tuning, distillation and the accuracy test "
                                     "(default: the source's training data)."),
                      QStringLiteral("NAME|PATH")});
    parser.addOption({QStringLiteral("threads"), QStringLiteral("Threads (default: all cores)."),
                      QStringLiteral("N")});
    parser.addOption({QStringLiteral("no-register"),
                      QStringLiteral("Record the run and keep the variant in its folder, but "
                                     "register no version (a sweep's trials; `sweep register` "
                                     "makes one a version later).")});
    QMap<QString, QString> help;
    const QMap<QString, QStringList> flags = parameterFlags(&help);
    for (auto it = flags.begin(); it != flags.end(); ++it)
        parser.addOption({it.key(), QStringLiteral("[%1] %2").arg(it.value().join(
                                                                      QStringLiteral(", ")),
                                                                  help.value(it.key())),
                          QStringLiteral("VALUE")});
    int code = Ok;
    if (!parse(parser, QStringLiteral("compress"),
               QStringLiteral("Make a smaller or faster variant of a version and register it as "
                              "a new version with its lineage and recipe.\n\nMethods:")
                   + methodList(),
               arguments, &code))
        return code;
    const QStringList positional = parser.positionalArguments();
    if (positional.size() != 1)
        return fail(QStringLiteral("give one SOURCE version (NAME:N or NAME@ALIAS). See: "
                                   "modelstudio-cli compress --help"),
                    Usage);
    if (!parser.isSet(QStringLiteral("method")))
        return fail(QStringLiteral("give --method, one of: %1")
                        .arg(ms::CompressionRegistry::instance().methods().names().join(
                            QStringLiteral(", "))),
                    Usage);
    const QString methodName = parser.value(QStringLiteral("method"));
    const auto method = ms::CompressionRegistry::instance().method(methodName);

    // Flags of other methods are refused here, before the job, with what this one takes.
    QJsonObject params;
    QStringList own;
    for (const ms::CompressParameter &p : method->parameters())
        own << p.name;
    for (auto it = flags.begin(); it != flags.end(); ++it) {
        if (!parser.isSet(it.key()))
            continue;
        if (!own.contains(it.key())) {
            QStringList ownFlags;
            for (const QString &name : own)
                ownFlags << QStringLiteral("--") + name;
            return fail(QStringLiteral("--%1 is not a parameter of %2 (it belongs to %3); %2 "
                                       "takes: %4.")
                            .arg(it.key(), methodName, it.value().join(QStringLiteral(", ")),
                                 ownFlags.isEmpty() ? QStringLiteral("no parameters")
                                                    : ownFlags.join(QStringLiteral(", "))),
                        Usage);
        }
        params.insert(it.key(), parser.value(it.key()));
    }
    int threads = 0;
    if (parser.isSet(QStringLiteral("threads"))) {
        bool ok = false;
        threads = parser.value(QStringLiteral("threads")).toInt(&ok);
        // The range is the job's own check (ms::Runtime::checkThreads), worded as train's.
        if (!ok)
            return fail(QStringLiteral("--threads takes a whole number from 0 (all cores) to "
                                       "256, not \"%1\".")
                            .arg(parser.value(QStringLiteral("threads"))),
                        Usage);
    }
    // Built (and the parameters checked) the way the window's dialog builds it, so a typo fails
    // at once with the flag's name, not from the job.
    QJsonObject spec = ms::CompressJob::makeSpec(
        positional.first(), methodName, params, parser.value(QStringLiteral("name")),
        parser.value(QStringLiteral("dataset")), threads);
    if (parser.isSet(QStringLiteral("no-register")))
        spec.insert(QStringLiteral("register"), false);
    const QString workspace = ms::Workspace::resolve(parser.value(QStringLiteral("workspace")));
    auto job = std::make_unique<ms::CompressJob>(workspace, spec);

    const bool json = parser.isSet(QStringLiteral("json"));
    const bool showBar = !json && isTerminal(stderr);
    // Ctrl-C cancels the job (nothing is registered); a second Ctrl-C quits at once.
    const ms::JobResult result = runJob(
        std::move(job), showBar,
        [&](const QJsonObject &event) {
            const QString kind = event.value(QStringLiteral("event")).toString();
            if (json) {
                printJsonLine(event);
            } else if (kind == QLatin1String("start")) {
                printLine(QStringLiteral("%1 with %2: %3 parameters, run %4")
                              .arg(event.value(QStringLiteral("source")).toString(),
                                   event.value(QStringLiteral("method")).toString(),
                                   QString::number(event.value(QStringLiteral("parameters"))
                                                       .toInteger()),
                                   event.value(QStringLiteral("run_dir")).toString()));
            } else if (kind == QLatin1String("epoch")) {
                // A classifier's validation accuracy; a language model's loss and perplexity.
                const QJsonValue acc = event.value(QStringLiteral("val_acc"));
                const QJsonValue loss = event.value(QStringLiteral("val_loss"));
                const QString score =
                    !acc.isUndefined()
                        ? QStringLiteral("val_acc %1%").arg(acc.toDouble() * 100.0, 0, 'f', 2)
                    : loss.isDouble()
                        ? QStringLiteral("val_loss %1 (ppl %2)")
                              .arg(QString::number(loss.toDouble(), 'f', 4),
                                   QString::number(event.value(QStringLiteral("val_ppl"))
                                                       .toDouble(), 'f', 3))
                        : QStringLiteral("val_acc -");
                printLine(QStringLiteral("%1 epoch %2/%3  %4")
                              .arg(event.value(QStringLiteral("phase")).toString(),
                                   QString::number(event.value(QStringLiteral("epoch")).toInt()),
                                   QString::number(event.value(QStringLiteral("epochs")).toInt()),
                                   score));
            }
        },
        true);

    const QString status = ms::jobStatusName(result.status);
    if (json) {
        QJsonObject end = result.output;
        end.insert(QStringLiteral("event"), QStringLiteral("finished"));
        end.insert(QStringLiteral("status"), status);
        if (!result.message.isEmpty())
            end.insert(QStringLiteral("error"), result.message);
        printJsonLine(end);
    } else if (result.status == ms::JobStatus::Finished) {
        const QJsonObject m = result.output.value(QStringLiteral("metrics")).toObject();
        QString acc;
        if (m.contains(QStringLiteral("test_acc")))
            acc = QStringLiteral(", test_acc %1%").arg(m.value(QStringLiteral("test_acc"))
                                                           .toDouble() * 100.0, 0, 'f', 2);
        if (m.contains(QStringLiteral("source_test_acc")))
            acc += QStringLiteral(" (source %1%)").arg(
                m.value(QStringLiteral("source_test_acc")).toDouble() * 100.0, 0, 'f', 2);
        if (m.contains(QStringLiteral("val_loss")))
            acc += QStringLiteral(", val_loss %1 (source %2)")
                       .arg(QString::number(m.value(QStringLiteral("val_loss")).toDouble(), 'f', 4),
                            QString::number(m.value(QStringLiteral("source_val_loss")).toDouble(),
                                            'f', 4));
        const QString what = result.output.contains(QStringLiteral("version"))
                                 ? QStringLiteral("registered ")
                                       + result.output.value(QStringLiteral("version")).toString()
                                 : QStringLiteral("kept in ")
                                       + result.output.value(QStringLiteral("run_dir")).toString()
                                       + QStringLiteral(" (not registered)");
        printLine(QStringLiteral("%1: %2 of %3 parameters non-zero%4")
                      .arg(what,
                           QString::number(
                               m.value(QStringLiteral("nonzero_parameters")).toInteger()),
                           QString::number(m.value(QStringLiteral("parameters")).toInteger()),
                           acc));
    }
    switch (result.status) {
    case ms::JobStatus::Finished: return Ok;
    case ms::JobStatus::Cancelled: return fail(result.message, interruptExitCode());
    default: return fail(result.message.isEmpty() ? status : result.message);
    }
}

} // namespace

QList<Command> compressCommands()
{
    return {{QStringLiteral("compress"),
             QStringLiteral("Prune, quantize or distill a version into a new one"), runCompress}};
}

} // namespace cli
