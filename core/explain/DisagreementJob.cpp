#include "explain/DisagreementJob.h"

#include "common/Error.h"
#include "common/Limits.h"
#include "data/DatasetRegistry.h"
#include "explain/Explainer.h"
#include "jobs/JobContext.h"
#include "registry/Registry.h"

#include <QByteArray>
#include <QJsonArray>

#include <algorithm>
#include <cmath>

namespace ms {

namespace {

// One sample's C*H*W values in [0, 1] as bytes, base64: a 28x28 picture is ~1 KiB of JSON
// where an array of numbers would be ~8 KiB.
QString thumbnailOf(const Dataset &data, qint64 index)
{
    const qint64 size = data.sampleSize();
    QByteArray bytes(int(size), '\0');
    const float *values = data.test.features.data() + index * size;
    for (qint64 i = 0; i < size; ++i)
        bytes[int(i)] = char(uchar(std::lround(std::clamp(values[i], 0.0f, 1.0f) * 255.0f)));
    return QString::fromLatin1(bytes.toBase64());
}

bool isImage(const std::vector<qint64> &shape)
{
    return shape.size() == 3 && (shape[0] == 1 || shape[0] == 3) && shape[1] > 0 && shape[2] > 0;
}

} // namespace

DisagreementOnData disagreeOnTestSplit(const QString &workspace, const QString &refA,
                                       const QString &refB, const QString &dataset,
                                       qint64 limit, const std::function<bool()> &cancelled)
{
    if (limit < 0)
        throw Error(QStringLiteral("The limit is 0 (all test samples) or more, not %1.")
                        .arg(limit));
    const Registry registry(workspace);
    const VersionRecord a = registry.resolve(refA);
    const VersionRecord b = registry.resolve(refB);
    const Explainer modelA = Explainer::open(registry, a);
    const Explainer modelB = Explainer::open(registry, b);
    DatasetOptions options = trainingDataOf(a, dataset);
    if (options.source.isEmpty())
        options = trainingDataOf(b, dataset);
    if (options.source.isEmpty())
        throw Error(QStringLiteral("Neither %1 nor %2 records the dataset it was trained on (both "
                                   "were imported): name the dataset to compare on (--dataset D).")
                        .arg(a.ref(), b.ref()));
    // The test split in file order: sample N is the N-th of the file.
    options.limit = limit;
    options.maxFeatureBytes = Limits::maxDatasetBytes(workspace);
    options.isCancelled = cancelled;
    DisagreementOnData out;
    out.source = options.source;
    out.data = DatasetRegistry::instance().load(options);
    for (const Explainer *e : {&modelA, &modelB})
        checkDataFitsModel(e->sampleShape(), e->classCount(), e->ref(), out.data.sampleShape,
                           out.data.numClasses(),
                           QStringLiteral("the dataset %1").arg(out.data.name));
    out.result = findDisagreements(modelA.model(), a.ref(), modelB.model(), b.ref(), out.data,
                                   cancelled);
    return out;
}

QJsonObject DisagreementRequest::toJson() const
{
    return {{QStringLiteral("a"), a},
            {QStringLiteral("b"), b},
            {QStringLiteral("dataset"), dataset},
            {QStringLiteral("limit"), limit},
            {QStringLiteral("max_thumbnails"), maxThumbnails}};
}

DisagreementRequest DisagreementRequest::fromJson(const QJsonObject &json)
{
    DisagreementRequest r;
    r.a = json.value(QStringLiteral("a")).toString();
    r.b = json.value(QStringLiteral("b")).toString();
    r.dataset = json.value(QStringLiteral("dataset")).toString();
    r.limit = json.value(QStringLiteral("limit")).toInteger();
    r.maxThumbnails = json.value(QStringLiteral("max_thumbnails")).toInt(r.maxThumbnails);
    return r;
}

DisagreementJob::DisagreementJob(QString workspace, DisagreementRequest request)
    : m_workspace(std::move(workspace))
    , m_request(std::move(request))
{ }

QString DisagreementJob::title() const
{
    return QStringLiteral("Where %1 and %2 disagree").arg(m_request.a, m_request.b);
}

JobResult DisagreementJob::run(JobContext &context)
{
    context.setProgress(0.0, QStringLiteral("Predicting the test split"));
    const DisagreementOnData d =
        disagreeOnTestSplit(m_workspace, m_request.a, m_request.b, m_request.dataset,
                            m_request.limit, [&context] { return context.isCancelled(); });
    QJsonObject output = d.result.toJson();
    output.insert(QStringLiteral("class_names"),
                  QJsonArray::fromStringList(d.result.classNames));
    output.insert(QStringLiteral("source"), d.source);
    QJsonArray shape;
    for (qint64 n : d.data.sampleShape)
        shape.append(n);
    output.insert(QStringLiteral("sample_shape"), shape);
    if (isImage(d.data.sampleShape)) {
        QJsonArray thumbnails;
        const size_t shown =
            std::min(d.result.indices.size(), size_t(std::max(0, m_request.maxThumbnails)));
        for (size_t i = 0; i < shown; ++i)
            thumbnails.append(thumbnailOf(d.data, d.result.indices[i]));
        output.insert(QStringLiteral("thumbnails"), thumbnails);
    }
    JobResult result;
    result.status = JobStatus::Finished;
    result.output = output;
    return result;
}

} // namespace ms
