#include "RegistryOutput.h"

#include "Command.h"

#include "common/Printable.h"
#include "common/ShapeText.h"
#include "common/Workspace.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>

#include <cmath>

namespace cli {

QString refHelp()
{
    return QStringLiteral("NAME:VERSION, NAME@ALIAS, or NAME (its production alias, else its "
                          "newest version).");
}

bool wantsJson(const QCommandLineParser &parser)
{
    return parser.isSet(QStringLiteral("json"));
}

ms::Registry openRegistry(const QCommandLineParser &parser)
{
    const QString root = ms::Workspace::resolve(parser.value(QStringLiteral("workspace")));
    ms::Workspace(root).ensure();
    return ms::Registry(root);
}

bool expectArguments(const QCommandLineParser &parser, const QString &verb, const QString &usage,
                     int min, int max, int *exitCode)
{
    const qsizetype count = parser.positionalArguments().size();
    if (count >= min && (max < 0 || count <= max))
        return true;
    const QString problem = count < min
                                ? QStringLiteral("missing arguments")
                                : QStringLiteral("unexpected argument \"%1\"")
                                      .arg(parser.positionalArguments().at(max));
    *exitCode = fail(QStringLiteral("%1. Usage: modelstudio-cli %2 %3 (see --help)")
                         .arg(problem, verb, usage),
                     Usage);
    return false;
}

QString dateText(const QDateTime &time)
{
    return time.isValid() ? time.toLocalTime().toString(QStringLiteral("yyyy-MM-dd hh:mm"))
                          : QStringLiteral("-");
}

QString countText(qint64 count)
{
    return QLocale(QLocale::English).toString(count);
}

QString signatureText(const ms::TensorSignature &tensor)
{
    // "tokens int64 [N, T] (ids 0-99)": T is a dynamic sequence length.
    const QString ids = tensor.isInteger() && tensor.vocabSize > 0
                            ? QStringLiteral(" (ids 0-%1)").arg(tensor.vocabSize - 1)
                            : QString();
    return QStringLiteral("%1 %2 %3%4")
        .arg(tensor.name, tensor.dtype, ms::shapeText(tensor.shape, ms::ShapeStyle::Batch), ids);
}

QString signatureText(const ms::Signature &signature)
{
    if (signature.isEmpty())
        return QStringLiteral("-");
    QStringList parts;
    for (const ms::TensorSignature &tensor : signature)
        parts << signatureText(tensor);
    return parts.join(QStringLiteral("; "));
}

bool isAccuracyKey(const QString &key)
{
    return key.endsWith(QLatin1String("_acc")) || key == QLatin1String("acc")
           || key.endsWith(QLatin1String("accuracy"));
}

bool isAccuracyDeltaKey(const QString &key)
{
    return key.endsWith(QLatin1String("_delta")) && isAccuracyKey(key.chopped(6));
}

bool isWholeNumber(double value)
{
    // Below 2^53 every whole double is exact; counts (parameters, samples) are far below.
    return std::isfinite(value) && value == std::trunc(value) && std::abs(value) < 9.0e15;
}

QString pointsText(double fraction)
{
    return (fraction > 0 ? QStringLiteral("+") : QString())
           + QString::number(fraction * 100.0, 'f', 2) + QStringLiteral(" pp");
}

QString metricText(const QString &key, double value)
{
    if (isAccuracyDeltaKey(key))
        return pointsText(value);
    if (isAccuracyKey(key))
        return QString::number(value * 100.0, 'f', 2) + QLatin1Char('%');
    // A count (parameters, non-zero parameters) reads whole, grouped as the window shows it,
    // never as 2.2067e+06.
    if (isWholeNumber(value))
        return countText(qint64(value));
    return QString::number(value, 'g', 5);
}

QString accuracyText(const QJsonObject &metrics)
{
    for (const QString &key : {QStringLiteral("test_acc"), QStringLiteral("val_acc")}) {
        if (metrics.value(key).isDouble())
            return metricText(key, metrics.value(key).toDouble());
    }
    return QStringLiteral("-");
}

QString tagsText(const QMap<QString, QString> &tags)
{
    QStringList parts;
    for (auto it = tags.cbegin(); it != tags.cend(); ++it)
        parts << ms::printable(it.key()) + QLatin1Char('=') + ms::printable(it.value());
    return parts.join(QStringLiteral(", "));
}

QString compactJson(const QJsonValue &value)
{
    if (value.isUndefined())
        return QStringLiteral("-");
    if (value.isString())
        return value.toString();
    // QJsonDocument holds only arrays and objects: wrap, then strip the wrapper.
    const QByteArray text = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(text.mid(1, text.size() - 2));
}

QString fieldLine(const QString &label, const QString &value)
{
    const QString indent(14, QLatin1Char(' '));
    // Line breaks stay (lists, notes) but every continuation line is indented, so no value can
    // pass for a field line of its own; other control characters are escaped.
    QString text = ms::printableLines(value);
    text.replace(QLatin1Char('\n'), QLatin1Char('\n') + indent);
    return QStringLiteral("  ") + label.leftJustified(12) + text;
}

QJsonObject lineageEdgeToJson(const ms::LineageEdge &edge)
{
    return QJsonObject{{QStringLiteral("parent"), edge.parentRef},
                       {QStringLiteral("child"), edge.childRef},
                       {QStringLiteral("role"), edge.role}};
}

} // namespace cli
