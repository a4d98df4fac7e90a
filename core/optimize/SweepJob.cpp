#include "optimize/SweepJob.h"

#include "common/Error.h"
#include "common/Names.h"
#include "jobs/JobContext.h"
#include "models/Model.h"
#include "optimize/EarlyStop.h"
#include "optimize/Sampler.h"
#include "registry/Registry.h"
#include "registry/RunRecorder.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <cmath>
#include <csignal>
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
    bool pruned = false;
    QElapsedTimer stopAsked;     // valid once asked to stop
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
            m_sampler->tell(t.number, t.params, score(t.value));
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
        QTimer tick;
        QObject::connect(&tick, &QTimer::timeout, &m_loop, [this] { step(); });
        tick.start(50);
        step();
        if (!m_todo.empty() || !m_running.empty())
            m_loop.exec();
        return m_context.isCancelled() ? JobStatus::Cancelled : JobStatus::Finished;
    }

    const std::vector<TrialRecord> &done() const { return m_done; }
    int trialEpochs() const
    {
        int sum = 0;
        for (const TrialRecord &t : m_done)
            sum += t.epochs;
        return sum;
    }
    double score(double value) const { return m_spec.objective.maximize ? value : -value; }

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
        }
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
        const QString specPath = m_trialDir.filePath(QStringLiteral("trial-%1.json").arg(number));
        QFile file(specPath);
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)
            || file.write(QJsonDocument(m_spec.trialSpec(trial->record.params)).toJson()) < 0)
            throw Error(QStringLiteral("Cannot write %1: %2").arg(specPath, file.errorString()));
        file.close();
        m_registry.saveTrial(m_sweepId, trial->record);

        trial->process = std::make_unique<QProcess>();
        QProcess *process = trial->process.get();
        Trial *t = trial.get();
        QObject::connect(process, &QProcess::readyReadStandardOutput, &m_loop,
                         [this, t] { readOutput(*t); });
        QObject::connect(process, &QProcess::readyReadStandardError, &m_loop, [t] {
            t->errorTail = (t->errorTail + t->process->readAllStandardError()).right(2000);
        });
        QObject::connect(process, &QProcess::finished, &m_loop,
                         [this, number](int code, QProcess::ExitStatus) { ended(number, code); });
        // A trial dies with the sweep (a sweep killed with SIGKILL leaves no orphan training
        // on: resume runs the trial again).
        process->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
        process->start(m_cli, {QStringLiteral("train"), QStringLiteral("--config"), specPath,
                               QStringLiteral("--json"), QStringLiteral("--no-register"),
                               QStringLiteral("--threads"), QString::number(m_threads),
                               QStringLiteral("--workspace"), m_workspace});
        m_running.emplace(number, std::move(trial));
        if (!process->waitForStarted(30000)) {
            Trial &failed = *m_running.at(number);
            failed.record.status = QStringLiteral("failed");
            failed.record.message = QStringLiteral("could not start %1: %2")
                                        .arg(m_cli, process->errorString());
            finish(number);
        }
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
            if (kind == QLatin1String("start"))
                trial.runDir = event.value(QStringLiteral("run_dir")).toString();
            else if (kind == QLatin1String("epoch"))
                epoch(trial, event);
            else if (kind == QLatin1String("finished"))
                trial.end = event;
        }
    }

    void epoch(Trial &trial, const QJsonObject &event)
    {
        const int epoch = event.value(QStringLiteral("epoch")).toInt();
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
        readOutput(trial);
        trial.record = withRun(trial);
        const QString endStatus = trial.end.value(QStringLiteral("status")).toString();
        if (trial.pruned) {
            trial.record.status = QStringLiteral("pruned");
        } else if (endStatus == QLatin1String("finished")) {
            trial.record.status = QStringLiteral("finished");
            m_stopper.finished(number);
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
        finish(number);
    }

    void finish(int number)
    {
        Trial &trial = *m_running.at(number);
        m_sampler->tell(number, trial.record.params, score(trial.record.value));
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
    QTemporaryDir m_trialDir;
    QEventLoop m_loop;
    std::vector<int> m_todo;
    std::map<int, std::unique_ptr<Trial>> m_running;
    std::vector<TrialRecord> m_done;
};

// The best finished trial (pruned ones when none finished), by the objective's direction.
std::optional<TrialRecord> bestTrial(const QVector<TrialRecord> &trials, bool maximize)
{
    std::optional<TrialRecord> best;
    for (const char *status : {"finished", "pruned"}) {
        for (const TrialRecord &t : trials) {
            if (t.status != QLatin1String(status) || std::isnan(t.value))
                continue;
            if (!best || (maximize ? t.value > best->value : t.value < best->value))
                best = t;
        }
        if (best)
            break;
    }
    return best;
}

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
    const std::optional<TrialRecord> best = bestTrial(all, m_spec.objective.maximize);
    if (!best) {
        registry.finishSweep(m_sweepId, QStringLiteral("failed"));
        return {JobStatus::Failed,
                QStringLiteral("No trial of sweep %1 finished; `modelstudio-cli sweep show %1` "
                               "lists their errors.").arg(m_sweepId),
                out};
    }
    QJsonObject bestJson{{QStringLiteral("trial"), best->number},
                         {QStringLiteral("value"), best->value},
                         {QStringLiteral("params"), best->params}};
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

VersionRecord registerSweepTrial(const QString &workspace, qint64 sweepId, int trial)
{
    Registry registry(workspace);
    const SweepRecord sweep = registry.sweep(sweepId);
    const SweepSpec spec = SweepSpec::fromJson(sweep.spec);
    std::optional<TrialRecord> chosen;
    if (trial < 0) {
        chosen = bestTrial(sweep.trials, spec.objective.maximize);
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
    version.runId = run.id;
    const VersionRecord record = registry.addVersion(version);
    registry.setTag(record.id, QStringLiteral("sweep"),
                    QStringLiteral("%1/trial %2").arg(sweepId).arg(chosen->number));
    return record;
}

} // namespace ms
