#include "ExplainProtocol.h"

#include "common/Error.h"
#include "common/Printable.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QUrlQuery>

#include <cmath>

namespace ms::protocol {

namespace {

const char *const kKeys[] = {"method",      "steps", "target", "samples",
                             "noise_level", "seed",  "window", "stride"};

bool known(const QString &key)
{
    for (const char *k : kKeys) {
        if (key == QLatin1String(k))
            return true;
    }
    return false;
}

QString keyList()
{
    QStringList keys;
    for (const char *k : kKeys)
        keys << QLatin1String(k);
    return keys.join(QStringLiteral(", "));
}

} // namespace

ExplainOptions explainOptions(const QByteArray &target, const QByteArray &body)
{
    QJsonObject params;
    const QJsonDocument doc = QJsonDocument::fromJson(body);
    if (doc.isObject() && doc.object().value(QStringLiteral("parameters")).isObject())
        params = doc.object().value(QStringLiteral("parameters")).toObject();
    const qsizetype mark = target.indexOf('?');
    if (mark >= 0) {
        const QUrlQuery query(QString::fromUtf8(target.mid(mark + 1)));
        for (const auto &[key, value] : query.queryItems(QUrl::FullyDecoded)) {
            bool number = false;
            const double d = value.toDouble(&number);
            params.insert(key, number && std::isfinite(d) ? QJsonValue(d) : QJsonValue(value));
        }
    }
    for (auto it = params.constBegin(); it != params.constEnd(); ++it) {
        if (!known(it.key()))
            throw ProtocolError{400,
                                QStringLiteral("unknown explanation parameter \"%1\"; the "
                                               "parameters are %2")
                                    .arg(printable(it.key()), keyList())};
    }
    try {
        return ExplainOptions::fromJson(params);
    } catch (const Error &e) {
        throw ProtocolError{400, e.message()};
    }
}

QJsonObject v2ExplainResponse(const QString &model, int version, const InferInput &input,
                              const std::vector<Explanation> &explanations)
{
    QJsonArray attributions;
    QJsonArray probabilities;
    QJsonArray targets;
    QJsonArray gaps;
    qint64 classes = 0;
    for (const Explanation &e : explanations) {
        for (float a : e.attributions)
            attributions.append(double(a));
        for (float p : e.probabilities)
            probabilities.append(double(p));
        classes = qint64(e.probabilities.size());
        targets.append(e.target);
        gaps.append(std::isnan(e.completenessGap) ? QJsonValue() : QJsonValue(e.completenessGap));
    }
    QJsonArray shape;
    for (qint64 d : input.shape)
        shape.append(d);
    const QString method = explanations.empty() ? QString() : explanations.front().method;
    QJsonObject reply{
        {QStringLiteral("model_name"), model},
        {QStringLiteral("model_version"), QString::number(version)},
        {QStringLiteral("outputs"),
         QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("attributions")},
                                {QStringLiteral("datatype"), QStringLiteral("FP32")},
                                {QStringLiteral("shape"), shape},
                                {QStringLiteral("data"), attributions}},
                    QJsonObject{
                        {QStringLiteral("name"), QStringLiteral("probabilities")},
                        {QStringLiteral("datatype"), QStringLiteral("FP32")},
                        {QStringLiteral("shape"), QJsonArray{qint64(explanations.size()), classes}},
                        {QStringLiteral("data"), probabilities}}}},
        {QStringLiteral("parameters"),
         QJsonObject{{QStringLiteral("method"), method},
                     {QStringLiteral("targets"), targets},
                     {QStringLiteral("completeness_gaps"), gaps}}}};
    if (input.hasId)
        reply.insert(QStringLiteral("id"), input.id);
    return reply;
}

std::vector<Explanation> explainSamples(const Explainer &explainer, const InferInput &input,
                                        const ExplainOptions &options,
                                        const std::function<bool()> &cancelled)
{
    const std::vector<qint64> sampleShape(input.shape.begin() + 1, input.shape.end());
    const size_t size = input.batch() > 0 ? input.data.size() / size_t(input.batch()) : 0;
    std::vector<Explanation> out;
    for (qint64 i = 0; i < input.batch(); ++i) {
        const std::vector<float> sample(input.data.begin() + qint64(size_t(i) * size),
                                        input.data.begin() + qint64(size_t(i + 1) * size));
        out.push_back(explainer.explain(sample, sampleShape, options, cancelled));
    }
    return out;
}

QJsonValue torchServeExplainResponse(const std::vector<Explanation> &explanations,
                                     bool singleSample)
{
    if (singleSample && explanations.size() == 1)
        return explanations.front().toJson();
    QJsonArray all;
    for (const Explanation &e : explanations)
        all.append(e.toJson());
    return all;
}

} // namespace ms::protocol
