#include "optimize/SweepJob.h"

#include "bench/BenchmarkJob.h"
#include "common/Error.h"
#include "common/Names.h"
#include "jobs/JobContext.h"
#include "models/Model.h"
#include "optimize/EarlyStop.h"
#include "optimize/Sampler.h"
#include "optimize/SweepResults.h"
#include "registry/Registry.h"
#include "registry/RunRecorder.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <limits>
#include <map>
#include <memory>
#include <optional>

#include <signal.h>
#include <sys/prctl.h>

namespace ms {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// A trial asked to stop (pruned, or the sweep cancelled) gets this long to record its run as
// cancelled before it is killed.
constexpr int kStopGrace_ms = 15000;

bool isDone(const QString &status)
{
    return status != QLatin1String("running");
}

// One trial's child process and what it has said so far.
struct Trial
{
    TrialRecord record;
    std::unique_ptr<QProcess> process;
    QByteArray pending;          // stdout not yet split into lines
    QByteArray errorTail;        // the end of stderr, for a failure's message
    QString runDir;
    QJsonObject end;             // the "finished" event
    QJsonObject lastEpoch;       // a training trial's last "epoch" event
    bool pruned = false;
    QElapsedTimer stopAsked;     // valid once asked to stop
    // Where a trial's time goes: from its launch to its process's end, against the epochs'
    // training and scoring it reports; the rest (what of the process start and the data read
    // the warm process had not done yet, registry and checkpoint writes) is the sweep's
    // overhead per trial (bench/sweep_bench.py).
    QElapsedTimer started;
    double trainSeconds = 0.0;
    double scoreSeconds = 0.0;
    bool warm = false;            // ran in the sweep's warm process (startSpare)
    bool dataReadAhead = false;   // which had read its data (the "start" event says)
};

// The sweep's event loop on the job's thread: launches trials, reads their events, decides
// early stops, records everything, and stops when every trial is done or the job is cancelled.
class SweepDriver
{
public:
    SweepDriver(JobContext &context, Registry &registry, const SweepSpec &spec, qint64 sweepId,
                QString workspace, QString cli)
        : m_context(context), m_registry(registry), m_spec(spec), m_sweepId(sweepId),
          m_workspace(std::move(workspace)), m_cli(std::move(cli)),
          m_sampler(makeSampler(spec)), m_stopper(spec.earlyStop, trainEpochs(spec))
    {
        m_total = spec.sampler == QLatin1String("grid")
                      ? int(std::min<qint64>(spec.trials, spec.gridSize()))
                      : spec.trials;
        m_threads = spec.threads > 0
                        ? spec.threads
                        : std::max(1, QThread::idealThreadCount() / std::max(1, spec.parallel));
    }

    // Earlier trials of this sweep (resume): the finished ones teach the sampler and the
    // stopper; the ones that were running are run again.
    void replay(const QVector<TrialRecord> &earlier)
    {
        for (const TrialRecord &t : earlier) {
            if (!isDone(t.status))
                continue;
            for (int e = 0; e < t.curve.size(); ++e)
                m_stopper.report(t.number, e + 1, score(t.curve.at(e).toDouble(kNaN)));
            if (t.status == QLatin1String("finished"))
                m_stopper.finished(t.number);
            m_sampler->tell(t.number, t.params, samplerScore(t));
            m_done.push_back(t);
        }
    }

    JobStatus run()
    {
        if (m_total < m_spec.trials)
            m_context.log(QStringLiteral("The grid has %1 points: running %1 trials, not %2.")
                              .arg(m_total).arg(m_spec.trials));
        for (int n = 0; n < m_total; ++n)
            if (!doneTrial(n))
                m_todo.push_back(n);
        if (!m_trialDir.isValid())
            throw Error(QStringLiteral("Cannot create a temporary folder for the trials' specs."));
        // A warm process reads the data ahead, unless the search changes what is read (no
        // trial could then take the copy).
        static const QStringList readKeys{
            QStringLiteral("dataset"), QStringLiteral("limit"),
            QStringLiteral("validation_fraction"), QStringLiteral("seed"),
            QStringLiteral("label_column"), QStringLiteral("text_column")};
        bool searchesData = false;
        for (const ParamDomain &d : m_spec.space)
            searchesData = searchesData || readKeys.contains(d.path);
        if (!m_spec.isCompression() && !searchesData)
            m_preloadPath = writeSpec(QStringLiteral("preload.json"), m_spec.trialSpec({}));
        QTimer tick;
        QObject::connect(&tick, &QTimer::timeout, &m_loop, [this] { step(); });
        tick.start(50);
        step();
        if (!m_todo.empty() || !m_running.empty())
            m_loop.exec();
        m_spares.clear();   // waiting on their stdin: killed, they lose nothing
        return m_context.isCancelled() ? JobStatus::Cancelled : JobStatus::Finished;
    }

    // A compression search's source, timed as its trials are (speedup = source / trial).
    void setSourceLatency(double latency_ms) { m_sourceLatency_ms = latency_ms; }

    const std::vector<TrialRecord> &done() const { return m_done; }
    int trialEpochs() const
    {
        int sum = 0;
        for (const TrialRecord &t : m_done)
            sum += t.epochs;
        return sum;
    }
    double score(double value) const { return m_spec.objective.maximize ? value : -value; }

    // What the sampler is told. dlib needs a number for every answered request, so a trial
    // that breaks a constraint is told a score below every trial that kept them so far, lower
    // the more it breaks them (the penalty method): the search learns to leave that region.
    double samplerScore(const TrialRecord &t)
    {
        const double s = score(t.value);
        if (std::isnan(s) || m_spec.constraints.empty() || t.status != QLatin1String("finished"))
            return s;
        const double violation = constraintViolation(m_spec, t.metrics);
        if (violation == 0.0) {
            m_worstFeasible = std::min(m_worstFeasible, s);
            return s;
        }
        const double floor = std::min(s, m_worstFeasible);
        return floor - (std::abs(floor) + 1.0) * violation;
    }

private:
    static int trainEpochs(const SweepSpec &spec)
    {
        return spec.train.value(QStringLiteral("epochs")).toInt(3);
    }

    bool doneTrial(int number) const
    {
        for (const TrialRecord &t : m_done)
            if (t.number == number)
                return true;
        return false;
    }

    // Called every 50 ms and after each event: start what may start, follow pause/cancel.
    void step()
    {
        const bool cancelled = m_context.isCancelled();
        if (cancelled) {
            for (auto &[number, trial] : m_running)
                stop(*trial);
        } else {
            followPause();
            while (!m_paused && int(m_running.size()) < m_spec.parallel && !m_todo.empty()) {
                launch(m_todo.front());
                m_todo.erase(m_todo.begin());
            }
            // One per slot: trials running side by side often end close together, and a
            // spare started a moment ago has not finished starting yet.
            while (!m_paused && m_spares.size() < std::min<size_t>(size_t(m_spec.parallel),
                                                                   m_todo.size()))
                startSpare();
        }
        if (cancelled)
            m_spares.clear();
        for (auto &[number, trial] : m_running) {
            if (trial->stopAsked.isValid() && trial->stopAsked.elapsed() > kStopGrace_ms)
                trial->process->kill();
        }
        m_context.setProgress(double(m_done.size()) / double(std::max(1, m_total)),
                              QStringLiteral("%1 of %2 trials done, %3 running")
                                  .arg(m_done.size()).arg(m_total).arg(m_running.size()));
        if (m_running.empty() && (m_todo.empty() || cancelled))
            m_loop.quit();
    }

    // A paused sweep pauses its trials too (SIGSTOP), and starts no new one.
    void followPause()
    {
        const bool paused = m_context.isPaused();
        if (paused == m_paused)
            return;
        m_paused = paused;
        for (auto &[number, trial] : m_running)
            ::kill(pid_t(trial->process->processId()), paused ? SIGSTOP : SIGCONT);
        for (const std::unique_ptr<QProcess> &spare : m_spares)
            if (spare->processId() > 0)
                ::kill(pid_t(spare->processId()), paused ? SIGSTOP : SIGCONT);
    }

    // A coming trial's process, started now so that LibTorch's start-up and (a training
    // sweep) the read of its data happen while the running trials train, off the next trial's
    // clock: `modelstudio-cli --spare` waits for its command line on stdin (app/cli/main.cpp).
    // Each trial is still a process of its own, so a crash still ends one trial only.
    void startSpare()
    {
        std::unique_ptr<QProcess> spare = childProcess();
        QStringList arguments{QStringLiteral("--spare"), QStringLiteral("--workspace"),
                              m_workspace};
        if (!m_preloadPath.isEmpty())
            arguments << QStringLiteral("--preload") << m_preloadPath;
        spare->start(m_cli, arguments);
        m_spares.push_back(std::move(spare));
    }

    // A trial's process, warm or cold: it dies with the sweep (a sweep killed with SIGKILL
    // leaves no orphan training on: resume runs the trial again).
    static std::unique_ptr<QProcess> childProcess()
    {
        auto process = std::make_unique<QProcess>();
        process->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
        return process;
    }

    // The oldest spare (the likeliest to be ready), given its trial's command line; null when
    // there is none still running (it could not start or has ended: the trial starts a
    // process of its own).
    std::unique_ptr<QProcess> takeSpare(const QStringList &arguments)
    {
        while (!m_spares.empty()) {
            std::unique_ptr<QProcess> spare = std::move(m_spares.front());
            m_spares.erase(m_spares.begin());
            // One that could not start emits errorOccurred but never finished: a trial given
            // to it would wait for ever.
            if (spare->state() == QProcess::NotRunning
                || (spare->state() == QProcess::Starting && !spare->waitForStarted(30000)))
                continue;
            const QByteArray line = QJsonDocument(QJsonArray::fromStringList(arguments))
                                        .toJson(QJsonDocument::Compact)
                                    + '\n';
            if (spare->write(line) != line.size())
                continue;
            spare->closeWriteChannel();
            return spare;
        }
        return nullptr;
    }

    void stop(Trial &trial)
    {
        if (trial.stopAsked.isValid())
            return;
        trial.stopAsked.start();
        if (m_paused)
            ::kill(pid_t(trial.process->processId()), SIGCONT);
        trial.process->terminate();   // the train verb stops at its next step and records it
    }

    void launch(int number)
    {
        auto trial = std::make_unique<Trial>();
        trial->record.number = number;
        trial->record.params = m_sampler->ask(number);
        QStringList arguments = m_spec.isCompression()
                                    ? m_spec.compressArguments(trial->record.params)
                                    : trainArguments(number, trial->record.params);
        arguments << QStringLiteral("--json") << QStringLiteral("--threads")
                  << QString::number(m_threads) << QStringLiteral("--workspace") << m_workspace;
        m_registry.saveTrial(m_sweepId, trial->record);

        trial->process = takeSpare(arguments);
        const bool warm = trial->process != nullptr;
        trial->warm = warm;
        if (!warm)
            trial->process = childProcess();
        QProcess *process = trial->process.get();
        Trial *t = trial.get();
        QObject::connect(process, &QProcess::readyReadStandardOutput, &m_loop,
                         [this, t] { readOutput(*t); });
        QObject::connect(process, &QProcess::readyReadStandardError, &m_loop, [t] {
            t->errorTail = (t->errorTail + t->process->readAllStandardError()).right(2000);
        });
        QObject::connect(process, &QProcess::finished, &m_loop,
                         [this, number](int code, QProcess::ExitStatus) { ended(number, code); });
        if (!warm)
            process->start(m_cli, arguments);
        t->started.start();
        m_running.emplace(number, std::move(trial));
        if (!warm && !process->waitForStarted(30000)) {
            Trial &failed = *m_running.at(number);
            failed.record.status = QStringLiteral("failed");
            failed.record.message = QStringLiteral("could not start %1: %2")
                                        .arg(m_cli, process->errorString());
            finish(number);
        }
    }

    // `train --config FILE --no-register`, the trial's spec written to FILE.
    QStringList trainArguments(int number, const QJsonObject &params)
    {
        const QString specPath = writeSpec(QStringLiteral("trial-%1.json").arg(number),
                                           m_spec.trialSpec(params));
        QStringList arguments{QStringLiteral("train"), QStringLiteral("--config"), specPath,
                              QStringLiteral("--no-register")};
        // The test split is scored once, at the end, unless the sweep judges trials by it.
        if (!needs(QStringLiteral("test_acc")))
            arguments << QStringLiteral("--test-at-end");
        return arguments;
    }

    QString writeSpec(const QString &name, const QJsonObject &spec)
    {
        const QString path = m_trialDir.filePath(name);
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)
            || file.write(QJsonDocument(spec).toJson()) < 0)
            throw Error(QStringLiteral("Cannot write %1: %2").arg(path, file.errorString()));
        return path;
    }

    void readOutput(Trial &trial)
    {
        trial.pending += trial.process->readAllStandardOutput();
        qsizetype newline;
        while ((newline = trial.pending.indexOf('\n')) >= 0) {
            const QByteArray line = trial.pending.left(newline);
            trial.pending.remove(0, newline + 1);
            const QJsonObject event = QJsonDocument::fromJson(line).object();
            const QString kind = event.value(QStringLiteral("event")).toString();
            if (kind == QLatin1String("start")) {
                trial.runDir = event.value(QStringLiteral("run_dir")).toString();
                trial.dataReadAhead = event.value(QStringLiteral("data_read_ahead")).toBool();
            }
            else if (kind == QLatin1String("epoch") && !m_spec.isCompression())
                epoch(trial, event);
            else if (kind == QLatin1String("finished"))
                trial.end = event;
        }
    }

    void epoch(Trial &trial, const QJsonObject &event)
    {
        const int epoch = event.value(QStringLiteral("epoch")).toInt();
        trial.lastEpoch = event;
        trial.trainSeconds += event.value(QStringLiteral("epoch_s")).toDouble();
        trial.scoreSeconds += event.value(QStringLiteral("score_s")).toDouble();
        if (!SweepSpec::epochMetrics().contains(m_spec.objective.metric)) {
            trial.record.epochs = epoch;   // the objective is measured once the trial ends
            return;
        }
        const double value = event.value(m_spec.objective.metric).toDouble(kNaN);
        trial.record.curve.append(value);
        trial.record.epochs = epoch;
        trial.record.value = value;
        m_registry.saveTrial(m_sweepId, withRun(trial));
        m_context.report({{QStringLiteral("event"), QStringLiteral("trial_epoch")},
                          {QStringLiteral("trial"), trial.record.number},
                          {QStringLiteral("epoch"), epoch},
                          {QStringLiteral("value"), value}});
        if (!trial.stopAsked.isValid() && m_stopper.report(trial.record.number, epoch, score(value))) {
            trial.pruned = true;
            stop(trial);
        }
    }

    TrialRecord withRun(const Trial &trial) const
    {
        TrialRecord r = trial.record;
        QString name;
        qint64 runId = 0;
        if (r.runId == 0 && !trial.runDir.isEmpty() && RunRecorder::readRunFile(trial.runDir, &name, &runId))
            r.runId = runId;
        return r;
    }

    void ended(int number, int exitCode)
    {
        Trial &trial = *m_running.at(number);
        // The process's life (started in launch(), before it could end), taken before the
        // sweep's own work on it (timing its model).
        const double wall_s = trial.started.elapsed() / 1000.0;
        readOutput(trial);
        trial.record = withRun(trial);
        const QString endStatus = trial.end.value(QStringLiteral("status")).toString();
        if (trial.pruned) {
            trial.record.status = QStringLiteral("pruned");
        } else if (endStatus == QLatin1String("finished")) {
            try {
                trial.record.metrics = measured(trial);
                trial.record.value = metricValue(trial.record, m_spec.objective.metric);
                trial.record.status = QStringLiteral("finished");
                m_stopper.finished(number);
            } catch (const Error &e) {
                trial.record.status = QStringLiteral("failed");
                trial.record.value = kNaN;
                trial.record.message = e.message();
            }
        } else if (m_context.isCancelled()) {
            // Stopped with the sweep: run again on resume.
            forget(number);
            step();
            return;
        } else {
            trial.record.status = endStatus == QLatin1String("diverged")
                                      ? QStringLiteral("diverged") : QStringLiteral("failed");
            trial.record.value = kNaN;
            const QString error = trial.end.value(QStringLiteral("error")).toString();
            const QString stderrLast = QString::fromUtf8(trial.errorTail).trimmed()
                                           .split(QLatin1Char('\n')).last();
            trial.record.message = !error.isEmpty() ? error
                                   : !stderrLast.isEmpty() ? stderrLast
                                   : QStringLiteral("the trial's process ended with code %1")
                                         .arg(exitCode);
        }
        trial.record.metrics.insert(QStringLiteral("wall_s"), wall_s);
        trial.record.metrics.insert(QStringLiteral("warm_start"), trial.warm);
        if (!m_spec.isCompression()) {   // a compression reports no epochs
            trial.record.metrics.insert(QStringLiteral("train_s"), trial.trainSeconds);
            trial.record.metrics.insert(QStringLiteral("score_s"), trial.scoreSeconds);
            trial.record.metrics.insert(QStringLiteral("data_read_ahead"), trial.dataReadAhead);
        }
        finish(number);
    }

    bool needs(const QString &metric) const
    {
        for (const SweepObjective &o : m_spec.objectives)
            if (o.metric == metric)
                return true;
        for (const SweepConstraint &c : m_spec.constraints)
            if (c.metric == metric)
                return true;
        return false;
    }

    // What a finished trial measured: a training's last epoch metrics or a compression's test
    // accuracy, and its model's size, parameters and (when an objective or constraint asks)
    // latency, timed by `bench`'s code at the objective's batch on one thread. The latency is
    // the thread's CPU time per pass (its median): parallel trials and other programs share
    // the cores while it is timed, and wall time would rank variants by who was busy then.
    QJsonObject measured(const Trial &trial) const
    {
        QJsonObject m;
        if (m_spec.isCompression()) {
            const QJsonObject r = trial.end.value(QStringLiteral("metrics")).toObject();
            for (const char *key : {"test_acc", "parameters", "source_test_acc"})
                if (r.contains(QLatin1String(key)))
                    m.insert(QLatin1String(key), r.value(QLatin1String(key)));
            if (r.contains(QStringLiteral("test_acc_delta")))
                m.insert(QStringLiteral("test_acc_drop"),
                         -r.value(QStringLiteral("test_acc_delta")).toDouble());
            m.insert(QStringLiteral("method"), m_spec.compressMethod(trial.record.params));
        } else {
            for (const QString &key : SweepSpec::epochMetrics())
                if (trial.lastEpoch.value(key).isDouble())
                    m.insert(key, trial.lastEpoch.value(key));
        }
        const QString model = trial.end.value(QStringLiteral("model_path")).toString();
        if (!model.isEmpty() && QFileInfo::exists(model)) {
            m.insert(QStringLiteral("size_bytes"), QFileInfo(model).size());
            if (m_spec.needsLatency()) {
                int batch = 1;
                for (const SweepObjective &o : m_spec.objectives)
                    if (o.metric == QLatin1String("latency_ms")
                        || o.metric == QLatin1String("speedup"))
                        batch = o.batch;
                const QJsonObject timing = benchmarkModelFile(model, batch, 1);
                const double latency_ms = timing.value(QStringLiteral("cpu_p50_ms")).toDouble();
                m.insert(QStringLiteral("latency_ms"), latency_ms);
                m.insert(QStringLiteral("parameters"), timing.value(QStringLiteral("parameters")));
                if (m_sourceLatency_ms > 0 && latency_ms > 0)
                    m.insert(QStringLiteral("speedup"), m_sourceLatency_ms / latency_ms);
            } else if (needs(QStringLiteral("parameters"))
                       && !m.contains(QStringLiteral("parameters"))) {
                m.insert(QStringLiteral("parameters"), Model::load(model).parameterCount());
            }
        }
        if (!m_spec.constraints.empty())
            m.insert(QStringLiteral("feasible"), constraintViolation(m_spec, m) == 0.0);
        return m;
    }

    void finish(int number)
    {
        Trial &trial = *m_running.at(number);
        m_sampler->tell(number, trial.record.params, samplerScore(trial.record));
        m_registry.saveTrial(m_sweepId, trial.record);
        QJsonObject event = trial.record.toJson();
        event.insert(QStringLiteral("event"), QStringLiteral("trial"));
        event.remove(QStringLiteral("curve"));
        m_context.report(event);
        m_done.push_back(trial.record);
        forget(number);
        step();
    }

    // Drops a trial whose process has ended. Called from that process's own signal: the
    // QProcess goes later, once the signal has returned.
    void forget(int number)
    {
        const auto it = m_running.find(number);
        QProcess *process = it->second->process.release();
        process->disconnect();
        process->deleteLater();
        m_running.erase(it);
    }

    JobContext &m_context;
    Registry &m_registry;
    const SweepSpec &m_spec;
    qint64 m_sweepId;
    QString m_workspace;
    QString m_cli;
    std::unique_ptr<Sampler> m_sampler;
    EarlyStopper m_stopper;
    int m_total = 0;
    int m_threads = 1;
    bool m_paused = false;
    double m_sourceLatency_ms = 0.0;
    double m_worstFeasible = std::numeric_limits<double>::infinity();
    QTemporaryDir m_trialDir;
    QString m_preloadPath;   // a training sweep's spec without the searched values
    std::vector<std::unique_ptr<QProcess>> m_spares;   // oldest first
    QEventLoop m_loop;
    std::vector<int> m_todo;
    std::map<int, std::unique_ptr<Trial>> m_running;
    std::vector<TrialRecord> m_done;
};

} // namespace

SweepJob::SweepJob(QString workspace, SweepSpec spec, QString cli)
    : m_workspace(std::move(workspace)), m_spec(std::move(spec)), m_cli(std::move(cli))
{}

SweepJob *SweepJob::resume(const QString &workspace, qint64 sweepId, const QString &cli)
{
    Registry registry(workspace);
    const SweepRecord record = registry.sweep(sweepId);
    // Opening the registry marks sweeps whose process is gone; a live one is refused.
    if (record.status == QLatin1String("running") && record.pid != 0
        && record.pid != QCoreApplication::applicationPid() && ::kill(pid_t(record.pid), 0) == 0)
        throw Error(QStringLiteral("Sweep %1 is still running (process %2); stop it first, or "
                                   "wait for it.").arg(sweepId).arg(record.pid));
    auto *job = new SweepJob(workspace, SweepSpec::fromJson(record.spec), cli);
    job->m_sweepId = sweepId;
    return job;
}

QString SweepJob::title() const
{
    return QStringLiteral("Sweep %1").arg(m_spec.name);
}

JobResult SweepJob::run(JobContext &context)
{
    QElapsedTimer wall;
    wall.start();
    Registry registry(m_workspace);
    if (m_spec.isCompression())
        registry.resolve(m_spec.compress.source);   // an unknown source: refused before a trial
    QVector<TrialRecord> earlier;
    if (m_sweepId != 0) {
        earlier = registry.sweep(m_sweepId).trials;
        registry.reopenSweep(m_sweepId);
    } else {
        m_sweepId = registry.startSweep(m_spec.name, m_spec.toJson());
    }
    context.report({{QStringLiteral("event"), QStringLiteral("sweep")},
                    {QStringLiteral("sweep"), m_sweepId},
                    {QStringLiteral("trials"), m_spec.trials},
                    {QStringLiteral("parallel"), m_spec.parallel},
                    {QStringLiteral("resumed_trials"), int(earlier.size())}});
    SweepDriver driver(context, registry, m_spec, m_sweepId, m_workspace, m_cli);
    if (m_spec.isCompression() && m_spec.needsLatency())
        driver.setSourceLatency(sourceLatency_ms(registry));
    driver.replay(earlier);
    const JobStatus status = driver.run();

    QVector<TrialRecord> all(driver.done().begin(), driver.done().end());
    QJsonObject out{{QStringLiteral("sweep"), m_sweepId},
                    {QStringLiteral("trials"), int(all.size())},
                    {QStringLiteral("trial_epochs"), driver.trialEpochs()},
                    {QStringLiteral("wall_s"), double(wall.elapsed()) / 1000.0}};
    if (status == JobStatus::Cancelled) {
        registry.finishSweep(m_sweepId, QStringLiteral("cancelled"));
        return {JobStatus::Cancelled,
                QStringLiteral("Sweep %1 stopped; `modelstudio-cli sweep --resume %1` continues "
                               "it.").arg(m_sweepId),
                out};
    }
    if (m_spec.hasSeveralObjectives())
        return finishFront(registry, all, out);
    const std::optional<TrialRecord> best = bestTrial(m_spec, all);
    if (!best) {
        registry.finishSweep(m_sweepId, QStringLiteral("failed"));
        return {JobStatus::Failed, noResultMessage(all), out};
    }
    QJsonObject bestJson{{QStringLiteral("trial"), best->number},
                         {QStringLiteral("value"), best->value},
                         {QStringLiteral("params"), best->params}};
    if (!best->metrics.isEmpty())
        bestJson.insert(QStringLiteral("metrics"), best->metrics);
    qint64 versionId = 0;
    if (m_registerBest) {
        const VersionRecord version = registerSweepTrial(m_workspace, m_sweepId, best->number);
        bestJson.insert(QStringLiteral("version"), version.ref());
        versionId = version.id;
    }
    out.insert(QStringLiteral("best"), bestJson);
    registry.finishSweep(m_sweepId, QStringLiteral("finished"), versionId);
    return {JobStatus::Finished, QString(), out};
}

double SweepJob::sourceLatency_ms(Registry &registry) const
{
    int batch = 1;
    for (const SweepObjective &o : m_spec.objectives)
        if (o.metric == QLatin1String("latency_ms") || o.metric == QLatin1String("speedup"))
            batch = o.batch;
    const VersionRecord source = registry.resolve(m_spec.compress.source);
    return benchmarkModelFile(registry.verifiedArtifactPath(source), batch, 1)
        .value(QStringLiteral("cpu_p50_ms")).toDouble();
}

QString SweepJob::noResultMessage(const QVector<TrialRecord> &trials) const
{
    int finished = 0;
    for (const TrialRecord &t : trials)
        finished += t.status == QLatin1String("finished") ? 1 : 0;
    if (finished > 0 && !m_spec.constraints.empty())
        return QStringLiteral("None of the %1 finished trials of sweep %2 keeps the constraints; "
                              "`modelstudio-cli sweep show %2` lists what each measured.")
            .arg(finished).arg(m_sweepId);
    return QStringLiteral("No trial of sweep %1 finished; `modelstudio-cli sweep show %1` lists "
                          "their errors.").arg(m_sweepId);
}

// Several objectives: the Pareto front, registered one by one by `sweep register --trial N`
// (which of its trade-offs a person wants is theirs to say).
JobResult SweepJob::finishFront(Registry &registry, const QVector<TrialRecord> &all,
                                QJsonObject out)
{
    const QVector<TrialRecord> front = paretoFront(m_spec, all);
    if (front.isEmpty()) {
        registry.finishSweep(m_sweepId, QStringLiteral("failed"));
        return {JobStatus::Failed, noResultMessage(all), out};
    }
    QJsonArray pareto;
    for (const TrialRecord &t : front) {
        QJsonObject values;
        for (const SweepObjective &o : m_spec.objectives)
            values.insert(o.metric, metricValue(t, o.metric));
        pareto.append(QJsonObject{{QStringLiteral("trial"), t.number},
                                  {QStringLiteral("values"), values},
                                  {QStringLiteral("params"), t.params}});
    }
    out.insert(QStringLiteral("pareto"), pareto);
    registry.finishSweep(m_sweepId, QStringLiteral("finished"));
    return {JobStatus::Finished, QString(), out};
}

namespace {

// A training trial's version: the run's recipe and last metrics, tagged with the sweep.
NewVersion trainedVersion(const Registry &registry, const SweepRecord &sweep, const RunRecord &run,
                          const QString &modelPath)
{
    const Model model = Model::load(modelPath);
    NewVersion version;
    version.modelName = modelNameFrom(sweep.name);
    version.modelDescription = QStringLiteral("Found by sweep \"%1\"").arg(sweep.name);
    version.kind = VersionKind::Trained;
    version.artifactPath = modelPath;
    version.recipe = run.spec;
    std::vector<qint64> inputShape{-1};
    const std::vector<qint64> sample = model.inputShape();
    inputShape.insert(inputShape.end(), sample.begin(), sample.end());
    version.inputs = {TensorSignature{QStringLiteral("input"), QStringLiteral("float32"), inputShape}};
    version.outputs = {TensorSignature{QStringLiteral("output"), QStringLiteral("float32"),
                                       {-1, qint64(model.classNames().size())}}};
    version.classNames = model.classNames();
    version.parameterCount = model.parameterCount();
    for (const QString &key : SweepSpec::epochMetrics()) {
        const QVector<MetricSample> points = registry.metrics(run.id, key);
        if (!points.isEmpty())
            version.metrics.insert(key, points.last().value);
    }
    return version;
}

// A compression trial's version: what its job would have registered (variant.json in the run
// folder, CompressJob's "register": false), a version of the source's model.
NewVersion compressedVersion(const Registry &registry, const RunRecord &run,
                             const QString &modelPath, const TrialRecord &trial)
{
    QFile file(QDir(run.runDir).filePath(QStringLiteral("variant.json")));
    if (!file.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("Trial %1's run folder %2 has no variant.json: %3.")
                        .arg(QString::number(trial.number), run.runDir, file.errorString()));
    const QJsonObject variant = QJsonDocument::fromJson(file.readAll()).object();
    const QJsonObject recipe = variant.value(QStringLiteral("recipe")).toObject();
    const VersionRecord source =
        registry.version(recipe.value(QStringLiteral("source_id")).toString().toLongLong());
    NewVersion version;
    version.modelName = source.modelName;
    version.modelDescription = variant.value(QStringLiteral("description")).toString();
    version.kind = versionKindFromName(variant.value(QStringLiteral("kind")).toString());
    version.artifactPath = modelPath;
    version.recipe = recipe;
    version.inputs = source.inputs;
    version.outputs = source.outputs;
    version.classNames = source.classNames;
    version.parameterCount = Model::load(modelPath).parameterCount();
    version.metrics = variant.value(QStringLiteral("metrics")).toObject();
    for (const char *key : {"latency_ms", "speedup", "size_bytes"})
        if (trial.metrics.contains(QLatin1String(key)))
            version.metrics.insert(QLatin1String(key), trial.metrics.value(QLatin1String(key)));
    for (const QJsonValue &p : variant.value(QStringLiteral("parents")).toArray()) {
        const QJsonObject parent = p.toObject();
        version.parents.append({parent.value(QStringLiteral("id")).toString().toLongLong(),
                                parent.value(QStringLiteral("role")).toString()});
    }
    return version;
}

} // namespace

VersionRecord registerSweepTrial(const QString &workspace, qint64 sweepId, int trial)
{
    Registry registry(workspace);
    const SweepRecord sweep = registry.sweep(sweepId);
    const SweepSpec spec = SweepSpec::fromJson(sweep.spec);
    std::optional<TrialRecord> chosen;
    if (trial < 0) {
        if (spec.hasSeveralObjectives())
            throw Error(QStringLiteral("Sweep %1 has several objectives: no trial is best. Pick one "
                                       "of its Pareto front (`modelstudio-cli sweep show %1`) with "
                                       "--trial N.").arg(sweepId));
        chosen = bestTrial(spec, sweep.trials);
    } else {
        for (const TrialRecord &t : sweep.trials)
            if (t.number == trial)
                chosen = t;
    }
    if (!chosen)
        throw Error(trial < 0 ? QStringLiteral("Sweep %1 has no finished trial to register.")
                                    .arg(sweepId)
                              : QStringLiteral("Sweep %1 has no trial %2.").arg(sweepId).arg(trial));
    if (chosen->status != QLatin1String("finished") && chosen->status != QLatin1String("pruned"))
        throw Error(QStringLiteral("Trial %1 of sweep %2 %3; only a trial that trained can be "
                                   "registered.").arg(chosen->number).arg(sweepId).arg(chosen->status));
    if (chosen->runId == 0)
        throw Error(QStringLiteral("Trial %1 of sweep %2 has no run left (removed by gc?).")
                        .arg(chosen->number).arg(sweepId));
    const RunRecord run = registry.run(chosen->runId);
    const QString modelPath = QDir(run.runDir).filePath(QStringLiteral("model.pt"));
    if (!QFileInfo::exists(modelPath))
        throw Error(QStringLiteral("The model file of trial %1 (%2) is gone; a pruned trial "
                                   "keeps none. Run the trial's recipe again with `train "
                                   "--config`.").arg(chosen->number).arg(modelPath));
    NewVersion version = spec.isCompression()
                             ? compressedVersion(registry, run, modelPath, *chosen)
                             : trainedVersion(registry, sweep, run, modelPath);
    version.runId = run.id;
    const VersionRecord record = registry.addVersion(version);
    registry.setTag(record.id, QStringLiteral("sweep"),
                    QStringLiteral("%1/trial %2").arg(sweepId).arg(chosen->number));
    return record;
}

} // namespace ms
