#include "explain/ExplainJob.h"

#include "common/Cancelled.h"
#include "common/Error.h"
#include "common/Limits.h"
#include "data/DatasetRegistry.h"
#include "explain/Disagreement.h"
#include "jobs/JobContext.h"
#include "registry/Registry.h"

#include <QJsonArray>

namespace ms {

namespace {

QJsonArray floats(const std::vector<float> &values)
{
    QJsonArray out;
    for (float v : values)
        out.append(double(v));
    return out;
}

// The index in the test split the request names (by index, or by class and rank).
qint64 chooseSample(const ExplainRequest &r, const Dataset &data, const Model &first,
                    JobContext &context)
{
    if (r.sampleClass < 0) {
        if (r.sample < 0 || r.sample >= data.test.count())
            throw Error(QStringLiteral("Test sample %1 is out of range: %2 has %3 (0 to %4).")
                            .arg(QString::number(r.sample), data.name,
                                 QString::number(data.test.count()),
                                 QString::number(data.test.count() - 1)));
        return r.sample;
    }
    std::vector<SamplePrediction> predictions;
    if (r.misclassifiedOnly) {
        context.setProgress(0.1, QStringLiteral("Finding misclassified samples"));
        predictions = predictTestSplit(first, r.versions.first(), data,
                                       [&context] { return context.isCancelled(); });
    }
    qint64 rank = 0;
    for (qint64 i = 0; i < data.test.count(); ++i) {
        if (data.test.labels[size_t(i)] != r.sampleClass)
            continue;
        if (r.misclassifiedOnly && predictions[size_t(i)].predicted == r.sampleClass)
            continue;
        if (rank++ == r.sample)
            return i;
    }
    throw Error(QStringLiteral("%1 has %2 test samples of class %3%4; sample %5 of them was "
                               "asked for.")
                    .arg(data.name, QString::number(rank), QString::number(r.sampleClass),
                         r.misclassifiedOnly
                             ? QStringLiteral(" that %1 gets wrong").arg(r.versions.first())
                             : QString(),
                         QString::number(r.sample)));
}

} // namespace

QJsonObject ExplainRequest::toJson() const
{
    QJsonArray dims;
    for (qint64 d : shape)
        dims.append(d);
    return {{QStringLiteral("versions"), QJsonArray::fromStringList(versions)},
            {QStringLiteral("options"), options.toJson()},
            {QStringLiteral("values"), floats(values)},
            {QStringLiteral("shape"), dims},
            {QStringLiteral("dataset"), dataset},
            {QStringLiteral("sample"), sample},
            {QStringLiteral("sample_class"), sampleClass},
            {QStringLiteral("misclassified_only"), misclassifiedOnly}};
}

ExplainRequest ExplainRequest::fromJson(const QJsonObject &json)
{
    ExplainRequest r;
    for (const QJsonValue &v : json.value(QStringLiteral("versions")).toArray())
        r.versions << v.toString();
    r.options = ExplainOptions::fromJson(json.value(QStringLiteral("options")).toObject());
    for (const QJsonValue &v : json.value(QStringLiteral("values")).toArray())
        r.values.push_back(float(v.toDouble()));
    for (const QJsonValue &v : json.value(QStringLiteral("shape")).toArray())
        r.shape.push_back(v.toInteger());
    r.dataset = json.value(QStringLiteral("dataset")).toString();
    r.sample = json.value(QStringLiteral("sample")).toInteger();
    r.sampleClass = json.value(QStringLiteral("sample_class")).toInt(-1);
    r.misclassifiedOnly = json.value(QStringLiteral("misclassified_only")).toBool();
    return r;
}

ExplainJob::ExplainJob(QString workspace, ExplainRequest request)
    : m_workspace(std::move(workspace))
    , m_request(std::move(request))
{ }

QString ExplainJob::title() const
{
    return QStringLiteral("Explain with %1").arg(m_request.versions.join(QStringLiteral(", ")));
}

JobResult ExplainJob::run(JobContext &context)
{
    const ExplainRequest &r = m_request;
    if (r.versions.isEmpty() || r.versions.size() > ExplainRequest::kMaxVersions)
        throw Error(QStringLiteral("Choose between 1 and %1 versions to compare.")
                        .arg(ExplainRequest::kMaxVersions));
    const Registry registry(m_workspace);
    std::vector<VersionRecord> records;
    std::vector<Explainer> explainers;
    for (const QString &ref : r.versions) {
        records.push_back(registry.resolve(ref));
        explainers.push_back(Explainer::open(registry, records.back()));
    }
    QJsonObject output;
    std::vector<float> values = r.values;
    std::vector<qint64> shape = r.shape;
    if (values.empty()) {
        context.setProgress(0.0, QStringLiteral("Reading the test split"));
        DatasetOptions options = trainingDataOf(records.front(), r.dataset);
        if (options.source.isEmpty())
            throw Error(QStringLiteral("%1 records no dataset (it was imported); choose one.")
                            .arg(records.front().ref()));
        options.limit = 0;
        options.maxFeatureBytes = Limits::maxDatasetBytes(m_workspace);
        options.isCancelled = [&context] { return context.isCancelled(); };
        const Dataset data = DatasetRegistry::instance().load(options);
        const qint64 index = chooseSample(r, data, explainers.front().model(), context);
        const qint64 size = data.sampleSize();
        values.assign(data.test.features.begin() + index * size,
                      data.test.features.begin() + (index + 1) * size);
        shape = data.sampleShape;
        output.insert(QStringLiteral("sample"), index);
        output.insert(QStringLiteral("label"), data.test.labels[size_t(index)]);
        output.insert(QStringLiteral("dataset"), data.name);
        output.insert(QStringLiteral("class_names"), QJsonArray::fromStringList(data.classNames));
    }
    QJsonArray explanations;
    for (size_t i = 0; i < explainers.size(); ++i) {
        context.setProgress(0.3 + 0.7 * double(i) / double(explainers.size()),
                            QStringLiteral("Explaining with %1").arg(r.versions[int(i)]));
        try {
            explanations.append(
                explainers[i]
                    .explain(values, shape, r.options, [&context] { return context.isCancelled(); })
                    .toJson());
        } catch (const Cancelled &) {
            throw;
        } catch (const Error &e) {
            // "gradients": false tells a front-end why, to word the way out in its own terms
            // (the window's method picker rather than the CLI's --method).
            QJsonObject refused{{QStringLiteral("version"), records[i].ref()},
                                {QStringLiteral("error"), e.message()}};
            if (needsGradients(r.options.method) && !explainers[i].hasGradients())
                refused.insert(QStringLiteral("gradients"), false);
            explanations.append(refused);
        }
    }
    if (!output.contains(QStringLiteral("class_names")))
        output.insert(QStringLiteral("class_names"),
                      QJsonArray::fromStringList(explainers.front().classNames()));
    output.insert(QStringLiteral("values"), floats(values));
    QJsonArray dims;
    for (qint64 d : shape)
        dims.append(d);
    output.insert(QStringLiteral("shape"), dims);
    output.insert(QStringLiteral("explanations"), explanations);
    JobResult result;
    result.status = JobStatus::Finished;
    result.output = output;
    return result;
}

} // namespace ms
