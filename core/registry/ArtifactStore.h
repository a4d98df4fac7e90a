#pragma once

#include <QDateTime>
#include <QSet>
#include <QString>

namespace ms {

// The content-addressed artifact store of a workspace: <root>/artifacts/sha256/ab/<hash>.pt.
// A file is copied to a temporary name while it is hashed, fsynced, and only then renamed to
// its hash, so a name in the store always holds complete bytes; equal content is kept once.
// Stored files are read-only: an artifact is never edited in place. The Registry decides what
// is referenced; this class knows only files.
class ArtifactStore
{
public:
    explicit ArtifactStore(const QString &workspaceRoot);

    QString directory() const { return m_directory; }   // <root>/artifacts/sha256
    QString pathFor(const QString &sha256) const;

    // A complete, fsynced copy of a source file under a temporary name, not yet in the store.
    struct Staged
    {
        QString tempPath;
        QString sha256;
        qint64 sizeBytes = 0;
        bool existingIntact = false;   // the store already holds these exact bytes
    };
    // Throws ms::Error naming the file when it cannot be read or the store cannot be written.
    Staged stage(const QString &sourcePath) const;
    // Gives a staged file its final name: an intact copy already there is kept, a damaged one
    // replaced. Call it under the registry's write lock, which gc also holds, so a collection
    // cannot remove the file between this and the commit of the row naming it.
    QString publish(const Staged &staged) const;
    void discard(const Staged &staged) const;   // removes the temporary file, if still there

    enum class Status { Intact, Missing, Truncated, Changed, Unreadable };
    struct Check
    {
        Status status = Status::Intact;
        qint64 actualBytes = 0;
        QString actualSha256;
        QString error;   // for Unreadable
    };
    // Re-hashes the stored file of `sha256` against the recorded hash and size.
    Check check(const QString &sha256, qint64 sizeBytes) const;

    struct Collected
    {
        int removedFiles = 0;
        qint64 freedBytes = 0;
    };
    // Removes stored files whose hash is not in `referenced`, and temporary files of copies
    // that stopped: last written before `staleBefore` and not locked (stage() holds a flock on
    // its temporary file while it copies, so a slow copy in another process is left alone).
    Collected collect(const QSet<QString> &referenced, const QDateTime &staleBefore) const;

    // SHA-256 (hex) and size of a file; false with `error` set when it cannot be read.
    static bool hashFile(const QString &path, QString *sha256, qint64 *sizeBytes, QString *error);

private:
    QString m_directory;
};

}   // namespace ms
