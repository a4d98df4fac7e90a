// The side-by-side comparison of two versions, shared by the CLI's diff and the window.
#include "registry/VersionDiff.h"

#include <QJsonArray>
#include <QMap>

namespace ms {

namespace {

// Nested recipe objects become dotted keys, so a diff names the exact setting that differs.
void flatten(const QJsonObject &object, const QString &prefix, QMap<QString, QJsonValue> *out)
{
    for (auto it = object.constBegin(); it != object.constEnd(); ++it) {
        const QString key = prefix.isEmpty() ? it.key() : prefix + QLatin1Char('.') + it.key();
        if (it->isObject() && !it->toObject().isEmpty())
            flatten(it->toObject(), key, out);
        else
            out->insert(key, *it);
    }
}

QStringList unionOfKeys(const QStringList &a, const QStringList &b)
{
    QStringList keys = a + b;
    keys.removeDuplicates();
    keys.sort();
    return keys;
}

} // namespace

QVector<VersionDiffField> diffVersions(const VersionRecord &a, const VersionRecord &b)
{
    using Section = VersionDiffField::Section;
    QVector<VersionDiffField> rows;
    auto add = [&rows](Section section, const QString &field, const QJsonValue &av,
                       const QJsonValue &bv, std::optional<double> delta = std::nullopt) {
        rows.append(VersionDiffField{section, field, av, bv, av == bv, delta});
    };
    add(Section::Record, QStringLiteral("kind"), versionKindName(a.kind),
        versionKindName(b.kind));
    add(Section::Record, QStringLiteral("created"), a.created.toUTC().toString(Qt::ISODate),
        b.created.toUTC().toString(Qt::ISODate));
    add(Section::Record, QStringLiteral("sha256"), a.sha256, b.sha256);
    add(Section::Record, QStringLiteral("params"), a.parameterCount, b.parameterCount,
        double(b.parameterCount - a.parameterCount));
    add(Section::Record, QStringLiteral("size"), a.sizeBytes, b.sizeBytes,
        double(b.sizeBytes - a.sizeBytes));
    add(Section::Record, QStringLiteral("inputs"), signatureToJson(a.inputs),
        signatureToJson(b.inputs));
    add(Section::Record, QStringLiteral("outputs"), signatureToJson(a.outputs),
        signatureToJson(b.outputs));
    // Class names are long; they are listed only when they differ.
    if (a.classNames != b.classNames)
        add(Section::Record, QStringLiteral("classes"), QJsonArray::fromStringList(a.classNames),
            QJsonArray::fromStringList(b.classNames));

    for (const QString &key : unionOfKeys(a.metrics.keys(), b.metrics.keys())) {
        const QJsonValue av = a.metrics.value(key);
        const QJsonValue bv = b.metrics.value(key);
        std::optional<double> delta;
        if (av.isDouble() && bv.isDouble())
            delta = bv.toDouble() - av.toDouble();
        add(Section::Metric, QStringLiteral("metrics.") + key, av, bv, delta);
    }

    QMap<QString, QJsonValue> aRecipe;
    QMap<QString, QJsonValue> bRecipe;
    flatten(a.recipe, QString(), &aRecipe);
    flatten(b.recipe, QString(), &bRecipe);
    int recipeDiffs = 0;
    for (const QString &key : unionOfKeys(aRecipe.keys(), bRecipe.keys())) {
        const QJsonValue av = aRecipe.value(key, QJsonValue(QJsonValue::Undefined));
        const QJsonValue bv = bRecipe.value(key, QJsonValue(QJsonValue::Undefined));
        if (av == bv)
            continue;
        ++recipeDiffs;
        std::optional<double> delta;
        if (av.isDouble() && bv.isDouble())
            delta = bv.toDouble() - av.toDouble();
        add(Section::Recipe, QStringLiteral("recipe.") + key, av, bv, delta);
    }
    if (recipeDiffs == 0)
        add(Section::Recipe, QStringLiteral("recipe"), a.recipe, b.recipe);
    return rows;
}

} // namespace ms
