// modelstudio-cli train: the training job from the shell, with a progress bar on a terminal or
// JSON lines with --json.

#include "Command.h"
#include "DistLaunch.h"
#include "JobRun.h"
#include "Output.h"

#include "common/Error.h"
#include "common/Names.h"
#include "common/Runtime.h"
#include "common/Workspace.h"
#include "data/Tokenizer.h"
#include "jobs/JobRunner.h"
#include "registry/Registry.h"
#include "train/TrainJob.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>

namespace cli {

namespace {

struct Flag
{
    const char *name;
    const char *help;
    const char *value;
};

// Flag -> TrainConfig key. The flags are the JSON spec's keys with dashes.
const Flag kTrainFlags[] = {
    {"dataset", "Built-in dataset name or path (IDX folder, CSV file). Default fashion-mnist.",
     "NAME|PATH"},
    {"label-column", "CSV: label column, by header name or 0-based index (default: the column "
     "named label, target or class, else the last).", "COLUMN"},
    {"text-column", "CSV of text: the text column, by header name or 0-based index (default: "
     "the one column of text besides the label).", "COLUMN"},
    {"arch", "Architecture name (see: modelstudio-cli archs) or spec JSON file. Default cnn.",
     "NAME|FILE"},
    {"from", "Fine-tune this registered version (trained here or imported) instead of a new "
     "model of --arch; the new version's lineage edge is finetuned-from.", "NAME:N"},
    {"epochs", "Epochs (default 3).", "N"},
    {"batch-size", "Batch size (default 128).", "N"},
    {"lr", "Learning rate (default 0.001).", "RATE"},
    {"optimizer", "sgd, adam or adamw (default adam).", "NAME"},
    {"momentum", "SGD momentum (default 0.9).", "M"},
    {"weight-decay", "Weight decay (default 0).", "W"},
    {"schedule", "Learning-rate schedule: constant, step or cosine (default constant).", "NAME"},
    {"step-epochs", "Step schedule: decay every N epochs (default 1).", "N"},
    {"gamma", "Step schedule: decay factor (default 0.1).", "G"},
    {"seed", "Random seed; the same seed gives the same result (default 0).", "N"},
    {"limit", "Use at most N training samples, for quick runs (default all).", "N"},
    {"validation-fraction", "Share of training samples held out for validation (default 0.1).",
     "F"},
    {"threads", "Threads (default: the cores other programs leave free, followed as they "
     "change).", "N"},
    {"task", "classify (default; a text dataset trains --arch text-classifier) or lm: a "
     "language model on a text dataset (fortunes, a text folder or CSV).",
     "TASK"},
    {"tokenizer", "Language models: the tokenizer, byte (default: UTF-8 bytes, 256 symbols), "
     "spm-bpe or spm-unigram (SentencePiece, trained on the training split).", "NAME"},
    {"vocab-size", "spm-bpe/spm-unigram tokenizers: the vocabulary (default 2048).", "N"},
    {"steps-per-epoch", "Language models: optimizer steps per epoch (default: one pass over "
     "the training tokens).", "N"},
    {"warmup-steps", "Linear learning-rate warm-up over the first N steps (default 0).", "N"},
    {"min-lr", "Cosine schedule: the learning rate it ends at (default 0).", "RATE"},
    {"clip-grad-norm", "Clip the gradients' total norm to this before each step (default 0: "
     "off).", "NORM"},
    {"beta1", "Adam/AdamW beta1 (default 0.9).", "B"},
    {"beta2", "Adam/AdamW beta2 (default 0.999).", "B"},
    {"augment", "Image classifiers: random changes to every training batch, comma-separated: "
     "hflip (mirror half the images) and shift:N (move by up to N pixels), e.g. hflip,shift:2 "
     "(default none).", "LIST"},
};

// Flag -> a parameter of the architecture (TrainConfig::archParams), as --arch-param KEY=V.
const Flag kArchFlags[] = {
    {"block-size", "gpt: the context in tokens (default 128); text-classifier: the longest "
     "input (default 128).", "N"},
    {"n-layer", "gpt, text-classifier: transformer blocks (default 4; 2).", "N"},
    {"n-head", "gpt, text-classifier: attention heads; n-embd must divide by it (default 4).",
     "N"},
    {"n-embd", "gpt, text-classifier: embedding width (default 128; 64).", "N"},
    {"dropout", "Dropout probability while training (gpt, text-classifier, mlp, cnn; default "
     "0).", "P"},
};

QJsonValue flagValue(const QString &key, const QString &text)
{
    static const QStringList textKeys = {QStringLiteral("dataset"), QStringLiteral("arch"),
                                         QStringLiteral("optimizer"), QStringLiteral("schedule"),
                                         QStringLiteral("label_column"), QStringLiteral("seed"),
                                         QStringLiteral("text_column"),
                                         QStringLiteral("limit"), QStringLiteral("task"),
                                         QStringLiteral("tokenizer"),
                                         QStringLiteral("from"), QStringLiteral("augment")};
    if (textKeys.contains(key))
        return text;
    bool ok = false;
    const double number = text.toDouble(&ok);
    if (!ok)
        throw ms::Error(QStringLiteral("--%1 takes a number, not \"%2\".")
                            .arg(QString(key).replace(QLatin1Char('_'), QLatin1Char('-')), text));
    return number;
}

QString percent(const QJsonObject &o, const char *key)
{
    const QJsonValue v = o.value(QLatin1String(key));
    return v.isUndefined() ? QStringLiteral("-")
                           : QString::number(v.toDouble() * 100.0, 'f', 2) + QLatin1Char('%');
}

QString epochLine(const QJsonObject &e)
{
    if (e.contains(QStringLiteral("val_ppl")))   // a language model
        return QStringLiteral("epoch %1/%2  train_loss %3  val_loss %4  val_ppl %5  "
                              "%6 tokens/s")
            .arg(e.value(QStringLiteral("epoch")).toInt())
            .arg(e.value(QStringLiteral("epochs")).toInt())
            .arg(e.value(QStringLiteral("train_loss")).toDouble(), 0, 'f', 4)
            .arg(e.value(QStringLiteral("val_loss")).toDouble(), 0, 'f', 4)
            .arg(e.value(QStringLiteral("val_ppl")).toDouble(), 0, 'f', 2)
            .arg(qRound(e.value(QStringLiteral("tokens_per_s")).toDouble()));
    return QStringLiteral("epoch %1/%2  train_loss %3  val_loss %4  val_acc %5  test_acc %6  "
                          "%7 samples/s")
        .arg(e.value(QStringLiteral("epoch")).toInt())
        .arg(e.value(QStringLiteral("epochs")).toInt())
        .arg(e.value(QStringLiteral("train_loss")).toDouble(), 0, 'f', 4)
        .arg(e.value(QStringLiteral("val_loss")).toDouble(), 0, 'f', 4)
        .arg(percent(e, "val_acc"), percent(e, "test_acc"))
        .arg(qRound(e.value(QStringLiteral("samples_per_s")).toDouble()));
}

int runTrain(const QStringList &arguments)
{
    QCommandLineParser parser;
    for (const Flag &flag : kTrainFlags)
        parser.addOption({QString::fromLatin1(flag.name), QString::fromLatin1(flag.help),
                          QString::fromLatin1(flag.value)});
    for (const Flag &flag : kArchFlags)
        parser.addOption({QString::fromLatin1(flag.name), QString::fromLatin1(flag.help),
                          QString::fromLatin1(flag.value)});
    parser.addOption({QStringLiteral("freeze-backbone"),
                      QStringLiteral("With --from: train only the classifier (the last Linear or "
                                     "1x1 convolution).")});
    parser.addOption({QStringLiteral("replace-head"),
                      QStringLiteral("With --from: re-initialise the classifier for the "
                                     "dataset's classes when their count differs from the "
                                     "model's outputs (refused otherwise).")});
    parser.addOption({QStringLiteral("config"),
                      QStringLiteral("Job spec JSON (the recipe); flags given as well win."),
                      QStringLiteral("FILE")});
    parser.addOption({QStringLiteral("out"), QStringLiteral("Also write the trained model here."),
                      QStringLiteral("FILE.pt")});
    parser.addOption({QStringLiteral("name"),
                      QStringLiteral("Register the trained model as a new version of NAME "
                                     "(default: the architecture's name)."),
                      QStringLiteral("NAME")});
    parser.addOption({QStringLiteral("arch-param"),
                      QStringLiteral("An architecture parameter, e.g. width=128 or dropout=0.2 "
                                     "(see: modelstudio-cli archs); repeatable."),
                      QStringLiteral("KEY=VALUE")});
    parser.addOption({QStringLiteral("no-register"),
                      QStringLiteral("Record the run and its curves but register no version "
                                     "(what a sweep's trials do).")});
    parser.addOption({QStringLiteral("test-at-end"),
                      QStringLiteral("Score the test split after the last epoch only, not after "
                                     "every epoch (what a sweep's trials do when no objective "
                                     "needs test_acc).")});
    parser.addOption({QStringLiteral("resume"),
                      QStringLiteral("Continue the run in this folder from its last checkpoint."),
                      QStringLiteral("RUN_DIR")});
    addLaunchOptions(parser);
    int code = Ok;
    if (!parse(parser, QStringLiteral("train"),
               QStringLiteral("Train a model on a dataset. Writes a checkpoint every epoch into "
                              "a run folder of the workspace."),
               arguments, &code))
        return code;
    if (!parser.positionalArguments().isEmpty())
        return fail(QStringLiteral("unexpected argument \"%1\". See: modelstudio-cli train "
                                   "--help").arg(parser.positionalArguments().first()),
                    Usage);

    const bool json = parser.isSet(QStringLiteral("json"));
    const QString outPath = parser.value(QStringLiteral("out"));
    // A data-parallel job (DistLaunch.h): bad launch values are refused before anything else.
    LaunchPlan plan;
    ms::DistributedSetup setup;
    try {
        plan = readLaunchPlan(parser);
        setup = workerSetup(plan);
    } catch (const ms::Error &e) {
        return fail(e.message(), Usage);
    }
    // Rank 0 alone makes the run folder and records; a launcher only checks the recipe.
    const bool records = setup.rank == 0 && !plan.spawns();
    std::unique_ptr<ms::TrainJob> job;
    if (parser.isSet(QStringLiteral("resume"))) {
        const QString runDir = QDir(parser.value(QStringLiteral("resume"))).absolutePath();
        job.reset(ms::TrainJob::resume(runDir, outPath));
        // A run folder lives in <workspace>/runs/; its run continues in that workspace.
        const QDir runs = QFileInfo(runDir).dir();
        const QString workspace = runs.dirName() == QLatin1String("runs")
                                      ? QFileInfo(runs.path()).absolutePath()
                                      : ms::Workspace::resolve(
                                            parser.value(QStringLiteral("workspace")));
        job->recordIn(workspace);
        if (setup.enabled())
            ms::checkDistributable(job->config());
        if (plan.spawns())
            return launchWorkers(arguments, plan);
    } else {
        QJsonObject spec = parser.isSet(QStringLiteral("config"))
                               ? ms::TrainConfig::readSpecFile(parser.value(QStringLiteral("config")))
                               : QJsonObject();
        for (const Flag &flag : kTrainFlags) {
            const QString name = QString::fromLatin1(flag.name);
            if (parser.isSet(name)) {
                const QString key = QString(name).replace(QLatin1Char('-'), QLatin1Char('_'));
                spec.insert(key, flagValue(key, parser.value(name)));
            }
        }
        for (const char *name : {"freeze-backbone", "replace-head"}) {
            if (parser.isSet(QLatin1String(name)))
                spec.insert(QString::fromLatin1(name).replace(QLatin1Char('-'), QLatin1Char('_')),
                            true);
        }
        if (parser.isSet(QStringLiteral("arch-param"))) {
            QJsonObject params = spec.value(QStringLiteral("arch_params")).toObject();
            for (const QString &pair : parser.values(QStringLiteral("arch-param"))) {
                const qsizetype eq = pair.indexOf(QLatin1Char('='));
                bool ok = false;
                const double value = eq > 0 ? pair.mid(eq + 1).toDouble(&ok) : 0.0;
                if (!ok)
                    return fail(QStringLiteral("--arch-param takes KEY=NUMBER (e.g. width=128), "
                                               "not \"%1\".").arg(pair),
                                Usage);
                params.insert(pair.left(eq), value);
            }
            spec.insert(QStringLiteral("arch_params"), params);
        }
        QJsonObject archParams = spec.value(QStringLiteral("arch_params")).toObject();
        for (const Flag &flag : kArchFlags) {
            const QString name = QString::fromLatin1(flag.name);
            if (parser.isSet(name)) {
                const QString key = QString(name).replace(QLatin1Char('-'), QLatin1Char('_'));
                archParams.insert(key, flagValue(key, parser.value(name)));
            }
        }
        if (!archParams.isEmpty())
            spec.insert(QStringLiteral("arch_params"), archParams);
        const ms::TrainConfig config = ms::TrainConfig::fromJson(spec);
        if (setup.enabled())
            ms::checkDistributable(config);
        ms::Tokenizer::checkAvailable(config.tokenizer);   // before the run folder
        if (parser.isSet(QStringLiteral("name"))) {
            try {   // before the run folder exists: a bad name costs nothing
                ms::checkModelName(parser.value(QStringLiteral("name")));
            } catch (const ms::Error &e) {
                return fail(e.message(), Usage);
            }
        }
        const ms::Workspace workspace(ms::Workspace::resolve(parser.value(QStringLiteral("workspace"))));
        if (!config.from.isEmpty() && records)
            ms::Registry(workspace.root()).resolve(config.from);   // before the run folder
        if (plan.spawns())
            return launchWorkers(arguments, plan);
        job = std::make_unique<ms::TrainJob>(
            config, records ? workspace.newRunDir(config.label()) : QString(), outPath);
        job->recordIn(workspace.root(), parser.value(QStringLiteral("name")));
    }
    job->setRegisterVersion(!parser.isSet(QStringLiteral("no-register")));
    job->setTestEveryEpoch(!parser.isSet(QStringLiteral("test-at-end")));
    job->setDistributed(setup);
    if (setup.rank != 0 && !outPath.isEmpty())
        std::fputs(qPrintable(outNote(setup.describe())), stderr);

    if (const QString warning = ms::Runtime::blasWarning(); !warning.isEmpty())
        std::fputs(QStringLiteral("warning: %1\n").arg(warning).toLocal8Bit().constData(), stderr);

    // One progress bar for a job: rank 0's.
    const bool showBar = !json && isTerminal(stderr) && setup.rank == 0;
    // Ctrl-C cancels the job (its last checkpoint stays); a second Ctrl-C quits at once.
    const ms::JobResult result = runJob(
        std::move(job), showBar,
        [&](const QJsonObject &event) {
            const QString kind = event.value(QStringLiteral("event")).toString();
            if (json)
                printJsonLine(event);
            else if (kind == QLatin1String("epoch"))
                printLine(epochLine(event));
            else if (kind == QLatin1String("warning"))
                std::fputs(QStringLiteral("warning: %1\n")
                               .arg(event.value(QStringLiteral("message")).toString())
                               .toLocal8Bit().constData(),
                           stderr);
            else if (kind == QLatin1String("registry"))   // waiting for a busy registry, or not
                std::fputs((event.value(QStringLiteral("message")).toString()
                            + QLatin1Char('\n')).toLocal8Bit().constData(),
                           stderr);
            else if (kind == QLatin1String("start"))
                printLine(QStringLiteral("run %1: %2, %3 parameters, %4 threads%5")
                              .arg(event.value(QStringLiteral("run_dir")).toString(),
                                   event.value(QStringLiteral("arch")).toString(),
                                   QString::number(
                                       event.value(QStringLiteral("params")).toInteger()),
                                   QString::number(
                                       event.value(QStringLiteral("threads")).toInt()),
                                   setup.enabled()
                                       ? QStringLiteral(", %1").arg(setup.describe())
                                       : QString()));
        },
        true);

    const QString status = ms::jobStatusName(result.status);
    if (json) {
        QJsonObject end{{QStringLiteral("event"), QStringLiteral("finished")},
                        {QStringLiteral("status"), status}};
        for (const char *key : {"run_dir", "model_path", "out_path", "epochs_done", "final",
                                "version"}) {
            const QJsonValue v = result.output.value(QLatin1String(key));
            if (!v.isUndefined())
                end.insert(QLatin1String(key), v);
        }
        if (!result.message.isEmpty())
            end.insert(QStringLiteral("error"), result.message);
        printJsonLine(end);
    } else if (result.status == ms::JobStatus::Finished && setup.rank != 0) {
        printLine(QStringLiteral("%1 finished (rank 0 records the run)").arg(setup.describe()));
    } else if (result.status == ms::JobStatus::Finished
               && parser.isSet(QStringLiteral("no-register"))) {
        printLine(QStringLiteral("model file %1 (not registered)")
                      .arg(result.output.value(QStringLiteral("model_path")).toString()));
    } else if (result.status == ms::JobStatus::Finished) {
        printLine(QStringLiteral("registered %1 (model file %2)")
                      .arg(result.output.value(QStringLiteral("version")).toString(),
                           result.output.value(QStringLiteral("model_path")).toString()));
        if (!outPath.isEmpty())
            printLine(QStringLiteral("model written: %1").arg(
                result.output.value(QStringLiteral("out_path")).toString()));
    }
    switch (result.status) {
    case ms::JobStatus::Finished: return Ok;
    case ms::JobStatus::Cancelled: return fail(result.message, interruptExitCode());
    default: return fail(result.message.isEmpty() ? status : result.message);
    }
}

} // namespace

QList<Command> trainCommands()
{
    return {{QStringLiteral("train"), QStringLiteral("Train a model (progress bar, or --json)"),
             runTrain}};
}

} // namespace cli
