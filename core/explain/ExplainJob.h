#pragma once

#include "explain/Explainer.h"
#include "jobs/Job.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <vector>

namespace ms {

// What the window's Try panel asks for: one input (a test sample or the values of an image)
// explained by up to kMaxVersions versions side by side.
struct ExplainRequest
{
    static constexpr int kMaxVersions = 3;

    QStringList versions; // "cnn:1", "cnn:2" (int8), ...
    ExplainOptions options;
    // The input: given values (an image the window read), or a test sample.
    std::vector<float> values; // empty: a test sample
    std::vector<qint64> shape; // of `values`, one sample
    QString dataset; // test sample: empty = the first version's own
    qint64 sample = 0; // the sample's index in the test split, file order
    // When >= 0: instead of `sample`, the `sample`-th test sample (0 = first) of this true
    // class, among those the first version gets wrong when `misclassifiedOnly`.
    int sampleClass = -1;
    bool misclassifiedOnly = false;

    QJsonObject toJson() const;
    static ExplainRequest fromJson(const QJsonObject &json);
};

// The Try panel's work as a Job (kind "explain"), on a worker thread: reads the test sample when
// asked, then explains it with each version. The output: {"values", "shape", "sample", "label",
// "class_names", "explanations": [Explanation::toJson() or {"version", "error"}]}: one version
// that cannot use the method (int8 with a gradient method: its entry also has "gradients":
// false) does not stop the others.
class ExplainJob final : public Job
{
public:
    ExplainJob(QString workspace, ExplainRequest request);

    QString kind() const override { return QStringLiteral("explain"); }
    QString title() const override;
    QJsonObject spec() const override { return m_request.toJson(); }
    JobResult run(JobContext &context) override;

private:
    QString m_workspace;
    ExplainRequest m_request;
};

} // namespace ms
