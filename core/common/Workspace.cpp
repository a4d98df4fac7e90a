#include "common/Workspace.h"

#include "common/Error.h"
#include "common/Names.h"

#include <QDateTime>
#include <QDir>
#include <QStandardPaths>

namespace ms {

QString Workspace::resolve(const QString &override)
{
    if (!override.isEmpty())
        return QDir(override).absolutePath();
    const QString fromEnv = qEnvironmentVariable("MODELSTUDIO_WORKSPACE");
    if (!fromEnv.isEmpty())
        return QDir(fromEnv).absolutePath();
    // GenericDataLocation honours XDG_DATA_HOME (and test mode in the tests).
    return QStandardPaths::writableLocation(QStandardPaths::GenericDataLocation)
           + QStringLiteral("/modelstudio");
}

void Workspace::ensure() const
{
    for (const QString &sub : {QString(), QStringLiteral("runs")}) {
        const QString path = sub.isEmpty() ? m_root : m_root + QLatin1Char('/') + sub;
        if (!QDir().mkpath(path))
            throw Error(QStringLiteral("Cannot create the workspace folder %1: check that its "
                                       "parent exists and is writable, or pass --workspace DIR.")
                            .arg(path));
    }
}

QString Workspace::newRunDir(const QString &label) const
{
    ensure();
    const QString stamp = QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-hhmmss"));
    // The label is often typed text (an architecture's file or registry name): one safe file
    // name component, never a path of its own.
    const QString runs = m_root + QStringLiteral("/runs");
    const QString base = stamp + QLatin1Char('-') + modelNameFrom(label, QStringLiteral("run"));
    QString dir = pathInside(runs, base);
    for (int n = 2; QDir(dir).exists(); ++n)
        dir = pathInside(runs, base + QLatin1Char('-') + QString::number(n));
    if (!QDir().mkpath(dir))
        throw Error(QStringLiteral("Cannot create the run folder %1: check the workspace is "
                                   "writable.").arg(dir));
    return dir;
}

} // namespace ms
