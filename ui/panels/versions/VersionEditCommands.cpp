#include "panels/versions/VersionEditCommands.h"

#include "common/Error.h"
#include "common/Names.h"
#include "common/Printable.h"
#include "registry/Registry.h"

#include <QCoreApplication>

#include <exception>

namespace ms::ui {

namespace {

QString tr(const char *text)
{
    return QCoreApplication::translate("VersionEditCommand", text);
}

} // namespace

VersionEditCommand::VersionEditCommand(QString workspace, const QString &text)
    : m_workspace(std::move(workspace))
{
    setText(text);
}

template<typename F>
bool VersionEditCommand::attempt(F &&edit)
{
    try {
        ms::Registry registry(m_workspace);
        edit(registry);
        m_error.clear();
        return true;
    } catch (const std::exception &e) {
        m_error = errorMessage(e);
    }
    if (m_errorSink)
        m_errorSink(m_error);
    // Never done: nothing to undo. push() drops an obsolete command; on a later undo/redo the
    // stack skips it.
    setObsolete(true);
    return false;
}

SetTagCommand::SetTagCommand(QString workspace, qint64 versionId, const QString &ref,
                             QString key, QString value, std::optional<QString> oldValue)
    : VersionEditCommand(std::move(workspace),
                         tr("Tag %1 %2=%3").arg(ref, key, value))
    , m_versionId(versionId)
    , m_key(std::move(key))
    , m_value(std::move(value))
    , m_oldValue(std::move(oldValue))
{
}

void SetTagCommand::redo()
{
    attempt([this](ms::Registry &r) { r.setTag(m_versionId, m_key, m_value); });
}

void SetTagCommand::undo()
{
    attempt([this](ms::Registry &r) {
        if (m_oldValue)
            r.setTag(m_versionId, m_key, *m_oldValue);
        else
            r.removeTag(m_versionId, m_key);
    });
}

RemoveTagCommand::RemoveTagCommand(QString workspace, qint64 versionId, const QString &ref,
                                   QString key, QString oldValue)
    : VersionEditCommand(std::move(workspace), tr("Remove tag %1 from %2").arg(key, ref))
    , m_versionId(versionId)
    , m_key(std::move(key))
    , m_oldValue(std::move(oldValue))
{
}

void RemoveTagCommand::redo()
{
    attempt([this](ms::Registry &r) { r.removeTag(m_versionId, m_key); });
}

void RemoveTagCommand::undo()
{
    attempt([this](ms::Registry &r) { r.setTag(m_versionId, m_key, m_oldValue); });
}

SetAliasCommand::SetAliasCommand(QString workspace, QString modelName, QString alias,
                                 qint64 versionId, const QString &ref, qint64 previousVersionId)
    : VersionEditCommand(std::move(workspace), tr("Alias %1 → %2").arg(alias, ref))
    , m_modelName(std::move(modelName))
    , m_alias(std::move(alias))
    , m_versionId(versionId)
    , m_previousVersionId(previousVersionId)
{
}

void SetAliasCommand::redo()
{
    attempt([this](ms::Registry &r) { r.setAlias(m_modelName, m_alias, m_versionId); });
}

void SetAliasCommand::undo()
{
    attempt([this](ms::Registry &r) {
        if (m_previousVersionId != 0)
            r.setAlias(m_modelName, m_alias, m_previousVersionId);
        else
            r.removeAlias(m_modelName, m_alias);
    });
}

RemoveAliasCommand::RemoveAliasCommand(QString workspace, QString modelName, QString alias,
                                       qint64 versionId, const QString &ref)
    : VersionEditCommand(std::move(workspace), tr("Remove alias %1 from %2").arg(alias, ref))
    , m_modelName(std::move(modelName))
    , m_alias(std::move(alias))
    , m_versionId(versionId)
{
}

void RemoveAliasCommand::redo()
{
    attempt([this](ms::Registry &r) { r.removeAlias(m_modelName, m_alias); });
}

void RemoveAliasCommand::undo()
{
    attempt([this](ms::Registry &r) { r.setAlias(m_modelName, m_alias, m_versionId); });
}

SetNotesCommand::SetNotesCommand(QString workspace, qint64 versionId, const QString &ref,
                                 QString notes, QString oldNotes)
    : VersionEditCommand(std::move(workspace), tr("Notes of %1").arg(ref))
    , m_versionId(versionId)
    , m_notes(std::move(notes))
    , m_oldNotes(std::move(oldNotes))
{
}

void SetNotesCommand::redo()
{
    attempt([this](ms::Registry &r) { r.setNotes(m_versionId, m_notes); });
}

void SetNotesCommand::undo()
{
    attempt([this](ms::Registry &r) { r.setNotes(m_versionId, m_oldNotes); });
}

RenameModelCommand::RenameModelCommand(QString workspace, QString oldName, QString newName)
    : VersionEditCommand(std::move(workspace),
                         tr("Rename model %1 to %2").arg(ms::printable(oldName), newName))
    , m_oldName(std::move(oldName))
    , m_newName(std::move(newName))
{
}

void RenameModelCommand::redo()
{
    if (attempt([this](ms::Registry &r) { r.renameModel(m_oldName, m_newName); })
        && !ms::isValidModelName(m_oldName))
        setObsolete(true);
}

void RenameModelCommand::undo()
{
    attempt([this](ms::Registry &r) { r.renameModel(m_newName, m_oldName); });
}

} // namespace ms::ui
