#pragma once

#include <QString>
#include <QUndoCommand>

#include <functional>
#include <optional>

namespace ms::ui {

// The edits a user makes to a version in the Versions panel, as QUndoCommands over the
// registry (house style: Tiled's ChangeValue commands on a document). Each command opens the
// workspace's registry on the GUI thread for its one statement; the registry is the document.
//
// A command that fails in redo() (the registry refuses, or the disk is gone) records the error
// and marks itself obsolete, so QUndoStack::push() drops it instead of keeping an edit that never
// happened; the panel shows error().
class VersionEditCommand : public QUndoCommand
{
public:
    QString error() const { return m_error; }
    // Told of every failure, in redo() and undo() alike (push() deletes a command that failed,
    // so its error() cannot be read afterwards).
    void setErrorSink(std::function<void(const QString &)> sink) { m_errorSink = std::move(sink); }

protected:
    VersionEditCommand(QString workspace, const QString &text);
    // Runs `edit`, catching what the registry throws. True when it went through.
    template<typename F>
    bool attempt(F &&edit);

    QString m_workspace;
    QString m_error;
    std::function<void(const QString &)> m_errorSink;
};

// Sets (or changes) one tag; undo restores the old value or removes the tag.
class SetTagCommand final : public VersionEditCommand
{
public:
    SetTagCommand(QString workspace, qint64 versionId, const QString &ref, QString key,
                  QString value, std::optional<QString> oldValue);
    void redo() override;
    void undo() override;

private:
    qint64 m_versionId = 0;
    QString m_key;
    QString m_value;
    std::optional<QString> m_oldValue;
};

// Removes one tag; undo puts it back with its value.
class RemoveTagCommand final : public VersionEditCommand
{
public:
    RemoveTagCommand(QString workspace, qint64 versionId, const QString &ref, QString key,
                     QString oldValue);
    void redo() override;
    void undo() override;

private:
    qint64 m_versionId = 0;
    QString m_key;
    QString m_oldValue;
};

// Points an alias of the model at a version; undo points it back where it was (or removes it
// when it was new). `previousVersionId` is 0 when the alias did not exist.
class SetAliasCommand final : public VersionEditCommand
{
public:
    SetAliasCommand(QString workspace, QString modelName, QString alias, qint64 versionId,
                    const QString &ref, qint64 previousVersionId);
    void redo() override;
    void undo() override;

private:
    QString m_modelName;
    QString m_alias;
    qint64 m_versionId = 0;
    qint64 m_previousVersionId = 0;
};

// Removes an alias; undo points it at the version it named.
class RemoveAliasCommand final : public VersionEditCommand
{
public:
    RemoveAliasCommand(QString workspace, QString modelName, QString alias, qint64 versionId,
                       const QString &ref);
    void redo() override;
    void undo() override;

private:
    QString m_modelName;
    QString m_alias;
    qint64 m_versionId = 0;
};

// Replaces a version's notes. The notes box makes one command per save, not per keystroke.
class SetNotesCommand final : public VersionEditCommand
{
public:
    SetNotesCommand(QString workspace, qint64 versionId, const QString &ref, QString notes,
                    QString oldNotes);
    void redo() override;
    void undo() override;

private:
    qint64 m_versionId = 0;
    QString m_notes;
    QString m_oldNotes;
};

// Renames a model (its versions, aliases and lineage follow); undo gives the old name back. A
// model whose old name the naming rule refuses (an older studio's) is renamed for good: that
// name could not be given back, so the command leaves the stack once it is done.
class RenameModelCommand final : public VersionEditCommand
{
public:
    RenameModelCommand(QString workspace, QString oldName, QString newName);
    void redo() override;
    void undo() override;

private:
    QString m_oldName;
    QString m_newName;
};

} // namespace ms::ui
