#include "common/Workspace.h"

#include "common/Error.h"
#include "common/Names.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QHash>
#include <QMutex>
#include <QStandardPaths>

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <unistd.h>

namespace ms {

namespace {

// The run folders this process made and that were still empty when last looked at, each with
// an open descriptor holding a shared flock. A folder with a file in it no longer needs one (gc
// removes only empty folders), so the locks are let go as folders fill: the descriptors held
// stay as few as the runs that are starting.
struct RunDirLocks
{
    QMutex mutex;
    QHash<QString, int> fds;

    void add(const QString &dir)
    {
        const QMutexLocker lock(&mutex);
        for (auto it = fds.begin(); it != fds.end();) {
            if (QDir(it.key()).isEmpty(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden))
                ++it;
            else {
                ::close(it.value());
                it = fds.erase(it);
            }
        }
        const int fd = ::open(QFile::encodeName(dir).constData(),
                              O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return;   // no lock: gc's age rule still protects a folder made a moment ago
        if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
            ::close(fd);
            return;
        }
        fds.insert(dir, fd);
    }
};

RunDirLocks &runDirLocks()
{
    static RunDirLocks locks;
    return locks;
}

} // namespace

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
    // mkdir(2) is the claim: it fails with EEXIST when another process (a sweep starts its
    // trials in the same second, with the same label) made the folder first, so two runs
    // never share one. Testing exists() and then creating would let both through.
    for (int n = 1;; ++n) {
        const QString dir = pathInside(runs, n == 1 ? base
                                                    : base + QLatin1Char('-') + QString::number(n));
        if (::mkdir(QFile::encodeName(dir).constData(), 0777) == 0) {
            runDirLocks().add(dir);
            return dir;
        }
        if (errno != EEXIST)
            throw Error(QStringLiteral("Cannot create the run folder %1: %2. Check the workspace "
                                       "is writable.").arg(dir, QString::fromLocal8Bit(strerror(errno))));
    }
}

bool Workspace::runDirInUse(const QString &dir)
{
    const int fd = ::open(QFile::encodeName(dir).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    // An exclusive lock is refused while anyone, this process included (flock locks belong to
    // open descriptions, not processes), holds the shared one newRunDir took.
    const bool inUse = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
    ::close(fd);
    return inUse;
}

} // namespace ms
