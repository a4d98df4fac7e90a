// Names of the registry's enums and the JSON form of its records (the shape --json prints).
#include "registry/Registry.h"

#include "common/Error.h"
#include "registry/Schema_p.h"

namespace ms {

using registry::quoted;

namespace {

const char *const kKindNames[] = {"trained", "imported",  "finetuned",
                                  "pruned",  "quantized", "distilled"};
const char *const kStatusNames[] = {"running",   "finished", "failed",
                                    "cancelled", "diverged", "interrupted"};

template<size_t N>
int indexOfName(const char *const (&names)[N], const QString &name, const char *what)
{
    for (size_t i = 0; i < N; ++i) {
        if (name == QLatin1String(names[i]))
            return int(i);
    }
    QStringList known;
    for (const char *knownName : names)
        known << QString::fromLatin1(knownName);
    throw Error(
        QStringLiteral("unknown %1 %2; expected one of: %3")
            .arg(QString::fromLatin1(what), quoted(name), known.join(QStringLiteral(", "))));
}

}   // namespace

QString versionKindName(VersionKind kind)
{
    return QString::fromLatin1(kKindNames[int(kind)]);
}

VersionKind versionKindFromName(const QString &name)
{
    return VersionKind(indexOfName(kKindNames, name, "version kind"));
}

QString runStatusName(RunStatus status)
{
    return QString::fromLatin1(kStatusNames[int(status)]);
}

RunStatus runStatusFromName(const QString &name)
{
    return RunStatus(indexOfName(kStatusNames, name, "run status"));
}

QJsonObject InputPreprocessing::toJson() const
{
    switch (kind) {
    case Kind::Unrecorded:
        return {};
    case Kind::None:
        return {{QStringLiteral("kind"), QStringLiteral("none")}};
    case Kind::Normalize: {
        QJsonArray m, s;
        for (double v : mean)
            m.append(v);
        for (double v : stdev)
            s.append(v);
        return {{QStringLiteral("kind"), QStringLiteral("normalize")},
                {QStringLiteral("mean"), m},
                {QStringLiteral("std"), s}};
    }
    }
    return {};
}

InputPreprocessing InputPreprocessing::fromJson(const QJsonObject &json)
{
    InputPreprocessing p;
    const QString kind = json.value(QStringLiteral("kind")).toString();
    if (kind == QLatin1String("none")) {
        p.kind = Kind::None;
    } else if (kind == QLatin1String("normalize")) {
        p.kind = Kind::Normalize;
        for (const QJsonValue &v : json.value(QStringLiteral("mean")).toArray())
            p.mean.push_back(v.toDouble());
        for (const QJsonValue &v : json.value(QStringLiteral("std")).toArray())
            p.stdev.push_back(v.toDouble());
    }
    return p;
}

QJsonObject TensorSignature::toJson() const
{
    QJsonArray dims;
    for (qint64 dim : shape)
        dims.append(dim);
    QJsonObject json{{QStringLiteral("name"), name},
                     {QStringLiteral("dtype"), dtype},
                     {QStringLiteral("shape"), dims}};
    if (preprocessing.kind != InputPreprocessing::Kind::Unrecorded)
        json.insert(QStringLiteral("preprocessing"), preprocessing.toJson());
    QJsonArray dynamic;
    for (const int dim : dynamicDims())
        dynamic.append(dim);
    if (!dynamic.isEmpty())
        json.insert(QStringLiteral("dynamic"), dynamic);
    if (!exampleShape.empty()) {
        QJsonArray example;
        for (const qint64 dim : exampleShape)
            example.append(dim);
        json.insert(QStringLiteral("example_shape"), example);
    }
    if (vocabSize > 0)
        json.insert(QStringLiteral("vocab_size"), vocabSize);
    return json;
}

std::vector<int> TensorSignature::dynamicDims() const
{
    std::vector<int> dims;
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] < 0)
            dims.push_back(int(i));
    }
    return dims;
}

std::vector<qint64> TensorSignature::runnableShape(qint64 batch) const
{
    std::vector<qint64> out = exampleShape.size() == shape.size() ? exampleShape : shape;
    for (size_t i = 0; i < out.size(); ++i) {
        if (i == 0)
            out[i] = batch;
        else if (out[i] < 0)
            out[i] = 1;
    }
    return out;
}

TensorSignature TensorSignature::fromJson(const QJsonObject &json)
{
    TensorSignature signature;
    signature.name = json.value(QStringLiteral("name")).toString();
    signature.dtype = json.value(QStringLiteral("dtype")).toString(QStringLiteral("float32"));
    for (const QJsonValue &dim : json.value(QStringLiteral("shape")).toArray())
        signature.shape.push_back(dim.toInteger());
    signature.preprocessing =
        InputPreprocessing::fromJson(json.value(QStringLiteral("preprocessing")).toObject());
    for (const QJsonValue &dim : json.value(QStringLiteral("example_shape")).toArray())
        signature.exampleShape.push_back(dim.toInteger());
    signature.vocabSize = json.value(QStringLiteral("vocab_size")).toInteger();
    return signature;
}

QJsonArray signatureToJson(const Signature &signature)
{
    QJsonArray array;
    for (const TensorSignature &tensor : signature)
        array.append(tensor.toJson());
    return array;
}

Signature signatureFromJson(const QJsonArray &json)
{
    Signature signature;
    for (const QJsonValue &tensor : json)
        signature << TensorSignature::fromJson(tensor.toObject());
    return signature;
}

double VersionRecord::accuracy() const
{
    for (const char *key : {"test_acc", "val_acc"}) {
        const QJsonValue value = metrics.value(QLatin1String(key));
        if (value.isDouble())
            return value.toDouble();
    }
    return -1.0;
}

QJsonObject VersionRecord::toJson() const
{
    QJsonObject tagObject;
    for (auto it = tags.cbegin(); it != tags.cend(); ++it)
        tagObject.insert(it.key(), it.value());
    return {{QStringLiteral("id"), id},
            {QStringLiteral("model_id"), modelId},
            {QStringLiteral("model"), modelName},
            {QStringLiteral("version"), number},
            {QStringLiteral("ref"), ref()},
            {QStringLiteral("kind"), versionKindName(kind)},
            {QStringLiteral("created"), created.toUTC().toString(Qt::ISODateWithMs)},
            {QStringLiteral("notes"), notes},
            {QStringLiteral("inputs"), signatureToJson(inputs)},
            {QStringLiteral("outputs"), signatureToJson(outputs)},
            {QStringLiteral("class_names"), QJsonArray::fromStringList(classNames)},
            {QStringLiteral("parameter_count"), parameterCount},
            {QStringLiteral("size_bytes"), sizeBytes},
            {QStringLiteral("sha256"), sha256},
            {QStringLiteral("recipe"), recipe},
            {QStringLiteral("metrics"), metrics},
            {QStringLiteral("run_id"), runId == 0 ? QJsonValue() : QJsonValue(runId)},
            {QStringLiteral("tags"), tagObject},
            {QStringLiteral("aliases"), QJsonArray::fromStringList(aliases)}};
}

QJsonObject RunRecord::toJson() const
{
    return {{QStringLiteral("id"), id},
            {QStringLiteral("kind"), kind},
            {QStringLiteral("status"), runStatusName(status)},
            {QStringLiteral("started"), started.toUTC().toString(Qt::ISODateWithMs)},
            {QStringLiteral("ended"), ended.isValid()
                                          ? QJsonValue(ended.toUTC().toString(Qt::ISODateWithMs))
                                          : QJsonValue()},
            {QStringLiteral("error"), error},
            {QStringLiteral("spec"), spec},
            {QStringLiteral("run_dir"), runDir},
            {QStringLiteral("version_id"), versionId == 0 ? QJsonValue() : QJsonValue(versionId)},
            {QStringLiteral("pid"), pid}};
}

}   // namespace ms
