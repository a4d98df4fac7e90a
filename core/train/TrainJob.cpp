#include "train/TrainJob.h"

#include "common/Error.h"
#include "common/Names.h"
#include "common/Runtime.h"
#include "data/DatasetRegistry.h"
#include "jobs/JobContext.h"
#include "models/ArchSpec.h"
#include "models/ArchitectureRegistry.h"
#include "models/Model.h"
#include "models/ModelImpl_p.h"
#include "train/Checkpoint_p.h"
#include "train/RunRecorder.h"
#include "train/TrainLoop_p.h"

#include <torch/nn/functional/loss.h>
#include <torch/optim/optimizer.h>
#include <torch/script.h>
#include <ATen/Parallel.h>

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QTemporaryFile>
#include <QThread>

#include <cmath>

namespace ms {

using trainloop::Score;
using trainloop::evaluate;
using trainloop::makeOptimizer;
using trainloop::splitFeatures;
using trainloop::splitLabels;

namespace {

const double kPi = 3.14159265358979323846;

// Learning rate at optimizer step `step` (0-based) of epoch `epoch` (0-based).
double learningRate(const TrainConfig &c, int epoch, qint64 step, qint64 totalSteps)
{
    if (c.schedule == QLatin1String("step"))
        return c.lr * std::pow(c.gamma, epoch / c.stepEpochs);
    if (c.schedule == QLatin1String("cosine"))
        return c.lr * 0.5 * (1.0 + std::cos(kPi * double(step) / double(totalSteps)));
    return c.lr;
}

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

QString describeShape(const std::vector<qint64> &shape)
{
    QStringList parts;
    for (qint64 d : shape)
        parts << QString::number(d);
    return parts.join(QLatin1Char('x'));
}

} // namespace

TrainJob::TrainJob(TrainConfig config, QString runDir, QString outPath)
    : m_config(std::move(config))
    , m_runDir(std::move(runDir))
    , m_outPath(std::move(outPath))
{
    m_config.validate();
}

TrainJob *TrainJob::resume(const QString &runDir, const QString &outPath)
{
    auto *job = new TrainJob(Checkpoint::readConfig(runDir), runDir, outPath);
    job->m_resume = true;
    return job;
}

void TrainJob::recordIn(const QString &workspaceRoot, const QString &modelName)
{
    // Refused now, not when the trained model is registered at the end of the run.
    if (!modelName.isEmpty())
        checkModelName(modelName);
    m_workspace = workspaceRoot;
    m_modelName = modelName;
}

QString TrainJob::title() const
{
    const QString arch = m_config.archSpec.isEmpty()
                             ? QFileInfo(m_config.arch).completeBaseName()
                             : m_config.archSpec.value(QStringLiteral("name")).toString();
    return QStringLiteral("%1 %2 on %3")
        .arg(m_resume ? QStringLiteral("Resume") : QStringLiteral("Train"), arch,
             QFileInfo(m_config.dataset).fileName());
}

JobResult TrainJob::run(JobContext &context)
{
    checkWritable(m_outPath);
    if (!QDir().mkpath(m_runDir))
        throw Error(QStringLiteral("Cannot create the run folder %1: check that the workspace "
                                   "is writable.").arg(m_runDir));
    std::unique_ptr<RunRecorder> recorder;
    if (!m_workspace.isEmpty()) {
        const QString arch = m_config.archSpec.isEmpty()
                                 ? QFileInfo(m_config.arch).completeBaseName()
                                 : m_config.archSpec.value(QStringLiteral("name")).toString();
        // The default name is the architecture's, which may be any file or spec name: made
        // into a valid model name rather than refused after the training.
        recorder = std::make_unique<RunRecorder>(m_workspace,
                                                 m_modelName.isEmpty() ? modelNameFrom(arch)
                                                                       : m_modelName);
    }
    // The run row must not stay "running" when training throws: record why, then rethrow.
    auto recordFailure = [&recorder](const QString &message) {
        if (!recorder)
            return;
        try {
            recorder->end(JobStatus::Failed, message);
        } catch (const std::exception &) {
            // The registry itself failed; the original error is the one to show.
        }
    };
    try {
        return train(context, recorder.get());
    } catch (const Error &e) {
        recordFailure(e.message());
        throw;
    } catch (const std::exception &e) {
        recordFailure(QString::fromUtf8(e.what()));
        throw;
    }
}

JobResult TrainJob::train(JobContext &context, RunRecorder *recorder)
{
    const TrainConfig &c = m_config;
    const int threads = c.threads > 0 ? c.threads : QThread::idealThreadCount();
    at::set_num_threads(threads);

    context.setProgress(0.0, QStringLiteral("Loading dataset %1").arg(c.dataset));
    DatasetOptions dataOptions;
    dataOptions.source = c.dataset;
    dataOptions.limit = c.limit;
    dataOptions.validationFraction = c.validationFraction;
    dataOptions.seed = c.seed;
    dataOptions.labelColumn = c.labelColumn;
    Dataset data = DatasetRegistry::instance().load(dataOptions);
    if (data.train.count() == 0)
        throw Error(QStringLiteral("The dataset %1 has no training samples.").arg(c.dataset));
    context.log(QStringLiteral("Dataset %1: %2 train, %3 validation, %4 test samples of %5, "
                               "%6 classes")
                    .arg(data.name, QString::number(data.train.count()),
                         QString::number(data.validation.count()),
                         QString::number(data.test.count()), describeShape(data.sampleShape),
                         QString::number(data.numClasses())));

    // A resumed run continues from its last complete epoch; a run killed before its first
    // checkpoint starts again from the beginning with the same seed, which gives the same result.
    Checkpoint::State state;
    const bool haveCheckpoint = m_resume && Checkpoint::readState(m_runDir, &state);
    Model model;
    QJsonObject spec;
    if (haveCheckpoint) {
        model = Model::load(state.modelPath);
        spec = model.spec();
        context.log(QStringLiteral("Resuming after epoch %1 of %2 from %3")
                        .arg(state.epochsDone).arg(c.epochs).arg(m_runDir));
    } else {
        spec = c.archSpec.isEmpty()
                   ? ArchitectureRegistry::instance().resolve(c.arch, data.sampleShape,
                                                              data.numClasses())
                   : ArchSpec::fromJson(c.archSpec)
                         .boundTo(data.sampleShape, data.numClasses()).toJson();
        model = Model::build(spec, ModelDataInfo{data.sampleShape, data.mean, data.stdev,
                                                 data.classNames},
                             c.seed);
        Checkpoint::writeConfig(m_runDir, c);
    }
    const ModelSummary summary = ArchSpec::fromJson(spec).summary();
    if (recorder)
        recorder->begin(m_runDir, c.toJson(), m_resume, haveCheckpoint ? state.step : 0);
    context.report(QJsonObject{{QStringLiteral("event"), QStringLiteral("start")},
                               {QStringLiteral("run_dir"), m_runDir},
                               {QStringLiteral("arch"), ArchSpec::fromJson(spec).name()},
                               {QStringLiteral("params"), summary.totalParams},
                               {QStringLiteral("macs"), summary.totalMacs},
                               {QStringLiteral("dataset"), data.describe()},
                               {QStringLiteral("threads"), threads},
                               // Lets a plot put per-step points on an epoch axis.
                               {QStringLiteral("steps_per_epoch"),
                                (data.train.count() + c.batchSize - 1) / c.batchSize},
                               {QStringLiteral("runtime"), Runtime::describe()},
                               {QStringLiteral("resumed_after_epoch"),
                                haveCheckpoint ? state.epochsDone : 0}});

    torch::jit::Module &module = model.impl()->module;
    module.train();
    std::vector<at::Tensor> params;
    for (const at::Tensor &p : module.parameters()) {
        p.requires_grad_(true);
        params.push_back(p);
    }
    std::unique_ptr<torch::optim::Optimizer> optimizer = makeOptimizer(c, params);
    if (haveCheckpoint)
        Checkpoint::loadOptimizer(state.optimizerPath, *optimizer);

    const at::Tensor xTrain = splitFeatures(data.train, data.sampleShape);
    const at::Tensor yTrain = splitLabels(data.train);
    const at::Tensor xVal = splitFeatures(data.validation, data.sampleShape);
    const at::Tensor yVal = splitLabels(data.validation);
    const at::Tensor xTest = splitFeatures(data.test, data.sampleShape);
    const at::Tensor yTest = splitLabels(data.test);

    const int64_t n = xTrain.size(0);
    const int64_t stepsPerEpoch = (n + c.batchSize - 1) / c.batchSize;
    const qint64 totalSteps = stepsPerEpoch * c.epochs;
    int epochsDone = haveCheckpoint ? state.epochsDone : 0;
    qint64 step = qint64(epochsDone) * stepsPerEpoch;
    QJsonObject last = haveCheckpoint ? state.metrics : QJsonObject();

    auto output = [&]() {
        QJsonObject out{{QStringLiteral("run_dir"), m_runDir},
                        {QStringLiteral("epochs_done"), epochsDone},
                        {QStringLiteral("final"), last},
                        {QStringLiteral("summary"), summary.toJson()},
                        {QStringLiteral("dataset"), data.describe()},
                        {QStringLiteral("config"), c.toJson()},
                        {QStringLiteral("threads"), threads}};
        return out;
    };
    auto stopped = [&](JobStatus status, const QString &message) {
        if (recorder)
            recorder->end(status, message);
        return JobResult{status, message, output()};
    };
    // Observers (plots, CLI) and the registry see the same points.
    auto metric = [&](const QString &key, qint64 atStep, int epoch, double value) {
        context.addMetric(key, atStep, epoch, value);
        if (recorder)
            recorder->add(MetricPoint{key, atStep, epoch, value, context.elapsed_s()});
    };

    for (int epoch = epochsDone; epoch < c.epochs; ++epoch) {
        // Seeding per epoch (order and dropout) makes a resumed run identical to an
        // uninterrupted one without saving generator state.
        torch::manual_seed(c.seed * 1000003ULL + quint64(epoch) + 1);
        const at::Tensor order = torch::randperm(n, torch::kInt64);
        double lossSum = 0.0;
        int64_t correct = 0;
        QElapsedTimer clock;
        clock.start();
        double paused_s = 0.0;
        for (int64_t b = 0; b < stepsPerEpoch; ++b) {
            if (context.isPaused()) {
                QElapsedTimer pauseClock;
                pauseClock.start();
                context.checkPoint();
                paused_s += double(pauseClock.nsecsElapsed()) / 1e9;
            }
            if (context.isCancelled())
                return stopped(JobStatus::Cancelled,
                               QStringLiteral("Stopped during epoch %1. %2")
                                   .arg(epoch + 1)
                                   .arg(epochsDone > 0
                                            ? QStringLiteral("Epoch %1's checkpoint is kept; "
                                                             "resume with: modelstudio-cli "
                                                             "train --resume %2")
                                                  .arg(epochsDone).arg(m_runDir)
                                            : QStringLiteral("No epoch was complete.")));
            const double lr = learningRate(c, epoch, step, totalSteps);
            for (auto &group : optimizer->param_groups())
                group.options().set_lr(lr);

            const at::Tensor idx = order.slice(0, b * c.batchSize,
                                               std::min(n, (b + 1) * c.batchSize));
            const at::Tensor x = xTrain.index_select(0, idx);
            const at::Tensor y = yTrain.index_select(0, idx);
            const at::Tensor logits = module.forward({x}).toTensor();
            const at::Tensor loss = torch::nn::functional::cross_entropy(logits, y);
            optimizer->zero_grad();
            loss.backward();
            const double lossValue = loss.item<double>();
            if (!std::isfinite(lossValue))
                return stopped(JobStatus::Diverged,
                               QStringLiteral("Training diverged: the loss became %1 at epoch "
                                              "%2, step %3 (learning rate %4). Lower the "
                                              "learning rate (--lr) and start again.")
                                   .arg(std::isnan(lossValue) ? QStringLiteral("NaN")
                                                              : QStringLiteral("infinite"))
                                   .arg(epoch + 1).arg(step + 1).arg(lr));
            optimizer->step();
            ++step;
            lossSum += lossValue * double(idx.size(0));
            correct += logits.argmax(1).eq(y).sum().item<int64_t>();
            metric(QStringLiteral("loss"), step, epoch + 1, lossValue);
            metric(QStringLiteral("lr"), step, epoch + 1, lr);
            context.setProgress(double(step) / double(totalSteps),
                                QStringLiteral("Epoch %1/%2, step %3/%4")
                                    .arg(epoch + 1).arg(c.epochs).arg(b + 1)
                                    .arg(stepsPerEpoch));
        }
        const double epoch_s = double(clock.nsecsElapsed()) / 1e9 - paused_s;

        const Score val = evaluate(module, xVal, yVal);
        const Score test = evaluate(module, xTest, yTest);
        last = QJsonObject{{QStringLiteral("epoch"), epoch + 1},
                           {QStringLiteral("train_loss"), lossSum / double(n)},
                           {QStringLiteral("train_acc"), double(correct) / double(n)},
                           {QStringLiteral("samples_per_s"), double(n) / epoch_s},
                           {QStringLiteral("epoch_s"), epoch_s}};
        if (xVal.size(0) > 0) {
            last.insert(QStringLiteral("val_loss"), val.loss);
            last.insert(QStringLiteral("val_acc"), val.accuracy);
        }
        if (xTest.size(0) > 0)
            last.insert(QStringLiteral("test_acc"), test.accuracy);
        for (auto it = last.begin(); it != last.end(); ++it) {
            if (it.key() != QLatin1String("epoch"))
                metric(it.key(), step, epoch + 1, it.value().toDouble());
        }
        epochsDone = epoch + 1;
        Checkpoint::write(m_runDir, epochsDone, step, last, model, *optimizer);
        if (recorder)
            recorder->flush();   // the registry's curve reaches the checkpoint it matches
        QJsonObject epochEvent = last;
        epochEvent.insert(QStringLiteral("event"), QStringLiteral("epoch"));
        epochEvent.insert(QStringLiteral("epochs"), c.epochs);
        context.report(epochEvent);
        QStringList parts;
        for (const char *key : {"train_loss", "train_acc", "val_loss", "val_acc", "test_acc"}) {
            if (last.contains(QLatin1String(key)))
                parts << QStringLiteral("%1 %2").arg(QLatin1String(key))
                             .arg(last.value(QLatin1String(key)).toDouble(), 0, 'f', 4);
        }
        context.log(QStringLiteral("Epoch %1/%2: %3, %4 samples/s")
                        .arg(QString::number(epochsDone), QString::number(c.epochs),
                             parts.join(QStringLiteral(", ")),
                             QString::number(qRound(double(n) / epoch_s))));
    }

    module.eval();
    const QString modelPath = m_runDir + QStringLiteral("/model.pt");
    model.save(modelPath);
    QJsonObject out = output();
    out.insert(QStringLiteral("model_path"), modelPath);
    if (!m_outPath.isEmpty()) {
        model.save(m_outPath);
        out.insert(QStringLiteral("out_path"), QFileInfo(m_outPath).absoluteFilePath());
    }
    if (recorder) {
        NewVersion version;
        version.modelDescription = QStringLiteral("Trained from the %1 architecture")
                                       .arg(ArchSpec::fromJson(spec).name());
        version.kind = VersionKind::Trained;
        version.artifactPath = modelPath;
        version.recipe = c.toJson();
        std::vector<qint64> inputShape{-1};
        inputShape.insert(inputShape.end(), data.sampleShape.begin(), data.sampleShape.end());
        version.inputs = {TensorSignature{QStringLiteral("input"), QStringLiteral("float32"),
                                          inputShape}};
        version.outputs = {TensorSignature{QStringLiteral("output"), QStringLiteral("float32"),
                                           {-1, qint64(data.numClasses())}}};
        version.classNames = data.classNames;
        version.parameterCount = summary.totalParams;
        version.metrics = last;
        const VersionRecord record = recorder->finish(version);
        out.insert(QStringLiteral("version"), record.ref());
        out.insert(QStringLiteral("version_id"), record.id);
        context.log(QStringLiteral("Registered as %1").arg(record.ref()));
    }
    context.setProgress(1.0, QStringLiteral("Finished"));
    return JobResult{JobStatus::Finished, QString(), out};
}

} // namespace ms
