#pragma once

#include "common/ProviderRegistry.h"
#include "data/Dataset.h"
#include "models/Model.h"
#include "registry/Registry.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QString>
#include <QStringList>

#include <any>
#include <functional>
#include <memory>

namespace ms {

class JobContext;
class LmTraining;

// One parameter a compression method takes: the CLI flag --<name> and a field of the window's
// "Compress..." dialog are both made from it.
struct CompressParameter
{
    enum class Type { Double, Int, Choice, Version, Text };

    QString name;             // "sparsity" -> --sparsity
    Type type = Type::Double;
    // Null when the parameter is required. An empty string (Text, Version) makes it optional
    // with no value: left out of the checked parameters when not given or given empty, so a
    // method reads "" for it and a spec never carries "" for the job to refuse.
    QJsonValue defaultValue;
    double minimum = 0.0;     // Double/Int: the accepted range, inclusive unless noted in help
    double maximum = 0.0;
    QStringList choices;      // Choice
    QString help;             // one line, shown in --help and as the field's tool tip
};

// What a method works on. Everything here is already resolved and checked by CompressJob.
struct CompressInput
{
    Model model;                          // the source version, loaded (training mode)
    VersionRecord source;                 // its registry record (recipe, signature, metrics)
    QJsonObject params;                   // defaults filled in, checked by check()
    QString workspace;                    // to resolve other versions (a teacher) by reference
    QString workDir;                      // scratch folder of this job (kept for the run)
    // The source's training data (its recipe's dataset, or --dataset), read on first call.
    std::function<const Dataset &()> dataset;
    // What checkData() computed that apply() can use rather than compute again (a method's
    // own type; empty when checkData() was not called).
    std::any prepared;
    // A language model's text, read and tokenized by the job for scoring (core's private
    // train/LmTraining_p.h, for built-in methods: distill trains a student gpt on it); null for
    // other models and for a language model that records no data.
    LmTraining *text = nullptr;
};

struct CompressOutput
{
    Model model;                          // the variant, a TorchScript module
    VersionKind kind = VersionKind::Pruned;
    // Method-specific facts recorded in the version's recipe under "details" (sparsity per
    // layer, the quantized engine, ...), shown by `show` and the detail pane.
    QJsonObject details;
    // Parents besides the source (which CompressJob records with role "source"), e.g. the
    // teacher of a distilled student: (version id, role).
    QVector<QPair<qint64, QString>> extraParents;
    // Set when the method needs a quantized engine to run the artifact ("onednn", "qnnpack");
    // recorded in the version so that loading sets it first.
    QString quantizedEngine;
    // The role of the edge from the source: "source", or "teacher" for a distilled student
    // (whose SOURCE is its teacher).
    QString sourceRole = QStringLiteral("source");
};

// A way to make a smaller or faster variant of a model (docs/architecture.md, "Decisions"):
// pruning, quantization, distillation. Built-ins and plugins register the same way, in
// CompressionRegistry.
class CompressionMethod
{
public:
    virtual ~CompressionMethod() = default;

    virtual QString name() const = 0;          // "prune-unstructured"
    virtual QString description() const = 0;   // one line
    virtual QList<CompressParameter> parameters() const = 0;
    // Refuses before any work, with one message that says what is wrong and what to do: a
    // parameter out of range, an op or layer the method cannot handle (named), an engine this
    // build lacks. `params` has the defaults filled in.
    virtual void check(const Model &source, const VersionRecord &record,
                       const QJsonObject &params) const = 0;
    // The checks that need other registry versions (a distillation's student version) or the
    // workspace; called after check(), still before any work. Default: nothing more to check.
    virtual void checkInput(const CompressInput &input) const { Q_UNUSED(input); }
    // Runs on the job's worker thread; reports progress and honours cancellation through
    // `context` (return a null model when cancelled). Throws ms::Error on failure.
    virtual CompressOutput apply(CompressInput &input, JobContext &context) const = 0;

    // Added in plugin interface version 2.
    // The checks that need the data or a trial run (calibration data that yields NaN, a graph a
    // pass fails on): called by the job once the data is read and matched to the source, before
    // the run starts; not by preflight, which runs on the GUI thread. May leave what it
    // computed in input.prepared for apply(). Throws ms::Error (ms::Cancelled when stopped).
    // Default: nothing more to check.
    virtual void checkData(CompressInput &input, JobContext &context) const
    {
        Q_UNUSED(input);
        Q_UNUSED(context);
    }
    // False for a method that reads only the data's samples, never its labels (calibration):
    // then any dataset of the source's sample shape will do, whatever its classes, and the
    // job scores the variant only when the classes match the model's outputs.
    virtual bool needsLabels() const { return true; }
};

class CompressionRegistry
{
public:
    static CompressionRegistry &instance();

    ProviderRegistry<CompressionMethod> &methods() { return m_methods; }

    // Throws ms::Error listing the registered methods when there is none of that name.
    std::shared_ptr<CompressionMethod> method(const QString &name) const;

private:
    CompressionRegistry();

    ProviderRegistry<CompressionMethod> m_methods;
};

} // namespace ms
