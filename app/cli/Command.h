#pragma once

#include <QCommandLineParser>
#include <QString>
#include <QStringList>

#include <functional>

// One verb of modelstudio-cli. Each verb parses its own options (so `VERB --help` is precise)
// and returns the process exit code.
struct Command
{
    QString name;
    QString summary;
    std::function<int(const QStringList &arguments)> run;
};

namespace cli {

enum ExitCode { Ok = 0, Failed = 1, Usage = 2, Interrupted = 130 };

// Adds --help, --json and --workspace, parses, and handles --help and parse errors.
// Returns false (with *exitCode set) when the caller should return at once.
bool parse(QCommandLineParser &parser, const QString &verb, const QString &description,
           const QStringList &arguments, int *exitCode);

// Prints "error: MESSAGE" on stderr: the one clear line every failure ends with.
int fail(const QString &message, int code = Failed);

QList<Command> trainCommands();
QList<Command> listCommands();
QList<Command> importCommands();
// models, versions, show, lineage, diff, metrics: reading the registry.
QList<Command> registryCommands();
// tag, alias, note, export, rm, verify, gc: editing it and its artifact store.
QList<Command> versionCommands();
// compress: a compression method applied to a version, registered as a new version.
QList<Command> compressCommands();
// serve: registry versions on a local HTTP endpoint until Ctrl-C.
QList<Command> serveCommands();
// plugins: list, enable and disable plugins.
QList<Command> pluginCommands();

// sweep, sweeps: hyperparameter search (core/optimize).
QList<Command> sweepCommands();

// generate: a language model continuing a prompt.
QList<Command> generateCommands();

// bench, compare: measuring versions and putting their benchmarks side by side.
QList<Command> benchCommands();

// explain, disagree: attribution maps and where two versions' predictions differ.
QList<Command> explainCommands();

} // namespace cli
