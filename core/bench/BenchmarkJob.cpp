#include "bench/BenchmarkJob.h"

#include "bench/LmBenchmark_p.h"

#include "bench/ProcessMemory.h"
#include "common/Error.h"
#include "common/Limits.h"
#include "common/Runtime.h"
#include "data/DatasetRegistry.h"
#include "data/TextDataset.h"
#include "jobs/JobContext.h"
#include "models/ArchSpec.h"
#include "models/ModelImpl_p.h"
#include "models/ModelLayers.h"
#include "registry/Registry.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QMap>
#include <QSet>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <optional>

namespace ms {

namespace {

const QSet<QString> kKeys = {QStringLiteral("versions"), QStringLiteral("batch_sizes"),
                             QStringLiteral("threads"), QStringLiteral("warmup"),
                             QStringLiteral("repetitions"), QStringLiteral("accuracy"),
                             QStringLiteral("dataset"), QStringLiteral("generate_tokens")};

// Nearest-rank percentile of sorted values: the smallest value with at least p % of the
// samples at or below it (no interpolation: every reported figure is a measured one).
double percentile(const std::vector<double> &sorted, double p)
{
    if (sorted.empty())
        return 0.0;
    const size_t rank = size_t(std::ceil(p / 100.0 * double(sorted.size())));
    return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

// The data a version was trained on: a trained version's recipe is a TrainConfig, a compressed
// one carries its source's under "data". Empty source when unknown (an import).
DatasetOptions dataOptionsOf(const VersionRecord &v, const QString &override)
{
    QJsonObject r = v.recipe;
    if (r.contains(QStringLiteral("data")) && r.value(QStringLiteral("data")).isObject())
        r = r.value(QStringLiteral("data")).toObject();
    DatasetOptions o;
    o.source = r.value(QStringLiteral("dataset")).toString();
    o.limit = r.value(QStringLiteral("limit")).toVariant().toLongLong();
    o.seed = r.value(QStringLiteral("seed")).toVariant().toULongLong();
    o.validationFraction = r.value(QStringLiteral("validation_fraction")).toDouble(0.1);
    o.labelColumn = r.value(QStringLiteral("label_column")).toString();
    o.textColumn = r.value(QStringLiteral("text_column")).toString();
    if (!override.isEmpty()) {
        o = DatasetOptions();
        o.source = override;
    }
    return o;
}

QString optionsKey(const DatasetOptions &o)
{
    return QStringLiteral("%1|%2|%3|%4|%5")
        .arg(o.source, QString::number(o.limit), QString::number(o.seed),
             QString::number(o.validationFraction), o.labelColumn);
}

// The version's input when it takes token ids (an int64/int32 signature), else null.
const TensorSignature *tokenInputOf(const VersionRecord &version)
{
    return !version.inputs.isEmpty() && version.inputs.first().isInteger()
               ? &version.inputs.first()
               : nullptr;
}

// `batch` samples for timing: test images in order (repeated when the split is smaller), or
// seeded uniform values in the model's input shape when there is no data. Token ids for a
// model of integer input: seeded ids below its vocabulary size, zeros when that is unknown.
at::Tensor timingBatch(const Dataset *data, const std::vector<qint64> &sampleShape, int batch,
                       const VersionRecord &version)
{
    std::vector<int64_t> shape{batch};
    shape.insert(shape.end(), sampleShape.begin(), sampleShape.end());
    if (const TensorSignature *tokens = tokenInputOf(version)) {
        const at::ScalarType type = tokens->dtype == QLatin1String("int32") ? at::kInt
                                                                             : at::kLong;
        if (tokens->vocabSize <= 0)
            return at::zeros(shape, type);
        at::Generator gen = at::detail::createCPUGenerator(0);
        return at::randint(tokens->vocabSize, shape, gen, at::TensorOptions(type));
    }
    if (data && data->test.count() > 0) {
        const at::Tensor test = at::from_blob(const_cast<float *>(data->test.features.data()),
                                              {data->test.count(), data->sampleSize()},
                                              at::kFloat);
        const at::Tensor index =
            at::arange(batch, at::kLong).remainder(int64_t(data->test.count()));
        return test.index_select(0, index).reshape(shape).clone();
    }
    at::Generator gen = at::detail::createCPUGenerator(0);
    return at::rand(shape, gen);
}

// The shape of one sample: what the model records, else the version's input signature (an
// import records its --input-shape there), else its dataset's; empty when none knows it.
std::vector<qint64> sampleShapeOf(const Model &model, const VersionRecord &version,
                                  const Dataset *data)
{
    // A language model records its sequence as dynamic (-1): timed over its whole context.
    if (model.task() == QLatin1String("lm") && model.blockSize() > 0)
        return {qint64(model.blockSize())};
    const std::vector<qint64> recorded = model.inputShape();
    if (!recorded.empty())
        return recorded;
    if (const TensorSignature *tokens = tokenInputOf(version)) {
        // A dynamic sequence is timed at the length the version was checked with.
        const std::vector<qint64> example = tokens->runnableShape();
        if (example.size() > 1)
            return std::vector<qint64>(example.begin() + 1, example.end());
    }
    if (!version.inputs.isEmpty() && version.inputs.first().shape.size() > 1) {
        const std::vector<qint64> &signature = version.inputs.first().shape;
        std::vector<qint64> shape(signature.begin() + 1, signature.end());
        if (std::all_of(shape.begin(), shape.end(), [](qint64 d) { return d > 0; }))
            return shape;
    }
    if (data)
        return data->sampleShape;
    return {};
}

// Loads the artifact and runs it once at each batch size, discarding everything.
void primeRuntime(const QString &artifact, const VersionRecord &version, const Dataset *data,
                  const QVector<int> &batchSizes)
{
    const Model model = Model::load(artifact);
    torch::jit::Module &module = model.impl()->module;
    module.eval();
    const std::vector<qint64> sampleShape = sampleShapeOf(model, version, data);
    if (sampleShape.empty())
        return;   // the measured pass says why it cannot run
    c10::InferenceMode inference;
    for (int batch : batchSizes)
        module.forward({timingBatch(data, sampleShape, batch, version)});
}

struct Accuracy
{
    double acc = 0.0;
    qint64 count = 0;
    QJsonArray confusion;   // rows: true class, columns: predicted class
};

Accuracy testAccuracy(torch::jit::Module &module, const Dataset &data, JobContext &context)
{
    const qint64 n = data.test.count();
    const int classes = data.numClasses();
    std::vector<qint64> matrix(size_t(classes) * size_t(classes), 0);
    std::vector<int64_t> shape{0};
    shape.insert(shape.end(), data.sampleShape.begin(), data.sampleShape.end());
    qint64 correct = 0;
    const qint64 step = 256;
    for (qint64 start = 0; start < n; start += step) {
        if (context.isCancelled())
            break;
        const qint64 count = std::min(step, n - start);
        shape[0] = count;
        const at::Tensor x = at::from_blob(
            const_cast<float *>(data.test.features.data() + start * data.sampleSize()), shape,
            at::kFloat);
        const at::Tensor logits = module.forward({x}).toTensor();
        if (logits.dim() != 2 || logits.size(1) != classes)
            throw Error(QStringLiteral("the model returns shape %1, but the dataset has %2 "
                                       "classes").arg(QString::fromStdString(
                                                          c10::str(logits.sizes())))
                            .arg(classes));
        const at::Tensor predicted = logits.argmax(1).contiguous();
        const int64_t *p = predicted.data_ptr<int64_t>();
        for (qint64 i = 0; i < count; ++i) {
            const qint64 truth = data.test.labels[size_t(start + i)];
            correct += p[i] == truth;
            matrix[size_t(truth * classes + p[i])] += 1;
        }
    }
    Accuracy a;
    a.count = n;
    a.acc = n > 0 ? double(correct) / double(n) : 0.0;
    for (int t = 0; t < classes; ++t) {
        QJsonArray row;
        for (int p = 0; p < classes; ++p)
            row.append(matrix[size_t(t * classes + p)]);
        a.confusion.append(row);
    }
    return a;
}

} // namespace

QJsonObject BenchmarkConfig::toJson() const
{
    QJsonArray sizes;
    for (int b : batchSizes)
        sizes.append(b);
    QJsonObject json{{QStringLiteral("versions"), QJsonArray::fromStringList(versions)},
                     {QStringLiteral("batch_sizes"), sizes},
                     {QStringLiteral("threads"), threads},
                     {QStringLiteral("warmup"), warmup},
                     {QStringLiteral("repetitions"), repetitions},
                     {QStringLiteral("accuracy"), accuracy}};
    if (!dataset.isEmpty())
        json.insert(QStringLiteral("dataset"), dataset);
    json.insert(QStringLiteral("generate_tokens"), generateTokens);
    return json;
}

BenchmarkConfig BenchmarkConfig::fromJson(const QJsonObject &json)
{
    for (auto it = json.begin(); it != json.end(); ++it) {
        if (!kKeys.contains(it.key()))
            throw Error(QStringLiteral("Unknown benchmark setting \"%1\"; known settings: %2.")
                            .arg(it.key(), QStringList(kKeys.values()).join(QStringLiteral(", "))));
    }
    BenchmarkConfig c;
    c.versions.clear();
    for (const QJsonValue &v : json.value(QStringLiteral("versions")).toArray())
        c.versions << v.toString();
    if (json.contains(QStringLiteral("batch_sizes"))) {
        c.batchSizes.clear();
        for (const QJsonValue &v : json.value(QStringLiteral("batch_sizes")).toArray())
            c.batchSizes << v.toInt(0);
    }
    c.threads = json.value(QStringLiteral("threads")).toInt(c.threads);
    c.warmup = json.value(QStringLiteral("warmup")).toInt(c.warmup);
    c.repetitions = json.value(QStringLiteral("repetitions")).toInt(c.repetitions);
    c.accuracy = json.value(QStringLiteral("accuracy")).toBool(c.accuracy);
    c.dataset = json.value(QStringLiteral("dataset")).toString();
    c.generateTokens = json.value(QStringLiteral("generate_tokens")).toInt(c.generateTokens);
    c.validate();
    return c;
}

void BenchmarkConfig::validate() const
{
    if (versions.isEmpty())
        throw Error(QStringLiteral("Name at least one version to benchmark (NAME:N, NAME@ALIAS "
                                   "or NAME)."));
    if (batchSizes.isEmpty())
        throw Error(QStringLiteral("Give at least one batch size, e.g. --batch-sizes 1,8,32,128."));
    for (int b : batchSizes) {
        if (b < 1 || b > 65536)
            throw Error(QStringLiteral("Batch size %1 is out of range; use 1 to 65536, e.g. "
                                       "--batch-sizes 1,8,32,128.").arg(b));
    }
    Runtime::checkThreads(threads, QStringLiteral("--threads"), 1);
    if (warmup < 0)
        throw Error(QStringLiteral("--warmup must be 0 or more, not %1.").arg(warmup));
    if (generateTokens < 2 || generateTokens > 100000)
        throw Error(QStringLiteral("--generate-tokens must be from 2 to 100000, not %1: a "
                                   "steady rate counts from the second token.")
                        .arg(generateTokens));
    if (repetitions < 1)
        throw Error(QStringLiteral("--repetitions must be 1 or more, not %1: a percentile "
                                   "needs measurements.").arg(repetitions));
}

QVector<int> BenchmarkConfig::parseBatchSizes(const QString &text)
{
    QVector<int> sizes;
    for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const int b = part.trimmed().toInt(&ok);
        if (!ok || b < 1)
            throw Error(QStringLiteral("--batch-sizes takes positive whole numbers separated by "
                                       "commas, e.g. 1,8,32,128; \"%1\" is not one.").arg(part));
        sizes << b;
    }
    if (sizes.isEmpty())
        throw Error(QStringLiteral("--batch-sizes is empty; e.g. 1,8,32,128."));
    return sizes;
}

BenchmarkJob::BenchmarkJob(QString workspaceRoot, BenchmarkConfig config)
    : m_workspace(std::move(workspaceRoot))
    , m_config(std::move(config))
{
    m_config.validate();
}

QString BenchmarkJob::title() const
{
    return QStringLiteral("Benchmark %1").arg(m_config.versions.join(QStringLiteral(", ")));
}

namespace {

// The latency figures of one batch size from its measured times (ms, in any order).
QJsonObject latencyOf(std::vector<double> times, int batch)
{
    double total_ms = 0.0;
    for (double t : times)
        total_ms += t;
    std::sort(times.begin(), times.end());
    return QJsonObject{{QStringLiteral("batch_size"), batch},
                       {QStringLiteral("p50_ms"), percentile(times, 50)},
                       {QStringLiteral("p95_ms"), percentile(times, 95)},
                       {QStringLiteral("p99_ms"), percentile(times, 99)},
                       {QStringLiteral("min_ms"), times.front()},
                       {QStringLiteral("mean_ms"), total_ms / double(times.size())},
                       {QStringLiteral("throughput_per_s"),
                        double(batch) * double(times.size()) / (total_ms / 1000.0)}};
}

// The calling thread's CPU time (ms).
double threadCpu_ms()
{
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) * 1e3 + double(t.tv_nsec) / 1e6;
}

// `warmup` untimed passes, then the wall times of `repetitions` timed ones (ms); the calling
// thread's CPU time of each into `cpu_ms` when given.
std::vector<double> timedForwards(torch::jit::Module &module, const at::Tensor &x, int warmup,
                                  int repetitions, std::vector<double> *cpu_ms = nullptr)
{
    for (int i = 0; i < warmup; ++i)
        module.forward({x});
    std::vector<double> times;
    times.reserve(size_t(repetitions));
    for (int i = 0; i < repetitions; ++i) {
        const double cpuStart = cpu_ms ? threadCpu_ms() : 0.0;
        const auto start = std::chrono::steady_clock::now();
        module.forward({x});
        times.push_back(std::chrono::duration<double, std::milli>(
                            std::chrono::steady_clock::now() - start).count());
        if (cpu_ms)
            cpu_ms->push_back(threadCpu_ms() - cpuStart);
    }
    return times;
}

// Size on disk, raw and zlib-compressed (qCompress is zlib behind a 4-byte length); parameters
// and MACs from the spec when there is one (an int8 or half variant keeps its source's spec),
// counted from the tensors and one forward pass otherwise (an import: models/ModelLayers.h).
void addSizeAndCounts(QJsonObject &result, const QString &artifact, const Model &model,
                      const VersionRecord &version, const std::vector<qint64> &sampleShape)
{
    QFile file(artifact);
    if (!file.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("Cannot read %1: %2").arg(artifact, file.errorString()));
    const QByteArray bytes = file.readAll();
    result.insert(QStringLiteral("size_bytes"), qint64(bytes.size()));
    result.insert(QStringLiteral("compressed_size_bytes"), qint64(qCompress(bytes, 9).size() - 4));
    result.insert(QStringLiteral("nonzero_parameters"), model.nonzeroParameterCount());
    if (!model.spec().isEmpty()) {
        const ModelSummary summary = ArchSpec::fromJson(model.spec()).summary();
        result.insert(QStringLiteral("parameters"), summary.totalParams);
        result.insert(QStringLiteral("macs"), summary.totalMacs);
    } else {
        result.insert(QStringLiteral("parameters"), model.parameterCount());
        QJsonValue macs;
        try {
            const TensorSignature *tokens = tokenInputOf(version);
            const ModelSummary summary = describeLayers(
                model, sampleShape, 1, tokens ? tokens->dtype : QStringLiteral("float32"));
            if (summary.totalMacs >= 0)
                macs = summary.totalMacs;
        } catch (const Error &) {
            // Not countable: left null.
        }
        result.insert(QStringLiteral("macs"), macs);
    }
}

// One benchmark between its named steps: BenchmarkJob::run reads as their sequence. Holds what
// the versions share: the datasets, the progress, whether the runtime is primed.
class BenchmarkSession
{
public:
    BenchmarkSession(const QString &workspace, const BenchmarkConfig &config, Registry &registry,
                     JobContext &context, int versionCount)
        : m_workspace(workspace), m_config(config), m_registry(registry), m_context(context),
          m_steps(versionCount * int(config.batchSizes.size()))
    {}

    // Every version's data, read and matched to the version before any timing.
    void loadData(const QVector<VersionRecord> &versions);
    // The version's benchmark result; none when cancelled.
    std::optional<QJsonObject> measure(const VersionRecord &v);

private:
    // The version's data, shared by every version trained on it; null when unknown.
    const Dataset *dataOf(const VersionRecord &v, double progress);
    // Latency per batch size; none when cancelled.
    std::optional<QJsonArray> timeBatches(const VersionRecord &v, torch::jit::Module &module,
                                   const Dataset *data, const std::vector<qint64> &sampleShape);
    // Test accuracy and the confusion matrix, or why there are none; false when cancelled.
    bool addAccuracy(QJsonObject &result, const VersionRecord &v, torch::jit::Module &module,
                     const Dataset *data);

    const QString &m_workspace;
    const BenchmarkConfig &m_config;
    Registry &m_registry;
    JobContext &m_context;
    const int m_steps;
    int m_done = 0;
    bool m_primed = false;
    QMap<QString, Dataset> m_datasets;
    LmBenchmark m_lm{m_config, m_context};
    const QJsonObject m_cpu = Runtime::describe();
};

const Dataset *BenchmarkSession::dataOf(const VersionRecord &v, double progress)
{
    DatasetOptions options = dataOptionsOf(v, m_config.dataset);
    // Text (a language model's or a text classifier's): timed on token ids as an imported
    // text model is; its data has no test split of tensors to score.
    if (options.source.isEmpty() || isLanguageModelRecord(v)
        || TextDatasetRegistry::instance().accepts(options))
        return nullptr;
    const QString key = optionsKey(options);
    if (!m_datasets.contains(key)) {
        m_context.setProgress(progress, QStringLiteral("Loading dataset %1").arg(options.source));
        options.isCancelled = [this] { return m_context.isCancelled(); };
        options.maxFeatureBytes = Limits::maxDatasetBytes(m_workspace);
        m_datasets.insert(key, DatasetRegistry::instance().load(options));
    }
    return &m_datasets[key];
}

void BenchmarkSession::loadData(const QVector<VersionRecord> &versions)
{
    for (const VersionRecord &v : versions) {
        const QString source = dataOptionsOf(v, m_config.dataset).source;
        const Dataset *data = dataOf(v, 0.0);
        if (!data)
            continue;
        std::vector<qint64> shape;
        if (!v.inputs.isEmpty() && v.inputs.first().shape.size() > 1)
            shape.assign(v.inputs.first().shape.begin() + 1, v.inputs.first().shape.end());
        const int classes = !v.outputs.isEmpty() && v.outputs.first().shape.size() == 2
                                ? int(v.outputs.first().shape.back())
                                : 0;
        checkDataFitsModel(shape, classes, v.ref(), data->sampleShape, data->numClasses(),
                           QStringLiteral("the dataset %1").arg(source));
    }
}

std::optional<QJsonArray> BenchmarkSession::timeBatches(const VersionRecord &v,
                                                        torch::jit::Module &module,
                                                        const Dataset *data,
                                                        const std::vector<qint64> &sampleShape)
{
    QJsonArray latency;
    c10::InferenceMode inference;
    for (int batch : m_config.batchSizes) {
        if (!m_context.checkPoint())
            return std::nullopt;
        m_context.setProgress(double(m_done) / m_steps, QStringLiteral("%1 at batch %2")
                                                            .arg(v.ref(), QString::number(batch)));
        const at::Tensor x = timingBatch(data, sampleShape, batch, v);
        latency.append(latencyOf(timedForwards(module, x, m_config.warmup,
                                               m_config.repetitions),
                                 batch));
        ++m_done;
    }
    return latency;
}

bool BenchmarkSession::addAccuracy(QJsonObject &result, const VersionRecord &v,
                                   torch::jit::Module &module, const Dataset *data)
{
    if (!m_config.accuracy || !data || data->test.count() == 0) {
        result.insert(QStringLiteral("test_acc"), QJsonValue());
        result.insert(QStringLiteral("accuracy_note"),
                      m_config.accuracy ? QStringLiteral("no test split known for this version; "
                                                         "give --dataset")
                                        : QStringLiteral("not measured (accuracy off)"));
        return true;
    }
    m_context.setProgress(double(m_done) / m_steps,
                          QStringLiteral("%1: test accuracy").arg(v.ref()));
    c10::InferenceMode inference;
    const Accuracy a = testAccuracy(module, *data, m_context);
    if (m_context.isCancelled())
        return false;
    result.insert(QStringLiteral("dataset"), data->name);
    result.insert(QStringLiteral("test_acc"), a.acc);
    result.insert(QStringLiteral("test_count"), a.count);
    result.insert(QStringLiteral("class_names"), QJsonArray::fromStringList(data->classNames));
    result.insert(QStringLiteral("confusion_matrix"), a.confusion);
    return true;
}

std::optional<QJsonObject> BenchmarkSession::measure(const VersionRecord &v)
{
    // The data is not counted in the memory peak: it is shared by every version.
    const Dataset *data = dataOf(v, double(m_done) / m_steps);
    const QString artifact = m_registry.verifiedArtifactPath(v);
    if (!m_primed) {
        // LibTorch's one-time start-up (oneDNN's kernels and primitive caches, the thread
        // pool, the allocator's first arenas) would otherwise be billed to whichever version
        // is measured first, in time and in memory growth. One unmeasured pass of the first
        // version at every batch size pays it up front.
        primeRuntime(artifact, v, data, m_config.batchSizes);
        m_primed = true;
    }
    // Load and time, with the resident peak reset just before.
    ProcessMemory::releaseFreedMemory();
    const bool peakReset = ProcessMemory::resetPeak();
    const qint64 baseline = ProcessMemory::currentResident_bytes();
    const Model model = Model::load(artifact);
    torch::jit::Module &module = model.impl()->module;
    module.eval();
    const std::vector<qint64> sampleShape = sampleShapeOf(model, v, data);
    if (sampleShape.empty())
        throw Error(QStringLiteral("Cannot benchmark %1: neither it nor its record knows its "
                                   "input shape, and it records no dataset; give one with "
                                   "--dataset.").arg(v.ref()));
    const std::optional<QJsonArray> latency = timeBatches(v, module, data, sampleShape);
    if (!latency)
        return std::nullopt;
    const qint64 peak = ProcessMemory::peakResident_bytes();
    QJsonObject result{
        {QStringLiteral("version"), v.ref()},
        {QStringLiteral("version_id"), QString::number(v.id)},
        {QStringLiteral("kind"), versionKindName(v.kind)},
        {QStringLiteral("created"), QDateTime::currentDateTimeUtc().toString(Qt::ISODate)},
        {QStringLiteral("threads"), m_config.threads},
        {QStringLiteral("warmup"), m_config.warmup},
        {QStringLiteral("repetitions"), m_config.repetitions},
        {QStringLiteral("quantized_engine"), model.quantizedEngine().isEmpty()
                                                 ? QJsonValue()
                                                 : QJsonValue(model.quantizedEngine())},
        {QStringLiteral("latency"), *latency},
        {QStringLiteral("peak_rss_bytes"), peak},
        {QStringLiteral("baseline_rss_bytes"), baseline},
        {QStringLiteral("peak_rss_delta_bytes"), peak >= 0 && baseline >= 0
                                                     ? QJsonValue(peak - baseline)
                                                     : QJsonValue()},
        {QStringLiteral("peak_rss_reset"), peakReset},
        {QStringLiteral("cpu"), m_cpu}};
    addSizeAndCounts(result, artifact, model, v, sampleShape);
    if (model.task() == QLatin1String("lm")) {
        m_context.setProgress(double(m_done) / m_steps,
                              QStringLiteral("%1: validation loss and generation").arg(v.ref()));
        if (!m_lm.measure(result, v, model, dataOptionsOf(v, m_config.dataset)))
            return std::nullopt;
        return result;
    }
    if (!addAccuracy(result, v, module, data))
        return std::nullopt;
    return result;
}

} // namespace

QJsonObject benchmarkModelFile(const QString &path, int batch, int threads, int warmup,
                               int repetitions)
{
    const int previousThreads = at::get_num_threads();
    at::set_num_threads(threads);
    struct RestoreThreads
    {
        int n;
        ~RestoreThreads() { at::set_num_threads(n); }
    } restore{previousThreads};
    const Model model = Model::load(path);
    torch::jit::Module &module = model.impl()->module;
    module.eval();
    const std::vector<qint64> sampleShape = model.inputShape();
    if (sampleShape.empty())
        throw Error(QStringLiteral("Cannot time %1: it records no input shape.").arg(path));
    c10::InferenceMode inference;
    const at::Tensor x = timingBatch(nullptr, sampleShape, batch, VersionRecord{});
    std::vector<double> cpu_ms;
    QJsonObject result = latencyOf(timedForwards(module, x, warmup, repetitions, &cpu_ms), batch);
    std::sort(cpu_ms.begin(), cpu_ms.end());
    result.insert(QStringLiteral("cpu_p50_ms"), percentile(cpu_ms, 50));
    result.insert(QStringLiteral("size_bytes"), QFileInfo(path).size());
    result.insert(QStringLiteral("parameters"), model.parameterCount());
    result.insert(QStringLiteral("threads"), threads);
    return result;
}

JobResult BenchmarkJob::run(JobContext &context)
{
    Registry registry(m_workspace);
    // Every reference first: a typo in the third name must not cost two benchmarks.
    QVector<VersionRecord> versions;
    for (const QString &ref : m_config.versions)
        versions << registry.resolve(ref);

    const int previousThreads = at::get_num_threads();
    at::set_num_threads(m_config.threads);
    struct RestoreThreads
    {
        int n;
        ~RestoreThreads() { at::set_num_threads(n); }
    } restore{previousThreads};

    BenchmarkSession session(m_workspace, m_config, registry, context, int(versions.size()));
    session.loadData(versions);
    QJsonArray results;
    for (const VersionRecord &v : versions) {
        const std::optional<QJsonObject> result = session.measure(v);
        if (!result)
            return JobResult{JobStatus::Cancelled, QStringLiteral("Cancelled."), {}};
        registry.addBenchmark(v.id, *result);
        results.append(*result);
        context.report(QJsonObject{{QStringLiteral("event"), QStringLiteral("benchmark")},
                                   {QStringLiteral("result"), *result}});
    }
    context.setProgress(1.0, QStringLiteral("Finished"));
    return JobResult{JobStatus::Finished, QString(),
                     QJsonObject{{QStringLiteral("results"), results}}};
}

} // namespace ms
