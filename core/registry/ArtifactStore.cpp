#include "registry/ArtifactStore.h"

#include "common/Error.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QTemporaryFile>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace ms {

namespace {

constexpr qint64 kChunkBytes = 1 << 20;

// Stored artifacts are immutable, as in git's object store: read-only guards against a tool
// that opens one for writing by mistake.
constexpr QFileDevice::Permissions kStoredPermissions =
    QFileDevice::ReadOwner | QFileDevice::ReadUser | QFileDevice::ReadGroup
    | QFileDevice::ReadOther;

// A rename is durable only once the directory holding the new name is synced.
void syncDirectory(const QString &path)
{
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return;
    ::fsync(fd);
    ::close(fd);
}

// True when a live process holds a flock on the file (stage() does while it copies).
bool isLocked(const QString &path)
{
    const int fd = ::open(QFile::encodeName(path).constData(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool locked = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
    ::close(fd);
    return locked;
}

QString storeError(const QString &what, const QString &path, const QString &why)
{
    return QStringLiteral("Cannot %1 %2: %3. Check that the workspace is writable and has "
                          "free space.")
        .arg(what, path, why);
}

}   // namespace

ArtifactStore::ArtifactStore(const QString &workspaceRoot)
    : m_directory(workspaceRoot + QStringLiteral("/artifacts/sha256"))
{
}

QString ArtifactStore::pathFor(const QString &sha256) const
{
    return m_directory + QLatin1Char('/') + sha256.left(2) + QLatin1Char('/') + sha256
           + QStringLiteral(".pt");
}

ArtifactStore::Staged ArtifactStore::stage(const QString &sourcePath) const
{
    QFile source(sourcePath);
    if (!source.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("Cannot read the artifact %1: %2.")
                        .arg(sourcePath, source.errorString()));
    if (!QDir().mkpath(m_directory))
        throw Error(
            storeError(QStringLiteral("create"), m_directory, QStringLiteral("mkdir failed")));

    // The hash is known only at the end, so the copy lands under a neutral temporary name
    // in the store's own folder (same file system: the final rename is atomic).
    QTemporaryFile temp(m_directory + QStringLiteral("/staging.pt.tmp-XXXXXX"));
    temp.setAutoRemove(false);
    if (!temp.open())
        throw Error(storeError(QStringLiteral("write to"), m_directory, temp.errorString()));
    // Held until the copy is closed: gc (in any process) leaves a locked temporary file alone.
    ::flock(temp.handle(), LOCK_EX | LOCK_NB);
    Staged staged;
    staged.tempPath = temp.fileName();
    try {
        QCryptographicHash hash(QCryptographicHash::Sha256);
        QByteArray chunk;
        while (!(chunk = source.read(kChunkBytes)).isEmpty()) {
            hash.addData(chunk);
            if (temp.write(chunk) != chunk.size())
                throw Error(
                    storeError(QStringLiteral("write"), staged.tempPath, temp.errorString()));
            staged.sizeBytes += chunk.size();
        }
        if (source.error() != QFileDevice::NoError)
            throw Error(QStringLiteral("Cannot read the artifact %1: %2.")
                            .arg(sourcePath, source.errorString()));
        if (!temp.flush() || ::fsync(temp.handle()) != 0)
            throw Error(storeError(QStringLiteral("write"), staged.tempPath,
                                   QString::fromLocal8Bit(std::strerror(errno))));
        temp.close();
        temp.setPermissions(kStoredPermissions);
        staged.sha256 = QString::fromLatin1(hash.result().toHex());
    } catch (...) {
        temp.close();
        QFile::remove(staged.tempPath);
        throw;
    }
    // Hashing an existing copy here, outside the registry's write lock, keeps publish() cheap.
    if (QFileInfo::exists(pathFor(staged.sha256)))
        staged.existingIntact = check(staged.sha256, staged.sizeBytes).status == Status::Intact;
    return staged;
}

QString ArtifactStore::publish(const Staged &staged) const
{
    const QString finalPath = pathFor(staged.sha256);
    if (staged.existingIntact && QFileInfo::exists(finalPath)) {
        discard(staged);
        return finalPath;
    }
    const QString shard = QFileInfo(finalPath).path();
    if (!QDir().mkpath(shard))
        throw Error(storeError(QStringLiteral("create"), shard, QStringLiteral("mkdir failed")));
    // rename(2), not QFile::rename: it replaces a damaged copy atomically, and a reader of the
    // old name sees either the old file or the new one, never a mix.
    if (std::rename(QFile::encodeName(staged.tempPath).constData(),
                    QFile::encodeName(finalPath).constData())
        != 0)
        throw Error(storeError(QStringLiteral("store"), finalPath,
                               QString::fromLocal8Bit(std::strerror(errno))));
    syncDirectory(shard);
    return finalPath;
}

void ArtifactStore::discard(const Staged &staged) const
{
    if (!staged.tempPath.isEmpty() && QFileInfo::exists(staged.tempPath))
        QFile::remove(staged.tempPath);
}

ArtifactStore::Check ArtifactStore::check(const QString &sha256, qint64 sizeBytes) const
{
    Check result;
    const QString path = pathFor(sha256);
    const QFileInfo info(path);
    if (!info.exists()) {
        result.status = Status::Missing;
        return result;
    }
    result.actualBytes = info.size();
    if (result.actualBytes < sizeBytes) {
        result.status = Status::Truncated;
        return result;
    }
    qint64 hashedBytes = 0;
    if (!hashFile(path, &result.actualSha256, &hashedBytes, &result.error)) {
        result.status = Status::Unreadable;
        return result;
    }
    if (result.actualSha256 != sha256 || hashedBytes != sizeBytes)
        result.status = Status::Changed;
    return result;
}

ArtifactStore::Collected ArtifactStore::collect(const QSet<QString> &referenced,
                                                const QDateTime &staleBefore) const
{
    static const QRegularExpression stored(QStringLiteral("^([0-9a-f]{64})\\.pt$"));
    Collected collected;
    QDirIterator it(m_directory, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        const QFileInfo info = it.fileInfo();
        const QString name = info.fileName();
        const QRegularExpressionMatch match = stored.match(name);
        bool remove = false;
        if (match.hasMatch())
            remove = !referenced.contains(match.captured(1));
        else if (name.contains(QStringLiteral(".tmp-")))
            remove = info.lastModified().toUTC() < staleBefore.toUTC() && !isLocked(path);
        // Anything else is not ours to delete.
        const qint64 sizeBytes = info.size();
        if (remove && QFile::remove(path)) {
            ++collected.removedFiles;
            collected.freedBytes += sizeBytes;
        }
    }
    return collected;
}

bool ArtifactStore::hashFile(const QString &path, QString *sha256, qint64 *sizeBytes,
                             QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = file.errorString();
        return false;
    }
    QCryptographicHash hash(QCryptographicHash::Sha256);
    qint64 total = 0;
    QByteArray chunk;
    while (!(chunk = file.read(kChunkBytes)).isEmpty()) {
        hash.addData(chunk);
        total += chunk.size();
    }
    if (file.error() != QFileDevice::NoError) {
        *error = file.errorString();
        return false;
    }
    *sha256 = QString::fromLatin1(hash.result().toHex());
    *sizeBytes = total;
    return true;
}

}   // namespace ms
