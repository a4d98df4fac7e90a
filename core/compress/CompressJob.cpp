#include "compress/CompressJob.h"

#include "common/Cancelled.h"
#include "common/CpuShare.h"
#include "common/Error.h"
#include "common/Limits.h"
#include "common/Names.h"
#include "common/Runtime.h"
#include "common/Workspace.h"
#include "compress/CompressionMethod.h"
#include "compress/FineTune_p.h"
#include "data/DatasetRegistry.h"
#include "data/TextDataset.h"
#include "jobs/JobContext.h"
#include "models/ModelImpl_p.h"
#include "registry/Registry.h"
#include "registry/RunRecorder.h"
#include "train/LmTraining_p.h"
#include "train/TrainLoop_p.h"

#include <ATen/Parallel.h>

#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>
#include <QSet>

#include <cmath>
#include <memory>
#include <optional>

namespace ms {

namespace {

const QSet<QString> kSpecKeys = {QStringLiteral("source"), QStringLiteral("method"),
                                 QStringLiteral("name"), QStringLiteral("params"),
                                 QStringLiteral("dataset"), QStringLiteral("threads"),
                                 QStringLiteral("register")};

QString typeName(const CompressParameter &p)
{
    switch (p.type) {
    case CompressParameter::Type::Double: return QStringLiteral("a number");
    case CompressParameter::Type::Int: return QStringLiteral("a whole number");
    case CompressParameter::Type::Choice:
        return QStringLiteral("one of %1").arg(p.choices.join(QStringLiteral(", ")));
    case CompressParameter::Type::Version:
        return QStringLiteral("a version reference (NAME:N or NAME@ALIAS)");
    case CompressParameter::Type::Text: return QStringLiteral("a text");
    }
    return QString();
}

// CompressionMethod.h: a Text or Version parameter whose default is the empty string.
bool isOptionalText(const CompressParameter &p)
{
    return (p.type == CompressParameter::Type::Text || p.type == CompressParameter::Type::Version)
           && p.defaultValue.isString() && p.defaultValue.toString().isEmpty();
}

QString given(const QJsonValue &v)
{
    if (v.isString())
        return QLatin1Char('"') + v.toString() + QLatin1Char('"');
    if (v.isDouble())
        return QString::number(v.toDouble(), 'g', 12);
    if (v.isBool())
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    return QStringLiteral("a JSON %1").arg(v.isArray() ? QStringLiteral("array")
                                                       : QStringLiteral("object"));
}

// The data the source was trained on: a trained version's recipe is a TrainConfig; a
// compressed one carries its source's under "data". Imports know none.
struct DataSource
{
    DatasetOptions options;
    bool known = false;
};

DataSource dataSourceOf(const VersionRecord &source, const QString &override)
{
    QJsonObject r = source.recipe;
    if (r.value(QStringLiteral("kind")).toString() == QLatin1String("compress"))
        r = r.value(QStringLiteral("data")).toObject();
    DataSource d;
    if (r.contains(QStringLiteral("dataset"))) {
        d.known = true;
        d.options.source = r.value(QStringLiteral("dataset")).toString();
        d.options.limit = r.value(QStringLiteral("limit")).toVariant().toLongLong();
        d.options.seed = r.value(QStringLiteral("seed")).toVariant().toULongLong();
        d.options.validationFraction =
            r.value(QStringLiteral("validation_fraction")).toDouble(0.1);
        d.options.labelColumn = r.value(QStringLiteral("label_column")).toString();
        d.options.textColumn = r.value(QStringLiteral("text_column")).toString();
    }
    if (!override.isEmpty()) {
        d.known = true;
        d.options.source = override;
    }
    return d;
}

QJsonObject describeData(const DatasetOptions &o)
{
    QJsonObject json{{QStringLiteral("dataset"), o.source},
                     {QStringLiteral("limit"), QString::number(o.limit)},
                     {QStringLiteral("seed"), QString::number(o.seed)},
                     {QStringLiteral("validation_fraction"), o.validationFraction}};
    if (!o.labelColumn.isEmpty())
        json.insert(QStringLiteral("label_column"), o.labelColumn);
    if (!o.textColumn.isEmpty())
        json.insert(QStringLiteral("text_column"), o.textColumn);
    return json;
}


// The source's sample shape (per sample) and class count as the model or, for an import that
// records none, the registry's signature knows them; empty / 0 when unknown.
std::vector<qint64> sampleShapeOf(const VersionRecord &source, const Model &model)
{
    std::vector<qint64> shape = model.inputShape();
    if (shape.empty() && !source.inputs.isEmpty() && source.inputs.first().shape.size() > 1)
        shape.assign(source.inputs.first().shape.begin() + 1, source.inputs.first().shape.end());
    return shape;
}

int classCountOf(const VersionRecord &source)
{
    if (!source.outputs.isEmpty() && source.outputs.first().shape.size() == 2)
        return int(source.outputs.first().shape.back());
    return 0;
}

// What run() and preflight() resolve and check before any work: the source and its loaded
// model, the method, its checked parameters and the new model's name. Throws ms::Error.
struct Prepared
{
    VersionRecord source;
    QString methodName;
    std::shared_ptr<CompressionMethod> method;
    QJsonObject params;
    QString newName;
    Model model;
};

Prepared prepare(Registry &registry, const QJsonObject &spec)
{
    Prepared p;
    p.source = registry.resolve(spec.value(QStringLiteral("source")).toString());
    p.methodName = spec.value(QStringLiteral("method")).toString();
    p.method = CompressionRegistry::instance().method(p.methodName);
    p.params = CompressJob::checkedParams(p.methodName, p.method->parameters(),
                                          spec.value(QStringLiteral("params")).toObject());
    p.newName = spec.value(QStringLiteral("name")).toString().isEmpty()
                    ? p.source.modelName
                    : spec.value(QStringLiteral("name")).toString();
    checkModelName(p.newName);
    p.model = Model::load(registry.verifiedArtifactPath(p.source));
    p.model.impl()->module.train();
    p.method->check(p.model, p.source, p.params);
    return p;
}

} // namespace

QJsonObject CompressJob::makeSpec(const QString &source, const QString &method,
                                  const QJsonObject &params, const QString &name,
                                  const QString &dataset, int threads)
{
    Runtime::checkThreads(threads, QStringLiteral("Threads (--threads)"));
    const QJsonObject checked =
        checkedParams(method, CompressionRegistry::instance().method(method)->parameters(),
                      params);
    QJsonObject spec{{QStringLiteral("source"), source},
                     {QStringLiteral("method"), method},
                     {QStringLiteral("params"), checked}};
    if (!name.trimmed().isEmpty())
        spec.insert(QStringLiteral("name"), name.trimmed());
    if (!dataset.trimmed().isEmpty())
        spec.insert(QStringLiteral("dataset"), dataset.trimmed());
    if (threads > 0)
        spec.insert(QStringLiteral("threads"), threads);
    return spec;
}

void CompressJob::preflight(const QString &workspace, const QJsonObject &spec)
{
    const CompressJob job(workspace, spec);   // the spec's own keys
    Registry registry(workspace);
    Prepared prepared = prepare(registry, spec);
    const DataSource data = dataSourceOf(prepared.source,
                                         spec.value(QStringLiteral("dataset")).toString());
    std::optional<Dataset> dataset;
    CompressInput input;
    input.model = prepared.model;
    input.source = prepared.source;
    input.params = prepared.params;
    input.workspace = workspace;
    // No built-in checkInput reads the data; a plugin's may, so it is there, read on demand.
    input.dataset = [&]() -> const Dataset & {
        if (!dataset) {
            if (!data.known)
                throw Error(QStringLiteral("%1 records no training data (it was imported); give "
                                           "the data to use with --dataset.")
                                .arg(prepared.source.ref()));
            dataset = DatasetRegistry::instance().load(data.options);
        }
        return *dataset;
    };
    prepared.method->checkInput(input);
}

CompressJob::CompressJob(QString workspaceRoot, QJsonObject spec)
    : m_workspace(std::move(workspaceRoot))
    , m_spec(std::move(spec))
{
    for (auto it = m_spec.begin(); it != m_spec.end(); ++it) {
        if (!kSpecKeys.contains(it.key()))
            throw Error(QStringLiteral("Unknown compression setting \"%1\"; known settings: %2.")
                            .arg(it.key(), QStringList(kSpecKeys.values()).join(
                                               QStringLiteral(", "))));
    }
    Runtime::checkThreads(m_spec.value(QStringLiteral("threads")).toInt(0),
                          QStringLiteral("Threads (--threads)"));
    if (m_spec.value(QStringLiteral("source")).toString().isEmpty())
        throw Error(QStringLiteral("Name the version to compress (NAME:N or NAME@ALIAS)."));
    if (m_spec.value(QStringLiteral("method")).toString().isEmpty())
        throw Error(QStringLiteral("Name a compression method (--method); available: %1.")
                        .arg(CompressionRegistry::instance().methods().names().join(
                            QStringLiteral(", "))));
}

QString CompressJob::title() const
{
    return QStringLiteral("Compress %1 with %2")
        .arg(m_spec.value(QStringLiteral("source")).toString(),
             m_spec.value(QStringLiteral("method")).toString());
}

QJsonObject CompressJob::checkedParams(const QString &method,
                                       const QList<CompressParameter> &parameters,
                                       const QJsonObject &givenParams)
{
    QStringList names;
    for (const CompressParameter &p : parameters)
        names << QStringLiteral("--") + p.name;
    for (auto it = givenParams.begin(); it != givenParams.end(); ++it) {
        bool known = false;
        for (const CompressParameter &p : parameters)
            known = known || p.name == it.key();
        if (!known)
            throw Error(QStringLiteral("--%1 is not a parameter of %2; its parameters are: %3.")
                            .arg(it.key(), method,
                                 names.isEmpty() ? QStringLiteral("none")
                                                 : names.join(QStringLiteral(", "))));
    }
    QJsonObject out;
    for (const CompressParameter &p : parameters) {
        QJsonValue v = givenParams.value(p.name);
        // An optional text left empty (distill's --student or --student-arch, a dialog's blank
        // field) is no value: left out, so checking the result again accepts it.
        if (isOptionalText(p) && (v.isUndefined() || v.isNull()
                                  || (v.isString() && v.toString().trimmed().isEmpty())))
            continue;
        if (v.isUndefined() || v.isNull()) {
            if (p.defaultValue.isNull() || p.defaultValue.isUndefined())
                throw Error(QStringLiteral("%1 needs --%2: %3").arg(method, p.name, p.help));
            out.insert(p.name, p.defaultValue);
            continue;
        }
        const QString wrong = QStringLiteral("--%1 of %2 takes %3, not %4.")
                                  .arg(p.name, method, typeName(p), given(v));
        switch (p.type) {
        case CompressParameter::Type::Double:
        case CompressParameter::Type::Int: {
            double number = v.toDouble();
            bool ok = v.isDouble();
            if (v.isString())
                number = v.toString().trimmed().toDouble(&ok);
            if (!ok || !std::isfinite(number))
                throw Error(wrong);
            if (p.type == CompressParameter::Type::Int && number != std::floor(number))
                throw Error(wrong);
            if (number < p.minimum || number > p.maximum)
                throw Error(QStringLiteral("--%1 of %2 must be between %3 and %4, not %5.")
                                .arg(p.name, method, QString::number(p.minimum),
                                     QString::number(p.maximum), QString::number(number)));
            v = p.type == CompressParameter::Type::Int ? QJsonValue(qint64(number))
                                                       : QJsonValue(number);
            break;
        }
        case CompressParameter::Type::Choice:
            if (!v.isString() || !p.choices.contains(v.toString()))
                throw Error(wrong);
            break;
        case CompressParameter::Type::Version:
        case CompressParameter::Type::Text:
            if (!v.isString() || v.toString().isEmpty())
                throw Error(wrong);
            break;
        }
        out.insert(p.name, v);
    }
    return out;
}

namespace {

const QString kNothingRegistered = QStringLiteral("Cancelled; nothing was registered.");

// One compression between its named steps: CompressJob::run reads as their sequence. Holds
// what the steps share: the checked source and method, the data (read once, on demand), the
// run and its recorder.
class CompressSession
{
public:
    CompressSession(const QString &workspace, const QJsonObject &spec, JobContext &context)
        : m_workspace(workspace), m_spec(spec), m_context(context), m_registry(workspace)
    {}

    // Every check before any work (CompressJob.h lists them); a result when a stop came while
    // the data loaded, which leaves nothing behind, as a refusal does.
    std::optional<JobResult> check();
    // The method's work, recorded as a run: the variant scored, saved and registered.
    JobResult run();

private:
    // The source's data, read and matched to the source on first use.
    Dataset &data();
    // A language model (a gpt) is scored by its validation loss on its text, not by accuracy:
    // its text is read and tokenized in check(), and the methods that read labelled samples
    // are refused by data().
    bool isLanguageModel() const { return m_prepared.model.task() == QLatin1String("lm"); }
    // A classifier of text (a text-classifier trained here): its data is text, not tensors.
    bool isTextClassifier() const
    {
        return !isLanguageModel() && m_data.known
               && TextDatasetRegistry::instance().accepts(m_data.options);
    }
    void loadText();
    // True when there is data labelled with the model's classes to score with.
    bool scorable();
    void begin();
    // The method may change the loaded source in place: scored before it runs.
    void scoreSource();
    QJsonObject measure(CompressOutput &output);
    NewVersion versionOf(const CompressOutput &output, const QJsonObject &metrics,
                         const QString &modelPath) const;
    JobResult registered(const CompressOutput &output, const QJsonObject &metrics,
                         const QString &modelPath);
    // "register": false (a sweep's trial): the run is recorded and the variant stays in its
    // folder with the version it would have been (variant.json, registerVariant() reads it).
    JobResult kept(const CompressOutput &output, const QJsonObject &metrics,
                   const QString &modelPath);
    JobResult ended(JobStatus status, const QString &message);

    const QString &m_workspace;
    const QJsonObject &m_spec;
    JobContext &m_context;
    Registry m_registry;
    Prepared m_prepared;
    DataSource m_data;
    std::optional<Dataset> m_dataset;
    CompressInput m_input;
    QString m_runDir;
    std::unique_ptr<RunRecorder> m_recorder;
    double m_sourceAcc = NAN;
    double m_sourceValLoss = NAN;
    TrainConfig m_lmConfig;                 // what LmTraining reads: tokenizer, limit, seed
    std::unique_ptr<LmTraining> m_lm;       // a language model's text, when it has one
    qint64 m_sourceParams = 0;
    qint64 m_sourceNonzero = 0;
};

Dataset &CompressSession::data()
{
    if (m_dataset)
        return *m_dataset;
    const VersionRecord &source = m_prepared.source;
    if (isLanguageModel())
        throw Error(QStringLiteral("%1 is a language model: %2 would read labelled samples "
                                   "here (to fine-tune or calibrate), and a language model's "
                                   "text has none. Use a method that needs none: "
                                   "quantize-dynamic, fp16, bf16, distill (into a smaller gpt), "
                                   "or prune-unstructured without fine-tuning.")
                        .arg(source.ref(), m_prepared.methodName));
    if (!m_data.known)
        throw Error(QStringLiteral("%1 records no training data (it was imported); give the data "
                                   "to use with --dataset.").arg(source.ref()));
    if (isTextClassifier())
        throw Error(QStringLiteral("%1 classifies text: %2 would read labelled samples as "
                                   "tensors, which text is not. Use a method that needs none: "
                                   "quantize-dynamic, fp16, bf16, or prune-unstructured without "
                                   "fine-tuning.")
                        .arg(source.ref(), m_prepared.methodName));
    m_context.setProgress(0.0, QStringLiteral("Loading dataset %1").arg(m_data.options.source));
    DatasetOptions options = m_data.options;
    options.isCancelled = [this] { return m_context.isCancelled(); };
    options.warn = [this](const QString &message) {
        m_context.log(QStringLiteral("warning: ") + message);
    };
    options.maxFeatureBytes = Limits::maxDatasetBytes(m_workspace);
    m_dataset = DatasetRegistry::instance().load(options);
    // A method that reads no labels (calibration) takes data of any classes.
    checkDataFitsModel(sampleShapeOf(source, m_prepared.model),
                       m_prepared.method->needsLabels() ? classCountOf(source) : 0,
                       source.ref(), m_dataset->sampleShape, m_dataset->numClasses(),
                       QStringLiteral("the dataset %1").arg(m_data.options.source));
    return *m_dataset;
}

void CompressSession::loadText()
{
    m_context.setProgress(0.0, QStringLiteral("Loading text %1").arg(m_data.options.source));
    m_lmConfig.task = QStringLiteral("lm");
    m_lm = std::make_unique<LmTraining>(m_lmConfig);
    DatasetOptions options = m_data.options;
    options.isCancelled = [this] { return m_context.isCancelled(); };
    m_lm->load(options, m_prepared.model.tokenizer());   // the model's own, trained or not
    m_lm->checkModel(m_prepared.model, m_prepared.source.ref());
    m_input.text = m_lm.get();
}

bool CompressSession::scorable()
{
    return m_data.known && !isLanguageModel() && !isTextClassifier()
           && (classCountOf(m_prepared.source) <= 0
               || data().numClasses() == classCountOf(m_prepared.source));
}

std::optional<JobResult> CompressSession::check()
{
    m_context.setProgress(0.0, QStringLiteral("Loading %1")
                                   .arg(m_spec.value(QStringLiteral("source")).toString()));
    m_prepared = prepare(m_registry, m_spec);
    m_data = dataSourceOf(m_prepared.source, m_spec.value(QStringLiteral("dataset")).toString());
    m_input.model = m_prepared.model;
    m_input.source = m_prepared.source;
    m_input.params = m_prepared.params;
    m_input.workspace = m_workspace;
    m_input.dataset = [this]() -> const Dataset & { return data(); };
    m_prepared.method->checkInput(m_input);
    // Every method that uses data, and the score of the variant, read it: read and matched to
    // the source now, so a dataset of another shape is refused before any work. Then the
    // method's checks that need the data or a trial run.
    try {
        if (m_data.known && isLanguageModel())
            loadText();
        else if (m_data.known && !isTextClassifier())
            data();
        m_prepared.method->checkData(m_input, m_context);
    } catch (const Cancelled &e) {
        return JobResult{JobStatus::Cancelled,
                         QStringLiteral("%1 Nothing was registered.").arg(e.message()), {}};
    }
    return std::nullopt;
}

void CompressSession::begin()
{
    m_recorder->begin(m_runDir, m_spec);
    m_context.report(QJsonObject{{QStringLiteral("event"), QStringLiteral("start")},
                                 {QStringLiteral("source"), m_prepared.source.ref()},
                                 {QStringLiteral("method"), m_prepared.methodName},
                                 {QStringLiteral("params"), m_prepared.params},
                                 {QStringLiteral("run_dir"), m_runDir},
                                 {QStringLiteral("parameters"),
                                  m_prepared.model.parameterCount()}});
}

void CompressSession::scoreSource()
{
    const VersionRecord &source = m_prepared.source;
    m_sourceAcc = source.metrics.value(QStringLiteral("test_acc")).toDouble(NAN);
    if (std::isnan(m_sourceAcc) && scorable()) {
        m_context.setProgress(0.0, QStringLiteral("Measuring %1").arg(source.ref()));
        m_sourceAcc = testAccuracy(m_prepared.model.impl()->module, data());
    }
    if (m_lm) {
        m_context.setProgress(0.0, QStringLiteral("Measuring %1").arg(source.ref()));
        m_sourceValLoss = m_lm->validationLoss(m_prepared.model.impl()->module);
    }
    m_sourceParams = m_prepared.model.parameterCount();
    m_sourceNonzero = m_prepared.model.nonzeroParameterCount();
}

QJsonObject CompressSession::measure(CompressOutput &output)
{
    QJsonObject metrics{{QStringLiteral("parameters"), output.model.parameterCount()},
                        {QStringLiteral("nonzero_parameters"),
                         output.model.nonzeroParameterCount()},
                        {QStringLiteral("source_parameters"), m_sourceParams},
                        {QStringLiteral("source_nonzero_parameters"), m_sourceNonzero}};
    if (m_lm) {
        m_context.setProgress(0.99, QStringLiteral("Measuring the variant"));
        // A student of a shorter context (distill) is scored on windows of its context, and
        // so is its source again: the delta compares the two on the same text.
        m_lm->checkModel(output.model, QStringLiteral("The variant"));
        if (output.model.blockSize() != m_prepared.model.blockSize()) {
            m_sourceValLoss = m_lm->validationLoss(m_prepared.model.impl()->module);
            metrics.insert(QStringLiteral("val_block_size"), output.model.blockSize());
        }
        const double loss = m_lm->validationLoss(output.model.impl()->module);
        metrics.insert(QStringLiteral("val_loss"), loss);
        metrics.insert(QStringLiteral("val_ppl"), std::exp(loss));
        metrics.insert(QStringLiteral("source_val_loss"), m_sourceValLoss);
        metrics.insert(QStringLiteral("val_loss_delta"), loss - m_sourceValLoss);
        return metrics;
    }
    if (!scorable())   // no data, or labelled with other classes than the model's
        return metrics;
    m_context.setProgress(0.99, QStringLiteral("Measuring the variant"));
    const double acc = testAccuracy(output.model.impl()->module, data());
    if (!std::isnan(acc)) {
        metrics.insert(QStringLiteral("test_acc"), acc);
        if (!std::isnan(m_sourceAcc)) {
            metrics.insert(QStringLiteral("source_test_acc"), m_sourceAcc);
            metrics.insert(QStringLiteral("test_acc_delta"), acc - m_sourceAcc);
        }
    }
    return metrics;
}

NewVersion CompressSession::versionOf(const CompressOutput &output, const QJsonObject &metrics,
                                      const QString &modelPath) const
{
    const VersionRecord &source = m_prepared.source;
    QJsonObject recipe{{QStringLiteral("kind"), QStringLiteral("compress")},
                       {QStringLiteral("source"), source.ref()},
                       {QStringLiteral("source_id"), QString::number(source.id)},
                       {QStringLiteral("method"), m_prepared.methodName},
                       {QStringLiteral("params"), m_prepared.params},
                       {QStringLiteral("details"), output.details}};
    if (m_data.known)
        recipe.insert(QStringLiteral("data"), describeData(m_data.options));
    if (!output.quantizedEngine.isEmpty())
        recipe.insert(QStringLiteral("quantized_engine"), output.quantizedEngine);
    NewVersion version;   // of the recorder's model (the new name), made by its run
    version.modelDescription = QStringLiteral("Made from %1 with %2")
                                   .arg(source.ref(), m_prepared.methodName);
    version.kind = output.kind;
    version.artifactPath = modelPath;
    version.recipe = recipe;
    version.inputs = source.inputs;
    version.outputs = source.outputs;
    version.classNames = source.classNames;
    version.parameterCount = output.model.parameterCount();
    version.metrics = metrics;
    version.parents = {{source.id, output.sourceRole}};
    version.parents += output.extraParents;
    return version;
}

JobResult CompressSession::registered(const CompressOutput &output, const QJsonObject &metrics,
                                      const QString &modelPath)
{
    const VersionRecord record = m_recorder->finish(versionOf(output, metrics, modelPath));
    m_context.log(QStringLiteral("Registered as %1").arg(record.ref()));
    m_context.setProgress(1.0, QStringLiteral("Finished"));
    return JobResult{JobStatus::Finished, QString(),
                     QJsonObject{{QStringLiteral("version"), record.ref()},
                                 {QStringLiteral("version_id"), record.id},
                                 {QStringLiteral("kind"), versionKindName(output.kind)},
                                 {QStringLiteral("run_dir"), m_runDir},
                                 {QStringLiteral("model_path"), modelPath},
                                 {QStringLiteral("metrics"), metrics},
                                 {QStringLiteral("details"), output.details}}};
}

JobResult CompressSession::kept(const CompressOutput &output, const QJsonObject &metrics,
                                const QString &modelPath)
{
    const NewVersion version = versionOf(output, metrics, modelPath);
    QJsonArray parents;
    for (const auto &[id, role] : version.parents)
        parents.append(QJsonObject{{QStringLiteral("id"), QString::number(id)},
                                   {QStringLiteral("role"), role}});
    const QJsonObject variant{{QStringLiteral("kind"), versionKindName(version.kind)},
                              {QStringLiteral("description"), version.modelDescription},
                              {QStringLiteral("recipe"), version.recipe},
                              {QStringLiteral("metrics"), metrics},
                              {QStringLiteral("parents"), parents}};
    const QString path = m_runDir + QStringLiteral("/variant.json");
    QSaveFile file(path);
    const QByteArray text = QJsonDocument(variant).toJson();
    if (!file.open(QIODevice::WriteOnly) || file.write(text) != text.size() || !file.commit())
        throw Error(QStringLiteral("Cannot write %1: %2").arg(path, file.errorString()));
    m_recorder->end(JobStatus::Finished, QString());
    m_context.setProgress(1.0, QStringLiteral("Finished"));
    return JobResult{JobStatus::Finished, QString(),
                     QJsonObject{{QStringLiteral("kind"), versionKindName(output.kind)},
                                 {QStringLiteral("run_dir"), m_runDir},
                                 {QStringLiteral("model_path"), modelPath},
                                 {QStringLiteral("metrics"), metrics},
                                 {QStringLiteral("details"), output.details}}};
}

JobResult CompressSession::ended(JobStatus status, const QString &message)
{
    m_recorder->end(status, message);
    return JobResult{status, message, {}};
}

JobResult CompressSession::run()
{
    m_runDir = Workspace(m_workspace).newRunDir(QStringLiteral("compress-")
                                                + m_prepared.methodName);
    m_input.workDir = m_runDir;
    // Its points reach the registry as they come: a killed job keeps them up to the last
    // second.
    m_recorder = std::make_unique<RunRecorder>(m_workspace, QStringLiteral("compress"),
                                               m_prepared.newName, m_context);
    try {
        begin();
        scoreSource();
        CompressOutput output = m_prepared.method->apply(m_input, m_context);
        if (output.model.isNull() || m_context.isCancelled())
            return ended(JobStatus::Cancelled, kNothingRegistered);
        const QJsonObject metrics = measure(output);
        output.model.impl()->module.eval();
        const QString modelPath = m_runDir + QStringLiteral("/model.pt");
        output.model.save(modelPath);
        if (m_context.isCancelled())
            return ended(JobStatus::Cancelled, kNothingRegistered);
        if (!m_spec.value(QStringLiteral("register")).toBool(true))
            return kept(output, metrics, modelPath);
        return registered(output, metrics, modelPath);
    } catch (const trainloop::DivergedError &e) {
        // The same policy as a training run: a NaN loss ends the job as diverged.
        return ended(JobStatus::Diverged, e.message());
    } catch (const Cancelled &e) {
        m_recorder->end(JobStatus::Cancelled, e.message());
        throw;
    } catch (const Error &e) {
        m_recorder->end(JobStatus::Failed, e.message());
        throw;
    } catch (const std::exception &e) {
        m_recorder->end(JobStatus::Failed, QString::fromLocal8Bit(e.what()));
        throw;
    }
}

} // namespace

JobResult CompressJob::run(JobContext &context)
{
    // Without --threads, the cores other programs leave free (common/CpuShare.h), chosen once:
    // fine-tuning and distillation are short next to a training run.
    at::set_num_threads(ThreadGovernor(m_spec.value(QStringLiteral("threads")).toInt(0)).threads());
    CompressSession session(m_workspace, m_spec, context);
    if (std::optional<JobResult> stopped = session.check())
        return *stopped;
    return session.run();
}

} // namespace ms
