// modelstudio-cli sweep, sweeps: hyperparameter search (core/optimize/SweepJob) from the shell.

#include "Command.h"
#include "JobRun.h"
#include "Output.h"

#include "common/Error.h"
#include "common/Workspace.h"
#include "jobs/JobRunner.h"
#include "optimize/Importance.h"
#include "optimize/SweepJob.h"
#include "optimize/SweepResults.h"
#include "optimize/SweepSpec.h"
#include "registry/Registry.h"
#include "train/TrainConfig.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>

#include <algorithm>
#include <cmath>
#include <optional>

namespace cli {

namespace {

QString valueText(double value)
{
    return std::isnan(value) ? QStringLiteral("-") : QString::number(value, 'f', 4);
}

QString paramsText(const QJsonObject &params)
{
    QStringList parts;
    for (auto it = params.begin(); it != params.end(); ++it) {
        const QJsonValue v = it.value();
        parts << it.key() + QLatin1Char('=')
                     + (v.isDouble() ? QString::number(v.toDouble(), 'g', 4) : v.toString());
    }
    return parts.join(QLatin1Char(' '));
}

// "trial 3 finished: 0.8512 after 4 epoch(s)  lr=0.001 ..." (a compression has no epochs; a
// trial that broke a constraint says so).
QString trialLine(const QJsonObject &event)
{
    const int epochs = event.value(QStringLiteral("epochs")).toInt();
    const QJsonObject metrics = event.value(QStringLiteral("metrics")).toObject();
    QString value = valueText(event.value(QStringLiteral("value")).toDouble(std::nan("")));
    if (epochs > 0)
        value += QStringLiteral(" after %1 epoch(s)").arg(epochs);
    if (metrics.value(QStringLiteral("feasible")) == QJsonValue(false))
        value += QStringLiteral(" (breaks a constraint)");
    const QString message = event.value(QStringLiteral("message")).toString();
    return QStringLiteral("trial %1 %2: %3  %4")
        .arg(QString::number(event.value(QStringLiteral("trial")).toInt()),
             event.value(QStringLiteral("status")).toString(), value,
             message.isEmpty() ? paramsText(event.value(QStringLiteral("params")).toObject())
                               : message);
}

qint64 sweepIdFrom(const QString &text)
{
    bool ok = false;
    const qint64 id = text.toLongLong(&ok);
    if (!ok || id <= 0)
        throw ms::Error(QStringLiteral("\"%1\" is not a sweep id (a number; `modelstudio-cli "
                                       "sweeps` lists them).").arg(text));
    return id;
}

// sweep show ID: the trials as a table sorted by the first objective, best first; a column per
// objective, whether each keeps the constraints, and the Pareto front for several objectives.
int showSweep(const QString &workspace, qint64 id, bool json)
{
    ms::Registry registry(workspace);
    const ms::SweepRecord sweep = registry.sweep(id);
    std::optional<ms::SweepSpec> spec;
    std::vector<ms::ParamImportance> importance;
    try {
        spec = ms::SweepSpec::fromJson(sweep.spec);
        importance = ms::parameterImportance(*spec, sweep.trials);
    } catch (const ms::Error &) {
        // A spec this studio no longer accepts (a removed architecture): the trials still show.
    }
    QSet<int> front;
    std::optional<ms::TrialRecord> best;
    if (spec && spec->hasSeveralObjectives()) {
        for (const ms::TrialRecord &t : ms::paretoFront(*spec, sweep.trials))
            front.insert(t.number);
    } else if (spec) {
        best = ms::bestTrial(*spec, sweep.trials);
    }
    if (json) {
        QJsonObject out = sweep.toJson();
        QJsonArray shares;
        for (const ms::ParamImportance &p : importance)
            shares.append(QJsonObject{{QStringLiteral("param"), p.path},
                                      {QStringLiteral("importance"), p.importance}});
        out.insert(QStringLiteral("importance"), shares);
        if (spec && spec->hasSeveralObjectives()) {
            QJsonArray numbers;
            for (const ms::TrialRecord &t : ms::paretoFront(*spec, sweep.trials))
                numbers.append(t.number);
            out.insert(QStringLiteral("pareto"), numbers);
        } else if (best) {
            out.insert(QStringLiteral("best"), best->number);
        }
        printJsonLine(out);
        return Ok;
    }
    std::vector<ms::SweepObjective> objectives;
    if (spec)
        objectives = spec->objectives;
    else
        objectives.push_back(ms::SweepObjective{
            sweep.spec.value(QStringLiteral("objective")).toObject()
                .value(QStringLiteral("metric")).toString(), true, 1});
    const ms::SweepObjective first = objectives.front();
    QVector<ms::TrialRecord> trials = sweep.trials;
    std::stable_sort(trials.begin(), trials.end(),
                     [&first](const ms::TrialRecord &a, const ms::TrialRecord &b) {
                         const double va = ms::metricValue(a, first.metric);
                         const double vb = ms::metricValue(b, first.metric);
                         if (std::isnan(va) != std::isnan(vb))
                             return std::isnan(vb);
                         return first.maximize ? va > vb : va < vb;
                     });
    printLine(QStringLiteral("sweep %1 \"%2\": %3, %4 trials")
                  .arg(QString::number(sweep.id), sweep.name, sweep.status,
                       QString::number(sweep.trials.size())));
    const bool constrained = spec && !spec->constraints.empty();
    QStringList columns;   // the objectives, then the constrained metrics
    for (const ms::SweepObjective &o : objectives)
        columns << o.metric;
    if (spec)
        for (const ms::SweepConstraint &c : spec->constraints)
            if (!columns.contains(c.metric))
                columns << c.metric;
    QStringList header{QStringLiteral("trial"), QStringLiteral("status")};
    header << columns;
    if (constrained)
        header << QStringLiteral("feasible");
    if (!front.isEmpty())
        header << QStringLiteral("front");
    header << QStringLiteral("epochs") << QStringLiteral("run") << QStringLiteral("params");
    QList<QStringList> rows;
    for (const ms::TrialRecord &t : trials) {
        QStringList row{QString::number(t.number), t.status};
        for (const QString &metric : columns)
            row << valueText(ms::metricValue(t, metric));
        if (constrained)
            row << (!t.metrics.contains(QStringLiteral("feasible")) ? QStringLiteral("-")
                    : t.metrics.value(QStringLiteral("feasible")).toBool() ? QStringLiteral("yes")
                                                                          : QStringLiteral("no"));
        if (!front.isEmpty())
            row << (front.contains(t.number) ? QStringLiteral("*") : QString());
        row << QString::number(t.epochs)
            << (t.runId ? QString::number(t.runId) : QStringLiteral("-"))
            << (t.message.isEmpty() ? paramsText(t.params) : t.message);
        rows << row;
    }
    printLine(table(header, rows));
    if (best)
        printLine(QStringLiteral("best: trial %1").arg(best->number));
    QStringList shares;
    for (const ms::ParamImportance &p : importance)
        shares << QStringLiteral("%1 %2 %").arg(p.path,
                                                QString::number(100.0 * p.importance, 'f', 0));
    printLine(shares.isEmpty()
                  ? QStringLiteral("parameter importance: after %1 finished trials whose "
                                   "objective differs")
                        .arg(ms::importanceMinTrials())
                  : QStringLiteral("parameter importance: ") + shares.join(QStringLiteral(", ")));
    return Ok;
}

int listSweeps(const QString &workspace, bool json)
{
    ms::Registry registry(workspace);
    const QVector<ms::SweepRecord> sweeps = registry.sweeps();
    if (json) {
        QJsonArray list;
        for (const ms::SweepRecord &s : sweeps)
            list.append(s.toJson());
        printJsonLine({{QStringLiteral("sweeps"), list}});
        return Ok;
    }
    QList<QStringList> rows;
    for (const ms::SweepRecord &s : sweeps)
        rows << QStringList{QString::number(s.id), s.name, s.status,
                            s.started.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm"))};
    printLine(table({QStringLiteral("id"), QStringLiteral("name"), QStringLiteral("status"),
                     QStringLiteral("started")},
                    rows));
    return Ok;
}

// Prints each trial as it ends (a line, or JSON with --json) and the summary at the end.
int runSweepJob(std::unique_ptr<ms::SweepJob> job, bool json)
{
    const bool showBar = !json && isTerminal(stderr);
    const ms::JobResult result = runJob(
        std::move(job), showBar,
        [json](const QJsonObject &event) {
            const QString kind = event.value(QStringLiteral("event")).toString();
            if (kind == QLatin1String("trial")) {
                if (json)
                    printJsonLine(event);
                else
                    printLine(trialLine(event));
            } else if (kind == QLatin1String("sweep") && json) {
                printJsonLine(event);   // the sweep's id, for --resume, before any trial ends
            } else if (kind == QLatin1String("sweep")) {
                printLine(QStringLiteral("sweep %1: %2 trials, %3 at a time")
                              .arg(event.value(QStringLiteral("sweep")).toInteger())
                              .arg(event.value(QStringLiteral("trials")).toInt())
                              .arg(event.value(QStringLiteral("parallel")).toInt()));
            }
        },
        true);
    QJsonObject end = result.output;
    end.insert(QStringLiteral("event"), QStringLiteral("finished"));
    end.insert(QStringLiteral("status"), ms::jobStatusName(result.status));
    if (!result.message.isEmpty())
        end.insert(QStringLiteral("error"), result.message);
    if (json) {
        printJsonLine(end);
    } else if (result.status == ms::JobStatus::Finished
               && end.contains(QStringLiteral("pareto"))) {
        QStringList points;
        for (const QJsonValue &p : end.value(QStringLiteral("pareto")).toArray()) {
            const QJsonObject values = p.toObject().value(QStringLiteral("values")).toObject();
            QStringList parts;
            for (auto it = values.begin(); it != values.end(); ++it)
                parts << it.key() + QLatin1Char(' ') + valueText(it.value().toDouble());
            points << QStringLiteral("trial %1 (%2)")
                          .arg(QString::number(p.toObject().value(QStringLiteral("trial")).toInt()),
                               parts.join(QStringLiteral(", ")));
        }
        printLine(QStringLiteral("Pareto front: %1; `sweep register ID --trial N` makes one a "
                                 "version").arg(points.join(QStringLiteral("; "))));
    } else if (result.status == ms::JobStatus::Finished) {
        const QJsonObject best = end.value(QStringLiteral("best")).toObject();
        printLine(QStringLiteral("best: trial %1, %2 (%3)%4; %5 trial-epochs in %6 s")
                      .arg(best.value(QStringLiteral("trial")).toInt())
                      .arg(valueText(best.value(QStringLiteral("value")).toDouble()))
                      .arg(paramsText(best.value(QStringLiteral("params")).toObject()))
                      .arg(best.contains(QStringLiteral("version"))
                               ? QStringLiteral(", registered as ")
                                     + best.value(QStringLiteral("version")).toString()
                               : QString())
                      .arg(end.value(QStringLiteral("trial_epochs")).toInt())
                      .arg(end.value(QStringLiteral("wall_s")).toDouble(), 0, 'f', 1));
    }
    switch (result.status) {
    case ms::JobStatus::Finished: return Ok;
    case ms::JobStatus::Cancelled: return fail(result.message, interruptExitCode());
    default: return fail(result.message);
    }
}

int runSweep(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addOption({QStringLiteral("config"), QStringLiteral("The sweep file (JSON)."),
                      QStringLiteral("SWEEP.json")});
    parser.addOption({QStringLiteral("trials"), QStringLiteral("Trials (overrides the file)."),
                      QStringLiteral("N")});
    parser.addOption({QStringLiteral("parallel"),
                      QStringLiteral("Trials at a time (overrides the file)."),
                      QStringLiteral("P")});
    parser.addOption({QStringLiteral("resume"),
                      QStringLiteral("Continue sweep ID (stopped or killed) without repeating "
                                     "its finished trials."),
                      QStringLiteral("ID")});
    parser.addOption({QStringLiteral("no-register"),
                      QStringLiteral("Do not register the best trial as a version.")});
    int code = Ok;
    if (!parse(parser, QStringLiteral("sweep"),
               QStringLiteral("Search training or compression settings: trials proposed by a "
                              "sampler, each a training run (or a compression of one version), "
                              "stopped early when they fall behind.\n"
                              "  sweep --config SWEEP.json      start a sweep\n"
                              "  sweep --resume ID              continue one\n"
                              "  sweep show ID                  its trials, best first\n"
                              "  sweep register ID [--trial N]  a trial as a version"),
               arguments, &code))
        return code;
    if (!parser.positionalArguments().isEmpty())
        return fail(QStringLiteral("unexpected argument \"%1\". See: modelstudio-cli sweep "
                                   "--help").arg(parser.positionalArguments().first()),
                    Usage);
    const QString workspace = ms::Workspace::resolve(parser.value(QStringLiteral("workspace")));
    const QString cliPath = QCoreApplication::applicationFilePath();
    std::unique_ptr<ms::SweepJob> job;
    try {
        if (parser.isSet(QStringLiteral("resume"))) {
            job.reset(ms::SweepJob::resume(
                workspace, sweepIdFrom(parser.value(QStringLiteral("resume"))), cliPath));
        } else {
            if (!parser.isSet(QStringLiteral("config")))
                return fail(QStringLiteral("give the sweep file: --config SWEEP.json (or "
                                           "--resume ID)."),
                            Usage);
            QJsonObject file = ms::TrainConfig::readSpecFile(parser.value(QStringLiteral("config")));
            for (const char *key : {"trials", "parallel"}) {
                if (parser.isSet(QLatin1String(key))) {
                    bool ok = false;
                    const int n = parser.value(QLatin1String(key)).toInt(&ok);
                    if (!ok)
                        return fail(QStringLiteral("--%1 takes a whole number.")
                                        .arg(QLatin1String(key)), Usage);
                    file.insert(QLatin1String(key), n);
                }
            }
            job = std::make_unique<ms::SweepJob>(workspace, ms::SweepSpec::fromJson(file), cliPath);
        }
    } catch (const ms::Error &e) {
        return fail(e.message(), Usage);
    }
    job->setRegisterBest(!parser.isSet(QStringLiteral("no-register")));
    return runSweepJob(std::move(job), parser.isSet(QStringLiteral("json")));
}

// sweep show ID / sweep register ID [--trial N]: verbs under "sweep" with their own options.
int runSweepVerb(const QString &verb, const QStringList &arguments)
{
    QCommandLineParser parser;
    if (verb == QLatin1String("register"))
        parser.addOption({QStringLiteral("trial"),
                          QStringLiteral("The trial to register (default: the best)."),
                          QStringLiteral("N")});
    int code = Ok;
    if (!parse(parser, QStringLiteral("sweep ") + verb,
               verb == QLatin1String("show")
                   ? QStringLiteral("A sweep's trials as a table, best first.")
                   : QStringLiteral("Register a trial of a sweep (the best by default) as a "
                                    "version of a model named after the sweep."),
               arguments, &code))
        return code;
    if (parser.positionalArguments().size() != 1)
        return fail(QStringLiteral("give one sweep id: modelstudio-cli sweep %1 ID").arg(verb),
                    Usage);
    const QString workspace = ms::Workspace::resolve(parser.value(QStringLiteral("workspace")));
    const bool json = parser.isSet(QStringLiteral("json"));
    const qint64 id = sweepIdFrom(parser.positionalArguments().first());
    if (verb == QLatin1String("show"))
        return showSweep(workspace, id, json);
    int trial = -1;
    if (parser.isSet(QStringLiteral("trial"))) {
        bool ok = false;
        trial = parser.value(QStringLiteral("trial")).toInt(&ok);
        if (!ok || trial < 0)
            return fail(QStringLiteral("--trial takes a trial number (0 or more)."), Usage);
    }
    const ms::VersionRecord version = ms::registerSweepTrial(workspace, id, trial);
    if (json)
        printJsonLine({{QStringLiteral("version"), version.ref()},
                       {QStringLiteral("version_id"), version.id}});
    else
        printLine(QStringLiteral("registered %1").arg(version.ref()));
    return Ok;
}

} // namespace

QList<Command> sweepCommands()
{
    return {
        {QStringLiteral("sweep"),
         QStringLiteral("Search hyperparameters: sweep --config FILE, --resume ID, show ID, "
                        "register ID"),
         [](const QStringList &arguments) {
             // arguments[0] is the verb itself, then global options (--workspace DIR, --json)
             // and the verb's own: the first bare word is the sub-verb, if any.
             static const QStringList takesValue = {
                 QStringLiteral("--workspace"), QStringLiteral("--config"),
                 QStringLiteral("--trials"), QStringLiteral("--parallel"),
                 QStringLiteral("--resume"), QStringLiteral("--trial")};
             for (qsizetype i = 1; i < arguments.size(); ++i) {
                 const QString &a = arguments.at(i);
                 if (takesValue.contains(a)) {
                     ++i;
                 } else if (a == QLatin1String("show") || a == QLatin1String("register")) {
                     QStringList rest = arguments;
                     rest.removeAt(i);
                     return runSweepVerb(a, rest);
                 } else if (!a.startsWith(QLatin1Char('-'))) {
                     break;
                 }
             }
             return runSweep(arguments);
         }},
        {QStringLiteral("sweeps"), QStringLiteral("List the workspace's sweeps"),
         [](const QStringList &arguments) {
             QCommandLineParser parser;
             int code = Ok;
             if (!parse(parser, QStringLiteral("sweeps"),
                        QStringLiteral("List the workspace's sweeps, newest first."), arguments,
                        &code))
                 return code;
             return listSweeps(ms::Workspace::resolve(parser.value(QStringLiteral("workspace"))),
                               parser.isSet(QStringLiteral("json")));
         }},
    };
}

} // namespace cli
