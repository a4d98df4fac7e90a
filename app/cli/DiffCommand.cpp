// modelstudio-cli diff: two versions side by side, so "what changed between them" is one
// command: the recipe settings that differ, signatures, metrics, parameters and size.

#include "Command.h"
#include "Output.h"
#include "RegistryOutput.h"

#include "registry/Registry.h"

#include <QJsonArray>
#include <QMap>

namespace cli {

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

QString signedText(double delta, const QString &text)
{
    return (delta > 0 ? QStringLiteral("+") : QString()) + text;
}

struct DiffRow
{
    QString field;
    QJsonValue a;
    QJsonValue b;
    QString aText;
    QString bText;
    QString delta;
};

} // namespace

int runDiffCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("A"), refHelp());
    parser.addPositionalArgument(QStringLiteral("B"), QStringLiteral("The version to compare "
                                                                     "with A."));
    int code = Ok;
    if (!parse(parser, QStringLiteral("diff"),
               QStringLiteral("Compare two versions side by side: the recipe settings that "
                              "differ, signatures, metrics, parameters and size, with B - A."),
               arguments, &code)
        || !expectArguments(parser, QStringLiteral("diff"), QStringLiteral("A B"), 2, 2, &code))
        return code;
    const ms::Registry registry = openRegistry(parser);
    const ms::VersionRecord a = registry.resolve(parser.positionalArguments().at(0));
    const ms::VersionRecord b = registry.resolve(parser.positionalArguments().at(1));

    QList<DiffRow> rows;
    auto add = [&rows](const QString &field, const QJsonValue &av, const QJsonValue &bv,
                       const QString &at, const QString &bt, const QString &delta = QString()) {
        rows << DiffRow{field, av, bv, at, bt, delta};
    };
    add(QStringLiteral("kind"), ms::versionKindName(a.kind), ms::versionKindName(b.kind),
        ms::versionKindName(a.kind), ms::versionKindName(b.kind));
    add(QStringLiteral("created"), a.created.toUTC().toString(Qt::ISODate),
        b.created.toUTC().toString(Qt::ISODate), dateText(a.created), dateText(b.created));
    add(QStringLiteral("sha256"), a.sha256, b.sha256, a.sha256.left(12), b.sha256.left(12),
        a.sha256 == b.sha256 ? QStringLiteral("same") : QStringLiteral("differs"));
    add(QStringLiteral("params"), a.parameterCount, b.parameterCount,
        countText(a.parameterCount), countText(b.parameterCount),
        signedText(double(b.parameterCount - a.parameterCount),
                   countText(b.parameterCount - a.parameterCount)));
    add(QStringLiteral("size"), a.sizeBytes, b.sizeBytes, humanSize(a.sizeBytes),
        humanSize(b.sizeBytes),
        signedText(double(b.sizeBytes - a.sizeBytes), humanSize(b.sizeBytes - a.sizeBytes)));
    const QString aIn = signatureText(a.inputs);
    const QString bIn = signatureText(b.inputs);
    add(QStringLiteral("inputs"), ms::signatureToJson(a.inputs), ms::signatureToJson(b.inputs),
        aIn, bIn, aIn == bIn ? QStringLiteral("same") : QStringLiteral("differs"));
    const QString aOut = signatureText(a.outputs);
    const QString bOut = signatureText(b.outputs);
    add(QStringLiteral("outputs"), ms::signatureToJson(a.outputs),
        ms::signatureToJson(b.outputs), aOut, bOut,
        aOut == bOut ? QStringLiteral("same") : QStringLiteral("differs"));
    if (a.classNames != b.classNames)
        add(QStringLiteral("classes"), QJsonArray::fromStringList(a.classNames),
            QJsonArray::fromStringList(b.classNames), a.classNames.join(QLatin1Char(',')),
            b.classNames.join(QLatin1Char(',')), QStringLiteral("differs"));

    QStringList metricKeys = a.metrics.keys() + b.metrics.keys();
    metricKeys.removeDuplicates();
    metricKeys.sort();
    for (const QString &key : metricKeys) {
        const QJsonValue av = a.metrics.value(key);
        const QJsonValue bv = b.metrics.value(key);
        auto text = [&key](const QJsonValue &v) {
            return v.isDouble() ? metricText(key, v.toDouble()) : compactJson(v);
        };
        QString delta;
        if (av.isDouble() && bv.isDouble()) {
            const double d = bv.toDouble() - av.toDouble();
            delta = isAccuracyKey(key)
                        ? signedText(d, QString::number(d * 100.0, 'f', 2) + QStringLiteral(" pp"))
                        : signedText(d, QString::number(d, 'g', 4));
        }
        add(QStringLiteral("metrics.") + key, av, bv, text(av), text(bv), delta);
    }

    QMap<QString, QJsonValue> aRecipe;
    QMap<QString, QJsonValue> bRecipe;
    flatten(a.recipe, QString(), &aRecipe);
    flatten(b.recipe, QString(), &bRecipe);
    QStringList recipeKeys = aRecipe.keys() + bRecipe.keys();
    recipeKeys.removeDuplicates();
    recipeKeys.sort();
    int recipeDiffs = 0;
    for (const QString &key : recipeKeys) {
        const QJsonValue av = aRecipe.value(key, QJsonValue(QJsonValue::Undefined));
        const QJsonValue bv = bRecipe.value(key, QJsonValue(QJsonValue::Undefined));
        if (av == bv)
            continue;
        ++recipeDiffs;
        add(QStringLiteral("recipe.") + key, av, bv, compactJson(av), compactJson(bv));
    }
    if (recipeDiffs == 0)
        add(QStringLiteral("recipe"), a.recipe, b.recipe,
            a.recipe.isEmpty() ? QStringLiteral("-") : QStringLiteral("(same)"),
            b.recipe.isEmpty() ? QStringLiteral("-") : QStringLiteral("(same)"),
            QStringLiteral("same"));

    if (wantsJson(parser)) {
        QJsonArray list;
        for (const DiffRow &row : rows) {
            QJsonObject entry{{QStringLiteral("field"), row.field},
                              {QStringLiteral("a"), row.a.isUndefined() ? QJsonValue() : row.a},
                              {QStringLiteral("b"), row.b.isUndefined() ? QJsonValue() : row.b}};
            if (!row.delta.isEmpty())
                entry.insert(QStringLiteral("delta"), row.delta);
            list.append(entry);
        }
        printJsonLine(QJsonObject{{QStringLiteral("a"), a.ref()},
                                  {QStringLiteral("b"), b.ref()},
                                  {QStringLiteral("fields"), list}});
        return Ok;
    }
    QList<QStringList> tableRows;
    for (const DiffRow &row : rows)
        tableRows << QStringList{row.field, row.aText, row.bText, row.delta};
    printLine(table({QStringLiteral("FIELD"), a.ref(), b.ref(), QStringLiteral("B - A")},
                    tableRows));
    return Ok;
}

} // namespace cli
