#include "train/TrainConfig.h"

#include "common/Error.h"
#include "common/Runtime.h"
#include "data/Tokenizer.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSet>

namespace ms {

namespace {

const QStringList kOptimizers = {QStringLiteral("sgd"), QStringLiteral("adam"),
                                 QStringLiteral("adamw")};
const QStringList kSchedules = {QStringLiteral("constant"), QStringLiteral("step"),
                                QStringLiteral("cosine")};
const QStringList kTasks = {QStringLiteral("classify"), QStringLiteral("lm")};

} // namespace

QJsonObject TrainConfig::toJson() const
{
    QJsonObject json{
        {QStringLiteral("dataset"), dataset},
        {QStringLiteral("arch"), arch},
        {QStringLiteral("epochs"), epochs},
        {QStringLiteral("batch_size"), batchSize},
        {QStringLiteral("lr"), lr},
        {QStringLiteral("optimizer"), optimizer},
        {QStringLiteral("momentum"), momentum},
        {QStringLiteral("weight_decay"), weightDecay},
        {QStringLiteral("schedule"), schedule},
        {QStringLiteral("step_epochs"), stepEpochs},
        {QStringLiteral("gamma"), gamma},
        // Seeds and limits can pass 2^53 in principle; as strings they survive JSON intact.
        {QStringLiteral("seed"), QString::number(seed)},
        {QStringLiteral("limit"), QString::number(limit)},
        {QStringLiteral("validation_fraction"), validationFraction},
        {QStringLiteral("threads"), threads},
    };
    if (!labelColumn.isEmpty())
        json.insert(QStringLiteral("label_column"), labelColumn);
    if (!textColumn.isEmpty())
        json.insert(QStringLiteral("text_column"), textColumn);
    if (!archSpec.isEmpty())
        json.insert(QStringLiteral("arch_spec"), archSpec);
    // Keys added later: only when set, so an earlier recipe and its replay read the same.
    const TrainConfig defaults;
    if (task != defaults.task) {
        json.insert(QStringLiteral("task"), task);
        json.insert(QStringLiteral("tokenizer"), tokenizer);
        if (Tokenizer::isTrained(tokenizer))
            json.insert(QStringLiteral("vocab_size"), vocabSize);
    }
    if (!from.isEmpty())
        json.insert(QStringLiteral("from"), from);
    if (freezeBackbone)
        json.insert(QStringLiteral("freeze_backbone"), true);
    if (replaceHead)
        json.insert(QStringLiteral("replace_head"), true);
    if (!archParams.isEmpty())
        json.insert(QStringLiteral("arch_params"), archParams);
    if (stepsPerEpoch != defaults.stepsPerEpoch)
        json.insert(QStringLiteral("steps_per_epoch"), stepsPerEpoch);
    if (warmupSteps != defaults.warmupSteps)
        json.insert(QStringLiteral("warmup_steps"), warmupSteps);
    if (minLr != defaults.minLr)
        json.insert(QStringLiteral("min_lr"), minLr);
    if (clipGradNorm != defaults.clipGradNorm)
        json.insert(QStringLiteral("clip_grad_norm"), clipGradNorm);
    if (beta1 != defaults.beta1 || beta2 != defaults.beta2) {
        json.insert(QStringLiteral("beta1"), beta1);
        json.insert(QStringLiteral("beta2"), beta2);
    }
    if (!augment.isEmpty() && augment != QLatin1String("none"))
        json.insert(QStringLiteral("augment"), augment);
    return json;
}

TrainConfig TrainConfig::fromJson(const QJsonObject &json)
{
    static const QSet<QString> known = {
        QStringLiteral("dataset"), QStringLiteral("label_column"), QStringLiteral("text_column"),
        QStringLiteral("arch"),
        QStringLiteral("arch_spec"), QStringLiteral("arch_params"), QStringLiteral("epochs"), QStringLiteral("batch_size"),
        QStringLiteral("lr"), QStringLiteral("optimizer"), QStringLiteral("momentum"),
        QStringLiteral("weight_decay"), QStringLiteral("schedule"),
        QStringLiteral("step_epochs"), QStringLiteral("gamma"), QStringLiteral("seed"),
        QStringLiteral("limit"), QStringLiteral("validation_fraction"),
        QStringLiteral("threads"), QStringLiteral("task"), QStringLiteral("tokenizer"),
        QStringLiteral("vocab_size"), QStringLiteral("steps_per_epoch"),
        QStringLiteral("warmup_steps"), QStringLiteral("min_lr"),
        QStringLiteral("clip_grad_norm"), QStringLiteral("beta1"), QStringLiteral("beta2"),
        QStringLiteral("from"), QStringLiteral("freeze_backbone"),
        QStringLiteral("replace_head"), QStringLiteral("augment")};
    for (auto it = json.begin(); it != json.end(); ++it) {
        if (!known.contains(it.key()))
            throw Error(QStringLiteral("Unknown training setting \"%1\"; known settings: %2.")
                            .arg(it.key(), QStringList(known.values()).join(QStringLiteral(", "))));
    }
    // Integers may arrive as numbers or as strings (see toJson).
    auto integer = [&json](const QString &key, qint64 fallback) -> qint64 {
        const QJsonValue v = json.value(key);
        if (v.isUndefined())
            return fallback;
        if (v.isString()) {
            bool ok = false;
            const qint64 n = v.toString().toLongLong(&ok);
            if (!ok)
                throw Error(QStringLiteral("Setting \"%1\" must be an integer, not \"%2\".")
                                .arg(key, v.toString()));
            return n;
        }
        if (!v.isDouble())
            throw Error(QStringLiteral("Setting \"%1\" must be a number.").arg(key));
        return qint64(v.toDouble());
    };
    auto real = [&json](const QString &key, double fallback) -> double {
        const QJsonValue v = json.value(key);
        if (v.isUndefined())
            return fallback;
        if (!v.isDouble())
            throw Error(QStringLiteral("Setting \"%1\" must be a number.").arg(key));
        return v.toDouble();
    };

    TrainConfig c;
    c.dataset = json.value(QStringLiteral("dataset")).toString(c.dataset);
    c.labelColumn = json.value(QStringLiteral("label_column")).toString();
    c.textColumn = json.value(QStringLiteral("text_column")).toString();
    c.arch = json.value(QStringLiteral("arch")).toString(c.arch);
    c.archSpec = json.value(QStringLiteral("arch_spec")).toObject();
    const QJsonValue archParams = json.value(QStringLiteral("arch_params"));
    if (!archParams.isUndefined() && !archParams.isObject())
        throw Error(QStringLiteral("Setting \"arch_params\" must be an object such as "
                                   "{\"width\": 128}."));
    c.archParams = archParams.toObject();
    c.epochs = int(integer(QStringLiteral("epochs"), c.epochs));
    c.batchSize = int(integer(QStringLiteral("batch_size"), c.batchSize));
    c.lr = real(QStringLiteral("lr"), c.lr);
    c.optimizer = json.value(QStringLiteral("optimizer")).toString(c.optimizer).toLower();
    c.momentum = real(QStringLiteral("momentum"), c.momentum);
    c.weightDecay = real(QStringLiteral("weight_decay"), c.weightDecay);
    c.schedule = json.value(QStringLiteral("schedule")).toString(c.schedule).toLower();
    c.stepEpochs = int(integer(QStringLiteral("step_epochs"), c.stepEpochs));
    c.gamma = real(QStringLiteral("gamma"), c.gamma);
    // The seed is unsigned 64-bit; it travels as a string (toJson), so parse it as one.
    const QJsonValue seed = json.value(QStringLiteral("seed"));
    if (seed.isString()) {
        bool ok = false;
        c.seed = seed.toString().toULongLong(&ok);
        if (!ok)
            throw Error(QStringLiteral("Setting \"seed\" must be a non-negative integer, not "
                                       "\"%1\".").arg(seed.toString()));
    } else {
        const qint64 n = integer(QStringLiteral("seed"), qint64(c.seed));
        if (n < 0)
            throw Error(QStringLiteral("Setting \"seed\" must not be negative (got %1).").arg(n));
        c.seed = quint64(n);
    }
    c.limit = integer(QStringLiteral("limit"), c.limit);
    c.validationFraction = real(QStringLiteral("validation_fraction"), c.validationFraction);
    c.threads = int(integer(QStringLiteral("threads"), c.threads));
    c.task = json.value(QStringLiteral("task")).toString(c.task).toLower();
    c.tokenizer = json.value(QStringLiteral("tokenizer")).toString(c.tokenizer).toLower();
    c.vocabSize = int(integer(QStringLiteral("vocab_size"), c.vocabSize));
    c.stepsPerEpoch = int(integer(QStringLiteral("steps_per_epoch"), c.stepsPerEpoch));
    c.warmupSteps = int(integer(QStringLiteral("warmup_steps"), c.warmupSteps));
    c.minLr = real(QStringLiteral("min_lr"), c.minLr);
    c.clipGradNorm = real(QStringLiteral("clip_grad_norm"), c.clipGradNorm);
    c.beta1 = real(QStringLiteral("beta1"), c.beta1);
    c.beta2 = real(QStringLiteral("beta2"), c.beta2);
    auto flag = [&json](const QString &key) {
        const QJsonValue v = json.value(key);
        if (v.isUndefined())
            return false;
        if (!v.isBool())
            throw Error(QStringLiteral("Setting \"%1\" must be true or false.").arg(key));
        return v.toBool();
    };
    const QJsonValue from = json.value(QStringLiteral("from"));
    if (!from.isUndefined() && !from.isString())
        throw Error(QStringLiteral("Setting \"from\" must be a version reference such as "
                                   "resnet18:1."));
    c.from = from.toString().trimmed();
    c.freezeBackbone = flag(QStringLiteral("freeze_backbone"));
    c.replaceHead = flag(QStringLiteral("replace_head"));
    const QJsonValue augment = json.value(QStringLiteral("augment"));
    if (!augment.isUndefined() && !augment.isString())
        throw Error(QStringLiteral("Setting \"augment\" must be text such as \"hflip,shift:2\"."));
    c.augment = augment.toString().trimmed().toLower();
    c.validate();
    return c;
}

void TrainConfig::validate() const
{
    auto fail = [](const QString &what) { throw Error(what); };
    if (!archSpec.isEmpty() && !archParams.isEmpty())
        fail(QStringLiteral("\"arch_params\" applies to a named architecture, not to an inline "
                            "\"arch_spec\": write the values into the spec instead."));
    if (epochs < 1)
        fail(QStringLiteral("Epochs must be at least 1 (got %1).").arg(epochs));
    if (batchSize < 1)
        fail(QStringLiteral("Batch size must be at least 1 (got %1).").arg(batchSize));
    if (!(lr > 0.0))
        fail(QStringLiteral("Learning rate must be greater than 0 (got %1).").arg(lr));
    if (!kOptimizers.contains(optimizer))
        fail(QStringLiteral("Unknown optimizer \"%1\"; choose one of %2.")
                 .arg(optimizer, kOptimizers.join(QStringLiteral(", "))));
    if (!kSchedules.contains(schedule))
        fail(QStringLiteral("Unknown learning-rate schedule \"%1\"; choose one of %2.")
                 .arg(schedule, kSchedules.join(QStringLiteral(", "))));
    if (momentum < 0.0 || momentum >= 1.0)
        fail(QStringLiteral("Momentum must be in [0, 1) (got %1).").arg(momentum));
    if (weightDecay < 0.0)
        fail(QStringLiteral("Weight decay must not be negative (got %1).").arg(weightDecay));
    if (stepEpochs < 1)
        fail(QStringLiteral("The step schedule's interval must be at least 1 epoch (got %1).")
                 .arg(stepEpochs));
    if (!(gamma > 0.0))
        fail(QStringLiteral("The step schedule's gamma must be greater than 0 (got %1).")
                 .arg(gamma));
    if (limit < 0)
        fail(QStringLiteral("The sample limit must not be negative (got %1).").arg(limit));
    if (validationFraction < 0.0 || validationFraction >= 1.0)
        fail(QStringLiteral("The validation fraction must be in [0, 1) (got %1).")
                 .arg(validationFraction));
    Runtime::checkThreads(threads, QStringLiteral("Threads (--threads)"));
    augmentation();
    if (!kTasks.contains(task))
        fail(QStringLiteral("Unknown task \"%1\"; choose one of %2.")
                 .arg(task, kTasks.join(QStringLiteral(", "))));
    if (!Tokenizer::kinds().contains(tokenizer))
        fail(QStringLiteral("Unknown tokenizer \"%1\"; choose one of %2.")
                 .arg(tokenizer, Tokenizer::kinds().join(QStringLiteral(", "))));
    // SentencePiece needs room for its byte fallback (256 pieces) and a few of its own.
    if (Tokenizer::isTrained(tokenizer) && (vocabSize < 300 || vocabSize > 65536))
        fail(QStringLiteral("The %1 tokenizer's vocabulary (--vocab-size) must be between 300 "
                            "and 65536 symbols (got %2).").arg(tokenizer).arg(vocabSize));
    if (stepsPerEpoch < 0)
        fail(QStringLiteral("Steps per epoch must be 0 (one pass over the data) or more (got "
                            "%1).").arg(stepsPerEpoch));
    if (stepsPerEpoch > 0 && task != QLatin1String("lm"))
        fail(QStringLiteral("Steps per epoch (--steps-per-epoch) apply to language models "
                            "(--task lm); a classifier's epoch is one pass over its samples."));
    if (warmupSteps < 0)
        fail(QStringLiteral("Warm-up steps must not be negative (got %1).").arg(warmupSteps));
    if (minLr < 0.0 || minLr > lr)
        fail(QStringLiteral("The minimum learning rate must be from 0 to the learning rate %1 "
                            "(got %2).").arg(lr).arg(minLr));
    if (clipGradNorm < 0.0)
        fail(QStringLiteral("The gradient clipping norm must be 0 (off) or more (got %1).")
                 .arg(clipGradNorm));
    if (beta1 < 0.0 || beta1 >= 1.0 || beta2 < 0.0 || beta2 >= 1.0)
        fail(QStringLiteral("Adam's betas must be in [0, 1) (got %1, %2).").arg(beta1).arg(beta2));
    if (augmentation().any() && task == QLatin1String("lm"))
        fail(QStringLiteral("Augmentation (--augment %1) changes images; a language model "
                            "(--task lm) trains on its text as it is.").arg(augment));
    if (!from.isEmpty() && task == QLatin1String("lm"))
        fail(QStringLiteral("--from fine-tunes a classifier; a language model (--task lm) starts "
                            "from its architecture (--arch gpt)."));
    if (!from.isEmpty() && (!archParams.isEmpty() || !archSpec.isEmpty()))
        fail(QStringLiteral("--from %1 fine-tunes that version as it is: architecture settings "
                            "(--arch-param, --arch-spec, gpt's flags) do not apply to it.")
                 .arg(from));
    if (from.isEmpty() && (freezeBackbone || replaceHead))
        fail(QStringLiteral("%1 fine-tunes a registered version: give the version to start from "
                            "with --from NAME:N.")
                 .arg(replaceHead ? QStringLiteral("--replace-head")
                                  : QStringLiteral("--freeze-backbone")));
}

TrainConfig::Augmentation TrainConfig::augmentation() const
{
    Augmentation a;
    const QString text = augment.trimmed().toLower();
    if (text.isEmpty() || text == QLatin1String("none"))
        return a;
    const QString usage = QStringLiteral("Augmentation (--augment) is a list of hflip and "
                                         "shift:N (N pixels, 1 to 8) separated by commas or "
                                         "plus signs, e.g. \"hflip,shift:2\"; ");
    // '+' as well: a sweep's choices are typed comma-separated in the window (hflip+shift:2).
    static const QRegularExpression separator(QStringLiteral("[,+]"));
    for (const QString &part : text.split(separator)) {
        const QString p = part.trimmed();
        if (p == QLatin1String("hflip")) {
            a.hflip = true;
            continue;
        }
        if (p.startsWith(QLatin1String("shift:"))) {
            bool ok = false;
            const int n = p.mid(6).toInt(&ok);
            if (ok && n >= 1 && n <= 8) {
                a.shift = n;
                continue;
            }
        }
        throw Error(usage + QStringLiteral("\"%1\" is not one of them.").arg(p));
    }
    return a;
}

QJsonObject TrainConfig::readSpecFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("Cannot read the config %1: %2.").arg(path, file.errorString()));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &error);
    if (!doc.isObject())
        throw Error(QStringLiteral("%1 is not a JSON object (%2 at offset %3).")
                        .arg(path, error.errorString(), QString::number(error.offset)));
    return doc.object();
}

QString TrainConfig::label() const
{
    if (!from.isEmpty()) {
        // "resnet18:1" or "resnet18@production": the model's name.
        const qsizetype cut = from.indexOf(QRegularExpression(QStringLiteral("[:@]")));
        return cut > 0 ? from.left(cut) : from;
    }
    if (!archSpec.isEmpty()) {
        const QString name = archSpec.value(QStringLiteral("name")).toString();
        return name.isEmpty() ? QStringLiteral("custom") : name;
    }
    // A spec file path makes a poor name; its base name reads well.
    if (arch.endsWith(QLatin1String(".json"), Qt::CaseInsensitive) || QFileInfo(arch).isFile())
        return QFileInfo(arch).completeBaseName();
    return arch;
}

} // namespace ms
