#pragma once

#include "jobs/Job.h"
#include "train/Distributed.h"
#include "train/TrainConfig.h"

#include <QString>

#include <memory>

namespace ms {

class LocalWorkers;
class RunRecorder;
namespace dist {
class Group;
}

// Trains a model (built from a spec, or resumed from a checkpoint) on a dataset.
// Metric points: per step "loss" and "lr"; per epoch "train_loss", "train_acc", "val_loss",
// "val_acc", "test_acc" (when the dataset has a test split; after the last epoch only with
// setTestEveryEpoch(false)), "samples_per_s", "epoch_s" (training) and "score_s" (scoring).
// Writes a checkpoint into runDir after every epoch (model + optimizer + progress), from which
// TrainJob::resume continues with the same result as an uninterrupted run.
// A loss that becomes NaN or infinite ends the run as Diverged.
// Result output: {"run_dir", "model_path", "epochs_done", "final": {metric: value}, "summary"},
// plus {"version": "name:N", "version_id"} when recording in a registry.
class TrainJob final : public Job
{
public:
    // runDir: where checkpoints and the final model go (created). outPath: optional extra copy
    // of the trained .pt.
    TrainJob(TrainConfig config, QString runDir, QString outPath = QString());
    // Continues the run whose checkpoint is in runDir (its config is read from there).
    static TrainJob *resume(const QString &runDir, const QString &outPath = QString());

    // Records the run and its curves in the workspace's registry while it trains, and registers
    // the trained model as a new version of `modelName` (empty: the architecture's name made
    // valid by ms::modelNameFrom; on resume, the name the run was started with). Throws
    // ms::Error when `modelName` breaks the naming rule (common/Names.h).
    void recordIn(const QString &workspaceRoot, const QString &modelName = QString());
    // Records the run and its curves but registers no version (a sweep's trials: the best one
    // is registered from its run folder afterwards, see SweepJob).
    void setRegisterVersion(bool registerVersion) { m_registerVersion = registerVersion; }
    // false: the test split is scored after the last epoch only, not after every epoch (a
    // sweep's trials, whose objective is on the validation split: scoring the 10,000 test
    // images is a tenth of a small cnn's epoch). A data-parallel run scores it every epoch.
    void setTestEveryEpoch(bool every) { m_testEveryEpoch = every; }
    // One process of a data-parallel job (docs/architecture.md, "Data-parallel training"):
    // the run starts with a rendezvous of all ranks (TCPStore + ProcessGroupGloo), each step
    // trains this rank's contiguous shard of the global batch and sums the gradients across
    // ranks, validation and test are sharded and summed. Rank 0 alone writes: the run folder,
    // checkpoints, the model and the registry; the other ranks write nothing (their runDir
    // may be empty, or the run folder of a --resume, which they read).
    void setDistributed(const DistributedSetup &setup) { m_dist = setup; }
    // Rank 0 of a job of `processes` on this host whose other ranks it starts itself: `cli`
    // (modelstudio-cli) train workers, on a port the store picks. What the window's
    // "Processes" field does; 1 is an ordinary run.
    void runLocalWorkers(int processes, const QString &cli);

    QString kind() const override { return QStringLiteral("train"); }
    QString title() const override;
    QJsonObject spec() const override { return m_config.toJson(); }
    JobResult run(JobContext &context) override;

    const TrainConfig &config() const { return m_config; }
    QString runDir() const { return m_runDir; }

private:
    JobResult train(JobContext &context, RunRecorder *recorder, dist::Group *group);
    std::unique_ptr<dist::Group> rendezvous(JobContext &context, LocalWorkers &workers);

    TrainConfig m_config;
    QString m_runDir;
    QString m_outPath;
    bool m_resume = false;
    QString m_workspace;
    QString m_modelName;
    bool m_registerVersion = true;
    bool m_testEveryEpoch = true;
    DistributedSetup m_dist;
    QString m_workerCli;   // runLocalWorkers: the executable of ranks 1..
};

} // namespace ms
