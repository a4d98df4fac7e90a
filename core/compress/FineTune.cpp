#include "compress/FineTune_p.h"

#include "common/Error.h"
#include "jobs/JobContext.h"
#include "train/TrainLoop_p.h"

#include <cmath>
#include <limits>

namespace ms {

bool fineTune(torch::jit::Module &module, Dataset &data, const TrainConfig &config,
              const FineTuneHooks &hooks, JobContext &context, const QString &label,
              double progressFrom, double progressTo)
{
    if (data.train.count() == 0)
        throw Error(QStringLiteral("The dataset %1 has no training samples to %2 with.")
                        .arg(data.name, label));
    module.train();
    std::vector<at::Tensor> params;
    for (const at::Tensor &p : module.parameters()) {
        p.requires_grad_(true);
        params.push_back(p);
    }
    const auto optimizer = trainloop::makeOptimizer(config, params);
    const at::Tensor xVal = trainloop::splitFeatures(data.validation, data.sampleShape);
    const at::Tensor yVal = trainloop::splitLabels(data.validation);

    trainloop::EpochLoop loop(module, *optimizer,
                              trainloop::splitFeatures(data.train, data.sampleShape),
                              trainloop::splitLabels(data.train));
    // Seeded per epoch like the trainer (same seed, same variant), with its schedule and
    // clipping when the method offers them (distill; a constant rate otherwise).
    trainloop::useConfig(loop, config);
    loop.hooks = hooks;
    QString what = label;
    if (!what.isEmpty())
        what[0] = what[0].toUpper();
    loop.what = what;
    const int64_t stepsPerEpoch = loop.stepsPerEpoch();
    const qint64 totalSteps = loop.totalSteps();
    loop.onStep = [&](int epoch, qint64 step, int64_t batch, double loss, double lr) {
        context.addMetric(QStringLiteral("loss"), step, epoch + 1, loss);
        context.addMetric(QStringLiteral("lr"), step, epoch + 1, lr);   // as train records it
        context.setProgress(progressFrom + (progressTo - progressFrom) * double(step)
                                               / double(totalSteps),
                            QStringLiteral("%1: epoch %2/%3, step %4/%5")
                                .arg(label, QString::number(epoch + 1),
                                     QString::number(config.epochs), QString::number(batch + 1),
                                     QString::number(stepsPerEpoch)));
    };
    qint64 step = 0;
    for (int epoch = 0; epoch < config.epochs; ++epoch) {
        const trainloop::EpochOutcome outcome = loop.run(epoch, step, context);
        if (outcome.end == trainloop::EpochOutcome::End::Cancelled)
            return false;
        if (outcome.end == trainloop::EpochOutcome::End::Diverged)
            throw trainloop::DivergedError(outcome.message);
        const trainloop::Score val = trainloop::evaluate(module, xVal, yVal);
        QJsonObject event{{QStringLiteral("event"), QStringLiteral("epoch")},
                          {QStringLiteral("phase"), label},
                          {QStringLiteral("epoch"), epoch + 1},
                          {QStringLiteral("epochs"), config.epochs}};
        if (xVal.size(0) > 0) {
            context.addMetric(QStringLiteral("val_acc"), step, epoch + 1, val.accuracy);
            context.addMetric(QStringLiteral("val_loss"), step, epoch + 1, val.loss);
            event.insert(QStringLiteral("val_acc"), val.accuracy);
            event.insert(QStringLiteral("val_loss"), val.loss);
        }
        context.report(event);
    }
    return true;
}

QList<CompressParameter> fineTuneParameters(const QString &epochsName, int defaultEpochs,
                                            const QString &epochsHelp)
{
    QList<CompressParameter> list;
    list << CompressParameter{epochsName, CompressParameter::Type::Int, defaultEpochs,
                              epochsName == QLatin1String("epochs") ? 1.0 : 0.0, 1000.0, {},
                              epochsHelp};
    list << CompressParameter{QStringLiteral("lr"), CompressParameter::Type::Double, 1e-3, 1e-7,
                              10.0, {}, QStringLiteral("Learning rate of the training (Adam), "
                                                       "default 0.001.")};
    list << CompressParameter{QStringLiteral("batch-size"), CompressParameter::Type::Int, 128,
                              1.0, 65536.0, {},
                              QStringLiteral("Batch size of the training, default 128.")};
    return list;
}

QList<CompressParameter> scheduleParameters()
{
    using T = CompressParameter::Type;
    return {
        {QStringLiteral("optimizer"), T::Choice, QStringLiteral("adam"), 0, 0,
         {QStringLiteral("adam"), QStringLiteral("adamw")},
         QStringLiteral("Optimizer: adam, or adamw (decoupled weight decay of matrices only, as "
                        "train --optimizer adamw); default adam.")},
        {QStringLiteral("weight-decay"), T::Double, 0.0, 0.0, 10.0, {},
         QStringLiteral("Weight decay, default 0.")},
        {QStringLiteral("beta2"), T::Double, 0.999, 0.0, 0.999999, {},
         QStringLiteral("Adam's second-moment decay, default 0.999 (nanoGPT uses 0.99).")},
        {QStringLiteral("schedule"), T::Choice, QStringLiteral("constant"), 0, 0,
         {QStringLiteral("constant"), QStringLiteral("cosine")},
         QStringLiteral("Learning-rate schedule: constant, or cosine down to --min-lr; default "
                        "constant.")},
        {QStringLiteral("warmup-steps"), T::Int, 0, 0.0, 10000000.0, {},
         QStringLiteral("Linear warm-up of the learning rate over this many steps, default 0.")},
        {QStringLiteral("min-lr"), T::Double, 0.0, 0.0, 10.0, {},
         QStringLiteral("The rate a cosine schedule ends at, default 0.")},
        {QStringLiteral("clip-grad-norm"), T::Double, 0.0, 0.0, 1e6, {},
         QStringLiteral("Clip the gradients' total norm to this before each step; 0 (default) "
                        "is off.")},
        {QStringLiteral("steps-per-epoch"), T::Int, 0, 0.0, 10000000.0, {},
         QStringLiteral("Language models: optimizer steps per epoch (random windows, as train "
                        "--task lm); 0 (default) is one pass over the training tokens. "
                        "Classifiers make one pass per epoch.")},
    };
}

TrainConfig fineTuneConfig(const QJsonObject &params, const QString &epochsName)
{
    TrainConfig c;
    c.epochs = params.value(epochsName).toInt();
    c.lr = params.value(QStringLiteral("lr")).toDouble(1e-3);
    c.batchSize = params.value(QStringLiteral("batch-size")).toInt(128);
    c.optimizer = QStringLiteral("adam");
    // A method offering --seed (distill) seeds the batch order with it as well, like train's
    // --seed: with the same seed, split and settings the loops see the same batches.
    c.seed = quint64(params.value(QStringLiteral("seed")).toInteger(0));
    // scheduleParameters(), when the method offers them; train's defaults otherwise.
    c.optimizer = params.value(QStringLiteral("optimizer")).toString(c.optimizer);
    c.weightDecay = params.value(QStringLiteral("weight-decay")).toDouble(c.weightDecay);
    c.beta2 = params.value(QStringLiteral("beta2")).toDouble(c.beta2);
    c.schedule = params.value(QStringLiteral("schedule")).toString(c.schedule);
    c.warmupSteps = params.value(QStringLiteral("warmup-steps")).toInt(c.warmupSteps);
    c.minLr = params.value(QStringLiteral("min-lr")).toDouble(c.minLr);
    c.clipGradNorm = params.value(QStringLiteral("clip-grad-norm")).toDouble(c.clipGradNorm);
    c.stepsPerEpoch = params.value(QStringLiteral("steps-per-epoch")).toInt(c.stepsPerEpoch);
    c.augment = params.value(QStringLiteral("augment")).toString().trimmed().toLower();   // distill
    return c;
}

Dataset &mutableData(const Dataset &data)
{
    // torch::from_blob wants a non-const pointer; the loop never writes through it.
    return const_cast<Dataset &>(data);
}

double testAccuracy(torch::jit::Module &module, Dataset &data)
{
    if (data.test.count() == 0)
        return std::numeric_limits<double>::quiet_NaN();
    const bool wasTraining = module.is_training();
    const trainloop::Score score =
        trainloop::evaluate(module, trainloop::splitFeatures(data.test, data.sampleShape),
                            trainloop::splitLabels(data.test));
    if (!wasTraining)
        module.eval();
    return score.accuracy;
}

} // namespace ms
