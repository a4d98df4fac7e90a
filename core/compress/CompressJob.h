#pragma once

#include "jobs/Job.h"

#include <QJsonObject>
#include <QString>

namespace ms {

struct CompressParameter;

// Makes a smaller or faster variant of a registry version with one compression method and
// registers it as a new version (docs/architecture.md, "Decisions"). Spec:
//   {"source": "NAME:N" | "NAME@ALIAS", "method": "prune-unstructured", "name": "new-model",
//    "params": {"sparsity": 0.9, ...}, "dataset": "path (optional override)", "threads": 0}
// Before any work: the source resolves and its artifact verifies, the method exists, every
// parameter is known, typed and in range (missing ones take their defaults) and the method's
// own check() passes. Then the method runs, the variant's test accuracy is measured on the
// source's dataset (its recipe's dataset, limit, seed and validation fraction, or `dataset`),
// and the variant is registered with recipe {kind: "compress", source, method, params,
// details, data}, metrics {test_acc, source_test_acc, parameters, nonzero_parameters, ...},
// the lineage edge from the source and the method's extra parents. Nothing is registered when
// anything fails or the job is cancelled; the run row records why.
// Result output: {"version", "version_id", "run_dir", "model_path", "metrics", "details"}.
class CompressJob final : public Job
{
public:
    // Throws ms::Error when the spec lacks source or method or holds unknown keys.
    CompressJob(QString workspaceRoot, QJsonObject spec);

    QString kind() const override { return QStringLiteral("compress"); }
    QString title() const override;
    QJsonObject spec() const override { return m_spec; }
    JobResult run(JobContext &context) override;

    // Fills a method's defaults into `given` and checks every value against its parameter's
    // type and range; strings (from the command line) are converted. Throws ms::Error naming
    // the flag, what it takes and what was given; unknown names are refused, listing the
    // method's parameters.
    static QJsonObject checkedParams(const QString &method,
                                     const QList<CompressParameter> &parameters,
                                     const QJsonObject &given);

    // The spec of a compression from the choices a person made (the CLI's flags, the window's
    // "Compress..." dialog), so both build it the same way: parameters checked with their
    // defaults filled (checkedParams), an empty name or dataset and threads 0 left out.
    // Throws ms::Error for an unknown method or a parameter it refuses.
    static QJsonObject makeSpec(const QString &source, const QString &method,
                                const QJsonObject &params, const QString &name = QString(),
                                const QString &dataset = QString(), int threads = 0);
    // Every check run() makes before any work, on the caller's thread: the spec's keys, the
    // source, the parameters, the new name and the method's check() and checkInput() (which
    // loads the source's model). Throws ms::Error with the refusal run() would give; lets a
    // dialog show it while the person can still change the fields.
    static void preflight(const QString &workspace, const QJsonObject &spec);

private:
    QString m_workspace;
    QJsonObject m_spec;
};

} // namespace ms
