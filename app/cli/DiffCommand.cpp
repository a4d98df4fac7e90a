// modelstudio-cli diff: two versions side by side, so "what changed between them" is one
// command: the recipe settings that differ, signatures, metrics, parameters and size.

#include "Command.h"
#include "Output.h"
#include "RegistryOutput.h"

#include "registry/Registry.h"
#include "registry/VersionDiff.h"

#include <QJsonArray>

namespace cli {

namespace {

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

// The words of one compared field (ms::diffVersions decides what is compared).
DiffRow rowText(const ms::VersionDiffField &f, const ms::VersionRecord &a,
                const ms::VersionRecord &b)
{
    DiffRow row{f.field, f.a, f.b, QString(), QString(), QString()};
    const QString sameText = f.same ? QStringLiteral("same") : QStringLiteral("differs");
    if (f.field == QLatin1String("kind")) {
        row.aText = f.a.toString();
        row.bText = f.b.toString();
    } else if (f.field == QLatin1String("created")) {
        row.aText = dateText(a.created);
        row.bText = dateText(b.created);
    } else if (f.field == QLatin1String("sha256")) {
        row.aText = a.sha256.left(12);
        row.bText = b.sha256.left(12);
        row.delta = sameText;
    } else if (f.field == QLatin1String("params")) {
        const qint64 d = b.parameterCount - a.parameterCount;
        row.aText = countText(a.parameterCount);
        row.bText = countText(b.parameterCount);
        row.delta = signedText(double(d), countText(d));
    } else if (f.field == QLatin1String("size")) {
        const qint64 d = b.sizeBytes - a.sizeBytes;
        row.aText = humanSize(a.sizeBytes);
        row.bText = humanSize(b.sizeBytes);
        row.delta = signedText(double(d), humanSize(d));
    } else if (f.field == QLatin1String("inputs") || f.field == QLatin1String("outputs")) {
        const bool inputs = f.field == QLatin1String("inputs");
        row.aText = signatureText(inputs ? a.inputs : a.outputs);
        row.bText = signatureText(inputs ? b.inputs : b.outputs);
        row.delta = sameText;
    } else if (f.field == QLatin1String("classes")) {
        row.aText = a.classNames.join(QLatin1Char(','));
        row.bText = b.classNames.join(QLatin1Char(','));
        row.delta = sameText;
    } else if (f.section == ms::VersionDiffField::Section::Metric) {
        const QString key = f.field.mid(int(qstrlen("metrics.")));
        auto text = [&key](const QJsonValue &v) {
            return v.isDouble() ? metricText(key, v.toDouble()) : compactJson(v);
        };
        row.aText = text(f.a);
        row.bText = text(f.b);
        if (f.delta) {
            const double d = *f.delta;
            if (isAccuracyKey(key) || isAccuracyDeltaKey(key))
                row.delta = pointsText(d);
            else if (isWholeNumber(f.a.toDouble()) && isWholeNumber(f.b.toDouble()))
                row.delta = signedText(d, countText(qint64(d)));
            else
                row.delta = signedText(d, QString::number(d, 'g', 4));
        }
    } else if (f.field == QLatin1String("recipe")) {
        // Every setting equal: one row says so.
        row.aText = a.recipe.isEmpty() ? QStringLiteral("-") : QStringLiteral("(same)");
        row.bText = b.recipe.isEmpty() ? QStringLiteral("-") : QStringLiteral("(same)");
        row.delta = QStringLiteral("same");
    } else {
        row.aText = compactJson(f.a);
        row.bText = compactJson(f.b);
    }
    return row;
}

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
    for (const ms::VersionDiffField &field : ms::diffVersions(a, b))
        rows << rowText(field, a, b);

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
