#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <vector>

namespace ms {

// One searched parameter: a path into the train spec ("lr", "batch_size") or an architecture
// parameter ("arch.width"), and the distribution its values come from.
struct ParamDomain
{
    enum class Kind { Uniform, LogUniform, IntUniform, IntLogUniform, Choice };

    QString path;
    Kind kind = Kind::Uniform;
    double low = 0.0;          // numeric kinds: the closed range [low, high]
    double high = 0.0;
    QJsonArray choices;        // Choice

    bool isInteger() const { return kind == Kind::IntUniform || kind == Kind::IntLogUniform; }
    bool isLog() const { return kind == Kind::LogUniform || kind == Kind::IntLogUniform; }
    // The value at `unit` in [0, 1] along the domain (log-spaced for log kinds, rounded for
    // integer kinds; for Choice the index floor(unit * count)). Used by every sampler, so a
    // value is always inside the domain and of the right JSON type.
    QJsonValue at(double unit) const;
    // Where `value` sits along the domain, in [0, 1] (the inverse of at()).
    double unitOf(const QJsonValue &value) const;
    QJsonObject toJson() const;   // {"log_uniform": [1e-4, 1e-2]}
};

// What a sweep optimises: a metric every trial records, and its direction. `batch` is the
// batch size latency_ms and speedup are timed at (one thread, as `bench`).
struct SweepObjective
{
    QString metric = QStringLiteral("val_acc");
    bool maximize = true;
    int batch = 1;

    QJsonObject toJson() const;
};

// A bound a trial must keep to count (feasible): {"metric": "test_acc_drop", "max": 0.005} or
// {"metric": "val_acc", "min": 0.85}. An infeasible trial is neither best nor on the front.
struct SweepConstraint
{
    QString metric;
    double bound = 0.0;
    bool upper = true;         // "max": value <= bound; "min": value >= bound

    QJsonObject toJson() const;
};

// "compress": {"source": "cnn:3", "method": {"choice": [...]} | "prune-structured",
//              "dataset": "...", "finetune-epochs": 1, "sparsity": {"uniform": [0.2, 0.7]}}:
// the trials are compressions of one version (`modelstudio-cli compress --no-register`)
// instead of trainings. An entry given as a distribution is searched, as "compress.<name>"
// in the space (where it may also be written); the others are fixed.
struct CompressSearch
{
    QString source;            // a version reference; resolved when the sweep starts
    QJsonObject fixed;         // method (unless searched), dataset, method parameters

    bool isEmpty() const { return source.isEmpty(); }
};

// When to stop a trial early: "asha" (asynchronous successive halving), "median" or "none".
struct EarlyStopSpec
{
    QString rule = QStringLiteral("none");
    int minEpochs = 1;
    int reduction = 3;
};

// A sweep file, checked. The JSON format is the contract of `modelstudio-cli sweep --config`:
//   {"name": "mlp-search",
//    "train": {"dataset": "fashion-mnist", "arch": "mlp", "epochs": 4, "limit": 12000},
//    "space": {"lr": {"log_uniform": [1e-4, 1e-2]}, "batch_size": {"choice": [32, 64, 128]},
//              "arch.width": {"int_log_uniform": [32, 512]}, ...},
//    "objective": {"metric": "val_acc", "goal": "max"},
//    "trials": 16, "parallel": 2, "seed": 0, "sampler": "model",
//    "early_stop": {"rule": "asha", "min_epochs": 1, "reduction": 3}}
// Optional: "threads" (per trial; default: the cores divided among the parallel trials),
// "grid_points" (numeric axes of the grid sampler; default 3), "startup_trials" (the model
// sampler's random trials before its first model-based one; default 0), "reuse_processes"
// (default true: a trial process runs the slot's next trial when its last one has ended;
// false: a fresh process per trial, for training code that leaves state behind).
//
// Several objectives: "objective": [{"metric": "val_acc", "goal": "max"}, {"metric":
// "latency_ms", "goal": "min", "batch": 1}] keeps the Pareto front of the feasible finished
// trials instead of one best (the sampler then defaults to "random": dlib's search models one
// value). "constraints": [{"metric": "test_acc_drop", "max": 0.005}, ...].
struct SweepSpec
{
    QString name;
    QJsonObject train;                  // the base train spec (TrainConfig JSON)
    CompressSearch compress;            // set for a compression search (then train is empty)
    std::vector<ParamDomain> space;     // in the file's key order, sorted by path
    SweepObjective objective;           // the first of `objectives`
    std::vector<SweepObjective> objectives;
    std::vector<SweepConstraint> constraints;
    int trials = 16;
    int parallel = 1;
    quint64 seed = 0;
    QString sampler = QStringLiteral("model");   // grid | random | model
    EarlyStopSpec earlyStop;
    int threads = 0;                    // per trial; 0 = the cores / parallel
    int gridPoints = 3;
    // "model" sampler: trials 0 .. startupTrials-1 are drawn at random (seeded) and taught to
    // dlib before its first request, as Optuna's TPE does with its n_startup_trials.
    int startupTrials = 0;
    bool reuseProcesses = true;

    // Throws ms::Error naming the field that is wrong (an unknown parameter path, a
    // distribution with low >= high or a log range reaching 0, an empty choice, an objective
    // no trial records, parallel < 1, ...) before anything runs. Every parameter path is
    // checked by building the train spec of a trial from the domain's ends.
    static SweepSpec fromJson(const QJsonObject &json);
    QJsonObject toJson() const;

    // The train spec of one trial: the base spec with `params` applied ("arch.width" goes to
    // "arch_params": {"width": ...}).
    QJsonObject trialSpec(const QJsonObject &params) const;
    // The metrics a training trial reports after every epoch.
    static QStringList epochMetrics();
    // What objectives and constraints may name: a training's epoch metrics, or a
    // compression's test_acc and test_acc_drop; and for both the model's latency_ms, speedup
    // (a compression's, against its source), size_bytes and parameters.
    QStringList trialMetrics() const;
    bool isCompression() const { return !compress.isEmpty(); }
    bool hasSeveralObjectives() const { return objectives.size() > 1; }
    // Whether a trial's model is timed when it ends (an objective or constraint needs it).
    bool needsLatency() const;
    // The arguments after `modelstudio-cli` of a compression trial with `params`, the method's
    // own parameters only (a searched sparsity means nothing to quantize-static), without
    // --json, --threads and --workspace.
    QStringList compressArguments(const QJsonObject &params) const;
    // The method a compression trial with `params` runs.
    QString compressMethod(const QJsonObject &params) const;
    // The number of trials the grid sampler has (the product of its axes' sizes).
    qint64 gridSize() const;
};

} // namespace ms
