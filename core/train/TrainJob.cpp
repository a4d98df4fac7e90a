#include "train/TrainJob.h"

#include "common/Cancelled.h"
#include "common/CpuShare.h"
#include "common/Error.h"
#include "common/Names.h"
#include "common/Runtime.h"
#include "data/DatasetRegistry.h"
#include "data/TextDataset.h"
#include "data/Tokenizer.h"
#include "jobs/JobContext.h"
#include "models/ArchSpec.h"
#include "models/ArchitectureRegistry.h"
#include "models/Model.h"
#include "models/ModelImpl_p.h"
#include "registry/Registry.h"
#include "registry/RunRecorder.h"
#include "train/Checkpoint_p.h"
#include "train/Distributed_p.h"
#include "train/LmTraining_p.h"
#include "train/TextClassification_p.h"
#include "train/FromVersion_p.h"
#include "train/LocalWorkers_p.h"
#include "train/Preload_p.h"
#include "train/TrainLoop_p.h"

#include <torch/optim/optimizer.h>
#include <torch/script.h>
#include <ATen/Parallel.h>

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QTemporaryFile>

#include <cmath>
#include <optional>

namespace ms {

using trainloop::Score;
using trainloop::evaluate;
using trainloop::makeOptimizer;
using trainloop::splitFeatures;
using trainloop::splitLabels;

namespace {

// Fails before any training when the output file could never be written, rather than after it.
void checkWritable(const QString &path)
{
    if (path.isEmpty())
        return;
    const QFileInfo info(path);
    const QString dir = info.absolutePath();
    QTemporaryFile probe(dir + QStringLiteral("/.modelstudio-probe-XXXXXX"));
    if (!QFileInfo(dir).isDir() || !probe.open())
        throw Error(QStringLiteral("Cannot write the output model %1: the folder %2 does not "
                                   "exist or is not writable. Choose another --out path.")
                        .arg(path, dir));
}

} // namespace

TrainJob::TrainJob(TrainConfig config, QString runDir, QString outPath)
    : m_config(std::move(config))
    , m_runDir(std::move(runDir))
    , m_outPath(std::move(outPath))
{
    m_config.validate();
    Tokenizer::checkAvailable(m_config.tokenizer);   // SentencePiece's module, before any work
}

TrainJob *TrainJob::resume(const QString &runDir, const QString &outPath)
{
    auto *job = new TrainJob(Checkpoint::readConfig(runDir), runDir, outPath);
    job->m_resume = true;
    return job;
}

void TrainJob::recordIn(const QString &workspaceRoot, const QString &modelName)
{
    m_workspace = workspaceRoot;
    m_modelName = modelName;
}

QString TrainJob::title() const
{
    return QStringLiteral("%1 %2 on %3")
        .arg(m_resume ? QStringLiteral("Resume") : QStringLiteral("Train"), m_config.label(),
             QFileInfo(m_config.dataset).fileName());
}

JobResult TrainJob::run(JobContext &context)
{
    // Rank 0 alone writes (the run folder, checkpoints, the model, the registry).
    const bool writes = m_dist.rank == 0;
    if (writes)
        checkWritable(m_outPath);
    if (writes && !QDir().mkpath(m_runDir))
        throw Error(QStringLiteral("Cannot create the run folder %1: check that the workspace "
                                   "is writable.").arg(m_runDir));
    // Before the run is recorded: a job that cannot start leaves no run row.
    LocalWorkers workers;   // declared first: killed after the group is gone
    const std::unique_ptr<dist::Group> group = rendezvous(context, workers);
    std::unique_ptr<RunRecorder> recorder;
    if (!m_workspace.isEmpty() && writes) {
        // The default name is the run's label, which may be any file or spec name: made into a
        // valid model name rather than refused after the training.
        recorder = std::make_unique<RunRecorder>(
            m_workspace, kind(),
            m_modelName.isEmpty() ? modelNameFrom(m_config.label()) : m_modelName, context);
    }
    // The run row must not stay "running" when training throws: record why, then rethrow.
    try {
        JobResult result = train(context, recorder.get(), group.get());
        workers.finish(m_dist.timeout_s * 1000);
        return result;
    } catch (const Cancelled &e) {
        // Stopped where the loop does not look (a dataset being read): as the loop's own stop.
        if (recorder)
            recorder->end(JobStatus::Cancelled, e.message());
        return JobResult{JobStatus::Cancelled, e.message(),
                         QJsonObject{{QStringLiteral("run_dir"), m_runDir}}};
    } catch (const Error &e) {
        if (recorder)
            recorder->end(JobStatus::Failed, e.message());
        throw;
    } catch (const std::exception &e) {
        if (recorder)
            recorder->end(JobStatus::Failed, QString::fromUtf8(e.what()));
        throw;
    }
}

namespace {

// One run between its named steps: TrainJob::train reads as their sequence. Holds what the
// steps share (dataset, model, optimizer, the step loop) and owns the run's thread count.
class TrainSession
{
public:
    TrainSession(const TrainConfig &config, const QString &runDir, const QString &workspace,
                 bool resume, JobContext &context, RunRecorder *recorder, dist::Group *group)
        : m_config(config), m_runDir(runDir), m_workspace(workspace), m_resume(resume),
          m_context(context), m_recorder(recorder), m_group(group),
          m_writes(!group || group->rank() == 0), m_governor(config.threads)
    {
        // Without --threads, the cores other programs leave free, re-chosen as the run goes
        // (common/CpuShare.h says why); with it, exactly that.
        at::set_num_threads(m_governor.threads());
        // A resumed run continues from its last complete epoch; a run killed before its first
        // checkpoint starts again from the beginning with the same seed, which gives the same
        // result.
        m_haveCheckpoint = m_resume && Checkpoint::readState(m_runDir, &m_state);
    }
    TrainSession(const TrainSession &) = delete;
    TrainSession &operator=(const TrainSession &) = delete;

    void loadData();
    void prepareModel();
    void resolveSourceOnResume();
    void warn(const QString &message);
    void begin();
    void prepareSteps();
    // Runs epoch `epoch` with its evaluation, checkpoint and events; a result when the run
    // ends there (cancelled, diverged).
    std::optional<JobResult> runEpoch(int epoch);
    JobResult finish(const QString &outPath, bool registerVersion);

    int epochsDone() const { return m_epochsDone; }
    void setTestEveryEpoch(bool every) { m_testEveryEpoch = every; }

private:
    QJsonObject output() const;
    QJsonObject describeData() const
    {
        return m_lm ? m_lm->describeData() : m_text ? m_text->describeData() : m_data.describe();
    }
    // What a stop keeps, for every way of stopping.
    QString keptNote() const;
    JobResult stopped(JobStatus status, const QString &message);
    void followLoad(bool now);
    void writeConfig();
    void scoreEpoch(int epoch, const trainloop::EpochOutcome &outcome);
    void reportEpoch(int epoch, const trainloop::EpochOutcome &outcome);

    const TrainConfig &m_config;
    QString m_runDir;
    QString m_workspace;
    bool m_resume = false;
    JobContext &m_context;
    RunRecorder *m_recorder = nullptr;
    dist::Group *m_group = nullptr;   // a data-parallel run's process group, else null
    bool m_writes = true;             // false on ranks other than 0: they write nothing
    ThreadGovernor m_governor;
    bool m_wasContended = false;
    bool m_testEveryEpoch = true;

    Dataset m_data;
    bool m_dataReadAhead = false;   // m_data is lent by preloadTrainingData's cache
    // Gives lent data back, unchanged (the run's tensors only read it), for the process's next
    // run, once every tensor made from it is gone: members end in reverse order, so the
    // tensors below go first, then this, then m_data.
    struct GiveBack
    {
        TrainSession *session;
        ~GiveBack()
        {
            if (session->m_dataReadAhead)
                returnPreloadedData(std::move(session->m_data));
        }
    } m_giveBack{this};
    std::unique_ptr<LmTraining> m_lm;   // a language model's run (--task lm), else null
    // A text classifier's run (a text dataset, task classify), else null. m_data then holds
    // the class names only.
    std::unique_ptr<TextClassification> m_text;
    Model m_model;
    QJsonObject m_spec;
    std::optional<VersionRecord> m_source;   // the version fine-tuned (config.from)
    ModelSummary m_summary;
    Checkpoint::State m_state;
    bool m_haveCheckpoint = false;
    std::unique_ptr<torch::optim::Optimizer> m_optimizer;
    std::unique_ptr<trainloop::EpochLoop> m_loop;
    at::Tensor m_xVal, m_yVal, m_xTest, m_yTest;
    int m_epochsDone = 0;
    qint64 m_step = 0;
    QJsonObject m_last;
};

QString TrainSession::keptNote() const
{
    const int done = m_haveCheckpoint ? std::max(m_epochsDone, m_state.epochsDone) : m_epochsDone;
    return done > 0 ? QStringLiteral("Epoch %1's checkpoint is kept; resume with: modelstudio-cli "
                                     "train --resume %2")
                          .arg(QString::number(done), m_runDir)
                    : QStringLiteral("No epoch was complete.");
}

void TrainSession::loadData()
{
    m_context.report(QJsonObject{{QStringLiteral("event"), QStringLiteral("loading")},
                                 {QStringLiteral("dataset"), m_config.dataset}});
    m_context.setProgress(0.0, QStringLiteral("Loading dataset %1").arg(m_config.dataset));
    DatasetOptions options = trainingDataOptions(m_config, m_workspace);
    options.isCancelled = [this] { return m_context.isCancelled(); };
    options.warn = [this](const QString &message) { warn(message); };
    try {
        if (m_config.task == QLatin1String("lm")) {
            m_lm = std::make_unique<LmTraining>(m_config);
            m_lm->load(options);
            m_context.log(m_lm->logLine());
            return;
        }
        if (TextDatasetRegistry::instance().accepts(options)) {
            if (!m_config.from.isEmpty())
                throw Error(QStringLiteral("Fine-tuning (--from) on a text dataset is not "
                                           "supported yet: train a new --arch text-classifier."));
            m_text = std::make_unique<TextClassification>(m_config);
            m_text->load(options);
            m_data.name = m_config.dataset;
            m_data.classNames = m_text->classNames();
            m_context.log(m_text->logLine());
            return;
        }
        // A sweep's trial process read it before it knew its trials (train/Preload.h).
        if (std::optional<PreloadedData> preloaded = borrowPreloadedData(options)) {
            m_data = std::move(preloaded->data);
            m_dataReadAhead = true;
            for (const QString &message : std::as_const(preloaded->warnings))
                warn(message);
        } else {
            m_data = DatasetRegistry::instance().load(options);
        }
    } catch (const Cancelled &e) {
        throw Cancelled(QStringLiteral("%1 %2").arg(e.message(), keptNote()));
    }
    if (m_data.train.count() == 0)
        throw Error(QStringLiteral("The dataset %1 has no training samples.").arg(m_config.dataset));
    m_context.log(QStringLiteral("Dataset %1: %2 train, %3 validation, %4 test samples of %5, "
                                 "%6 classes")
                      .arg(m_data.name, QString::number(m_data.train.count()),
                           QString::number(m_data.validation.count()),
                           QString::number(m_data.test.count()),
                           sampleShapeText(m_data.sampleShape),
                           QString::number(m_data.numClasses())));
}

// In the window's log, and a "warning" event the CLI prints.
void TrainSession::warn(const QString &message)
{
    m_context.log(QStringLiteral("warning: ") + message);
    m_context.report(QJsonObject{{QStringLiteral("event"), QStringLiteral("warning")},
                                 {QStringLiteral("message"), message}});
}

// The checkpoint holds the model being fine-tuned, so a source removed since the run started
// costs the new version its lineage edge, not the epochs already trained.
void TrainSession::resolveSourceOnResume()
{
    try {
        m_source = Registry(m_workspace).resolve(m_config.from);
    } catch (const Error &e) {
        warn(QStringLiteral("%1, the version this run fine-tunes, is no longer in the registry "
                            "(%2). The run resumes from its checkpoint; the new version is "
                            "registered without its lineage.")
                 .arg(m_config.from, e.message()));
    }
}

// A resumed run continues from its last complete epoch; a run killed before its first
// checkpoint starts again from the beginning with the same seed, which gives the same result.
void TrainSession::prepareModel()
{
    if (m_haveCheckpoint) {
        m_model = Model::load(m_state.modelPath);
        m_spec = m_model.spec();
        // The data may have changed since (or be read differently): refused before a step.
        if (m_lm)
            m_lm->checkModel(m_model, QStringLiteral("The checkpoint of %1").arg(m_runDir));
        else if (m_text)
            m_text->checkModel(m_model, QStringLiteral("The checkpoint of %1").arg(m_runDir));
        else
            checkDataFitsModel(m_model.inputShape(), int(m_model.classNames().size()),
                               QStringLiteral("The checkpoint of %1").arg(m_runDir),
                               m_data.sampleShape, m_data.numClasses(),
                               QStringLiteral("the dataset %1").arg(m_config.dataset));
        if (!m_config.from.isEmpty())
            resolveSourceOnResume();
        m_epochsDone = m_state.epochsDone;
        m_step = m_state.step;
        m_last = m_state.metrics;
        m_context.log(QStringLiteral("Resuming after epoch %1 of %2 from %3")
                          .arg(QString::number(m_state.epochsDone), QString::number(m_config.epochs),
                               m_runDir));
    } else if (m_lm) {
        m_spec = m_lm->resolveSpec();
        m_model = m_lm->build(m_spec, m_config.seed);
        writeConfig();
    } else if (m_text) {
        m_spec = m_text->resolveSpec();
        m_model = m_text->build(m_spec, m_config.seed);
        writeConfig();
    } else if (!m_config.from.isEmpty()) {
        // Any registered version, imports included: fitted to the data and checked before
        // the run is recorded (train/FromVersion_p.h).
        fromversion::Start start = fromversion::prepare(m_config, m_workspace, m_data);
        if (!start.replacedHead.isEmpty())
            m_context.log(QStringLiteral("Replaced the classifier %1 of %2: %3 -> %4 classes")
                              .arg(start.replacedHead, start.source.ref(),
                                   QString::number(start.sourceClasses),
                                   QString::number(m_data.numClasses())));
        m_model = start.model;
        m_spec = m_model.spec();
        m_source = start.source;
        writeConfig();
    } else {
        m_spec = m_config.archSpec.isEmpty()
                     ? ArchitectureRegistry::instance().resolve(m_config.arch, m_data.sampleShape,
                                                                m_data.numClasses(),
                                                                m_config.archParams)
                     : ArchSpec::fromJson(m_config.archSpec)
                           .boundTo(m_data.sampleShape, m_data.numClasses())
                           .toJson();
        m_model = Model::build(m_spec,
                               ModelDataInfo{m_data.sampleShape, m_data.mean, m_data.stdev,
                                             m_data.classNames},
                               m_config.seed);
        writeConfig();
    }
    m_summary = m_spec.isEmpty() ? fromversion::summaryOf(m_model, m_data.sampleShape)
                                 : ArchSpec::fromJson(m_spec).summary();
}

void TrainSession::writeConfig()
{
    if (m_writes)
        Checkpoint::writeConfig(m_runDir, m_config);
}

void TrainSession::begin()
{
    if (m_recorder)
        m_recorder->begin(m_runDir, m_config.toJson(), m_resume, m_haveCheckpoint ? m_state.step : 0);
    m_context.report(QJsonObject{
        {QStringLiteral("event"), QStringLiteral("start")},
        {QStringLiteral("run_dir"), m_runDir},
        {QStringLiteral("arch"), m_source ? m_source->ref() : ArchSpec::fromJson(m_spec).name()},
        {QStringLiteral("params"), m_summary.totalParams},
        {QStringLiteral("macs"), m_summary.totalMacs},
        {QStringLiteral("dataset"), describeData()},
        // Read by a sweep's trial process before this run started (train/Preload.h).
        {QStringLiteral("data_read_ahead"), m_dataReadAhead},
        {QStringLiteral("task"), m_config.task},
        {QStringLiteral("threads"), m_governor.threads()},
        {QStringLiteral("world_size"), m_group ? m_group->size() : 1},
        // Lets a plot put per-step points on an epoch axis.
        {QStringLiteral("steps_per_epoch"),
         m_lm ? qint64(m_lm->stepsPerEpoch())
              : qint64(trainloop::stepsPerEpoch(
                    m_text ? m_text->trainCount() : m_data.train.count(), m_config.batchSize))},
        {QStringLiteral("runtime"), Runtime::describe()},
        {QStringLiteral("resumed_after_epoch"), m_epochsDone}});
}

void TrainSession::prepareSteps()
{
    torch::jit::Module &module = m_model.impl()->module;
    module.train();
    const std::vector<at::Tensor> params = fromversion::trainableParameters(
        module, m_config.freezeBackbone, m_data.numClasses(), m_config.from);
    m_optimizer = makeOptimizer(m_config, params);
    if (m_haveCheckpoint)
        Checkpoint::loadOptimizer(m_state.optimizerPath, *m_optimizer);
    if (m_lm) {
        m_loop = std::make_unique<trainloop::EpochLoop>(module, *m_optimizer, at::Tensor(),
                                                        at::Tensor());
        m_lm->setUp(*m_loop);
    } else if (m_text) {
        m_xVal = m_text->valX();
        m_yVal = m_text->valY();
        m_xTest = at::empty({0, m_xVal.size(1)}, at::kLong);
        m_yTest = at::empty({0}, at::kLong);
        m_loop = std::make_unique<trainloop::EpochLoop>(module, *m_optimizer, m_text->trainX(),
                                                        m_text->trainY());
    } else {
        m_xVal = splitFeatures(m_data.validation, m_data.sampleShape);
        m_yVal = splitLabels(m_data.validation);
        m_xTest = splitFeatures(m_data.test, m_data.sampleShape);
        m_yTest = splitLabels(m_data.test);
        m_loop = std::make_unique<trainloop::EpochLoop>(
            module, *m_optimizer, splitFeatures(m_data.train, m_data.sampleShape),
            splitLabels(m_data.train));
    }
    if (m_group)
        dist::joinLoop(*m_group, module, *m_loop, params);
    trainloop::useConfig(*m_loop, m_config);
    const qint64 totalSteps = m_loop->totalSteps();
    const int64_t stepsPerEpoch = m_loop->stepsPerEpoch();
    m_loop->onStep = [this, totalSteps, stepsPerEpoch](int epoch, qint64 step, int64_t batch,
                                                      double loss, double lr) {
        m_context.addMetric(QStringLiteral("loss"), step, epoch + 1, loss);
        m_context.addMetric(QStringLiteral("lr"), step, epoch + 1, lr);
        m_context.setProgress(double(step) / double(totalSteps),
                              QStringLiteral("Epoch %1/%2, step %3/%4")
                                  .arg(QString::number(epoch + 1), QString::number(m_config.epochs),
                                       QString::number(batch + 1),
                                       QString::number(stepsPerEpoch)));
        followLoad(false);
    };
}

// Follows the machine's load (no-op with --threads): fewer threads when other programs hold
// cores, more when they leave; says so when the run is slowed by them.
void TrainSession::followLoad(bool now)
{
    if (!m_governor.update(now) && isContended(m_governor.load()) == m_wasContended)
        return;
    const int previous = at::get_num_threads();
    if (m_governor.threads() != previous) {
        at::set_num_threads(m_governor.threads());
        m_context.log(QStringLiteral("Threads: %1 -> %2 (other programs keep %3 of %4 cores "
                                     "busy)")
                          .arg(QString::number(previous), QString::number(m_governor.threads()),
                               QString::number(m_governor.load().othersRunnable, 'f', 1),
                               QString::number(m_governor.load().cores)));
    }
    m_wasContended = isContended(m_governor.load());
    QJsonObject event = contentionJson(m_governor.load(), m_governor.threads());
    event.insert(QStringLiteral("event"), QStringLiteral("contention"));
    event.insert(QStringLiteral("contended"), m_wasContended);
    m_context.report(event);
}

std::optional<JobResult> TrainSession::runEpoch(int epoch)
{
    followLoad(true);
    const trainloop::EpochOutcome outcome =
        dist::sumOutcome(m_group, m_loop->run(epoch, m_step, m_context));
    if (outcome.end == trainloop::EpochOutcome::End::Cancelled) {
        // Every rank of a data-parallel run stops after the same step (the stop flag rides in
        // the gradients' sum); rank 0 alone has the checkpoint to resume from.
        return stopped(JobStatus::Cancelled,
                       QStringLiteral("Stopped during epoch %1, after step %2. %3")
                           .arg(QString::number(epoch + 1), QString::number(m_step),
                                m_writes ? keptNote()
                                         : QStringLiteral("Rank 0 keeps the run's checkpoint.")));
    }
    if (outcome.end == trainloop::EpochOutcome::End::Diverged)
        return stopped(JobStatus::Diverged, outcome.message);
    reportEpoch(epoch, outcome);
    return std::nullopt;
}

void TrainSession::scoreEpoch(int epoch, const trainloop::EpochOutcome &outcome)
{
    torch::jit::Module &module = m_model.impl()->module;
    QElapsedTimer scoring;
    scoring.start();
    if (m_lm) {
        m_last = m_lm->epochMetrics(module, outcome);
        m_last.insert(QStringLiteral("epoch"), epoch + 1);
        m_last.insert(QStringLiteral("score_s"), scoring.nsecsElapsed() / 1e9);
        return;
    }
    const double n = double(outcome.samples);
    dist::shareBuffers(m_group, module);
    const Score val = dist::score(m_group, module, m_xVal, m_yVal);
    // Every rank of a data-parallel run takes part in scoring, so they all score every epoch.
    const bool scoreTest = m_testEveryEpoch || m_group || epoch + 1 == m_config.epochs;
    const Score test = scoreTest ? dist::score(m_group, module, m_xTest, m_yTest) : Score{};
    m_last = QJsonObject{{QStringLiteral("epoch"), epoch + 1},
                         {QStringLiteral("train_loss"), outcome.lossSum / n},
                         {QStringLiteral("train_acc"), double(outcome.correct) / n},
                         {QStringLiteral("samples_per_s"), n / outcome.seconds},
                         {QStringLiteral("epoch_s"), outcome.seconds},
                         {QStringLiteral("score_s"), scoring.nsecsElapsed() / 1e9}};
    if (m_xVal.size(0) > 0) {
        m_last.insert(QStringLiteral("val_loss"), val.loss);
        m_last.insert(QStringLiteral("val_acc"), val.accuracy);
    }
    if (scoreTest && m_xTest.size(0) > 0)
        m_last.insert(QStringLiteral("test_acc"), test.accuracy);
    if (m_group)   // this rank's time in the gradients' all-reduce (bench/dist_bench.sh)
        m_last.insert(QStringLiteral("allreduce_s"), m_group->takeGradientSeconds());
}

void TrainSession::reportEpoch(int epoch, const trainloop::EpochOutcome &outcome)
{
    const double n = double(outcome.samples);
    scoreEpoch(epoch, outcome);
    for (auto it = m_last.begin(); it != m_last.end(); ++it) {
        if (it.key() != QLatin1String("epoch"))
            m_context.addMetric(it.key(), m_step, epoch + 1, it.value().toDouble());
    }
    m_epochsDone = epoch + 1;
    QElapsedTimer writing;
    writing.start();
    if (m_writes)
        Checkpoint::write(m_runDir, m_epochsDone, m_step, m_last, m_model, *m_optimizer);
    if (m_recorder)
        m_recorder->flush();   // the registry's curve reaches the checkpoint it matches

    QJsonObject event = m_last;
    event.insert(QStringLiteral("event"), QStringLiteral("epoch"));
    // The checkpoint's and the registry's writes, beside epoch_s and score_s: where an epoch's
    // time went (a sweep's trials report them; bench/sweep_bench.py).
    event.insert(QStringLiteral("write_s"), writing.nsecsElapsed() / 1e9);
    event.insert(QStringLiteral("epochs"), m_config.epochs);
    event.insert(QStringLiteral("threads"), m_governor.threads());
    if (isContended(m_governor.load()))
        event.insert(QStringLiteral("contention"),
                     contentionJson(m_governor.load(), m_governor.threads()));
    m_context.report(event);
    QStringList parts;
    for (const char *key : {"train_loss", "train_acc", "val_loss", "val_acc", "val_ppl",
                            "test_acc"}) {
        if (m_last.contains(QLatin1String(key)))
            parts << QStringLiteral("%1 %2").arg(
                QLatin1String(key),
                QString::number(m_last.value(QLatin1String(key)).toDouble(), 'f', 4));
    }
    m_context.log(QStringLiteral("Epoch %1/%2: %3, %4 %5/s")
                      .arg(QString::number(m_epochsDone), QString::number(m_config.epochs),
                           parts.join(QStringLiteral(", ")),
                           QString::number(qRound(n / outcome.seconds)),
                           m_lm ? QStringLiteral("tokens") : QStringLiteral("samples")));
}

QJsonObject TrainSession::output() const
{
    return QJsonObject{{QStringLiteral("run_dir"), m_runDir},
                       {QStringLiteral("epochs_done"), m_epochsDone},
                       {QStringLiteral("final"), m_last},
                       {QStringLiteral("summary"), m_summary.toJson()},
                       {QStringLiteral("dataset"), describeData()},
                       {QStringLiteral("config"), m_config.toJson()},
                       {QStringLiteral("threads"), m_governor.threads()}};
}

JobResult TrainSession::stopped(JobStatus status, const QString &message)
{
    if (m_recorder)
        m_recorder->end(status, message);
    return JobResult{status, message, output()};
}

JobResult TrainSession::finish(const QString &outPath, bool registerVersion)
{
    m_model.impl()->module.eval();
    if (!m_writes) {
        m_context.setProgress(1.0, QStringLiteral("Finished"));
        return JobResult{JobStatus::Finished, QString(), output()};
    }
    const QString modelPath = m_runDir + QStringLiteral("/model.pt");
    m_model.save(modelPath);
    QJsonObject out = output();
    out.insert(QStringLiteral("model_path"), modelPath);
    if (!outPath.isEmpty()) {
        m_model.save(outPath);
        out.insert(QStringLiteral("out_path"), QFileInfo(outPath).absoluteFilePath());
    }
    if (m_recorder && !registerVersion) {
        m_recorder->end(JobStatus::Finished, QString());
    } else if (m_recorder) {
        NewVersion version;
        if (!m_spec.isEmpty())
            version.modelDescription = QStringLiteral("Trained from the %1 architecture")
                                           .arg(ArchSpec::fromJson(m_spec).name());
        version.kind = VersionKind::Trained;
        version.artifactPath = modelPath;
        version.recipe = m_config.toJson();
        std::vector<qint64> inputShape{-1};
        inputShape.insert(inputShape.end(), m_data.sampleShape.begin(),
                          m_data.sampleShape.end());
        version.inputs = {TensorSignature{QStringLiteral("input"), QStringLiteral("float32"),
                                          inputShape}};
        version.outputs = {TensorSignature{QStringLiteral("output"), QStringLiteral("float32"),
                                           {-1, qint64(m_data.numClasses())}}};
        version.classNames = m_data.classNames;
        if (m_lm)
            m_lm->describeVersion(version, m_spec);
        if (m_text)
            m_text->describeVersion(version, m_spec);
        version.parameterCount = m_summary.totalParams;
        version.metrics = m_last;
        if (m_source)
            fromversion::describeVersion(version, *m_source, m_data);
        if (!m_config.from.isEmpty() && !m_source) {   // removed before a resume
            version.kind = VersionKind::Finetuned;
            version.modelDescription =
                QStringLiteral("Fine-tuned from %1 (removed since)").arg(m_config.from);
        }
        const VersionRecord record = m_recorder->finish(version);
        out.insert(QStringLiteral("version"), record.ref());
        out.insert(QStringLiteral("version_id"), record.id);
        m_context.log(QStringLiteral("Registered as %1").arg(record.ref()));
    }
    m_context.setProgress(1.0, QStringLiteral("Finished"));
    return JobResult{JobStatus::Finished, QString(), out};
}

} // namespace

JobResult TrainJob::train(JobContext &context, RunRecorder *recorder, dist::Group *group)
{
    // A run records the version it started from as NAME:N, whatever alias named it.
    if (!m_config.from.isEmpty() && !m_workspace.isEmpty() && !m_resume)
        m_config.from = Registry(m_workspace).resolve(m_config.from).ref();
    TrainSession session(m_config, m_runDir, m_workspace, m_resume, context, recorder, group);
    session.setTestEveryEpoch(m_testEveryEpoch);
    session.loadData();
    session.prepareModel();
    session.begin();
    session.prepareSteps();
    for (int epoch = session.epochsDone(); epoch < m_config.epochs; ++epoch) {
        if (std::optional<JobResult> ended = session.runEpoch(epoch))
            return *ended;
    }
    return session.finish(m_outPath, m_registerVersion);
}

} // namespace ms
