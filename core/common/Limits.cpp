#include "common/Limits.h"

#include "common/Error.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <limits>

#include <unistd.h>

namespace ms::Limits {

namespace {

constexpr qint64 kDefaultMaxModelBytes = qint64(2) << 30;

// The workspace's settings.json value of `key`, -1 when absent. A file that is there but wrong
// is an error rather than silently the default: the user meant to set something.
qint64 workspaceSetting(const QString &workspaceRoot, const QString &key)
{
    if (workspaceRoot.isEmpty())
        return -1;
    const QString path = workspaceRoot + QStringLiteral("/settings.json");
    QFile file(path);
    if (!file.exists())
        return -1;
    if (!file.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("Cannot read %1: %2").arg(path, file.errorString()));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(file.read(1 << 20), &error);
    if (!doc.isObject())
        throw Error(QStringLiteral("%1 is not a JSON object such as {\"%2\": \"4G\"} (%3).")
                        .arg(path, key, error.errorString()));
    const QJsonValue value = doc.object().value(key);
    if (value.isUndefined())
        return -1;
    const qint64 bytes = value.isDouble() ? qint64(value.toDouble())
                                          : parseBytes(value.toString());
    if (bytes <= 0)
        throw Error(QStringLiteral("%1: \"%2\" must be a size in bytes such as 4294967296 or "
                                   "\"4G\".").arg(path, key));
    return bytes;
}

qint64 resolve(const char *envName, const QString &workspaceRoot, const QString &key,
               qint64 fallback)
{
    const QString fromEnv = qEnvironmentVariable(envName);
    if (!fromEnv.isEmpty()) {
        const qint64 bytes = parseBytes(fromEnv);
        if (bytes <= 0)
            throw Error(QStringLiteral("%1 must be a size in bytes such as 4294967296 or 4G, "
                                       "not \"%2\".")
                            .arg(QLatin1String(envName), fromEnv.left(80)));
        return bytes;
    }
    const qint64 fromWorkspace = workspaceSetting(workspaceRoot, key);
    return fromWorkspace > 0 ? fromWorkspace : fallback;
}

} // namespace

qint64 maxModelBytes(const QString &workspaceRoot)
{
    return resolve("MODELSTUDIO_MAX_MODEL_BYTES", workspaceRoot,
                   QStringLiteral("max_model_bytes"), kDefaultMaxModelBytes);
}

qint64 physicalMemoryBytes()
{
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long pageSize = sysconf(_SC_PAGESIZE);
    return pages > 0 && pageSize > 0 ? qint64(pages) * qint64(pageSize) : qint64(16) << 30;
}

qint64 maxDatasetBytes(const QString &workspaceRoot)
{
    return resolve("MODELSTUDIO_MAX_DATASET_BYTES", workspaceRoot,
                   QStringLiteral("max_dataset_bytes"), physicalMemoryBytes());
}

qint64 parseBytes(const QString &text)
{
    static const QRegularExpression pattern(
        QStringLiteral("^\\s*(\\d+)\\s*([KMGT]?)(?:i?B)?\\s*$"),
        QRegularExpression::CaseInsensitiveOption);
    const QRegularExpressionMatch match = pattern.match(text);
    if (!match.hasMatch())
        return -1;
    bool ok = false;
    const qint64 number = match.captured(1).toLongLong(&ok);
    if (!ok || number <= 0)
        return -1;
    const QString unit = match.captured(2).toUpper();
    const int shift = unit.isEmpty() ? 0
                      : unit == QLatin1String("K") ? 10
                      : unit == QLatin1String("M") ? 20
                      : unit == QLatin1String("G") ? 30
                                                   : 40;
    if (number > (std::numeric_limits<qint64>::max() >> shift))
        return -1;
    return number << shift;
}

QString formatBytes(qint64 bytes)
{
    if (bytes < 1024)
        return QStringLiteral("%1 bytes").arg(bytes);
    const char *units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double value = double(bytes) / 1024.0;
    int unit = 0;
    while (value >= 1024.0 && unit < 5) {
        value /= 1024.0;
        ++unit;
    }
    return QStringLiteral("%1 %2").arg(value, 0, 'f', value < 10.0 ? 1 : 0)
        .arg(QLatin1String(units[unit]));
}

} // namespace ms::Limits
