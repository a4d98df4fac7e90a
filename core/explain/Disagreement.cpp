#include "explain/Disagreement.h"

#include "common/Cancelled.h"
#include "common/Error.h"
#include "common/ShapeText.h"
#include "explain/Explainer.h"
#include "registry/Registry.h"

#include <QJsonArray>

#include <algorithm>

namespace ms {

namespace {

constexpr qint64 kBatch = 256;

} // namespace

std::vector<SamplePrediction> predictTestSplit(const Model &model, const QString &ref,
                                               const Dataset &data,
                                               const std::function<bool()> &cancelled)
{
    const qint64 n = data.test.count();
    const qint64 size = data.sampleSize();
    const int classes = data.numClasses();
    std::vector<SamplePrediction> out(static_cast<size_t>(n), SamplePrediction{});
    std::vector<qint64> shape{0};
    shape.insert(shape.end(), data.sampleShape.begin(), data.sampleShape.end());
    for (qint64 start = 0; start < n; start += kBatch) {
        if (cancelled && cancelled())
            throw Cancelled(QStringLiteral("Stopped while comparing predictions."));
        const qint64 count = std::min(kBatch, n - start);
        shape[0] = count;
        const std::vector<float> batch(data.test.features.begin() + start * size,
                                       data.test.features.begin() + (start + count) * size);
        std::vector<qint64> outputShape;
        const std::vector<float> logits = model.predict(batch, shape, &outputShape);
        if (outputShape != std::vector<qint64>{count, classes})
            throw Error(QStringLiteral("%1 returns shape %2 for %3 samples, but the dataset %4 "
                                       "has %5 classes.")
                            .arg(ref, shapeText(outputShape, ShapeStyle::Compact),
                                 QString::number(count), data.name, QString::number(classes)));
        const std::vector<float> probs = softmaxRows(logits, classes);
        for (qint64 i = 0; i < count; ++i) {
            const auto row = probs.begin() + i * classes;
            const auto top = std::max_element(row, row + classes);
            out[size_t(start + i)] = {int(top - row), *top};
        }
    }
    return out;
}

namespace {

QJsonObject predictionJson(const SamplePrediction &p)
{
    return {{QStringLiteral("prediction"), p.predicted},
            {QStringLiteral("confidence"), double(p.confidence)}};
}

} // namespace

DatasetOptions trainingDataOf(const VersionRecord &v, const QString &override)
{
    // As BenchmarkJob reads it: the recipe's dataset, limit, seed and validation fraction.
    QJsonObject r = v.recipe;
    if (r.value(QStringLiteral("data")).isObject())
        r = r.value(QStringLiteral("data")).toObject();
    DatasetOptions o;
    if (!override.isEmpty()) {
        o.source = override;
        return o;
    }
    o.source = r.value(QStringLiteral("dataset")).toString();
    o.limit = r.value(QStringLiteral("limit")).toVariant().toLongLong();
    o.seed = r.value(QStringLiteral("seed")).toVariant().toULongLong();
    o.validationFraction = r.value(QStringLiteral("validation_fraction")).toDouble(0.1);
    o.labelColumn = r.value(QStringLiteral("label_column")).toString();
    return o;
}

qint64 Disagreement::correctA() const
{
    qint64 n = 0;
    for (size_t i = 0; i < labels.size(); ++i)
        n += predictionsA[i].predicted == labels[i];
    return n;
}

qint64 Disagreement::correctB() const
{
    qint64 n = 0;
    for (size_t i = 0; i < labels.size(); ++i)
        n += predictionsB[i].predicted == labels[i];
    return n;
}

std::vector<qint64> Disagreement::disagreementsPerClass() const
{
    std::vector<qint64> counts(size_t(classNames.size()), 0);
    for (qint64 i : indices) {
        const qint64 label = labels[size_t(i)];
        if (label >= 0 && label < qint64(counts.size()))
            counts[size_t(label)] += 1;
    }
    return counts;
}

std::vector<qint64> Disagreement::samplesPerClass() const
{
    std::vector<qint64> counts(size_t(classNames.size()), 0);
    for (qint64 label : labels) {
        if (label >= 0 && label < qint64(counts.size()))
            counts[size_t(label)] += 1;
    }
    return counts;
}

QJsonObject Disagreement::toJson() const
{
    QJsonArray indexList;
    QJsonArray samples;
    qint64 onlyA = 0;
    qint64 onlyB = 0;
    for (qint64 i : indices) {
        const size_t k = size_t(i);
        indexList.append(i);
        samples.append(QJsonObject{{QStringLiteral("index"), i},
                                   {QStringLiteral("label"), labels[k]},
                                   {QStringLiteral("a"), predictionJson(predictionsA[k])},
                                   {QStringLiteral("b"), predictionJson(predictionsB[k])}});
        onlyA += predictionsA[k].predicted == labels[k];
        onlyB += predictionsB[k].predicted == labels[k];
    }
    QJsonArray perClass;
    const std::vector<qint64> differ = disagreementsPerClass();
    const std::vector<qint64> total = samplesPerClass();
    for (size_t c = 0; c < differ.size(); ++c)
        perClass.append(QJsonObject{{QStringLiteral("class"), qint64(c)},
                                    {QStringLiteral("name"), classNames.value(int(c))},
                                    {QStringLiteral("disagreements"), differ[c]},
                                    {QStringLiteral("samples"), total[c]}});
    const double n = count > 0 ? double(count) : 1.0;
    return {{QStringLiteral("a"), a},
            {QStringLiteral("b"), b},
            {QStringLiteral("dataset"), dataset},
            {QStringLiteral("count"), count},
            {QStringLiteral("indices"), indexList},
            {QStringLiteral("samples"), samples},
            {QStringLiteral("per_class"), perClass},
            {QStringLiteral("accuracy_a"), double(correctA()) / n},
            {QStringLiteral("accuracy_b"), double(correctB()) / n},
            {QStringLiteral("only_a_correct"), onlyA},
            {QStringLiteral("only_b_correct"), onlyB}};
}

Disagreement findDisagreements(const Model &a, const QString &refA, const Model &b,
                               const QString &refB, const Dataset &data,
                               const std::function<bool()> &cancelled)
{
    if (data.test.count() == 0)
        throw Error(
            QStringLiteral("The dataset %1 has no test split to compare on.").arg(data.name));
    Disagreement d;
    d.a = refA;
    d.b = refB;
    d.dataset = data.name;
    d.classNames = data.classNames;
    d.count = data.test.count();
    d.labels = data.test.labels;
    d.predictionsA = predictTestSplit(a, refA, data, cancelled);
    d.predictionsB = predictTestSplit(b, refB, data, cancelled);
    for (qint64 i = 0; i < d.count; ++i) {
        if (d.predictionsA[size_t(i)].predicted != d.predictionsB[size_t(i)].predicted)
            d.indices.push_back(i);
    }
    return d;
}

} // namespace ms
