// modelstudio-cli: the headless front-end. Every verb drives the same core the window uses.

#include "Command.h"

#include "JobRun.h"
#include "Output.h"

#include "common/Error.h"
#include "common/Printable.h"
#include "common/Runtime.h"
#include "common/StartupTuning.h"
#include "common/Workspace.h"
#include "optimize/SweepJob.h"
#include "plugins/PluginManager.h"
#include "train/Preload.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

namespace cli {

bool parse(QCommandLineParser &parser, const QString &verb, const QString &description,
           const QStringList &arguments, int *exitCode)
{
    parser.setApplicationDescription(description);
    parser.addHelpOption();
    parser.addOption({QStringLiteral("json"), QStringLiteral("Print JSON (one object per line).")});
    parser.addOption({QStringLiteral("workspace"),
                      QStringLiteral("Workspace folder (default $MODELSTUDIO_WORKSPACE, else "
                                     "$XDG_DATA_HOME/modelstudio)."),
                      QStringLiteral("DIR")});
    QStringList args = arguments;
    args[0] = QStringLiteral("modelstudio-cli ") + verb;
    if (!parser.parse(args)) {
        *exitCode = fail(parser.errorText() + QStringLiteral(". See: modelstudio-cli %1 --help")
                                                  .arg(verb),
                         Usage);
        return false;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        // QCommandLineParser names the binary by its full path; the user typed a verb.
        QString help = parser.helpText();
        const int usageEnd = help.indexOf(QLatin1String(" [options]"));
        if (help.startsWith(QLatin1String("Usage: ")) && usageEnd > 0)
            help.replace(7, usageEnd - 7, QStringLiteral("modelstudio-cli ") + verb);
        std::fputs(help.toLocal8Bit().constData(), stdout);
        *exitCode = Ok;
        return false;
    }
    return true;
}

namespace {
QString g_lastError;   // the last fail()'s message: a sweep worker's "command_done" carries it
}

int fail(const QString &message, int code)
{
    // One line, always: a message quoting user text (a name, a note, a path) must not break it
    // or carry terminal sequences.
    g_lastError = ms::printable(message);
    const QString line = QStringLiteral("error: %1\n").arg(g_lastError);
    std::fputs(line.toLocal8Bit().constData(), stderr);
    return code;
}

} // namespace cli

namespace {

QList<Command> allCommands()
{
    return cli::trainCommands() + cli::compressCommands() + cli::importCommands()
           + cli::registryCommands() + cli::versionCommands() + cli::serveCommands()
           + cli::benchCommands() + cli::explainCommands() + cli::sweepCommands()
           + cli::generateCommands()
           + cli::listCommands()
           + cli::pluginCommands();
}

int usage(FILE *out)
{
    QString text = QStringLiteral(
        "Usage: modelstudio-cli VERB [options]\n\n"
        "Train, inspect and manage TorchScript models from the shell. Every verb takes --help, "
        "--json and --workspace DIR (those two also before the verb).\n\nVerbs:\n");
    for (const Command &command : allCommands())
        text += QStringLiteral("  %1%2\n").arg(command.name.leftJustified(12), command.summary);
    text += QStringLiteral(
        "\nAlso: modelstudio-cli --version [--json] (with the CPU, BLAS and its kernels)\n"
        "Any verb also takes --blas-core KERNEL|off: the OpenBLAS kernels to use (by default the "
        "studio picks the best for the CPU when OpenBLAS falls back to old ones).\n");
    std::fputs(text.toLocal8Bit().constData(), out);
    return out == stdout ? cli::Ok : cli::Usage;
}

// The version and what the figures of this machine depend on (CPU, BLAS and its kernels,
// what start-up changed): the first thing to paste into a bug report.
int printVersion(bool json)
{
    const QJsonObject runtime = ms::Runtime::describe();
    if (json) {
        cli::printJsonLine(QJsonObject{{QStringLiteral("version"),
                                        QStringLiteral(MODELSTUDIO_VERSION)},
                                       {QStringLiteral("runtime"), runtime}});
        return cli::Ok;
    }
    cli::printLine(QStringLiteral("modelstudio-cli %1").arg(QStringLiteral(MODELSTUDIO_VERSION)));
    QString blas = runtime.value(QStringLiteral("blas")).toString();
    const QString core = runtime.value(QStringLiteral("blas_core")).toString();
    if (!core.isEmpty())
        blas += QStringLiteral(" (%1 kernels)").arg(core);
    cli::printLine(QStringLiteral("cpu: %1, %2 cores")
                       .arg(runtime.value(QStringLiteral("cpu")).toString(),
                            QString::number(runtime.value(QStringLiteral("cores")).toInt())));
    cli::printLine(QStringLiteral("blas: %1").arg(blas));
    if (runtime.contains(QStringLiteral("startup")))
        cli::printLine(QStringLiteral("startup: %1")
                           .arg(runtime.value(QStringLiteral("startup")).toString()));
    return cli::Ok;
}

// The --workspace a verb was given, read before the verb parses its options: plugins load
// first (their architectures and readers must be there when the verb runs), and whether one
// is enabled is remembered per workspace.
QString workspaceArgument(const QStringList &arguments)
{
    for (int i = 1; i < arguments.size(); ++i) {
        const QString &arg = arguments.at(i);
        if (arg == QLatin1String("--workspace") && i + 1 < arguments.size())
            return arguments.at(i + 1);
        if (arg.startsWith(QLatin1String("--workspace=")))
            return arg.mid(int(qstrlen("--workspace=")));
    }
    return QString();
}

// One command line, as main() would run it; shared by a plain start and a sweep's worker.
int runCommandLine(const QStringList &arguments);

// `modelstudio-cli --spare [--workspace DIR] [--preload SPEC.json]`: a sweep's trial process
// (SweepJob). LibTorch starts and the training data of SPEC is read (train/Preload.h) before
// any trial is known; it says {"event":"ready"} on stdout, then runs the command lines that
// come on stdin, one line of JSON each (an array of strings), each as if the process had been
// started with it, and after each says {"event":"command_done","code":N} ("error": the
// command's message when it failed) and ends the command's stderr with a line of one ASCII
// record separator. SIGINT/SIGTERM stop the command running; between commands they are
// counted and forgotten at the next line. The sweep hands a worker its next trial when the
// last one is done, so a process starts once per slot rather than once per trial (as Ray Tune
// reuses its actors); a crash still ends one trial and its worker only, never the sweep. Ends
// with stdin (exit 0) or at a line it cannot read (Usage).
// Not a verb: no user types it, so `--help` does not list it.
int runWorker(const QStringList &own)
{
    QString workspace;
    QString preload;
    for (int i = 2; i + 1 < own.size(); i += 2) {
        if (own.at(i) == QLatin1String("--workspace"))
            workspace = own.at(i + 1);
        else if (own.at(i) == QLatin1String("--preload"))
            preload = own.at(i + 1);
    }
    if (!preload.isEmpty()) {
        try {
            const QString root = ms::Workspace::resolve(workspace);
            ms::PluginManager::instance().loadAll(root);   // a plugin's reader may be the one
            QFile file(preload);
            if (file.open(QIODevice::ReadOnly))
                ms::preloadTrainingData(QJsonDocument::fromJson(file.readAll()).object(), root);
        } catch (const std::exception &) {
            // The trial reads its data itself and reports what is wrong.
        }
    }
    cli::catchInterruptsBetweenCommands();
    cli::printJsonLine(QJsonObject{{QStringLiteral("event"),
                                    QLatin1String(ms::trialprocess::kReady)},
                                   {QStringLiteral("pid"), QCoreApplication::applicationPid()}});
    std::string line;
    while (std::getline(std::cin, line)) {
        QStringList arguments{own.at(0)};
        const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(line));
        bool strings = doc.isArray();
        for (const QJsonValue &value : doc.array()) {
            strings = strings && value.isString();
            arguments << value.toString();
        }
        if (!strings || arguments.size() < 2)
            return cli::fail(QStringLiteral("--spare reads lines from stdin, each a JSON array "
                                            "of strings: the command line to run (e.g. "
                                            "[\"train\", \"--config\", \"trial.json\"])."),
                             cli::Usage);
        cli::resetInterrupts();   // a stop asked of the last command is not one of this
        cli::g_lastError.clear();
        const int code = runCommandLine(arguments);
        // The end of this command's stderr (another pipe, read apart from stdout): the sweep
        // gives what follows to the next trial, not to this one.
        std::fputs(ms::trialprocess::kStderrEnd, stderr);
        std::fflush(stderr);
        QJsonObject done{{QStringLiteral("event"), QLatin1String(ms::trialprocess::kCommandDone)},
                         {QStringLiteral("code"), code}};
        // Its stderr comes on another pipe, maybe after this line: the message rides along.
        if (code != cli::Ok && !cli::g_lastError.isEmpty())
            done.insert(QStringLiteral("error"), cli::g_lastError);
        cli::printJsonLine(done);
    }
    return cli::Ok;
}

} // namespace

int main(int argc, char **argv)
{
    // Before anything else: may start the process again with BLAS kernels that fit the CPU.
    ms::startup::tuneAtStartup(argc, argv);
    QCoreApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("ModelStudio"));
    QCoreApplication::setApplicationName(QStringLiteral("modelstudio"));
    QCoreApplication::setApplicationVersion(QStringLiteral(MODELSTUDIO_VERSION));

    const QStringList arguments = QCoreApplication::arguments();
    if (arguments.value(1) == QLatin1String("--spare"))
        return runWorker(arguments);
    return runCommandLine(arguments);
}

namespace {

int runCommandLine(const QStringList &arguments)
{
    // The options every verb takes may also come before it (`modelstudio-cli --workspace DIR
    // compress ...`, as git and docker allow): they are moved behind the verb, whose parser
    // reads them as its own.
    QStringList globals;
    int verbIndex = 1;
    while (verbIndex < arguments.size()) {
        const QString &arg = arguments.at(verbIndex);
        if (arg == QLatin1String("--json") || arg.startsWith(QLatin1String("--workspace="))) {
            globals << arg;
            verbIndex += 1;
        } else if (arg == QLatin1String("--workspace")) {
            if (verbIndex + 1 >= arguments.size())
                return cli::fail(QStringLiteral("--workspace needs a folder: modelstudio-cli "
                                                "--workspace DIR VERB ..."),
                                 cli::Usage);
            globals << arg << arguments.at(verbIndex + 1);
            verbIndex += 2;
        } else {
            break;
        }
    }
    if (verbIndex >= arguments.size()) {
        if (globals.isEmpty())
            return usage(stderr);
        cli::fail(QStringLiteral("missing the verb after %1").arg(globals.join(QLatin1Char(' '))),
                  cli::Usage);
        return usage(stderr);
    }
    const QString verb = arguments.at(verbIndex);
    // What the verb sees: itself as argv[0] (so QCommandLineParser's help is about the verb),
    // then the global options, then its own arguments.
    const QStringList verbArguments = QStringList{verb} + globals + arguments.mid(verbIndex + 1);
    if (verb == QLatin1String("--help") || verb == QLatin1String("-h")
        || verb == QLatin1String("help"))
        return usage(stdout);
    if (verb == QLatin1String("--version") || verb == QLatin1String("version"))
        return printVersion(arguments.contains(QStringLiteral("--json")));
    for (const Command &command : allCommands()) {
        if (command.name != verb)
            continue;
        try {
            // A plugin that is broken is skipped and listed by `plugins`; it never stops a verb.
            ms::PluginManager::instance().loadAll(
                ms::Workspace::resolve(workspaceArgument(verbArguments)));
            return command.run(verbArguments);
        } catch (const ms::Error &e) {
            return cli::fail(e.message());
        } catch (const std::exception &e) {
            // Not one of ours (std::bad_alloc, a library's own): still one line, not a crash.
            return cli::fail(QString::fromLocal8Bit(e.what()));
        }
    }
    cli::fail(QStringLiteral("unknown verb \"%1\"").arg(verb), cli::Usage);
    return usage(stderr);
}

} // namespace
