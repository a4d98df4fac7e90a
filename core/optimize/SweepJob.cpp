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
#include "train/Preload.h"

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
#include <set>

#include <signal.h>
#include <time.h>
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

struct Worker;

// One trial and what its process has said of it so far.
struct Trial
{
    TrialRecord record;
    Worker *worker = nullptr;    // the process running it
    QByteArray errorTail;        // the end of its command's stderr, for a failure's message
    bool heard = false;          // its command has said anything (on stdout)
    QString error;               // the command's own message ("command_done" says)
    QString runDir;
    QJsonObject end;             // the "finished" event
    QJsonObject lastEpoch;       // a training trial's last "epoch" event
    bool pruned = false;
    QElapsedTimer stopAsked;     // valid once asked to stop
    // Where a trial's time goes: from its launch (the sampler's proposal) to its command's
    // end, against the epochs' training and scoring it reports; the rest (what of the
    // process's start and data read was not done before, the run's set-up, registry and
    // checkpoint writes) is the sweep's overhead per trial (bench/sweep_bench.py).
    QElapsedTimer started;
    double trainSeconds = 0.0;
    double scoreSeconds = 0.0;
    double writeSeconds = 0.0;   // the run's checkpoint and curve writes
    bool warm = false;            // its process had started and read its data (said "ready")
    int processTrial = 0;         // the how-manieth trial of its process (1: the first)
    bool dataReadAhead = false;   // the run took the process's read of the data ("start" says)
};

// A trial process, `modelstudio-cli --spare` (app/cli/main.cpp): says "ready" once LibTorch
// has started and the sweep's data is read, then runs the trials it is handed on stdin one
// after another, saying "command_done" after each.
struct Worker
{
    std::unique_ptr<QProcess> process;
    QByteArray pending;          // stdout not yet split into lines
    int stderrCommand = 1;       // whose stderr comes now: the how-manieth command's
    bool ready = false;
    QElapsedTimer starting;      // from its start to "ready"
    bool ended = false;          // its process has ended (or never started)
    int trials = 0;              // handed so far
    Trial *trial = nullptr;      // the one it runs; null when idle
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
        // A trial process reads the data ahead, unless the search changes what is read (no
        // trial could then take the copy).
        bool searchesData = false;
        for (const ParamDomain &d : m_spec.space)
            searchesData = searchesData || changesDataRead(d.path);
        if (!m_spec.isCompression() && !searchesData)
            m_preloadPath = writeSpec(QStringLiteral("preload.json"), m_spec.trialSpec({}));
        QTimer tick;
        QObject::connect(&tick, &QTimer::timeout, &m_loop, [this] { step(); });
        tick.start(50);
        step();
        if (!m_todo.empty() || !m_running.empty())
            m_loop.exec();
        while (!m_workers.empty())
            retire(m_workers.back().get());
        return m_context.isCancelled() ? JobStatus::Cancelled : JobStatus::Finished;
    }

    // A compression search's source, timed as its trials are (speedup = source / trial).
    void setSourceLatency(double latency_ms) { m_sourceLatency_ms = latency_ms; }

    const std::vector<TrialRecord> &done() const { return m_done; }
    // The trial processes started, and their time from start to ready (LibTorch's start-up
    // and the data read), summed: a sweep's cost once per slot rather than per trial.
    int processes() const { return m_processes; }
    double processStartSeconds() const { return m_startSeconds; }
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
        // Idle processes that have ended or that no trial will need (killed while they wait
        // on stdin, they lose nothing).
        for (size_t i = m_workers.size(); i-- > 0;) {
            Worker *w = m_workers[i].get();
            if (!w->trial && (w->ended || cancelled || m_todo.empty()))
                retire(w);
        }
        if (cancelled) {
            for (auto &[number, trial] : m_running)
                stop(*trial);
        } else {
            followPause();
            // A process per slot that has work left, started before the slot needs it. With
            // reuse_processes off, each trial ends its process: then one more per slot is
            // started while the trials run, so that the next trial finds one ready.
            const size_t slots = std::min(size_t(m_spec.parallel), m_running.size() + m_todo.size());
            const size_t wanted = m_spec.reuseProcesses || !m_spareAhead
                                      ? slots
                                      : m_running.size() + std::min(size_t(m_spec.parallel),
                                                                    m_todo.size());
            while (!m_paused && m_workers.size() < wanted)
                startWorker();
            while (!m_paused && int(m_running.size()) < m_spec.parallel && !m_todo.empty()) {
                Worker *worker = idleWorker();
                if (!worker)
                    break;
                launch(m_todo.front(), *worker);
                m_todo.erase(m_todo.begin());
            }
        }
        for (auto &[number, trial] : m_running) {
            if (trial->stopAsked.isValid() && trial->stopAsked.elapsed() > kStopGrace_ms)
                trial->worker->process->kill();
        }
        m_context.setProgress(double(m_done.size()) / double(std::max(1, m_total)),
                              QStringLiteral("%1 of %2 trials done, %3 running")
                                  .arg(m_done.size()).arg(m_total).arg(m_running.size()));
        if (m_running.empty() && (m_todo.empty() || cancelled))
            m_loop.quit();
    }

    // step() once the current signal has returned: a process's own signal must not end it.
    void stepSoon()
    {
        QMetaObject::invokeMethod(&m_loop, [this] { step(); }, Qt::QueuedConnection);
    }

    // A paused sweep pauses its trials too (SIGSTOP), and starts no new one.
    void followPause()
    {
        const bool paused = m_context.isPaused();
        if (paused == m_paused)
            return;
        m_paused = paused;
        for (const std::unique_ptr<Worker> &w : m_workers)
            if (w->process->processId() > 0)
                ::kill(pid_t(w->process->processId()), paused ? SIGSTOP : SIGCONT);
    }

    // A trial process, started before a trial needs it, so that LibTorch's start-up and (a
    // training sweep) the read of its data happen while the running trials train or, once it
    // runs trials, only once (`modelstudio-cli --spare`, app/cli/main.cpp). Its trials are
    // still not the sweep's process: a crash ends one trial and its process, never the sweep.
    void startWorker()
    {
        auto worker = std::make_unique<Worker>();
        worker->process = childProcess();
        Worker *w = worker.get();
        QProcess *process = w->process.get();
        QObject::connect(process, &QProcess::readyReadStandardOutput, &m_loop,
                         [this, w] { readOutput(*w); });
        QObject::connect(process, &QProcess::readyReadStandardError, &m_loop,
                         [w] { readErrors(*w); });
        QObject::connect(process, &QProcess::finished, &m_loop,
                         [this, w](int code, QProcess::ExitStatus status) {
                             workerEnded(*w, code, status);
                         });
        QStringList arguments{QStringLiteral("--spare"), QStringLiteral("--workspace"),
                              m_workspace};
        if (!m_preloadPath.isEmpty())
            arguments << QStringLiteral("--preload") << m_preloadPath;
        w->starting.start();
        process->start(m_cli, arguments);
        ++m_processes;
        m_workers.push_back(std::move(worker));
    }

    // A trial process: it dies with the sweep (a sweep killed with SIGKILL leaves no orphan
    // training on: resume runs the trial again).
    static std::unique_ptr<QProcess> childProcess()
    {
        auto process = std::make_unique<QProcess>();
        process->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
        return process;
    }

    // The idle process for the next trial: a ready one first, else the oldest still starting
    // (its start-up is then on the trial's clock); null when none is idle.
    Worker *idleWorker()
    {
        Worker *starting = nullptr;
        for (const std::unique_ptr<Worker> &w : m_workers) {
            if (w->trial || w->ended)
                continue;
            if (w->ready)
                return w.get();
            if (!starting)
                starting = w.get();
        }
        return starting;
    }

    // Ends an idle process (or one that has ended): it loses nothing. Not called from its own
    // signals (step() runs queued after them).
    void retire(Worker *w)
    {
        const auto it = std::find_if(m_workers.begin(), m_workers.end(),
                                     [w](const std::unique_ptr<Worker> &p) { return p.get() == w; });
        if (it == m_workers.end())
            return;
        std::unique_ptr<Worker> worker = std::move(*it);
        m_workers.erase(it);
        worker->process->disconnect();
        if (worker->process->state() != QProcess::NotRunning) {
            worker->process->kill();
            worker->process->waitForFinished(5000);
        }
    }

    void stop(Trial &trial)
    {
        if (trial.stopAsked.isValid())
            return;
        trial.stopAsked.start();
        QProcess *process = trial.worker->process.get();
        if (m_paused)
            ::kill(pid_t(process->processId()), SIGCONT);
        process->terminate();   // the train verb stops at its next step and records it
    }

    // Hands trial `number` to the idle process `worker`: one line on its stdin.
    void launch(int number, Worker &worker)
    {
        auto trial = std::make_unique<Trial>();
        trial->started.start();
        trial->record.number = number;
        const auto retry = m_retry.find(number);
        if (retry != m_retry.end()) {
            trial->record.params = retry->second;   // asked already: the sampler awaits it
            m_retry.erase(retry);
        } else {
            trial->record.params = m_sampler->ask(number);
        }
        QStringList arguments = m_spec.isCompression()
                                    ? m_spec.compressArguments(trial->record.params)
                                    : trainArguments(number, trial->record.params);
        arguments << QStringLiteral("--json") << QStringLiteral("--threads")
                  << QString::number(m_threads) << QStringLiteral("--workspace") << m_workspace;
        m_registry.saveTrial(m_sweepId, trial->record);

        Trial *t = trial.get();
        t->worker = &worker;
        t->warm = worker.ready;
        t->processTrial = ++worker.trials;
        worker.trial = t;
        m_running.emplace(number, std::move(trial));
        QProcess *process = worker.process.get();
        // One that could not start reports an error but never `finished`: a trial handed to it
        // would wait for ever.
        const bool started = process->state() == QProcess::Running
                             || (process->state() == QProcess::Starting
                                 && process->waitForStarted(30000));
        const QByteArray line = QJsonDocument(QJsonArray::fromStringList(arguments))
                                    .toJson(QJsonDocument::Compact)
                                + '\n';
        if (!started || process->write(line) != line.size()) {
            Trial &failed = *m_running.at(number);
            failed.record.status = QStringLiteral("failed");
            failed.record.message = QStringLiteral("could not start %1: %2")
                                        .arg(m_cli, process->errorString());
            worker.ended = true;
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

    // A process's stderr, to the trial whose command wrote it: the process ends each command's
    // with a line of one ASCII record separator, and stderr (another pipe) may be read after
    // the next trial was handed over.
    static void readErrors(Worker &worker)
    {
        QByteArray text = worker.process->readAllStandardError();
        while (!text.isEmpty()) {
            const qsizetype end = text.indexOf(trialprocess::kStderrEnd);
            const QByteArray part = end < 0 ? text : text.left(end);
            if (worker.trial && worker.trial->processTrial == worker.stderrCommand)
                worker.trial->errorTail = (worker.trial->errorTail + part).right(2000);
            if (end < 0)
                break;
            ++worker.stderrCommand;
            text = text.mid(end + qsizetype(qstrlen(trialprocess::kStderrEnd)));
        }
    }

    // A process's stdout, line by line: its own "ready" and "command_done", and the events of
    // the trial it runs.
    void readOutput(Worker &worker)
    {
        worker.pending += worker.process->readAllStandardOutput();
        qsizetype newline;
        while ((newline = worker.pending.indexOf('\n')) >= 0) {
            const QByteArray line = worker.pending.left(newline);
            worker.pending.remove(0, newline + 1);
            const QJsonObject event = QJsonDocument::fromJson(line).object();
            const QString kind = event.value(QStringLiteral("event")).toString();
            if (worker.trial && kind != QLatin1String(trialprocess::kReady))
                worker.trial->heard = true;
            if (kind == QLatin1String(trialprocess::kReady)) {
                worker.ready = true;
                m_startSeconds += worker.starting.elapsed() / 1000.0;
            }
            else if (kind == QLatin1String(trialprocess::kCommandDone) && worker.trial) {
                worker.trial->error = event.value(QStringLiteral("error")).toString();
                ended(worker.trial->record.number, event.value(QStringLiteral("code")).toInt());
            }
            else if (worker.trial)
                trialEvent(*worker.trial, kind, event);
        }
    }

    void trialEvent(Trial &trial, const QString &kind, const QJsonObject &event)
    {
        if (kind == QLatin1String("start")) {
            trial.runDir = event.value(QStringLiteral("run_dir")).toString();
            trial.dataReadAhead = event.value(QStringLiteral("data_read_ahead")).toBool();
        } else if (kind == QLatin1String("epoch") && !m_spec.isCompression()) {
            epoch(trial, event);
        } else if (kind == QLatin1String("finished")) {
            trial.end = event;
        }
    }

    // A process has ended: its trial, if it ran one, ended with it (unless it had said
    // "command_done" first); a new process takes the slot.
    void workerEnded(Worker &worker, int exitCode, QProcess::ExitStatus status)
    {
        worker.ended = true;
        readOutput(worker);
        readErrors(worker);
        if (!worker.trial && !worker.ready && ++m_startFailures >= 3 && !m_spec.reuseProcesses)
            m_spareAhead = false;   // processes die as they start: none without a trial
        // A process that died before it said a word about the trial it was handed (killed
        // while it waited for it, e.g. by the memory killer, or by a signal meant for its last
        // trial) did not run it: the trial runs again in another, once, with its parameters.
        if (worker.trial && !worker.trial->heard && !m_context.isCancelled()
            && m_retried.insert(worker.trial->record.number).second) {
            const int number = worker.trial->record.number;
            m_retry.emplace(number, worker.trial->record.params);
            worker.trial = nullptr;
            m_running.erase(number);
            m_todo.insert(m_todo.begin(), number);
            stepSoon();
            return;
        }
        if (worker.trial) {
            if (status == QProcess::CrashExit && worker.trial->error.isEmpty())
                worker.trial->error = QStringLiteral("the trial's process was killed or crashed "
                                                     "before the trial ended");
            ended(worker.trial->record.number, exitCode);
        }
        stepSoon();   // retires it and starts another
    }

    void epoch(Trial &trial, const QJsonObject &event)
    {
        const int epoch = event.value(QStringLiteral("epoch")).toInt();
        trial.lastEpoch = event;
        trial.trainSeconds += event.value(QStringLiteral("epoch_s")).toDouble();
        trial.scoreSeconds += event.value(QStringLiteral("score_s")).toDouble();
        trial.writeSeconds += event.value(QStringLiteral("write_s")).toDouble();
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
        // The trial's life (from launch()), taken before the sweep's own work on it (timing
        // its model).
        const double wall_s = trial.started.elapsed() / 1000.0;
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
            stepSoon();
            return;
        } else {
            trial.record.status = endStatus == QLatin1String("diverged")
                                      ? QStringLiteral("diverged") : QStringLiteral("failed");
            trial.record.value = kNaN;
            const QString error = trial.end.value(QStringLiteral("error")).toString();
            const QString stderrLast = QString::fromUtf8(trial.errorTail).trimmed()
                                           .split(QLatin1Char('\n')).last();
            trial.record.message = !error.isEmpty() ? error
                                   : !trial.error.isEmpty() ? trial.error
                                   : !stderrLast.isEmpty() ? stderrLast
                                   : QStringLiteral("the trial's process ended with code %1")
                                         .arg(exitCode);
        }
        trial.record.metrics.insert(QStringLiteral("wall_s"), wall_s);
        trial.record.metrics.insert(QStringLiteral("warm_start"), trial.warm);
        trial.record.metrics.insert(QStringLiteral("process_trial"), trial.processTrial);
        if (!m_spec.isCompression()) {   // a compression reports no epochs
            trial.record.metrics.insert(QStringLiteral("train_s"), trial.trainSeconds);
            trial.record.metrics.insert(QStringLiteral("score_s"), trial.scoreSeconds);
            trial.record.metrics.insert(QStringLiteral("write_s"), trial.writeSeconds);
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
        stepSoon();
    }

    // Drops a trial that has ended; its process is idle again (with reuse_processes off, or
    // when it has ended, step() retires it).
    void forget(int number)
    {
        const auto it = m_running.find(number);
        Worker *worker = it->second->worker;
        worker->trial = nullptr;
        if (!m_spec.reuseProcesses)
            worker->ended = true;
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
    std::vector<std::unique_ptr<Worker>> m_workers;   // oldest first
    int m_processes = 0;
    double m_startSeconds = 0.0;
    int m_startFailures = 0;     // processes that ended before they were ready, with no trial
    bool m_spareAhead = true;    // reuse_processes off: keep one started ahead per slot
    std::map<int, QJsonObject> m_retry;   // trials to run again, with the parameters asked
    std::set<int> m_retried;
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
    timespec cpu0{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
    const JobStatus status = driver.run();
    timespec cpu1{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);

    QVector<TrialRecord> all(driver.done().begin(), driver.done().end());
    QJsonObject out{{QStringLiteral("sweep"), m_sweepId},
                    {QStringLiteral("trials"), int(all.size())},
                    {QStringLiteral("trial_epochs"), driver.trialEpochs()},
                    {QStringLiteral("wall_s"), double(wall.elapsed()) / 1000.0},
                    {QStringLiteral("processes"), driver.processes()},
                    {QStringLiteral("process_start_s"), driver.processStartSeconds()},
                    // What the sweep itself took of the cores (sampler, registry, events): its
                    // thread's CPU time, beside the trials'.
                    {QStringLiteral("sweep_cpu_s"),
                     double(cpu1.tv_sec - cpu0.tv_sec) + double(cpu1.tv_nsec - cpu0.tv_nsec) / 1e9}};
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
