#pragma once

#include "explain/Disagreement.h"
#include "jobs/Job.h"

#include <QJsonObject>
#include <QString>

namespace ms {

// Both versions' verified models over the test split they are compared on: the dataset
// `dataset` names, else the one A (else B) was trained on; its first `limit` test samples
// (0: all), in file order, so sample N is the N-th of the file as `explain --sample N` reads
// it. Refused (ms::Error, one line saying what to do) before any prediction when a version
// records no dataset and none is named, or the data does not fit a model.
struct DisagreementOnData
{
    Disagreement result;
    Dataset data;
    QString source; // what was loaded: a built-in dataset's name or a path, for DatasetOptions
};
DisagreementOnData disagreeOnTestSplit(const QString &workspace, const QString &refA,
                                       const QString &refB, const QString &dataset,
                                       qint64 limit,
                                       const std::function<bool()> &cancelled = {});

struct DisagreementRequest
{
    QString a; // "cnn:1"
    QString b; // "cnn:3"
    QString dataset; // empty: the one A (else B) was trained on
    qint64 limit = 0; // first N test samples; 0 = all
    // Thumbnails of at most this many of the samples that differ (the first ones): the grid's
    // pictures travel in the job's JSON output, so they are bounded.
    int maxThumbnails = 2000;

    QJsonObject toJson() const;
    static DisagreementRequest fromJson(const QJsonObject &json);
};

// The Compare panel's disagreement explorer as a Job (kind "disagree"), on a worker thread.
// Output: Disagreement::toJson() (what `disagree --json` prints) plus "class_names", "source"
// (the dataset as DatasetOptions::source takes it, for explaining one of the samples),
// "sample_shape" and, when samples are images (C x H x W, C 1 or 3), "thumbnails": one base64
// string per listed sample (the first maxThumbnails), its C*H*W values in [0, 1] as bytes
// (0..255), channel-major.
class DisagreementJob final : public Job
{
public:
    DisagreementJob(QString workspace, DisagreementRequest request);

    QString kind() const override { return QStringLiteral("disagree"); }
    QString title() const override;
    QJsonObject spec() const override { return m_request.toJson(); }
    JobResult run(JobContext &context) override;

private:
    QString m_workspace;
    DisagreementRequest m_request;
};

} // namespace ms
