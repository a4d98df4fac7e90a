#pragma once

#include "jobs/Job.h"
#include "optimize/SweepSpec.h"

#include <QString>
#include <QVector>

namespace ms {

class Registry;
struct TrialRecord;
struct VersionRecord;

// A hyperparameter search: trials proposed by a sampler (optimize/Sampler.h), each a training
// run (`modelstudio-cli train --no-register --json`) or a compression, `parallel` at a time,
// stopped early by a rule (optimize/EarlyStop.h) reading the objective after every epoch.
// Trials run in child processes, one per parallel slot, which run the slot's trials one after
// another (`modelstudio-cli --spare`; SweepSpec::reuseProcesses off: one per trial): a crashed
// or diverged trial cannot take the sweep down, and each trial has its own thread count.
//
// The sweep and its trials are in the registry as they go (sweeps, sweep_trials; every trial
// is also an ordinary run with its curves). A sweep whose process was killed resumes
// (SweepJob::resume) without repeating a finished trial: trials still running then are run
// again. At the end the best finished trial is registered as a version of a model named after
// the sweep (tag "sweep" = "ID/trial N"), unless registerBest is off.
//
// Events (JobContext::report): {"event": "trial", "trial", "status", "value", "epochs",
// "params", "run"} as each trial ends; {"event": "trial_epoch", "trial", "epoch", "value"}.
// Result output: {"sweep", "best": {"trial", "value", "params", "version"}, "trial_epochs",
// "trials", "wall_s"}.
class SweepJob final : public Job
{
public:
    // `cli`: the modelstudio-cli executable the trials run.
    SweepJob(QString workspace, SweepSpec spec, QString cli);
    // Continues sweep `sweepId` of the workspace. Throws ms::Error when there is none, or when
    // its process is still running it.
    static SweepJob *resume(const QString &workspace, qint64 sweepId, const QString &cli);

    void setRegisterBest(bool registerBest) { m_registerBest = registerBest; }

    QString kind() const override { return QStringLiteral("sweep"); }
    QString title() const override;
    QJsonObject spec() const override { return m_spec.toJson(); }
    JobResult run(JobContext &context) override;

    const SweepSpec &sweepSpec() const { return m_spec; }

private:
    JobResult finishFront(Registry &registry, const QVector<TrialRecord> &all, QJsonObject out);
    QString noResultMessage(const QVector<TrialRecord> &trials) const;
    // A compression search's source timed as its trials are; 0 when it cannot be.
    double sourceLatency_ms(Registry &registry) const;

    QString m_workspace;
    SweepSpec m_spec;
    QString m_cli;
    qint64 m_sweepId = 0;      // set when resuming
    bool m_registerBest = true;
};

// What a sweep's trial process (`modelstudio-cli --spare`, app/cli/main.cpp) and SweepJob say
// to each other, beside the verbs' own events: the process's stdout events when it has started
// and after each command, and the line that ends each command's stderr.
namespace trialprocess {
inline constexpr char kReady[] = "ready";
inline constexpr char kCommandDone[] = "command_done";
inline constexpr char kStderrEnd[] = "\x1e\n";   // one ASCII record separator
} // namespace trialprocess

// Registers trial `trial` of a sweep (-1: the best finished one) as a new version of a model
// named after the sweep, from the trial's run folder. Throws ms::Error when the trial did not
// finish or its model file is gone.
VersionRecord registerSweepTrial(const QString &workspace, qint64 sweepId, int trial = -1);

} // namespace ms
