#include "panels/serve/ServeExample.h"

#include "common/Error.h"
#include "data/DatasetRegistry.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStringList>
#include <QUrl>

#include <exception>
#include <numeric>
#include <optional>

namespace ms::ui {

namespace {

const std::vector<qint64> kFashionShape{1, 28, 28};

// Reading the IDX files takes a moment; the example is rebuilt whenever the selection or the
// token changes, so the image is read once per process.
const std::optional<ServeSample> &fashionSample()
{
    static const std::optional<ServeSample> sample = []() -> std::optional<ServeSample> {
        try {
            ms::DatasetOptions options;
            options.source = QStringLiteral("fashion-mnist");
            options.limit = 1;
            const ms::Dataset data = ms::DatasetRegistry::instance().load(options);
            const ms::DatasetSplit &split = data.test.count() > 0 ? data.test : data.train;
            const qint64 size = data.sampleSize();
            if (split.count() < 1 || data.sampleShape != kFashionShape
                || qint64(split.features.size()) < size)
                return std::nullopt;
            ServeSample result;
            result.shape = kFashionShape;
            result.values.assign(split.features.begin(), split.features.begin() + size);
            const qint64 label = split.labels.front();
            const QString className = label >= 0 && label < data.classNames.size()
                                          ? data.classNames.at(int(label))
                                          : QString::number(label);
            result.description = QStringLiteral("a Fashion-MNIST test image (%1)").arg(className);
            return result;
        } catch (const std::exception &) {
            return std::nullopt;   // not installed: zeros still make a valid request
        }
    }();
    return sample;
}

QString shellQuoted(const QString &text)
{
    QString quoted = text;
    quoted.replace(QLatin1Char('\''), QLatin1String("'\\''"));
    return QLatin1Char('\'') + quoted + QLatin1Char('\'');
}

QString jsonString(const QString &text)
{
    QString escaped = text;
    escaped.replace(QLatin1Char('\\'), QLatin1String("\\\\"));
    escaped.replace(QLatin1Char('"'), QLatin1String("\\\""));
    escaped.replace(QLatin1Char('\n'), QLatin1String("\\n"));
    return QLatin1Char('"') + escaped + QLatin1Char('"');
}

QString formatFloat(float value)
{
    return value == 0.0f ? QStringLiteral("0") : QString::number(double(value), 'g', 4);
}

} // namespace

ServeSample sampleFor(const std::vector<qint64> &shape, const QString &dtype)
{
    if (shape == kFashionShape && dtype == QLatin1String("float32")) {
        if (const auto &sample = fashionSample())
            return *sample;
    }
    ServeSample zeros;
    zeros.shape = shape;
    const qint64 count = std::accumulate(shape.begin(), shape.end(), qint64(1),
                                         [](qint64 a, qint64 b) { return a * qMax<qint64>(b, 1); });
    zeros.values.assign(size_t(shape.empty() ? 0 : count), 0.0f);
    zeros.description = QStringLiteral("zeros");
    if (dtype != QLatin1String("float32")) {
        zeros.description = QStringLiteral("token ids (zeros)");
        zeros.datatype = dtype.toUpper();
    }
    return zeros;
}

ServeSample textSampleFor(const QString &task, const QString &tokenizer)
{
    ServeSample sample;
    const bool lm = task == QLatin1String("lm");
    sample.texts << (lm ? QStringLiteral("Q: What is the meaning of life?\nA:")
                        : QStringLiteral("A penny saved is a penny earned."));
    sample.datatype = QStringLiteral("BYTES");
    sample.description = QStringLiteral("%1 as text (the server tokenizes it with the version's %2 "
                                        "tokenizer)")
                             .arg(lm ? QStringLiteral("a prompt") : QStringLiteral("a sentence"),
                                  tokenizer);
    return sample;
}

QByteArray requestBody(const QString &inputName, const ServeSample &sample)
{
    if (!sample.texts.isEmpty()) {
        const QJsonObject input{{QStringLiteral("name"), QStringLiteral("text")},
                                {QStringLiteral("shape"), QJsonArray{int(sample.texts.size())}},
                                {QStringLiteral("datatype"), QStringLiteral("BYTES")},
                                {QStringLiteral("data"), QJsonArray::fromStringList(sample.texts)}};
        return QJsonDocument(QJsonObject{{QStringLiteral("inputs"), QJsonArray{input}}})
            .toJson(QJsonDocument::Compact);
    }
    QStringList shape{QStringLiteral("1")};
    for (qint64 dim : sample.shape)
        shape << QString::number(dim);
    QStringList values;
    values.reserve(int(sample.values.size()));
    for (float value : sample.values)
        values << formatFloat(value);
    return QStringLiteral("{\"inputs\": [{\"name\": %1, \"shape\": [%2], \"datatype\": \"%3\", "
                          "\"data\": [%4]}]}")
        .arg(jsonString(inputName), shape.join(QStringLiteral(", ")), sample.datatype,
             values.join(QStringLiteral(", ")))
        .toUtf8();
}

QString curlCommand(const CurlRequest &request, const ServeSample &sample,
                    const QString &bodyFile)
{
    const QString body = bodyFile.isEmpty()
                             ? QString::fromUtf8(requestBody(request.inputName, sample))
                             : QString();
    const QString path = QStringLiteral("/v2/models/%1/infer")
                             .arg(QString::fromLatin1(
                                 QUrl::toPercentEncoding(request.modelName)));

    QStringList lines;
    lines << QStringLiteral("curl -s -X POST %1").arg(shellQuoted(request.url + path));
    lines << QStringLiteral("  -H 'Content-Type: application/json'");
    if (!request.token.isEmpty())
        lines << QStringLiteral("  -H %1").arg(
            shellQuoted(QStringLiteral("Authorization: Bearer ") + request.token));
    if (bodyFile.isEmpty())
        lines << QStringLiteral("  -d %1").arg(shellQuoted(body));
    else
        lines << QStringLiteral("  -d @%1").arg(shellQuoted(bodyFile));
    QString header = QStringLiteral("# %1, %2\n").arg(request.modelName, sample.description);
    if (!request.inputNote.isEmpty())
        header += QStringLiteral("# %1\n").arg(request.inputNote);
    return header + lines.join(QStringLiteral(" \\\n"));
}

} // namespace ms::ui
