#pragma once

#include <QString>

namespace ms {

// Where the studio keeps its data: --workspace DIR, else $MODELSTUDIO_WORKSPACE, else
// $XDG_DATA_HOME/modelstudio (~/.local/share/modelstudio).
class Workspace
{
public:
    // `override` is the --workspace flag (may be empty).
    static QString resolve(const QString &override = QString());

    explicit Workspace(QString root) : m_root(std::move(root)) {}

    QString root() const { return m_root; }
    // Makes the folders it needs; throws ms::Error naming the folder when it cannot.
    void ensure() const;
    // A fresh folder for a run: runs/<yyyyMMdd-hhmmss>-<label>[-n], the label made safe for a
    // file name (an architecture given as "resnet18:1" gives "...-resnet18-1"). While it is
    // empty, this process holds a lock on it, so that `gc` never takes a folder whose run is
    // still loading its data.
    QString newRunDir(const QString &label) const;

    // True when a live process holds the lock newRunDir takes on `dir` (Linux flock: a process
    // that died holds nothing). Used by gc before it removes an empty run folder.
    static bool runDirInUse(const QString &dir);

private:
    QString m_root;
};

} // namespace ms
