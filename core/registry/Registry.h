#pragma once

#include "common/Error.h"
#include "jobs/MetricPoint.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonObject>
#include <QMap>
#include <QString>
#include <QStringList>
#include <QVector>

#include <limits>
#include <memory>
#include <optional>
#include <vector>

namespace ms {

// Thrown when another connection held the database's write lock past the busy timeout
// (SQLITE_BUSY / SQLITE_LOCKED): nothing of the statement was written, and trying again later
// is the remedy. Its message is the same one-line ms::Error.
class RegistryBusy : public Error
{
public:
    explicit RegistryBusy(const QString &message)
        : Error(message)
    {}
};

// What a version is and where it came from.
enum class VersionKind { Trained, Imported, Finetuned, Pruned, Quantized, Distilled };
QString versionKindName(VersionKind kind);            // "trained", ...
VersionKind versionKindFromName(const QString &name); // throws ms::Error listing the kinds

enum class RunStatus { Running, Finished, Failed, Cancelled, Diverged, Interrupted };
QString runStatusName(RunStatus status);               // "running", ...
RunStatus runStatusFromName(const QString &name);

// What an artifact does to an input before its network sees it: the exports, the TorchServe
// handler and the Serve panel's example say what to send from it. Recorded at import (and
// carried on to every version made from the import); a version of the studio's own records
// none, and normalises with its training split's statistics (ModelBuilder).
struct InputPreprocessing
{
    enum class Kind {
        Unrecorded,   // a version that records nothing (trained here, or imported before 0.2)
        None,         // imported without --mean/--std: the network gets the tensor as it comes
        Normalize,    // the artifact computes (x - mean) / std per channel itself (an import's
                      // wrapper, models/ImportedModel.h): clients send floats in [0, 1]
    };
    Kind kind = Kind::Unrecorded;
    std::vector<double> mean;    // Normalize: one per channel (dimension 1 of the input)
    std::vector<double> stdev;

    // {} when unrecorded, {"kind": "none"}, {"kind": "normalize", "mean": [...], "std": [...]}
    QJsonObject toJson() const;
    static InputPreprocessing fromJson(const QJsonObject &json);
    bool operator==(const InputPreprocessing &other) const
    {
        return kind == other.kind && mean == other.mean && stdev == other.stdev;
    }
};

// One input or output of a model: name, dtype ("float32", "int64", "int32", ...) and shape
// with -1 for a dynamic dimension: the batch (dimension 0) always; the sequence length of a
// token input (dimension 1 of an integer [batch, sequence] input) when the model runs at other
// lengths. Versions recorded before dtypes and dynamic sequences were read back as "float32"
// with a dynamic batch, which is what their JSON says (no "dtype" key means float32).
struct TensorSignature
{
    TensorSignature() = default;
    TensorSignature(QString name_, QString dtype_, std::vector<qint64> shape_,
                    InputPreprocessing preprocessing_ = {})
        : name(std::move(name_)), dtype(std::move(dtype_)), shape(std::move(shape_)),
          preprocessing(std::move(preprocessing_))
    {}

    QString name;
    QString dtype = QStringLiteral("float32");
    std::vector<qint64> shape;
    InputPreprocessing preprocessing;   // inputs only; JSON key "preprocessing" when recorded
    // Inputs only, when a dimension past the batch is dynamic: the concrete shape the model was
    // checked with (an import's example, batch first), which a benchmark runs; JSON
    // "example_shape". Empty = the shape with its batch as 1.
    std::vector<qint64> exampleShape;
    // Integer inputs only: the number of token ids the model's embedding takes (ids
    // 0..vocabSize-1), 0 when unknown; JSON "vocab_size".
    qint64 vocabSize = 0;

    bool isInteger() const
    {
        return dtype == QLatin1String("int64") || dtype == QLatin1String("int32");
    }
    // The indices of the dynamic dimensions (negative in `shape`).
    std::vector<int> dynamicDims() const;
    // A concrete shape to run: exampleShape when recorded, else `shape` with every dynamic
    // dimension as `batch` (dimension 0) or 1 (others). Empty when `shape` is.
    std::vector<qint64> runnableShape(qint64 batch = 1) const;

    // Writes "dynamic" (the indices of dynamic dimensions) too, for readers of `show --json`;
    // fromJson derives them from the shape.
    QJsonObject toJson() const;
    static TensorSignature fromJson(const QJsonObject &json);
};
using Signature = QVector<TensorSignature>;
QJsonArray signatureToJson(const Signature &signature);
Signature signatureFromJson(const QJsonArray &json);

struct ModelRecord
{
    qint64 id = 0;
    QString name;
    QString description;
    QDateTime created;
    int versionCount = 0;
    int latestVersion = 0;   // highest version number, 0 when none
};

struct VersionRecord
{
    qint64 id = 0;
    qint64 modelId = 0;
    QString modelName;
    int number = 0;                 // 1, 2, ... per model
    VersionKind kind = VersionKind::Trained;
    QDateTime created;
    QString notes;
    Signature inputs;
    Signature outputs;
    QStringList classNames;
    qint64 parameterCount = 0;
    qint64 sizeBytes = 0;           // artifact size on disk
    QString sha256;                 // of the artifact, hex
    QJsonObject recipe;             // the job spec that produced it ({} for imports)
    QJsonObject metrics;            // final metrics, e.g. {"test_acc": 0.91, "val_acc": ...}
    qint64 runId = 0;               // the run that produced it, 0 when none
    QMap<QString, QString> tags;
    QStringList aliases;            // aliases of its model pointing at it

    QString ref() const { return modelName + QLatin1Char(':') + QString::number(number); }
    // The accuracy a listing shows: test_acc, else val_acc; negative when it has neither.
    double accuracy() const;
    QJsonObject toJson() const;
};

struct LineageEdge
{
    qint64 parentId = 0;
    qint64 childId = 0;
    QString parentRef;   // "name:3"
    QString childRef;
    QString role;        // "source", "teacher", "finetuned-from"
};

struct RunRecord
{
    qint64 id = 0;
    QString kind;                // "train", ...
    RunStatus status = RunStatus::Running;
    QDateTime started;
    QDateTime ended;             // invalid while running
    QString error;
    QJsonObject spec;
    QString runDir;
    qint64 versionId = 0;        // the version it produced, 0 when none
    qint64 pid = 0;              // the process that ran it

    QJsonObject toJson() const;
};

// A sweep (core/optimize/SweepJob) and its trials. Statuses: a sweep is "running",
// "finished", "cancelled" or "failed" (a "running" sweep whose process is gone can be resumed);
// a trial is "running", "finished", "pruned" (stopped early), "failed" or "diverged".
struct TrialRecord
{
    int number = 0;
    QJsonObject params;
    QString status = QStringLiteral("running");
    double value = std::numeric_limits<double>::quiet_NaN();   // the objective; NaN when none
    int epochs = 0;
    QJsonArray curve;          // the objective after each epoch
    qint64 runId = 0;
    QString message;
    // What the trial measured once it ended: its last epoch's metrics, a compression's
    // test_acc and test_acc_drop, its model's latency_ms, size_bytes and parameters, and
    // "feasible" (false when it broke a constraint). Empty while it runs.
    QJsonObject metrics;

    QJsonObject toJson() const;
};

struct SweepRecord
{
    qint64 id = 0;
    QString name;
    QJsonObject spec;          // the checked sweep file (SweepSpec::toJson)
    QString status;
    QDateTime started;
    QDateTime ended;
    qint64 pid = 0;
    qint64 versionId = 0;      // the trial registered as a version, 0 when none
    QVector<TrialRecord> trials;   // by number (filled by sweep(), not by sweeps())

    QJsonObject toJson() const;
};

struct MetricSample
{
    qint64 step = 0;
    int epoch = 0;
    double value = 0.0;
    double wallTime_s = 0.0;
};

// What addVersion() needs. The artifact file is copied into the content-addressed store.
struct NewVersion
{
    QString modelName;             // created when new
    QString modelDescription;      // used only when the model is created
    VersionKind kind = VersionKind::Trained;
    QString artifactPath;          // a TorchScript .pt file to store
    QJsonObject recipe;
    Signature inputs;
    Signature outputs;
    QStringList classNames;
    qint64 parameterCount = 0;
    QString notes;
    QJsonObject metrics;
    qint64 runId = 0;
    QVector<QPair<qint64, QString>> parents;   // (version id, role)
};

// The studio's memory (docs/architecture.md, "Decisions"): models, versions, lineage, runs, metric
// series, benchmarks, tags and aliases in SQLite (<workspace>/registry.db: WAL, foreign keys, a
// busy timeout, schema version with forward migrations), artifacts in a content-addressed store
// beside it (<workspace>/artifacts/sha256/ab/<hash>.pt, written to a temporary file, fsynced,
// renamed). Several processes may share one workspace.
//
// Qt SQL connections belong to one thread: a Registry is used by the thread that made it. Make
// one per thread (opening is cheap); every statement binds its values.
class Registry
{
public:
    static constexpr int kSchemaVersion = 3;

    // Opens, creating when absent, the registry of the workspace `root`. Runs still marked
    // running whose process is gone become Interrupted. Throws ms::Error with a clear message,
    // leaving the file untouched, when registry.db is not SQLite or has a newer schema.
    explicit Registry(const QString &root);
    ~Registry();
    Registry(const Registry &) = delete;
    Registry &operator=(const Registry &) = delete;

    QString root() const { return m_root; }
    QString databasePath() const;
    // How long a statement waits for another connection's write lock before it throws
    // RegistryBusy (10 s unless set). A training run's recorder waits briefly and tries again
    // later instead, so that the lock never stops the training.
    void setBusyTimeout(int timeout_ms);

    // --- models and versions ---
    QVector<ModelRecord> models() const;
    std::optional<ModelRecord> model(const QString &name) const;
    // Stores the artifact and inserts the version, its lineage edges and the model if new, in
    // one transaction. Throws ms::Error when the artifact cannot be read or stored, a parent or
    // the run is not in the registry, or the name breaks the naming rule (common/Names.h:
    // letters, digits, '-', '_', '.'; it becomes a file name in exports). Numbers are never
    // reused: after removing cnn:3 the next version is cnn:4.
    VersionRecord addVersion(const NewVersion &version);
    // What a listing decodes. Listing leaves `recipe` empty: it is the one large field, no
    // table shows it, and parsing it is most of the cost of listing 10,000 versions. version()
    // and resolve() always return the whole record.
    enum class Detail { Full, Listing };
    // Newest first. Throws ms::Error, listing the models, when there is no such model.
    QVector<VersionRecord> versions(const QString &modelName,
                                    Detail detail = Detail::Full) const;
    VersionRecord version(qint64 id) const;   // throws ms::Error when there is no such id
    // "NAME:N", "NAME@ALIAS", or "NAME" (the version aliased "production", else the newest).
    // Throws ms::Error naming what is missing and what exists, and for a model whose name
    // breaks the naming rule (stored by an older studio) an ms::Error saying to rename it:
    // such a model is listed by models() and versions() and renamed, never used.
    VersionRecord resolve(const QString &ref) const;
    // Edges touching the version's ancestors and descendants.
    QVector<LineageEdge> lineage(qint64 versionId) const;
    // Every edge between versions of the model (and their outside parents).
    QVector<LineageEdge> modelLineage(const QString &modelName) const;

    // --- edits ---
    // Gives a model a new name (checked against the naming rule; not one another model has).
    // The way out for a model whose name an older studio accepted and this one refuses. Its
    // versions, lineage, aliases and runs follow; recipes keep the text they recorded.
    void renameModel(const QString &from, const QString &to);
    void setTag(qint64 versionId, const QString &key, const QString &value);
    // Throws ms::Error, naming the version's tags, when it has no such tag.
    void removeTag(qint64 versionId, const QString &key);
    // One version per alias per model: setting moves it. The version must be of that model.
    void setAlias(const QString &modelName, const QString &alias, qint64 versionId);
    // Throws ms::Error, naming the model's aliases, when it has no such alias.
    void removeAlias(const QString &modelName, const QString &alias);
    void setNotes(qint64 versionId, const QString &notes);
    // Refuses, naming them, while other versions descend from it or aliases point at it,
    // unless `force`. The artifact file stays until gc().
    void removeVersion(qint64 versionId, bool force = false);

    // --- runs and metric series ---
    qint64 startRun(const QString &kind, const QJsonObject &spec, const QString &runDir);
    // One transaction per call: callers batch (a training run flushes about once a second).
    // A (key, step) logged again replaces the earlier value; NaN comes back as NaN.
    void appendMetrics(qint64 runId, const MetricBatch &points);
    void finishRun(qint64 runId, RunStatus status, const QString &error = QString(),
                   qint64 versionId = 0);
    // A resumed run continues in its own row: status back to running, owned by this process,
    // and the points logged after its last checkpoint (step > afterStep) dropped, since the
    // resumed run logs those steps again.
    void reopenRun(qint64 runId, qint64 afterStep);
    RunRecord run(qint64 runId) const;
    QVector<RunRecord> runs() const;                        // newest first
    QStringList metricKeys(qint64 runId) const;             // sorted
    QVector<MetricSample> metrics(qint64 runId, const QString &key) const;   // by step

    // --- sweeps (written by the sweep job) ---
    qint64 startSweep(const QString &name, const QJsonObject &spec);
    // The sweep is this process's again (resume): status running, pid ours.
    void reopenSweep(qint64 sweepId);
    void finishSweep(qint64 sweepId, const QString &status, qint64 versionId = 0);
    // Inserts or replaces trial `trial.number` of the sweep.
    void saveTrial(qint64 sweepId, const TrialRecord &trial);
    SweepRecord sweep(qint64 sweepId) const;       // with its trials; throws when unknown
    QVector<SweepRecord> sweeps() const;           // newest first, without trials

    // --- benchmarks (written by the benchmark job) ---
    void addBenchmark(qint64 versionId, const QJsonObject &result);
    QVector<QJsonObject> benchmarks(qint64 versionId) const;

    // --- artifacts ---
    QString artifactPath(const VersionRecord &version) const;
    // Re-hashes the artifact first; throws ms::Error naming the version when it is missing,
    // changed or truncated. Returns the path to load.
    QString verifiedArtifactPath(const VersionRecord &version) const;
    struct Problem
    {
        QString ref;
        QString problem;
    };
    // Re-hashes every referenced artifact. Problems, per version ref: "missing",
    // "changed (sha256 <actual>)", "truncated (N of M bytes)", "unreadable (<why>)".
    QVector<Problem> verify() const;
    // SQLite's PRAGMA integrity_check: "ok", or what it found.
    QString integrityCheck() const;
    // SQLite's integrity_check and foreign_key_check: empty when the database is sound, else
    // one line per finding (a check that fails on a damaged page is a finding too).
    QStringList databaseProblems() const;
    struct GcResult
    {
        int removedFiles = 0;
        qint64 freedBytes = 0;
        int removedRunFolders = 0;
    };
    // Removes artifact files no version references, temporary files of copies that stopped,
    // and run folders with no file in them (runs killed or failed before writing anything).
    // Never what a live process may still be making: not a running run's folder, nothing
    // changed after the newest running run started or in the last minute, nothing a process
    // holds a lock on.
    GcResult gc();

private:
    struct Statements;   // prepared statements kept across calls (Registry.cpp)

    void markInterruptedRuns();
    void markInterruptedSweeps();   // RegistrySweeps.cpp

    QString m_root;
    QString m_connection;
    std::unique_ptr<Statements> m_statements;
};

} // namespace ms
