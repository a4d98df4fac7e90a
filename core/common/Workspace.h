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
    // file name (an architecture given as "resnet18:1" gives "...-resnet18-1").
    QString newRunDir(const QString &label) const;

private:
    QString m_root;
};

} // namespace ms
