// The Versions panel's actions on versions: undoable edits of tags, aliases and notes, Diff,
// Re-run, Export and Delete. Split from VersionsPanel.cpp by feature (house style: a .cpp past
// ~600 lines is asking to be split); the layout, selection, lineage and details live there.
#include "panels/versions/VersionsPanel.h"

#include "panels/versions/VersionDiffDialog.h"
#include "panels/versions/VersionEditCommands.h"
#include "panels/versions/VersionFilterProxy.h"
#include "panels/versions/VersionTableModel.h"

#include "common/Error.h"
#include "common/Names.h"
#include "common/Printable.h"
#include "export/Exporter.h"
#include "registry/Registry.h"

#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QLineEdit>
#include <QMessageBox>
#include <QUndoStack>

#include <exception>
#include <optional>

namespace ms::ui {

namespace {

// A file name in the home folder for a save dialog, made from a model name: only through
// ms::pathInside (a name an older studio accepted may hold "../").
QString suggestedPath(const QString &fileName)
{
    try {
        return ms::pathInside(QDir::homePath(), fileName);
    } catch (const ms::Error &) {
        return QDir::homePath();
    }
}

} // namespace

// --- edits -------------------------------------------------------------------------------

bool VersionsPanel::pushEdit(VersionEditCommand *command)
{
    m_editError.clear();
    command->setErrorSink([this](const QString &error) {
        m_editError = error;
        m_status->setStatus(error, Tone::Error);
    });
    const QString text = command->text();
    m_undoStack->push(command);   // runs redo(); a failed command is dropped, not kept
    if (!m_editError.isEmpty())
        return false;
    m_status->setStatus(tr("%1. Undo with Ctrl+Z.").arg(text), Tone::Ok);
    return true;
}

bool VersionsPanel::setTag(const QString &key, const QString &value)
{
    const qint64 id = selectedId();
    if (id == 0 || key.trimmed().isEmpty()) {
        m_status->setStatus(id == 0 ? tr("Select a version to tag.")
                                    : tr("A tag needs a key: key=value."),
                            Tone::Error);
        return false;
    }
    const ms::VersionRecord &v = m_model->record(m_model->rowOf(id));
    const std::optional<QString> old = v.tags.contains(key) ? std::optional(v.tags.value(key))
                                                            : std::nullopt;
    if (old == value)
        return true;
    return pushEdit(new SetTagCommand(m_workspace, id, v.ref(), key.trimmed(), value, old));
}

bool VersionsPanel::removeTag(const QString &key)
{
    const qint64 id = selectedId();
    const int row = id == 0 ? -1 : m_model->rowOf(id);
    if (row < 0 || !m_model->record(row).tags.contains(key)) {
        m_status->setStatus(row < 0
                                ? tr("Select a version first.")
                                : tr("%1 has no tag \"%2\".").arg(m_model->record(row).ref(), key),
                            Tone::Error);
        return false;
    }
    const ms::VersionRecord &v = m_model->record(row);
    return pushEdit(new RemoveTagCommand(m_workspace, id, v.ref(), key, v.tags.value(key)));
}

bool VersionsPanel::setAlias(const QString &alias)
{
    const qint64 id = selectedId();
    if (id == 0 || alias.trimmed().isEmpty()) {
        m_status->setStatus(id == 0 ? tr("Select a version first.") : tr("An alias needs a name."),
                            Tone::Error);
        return false;
    }
    const ms::VersionRecord &v = m_model->record(m_model->rowOf(id));
    if (v.aliases.contains(alias))
        return true;
    // Setting an alias moves it: undo must move it back to where it pointed.
    qint64 previous = 0;
    for (int row = 0; row < m_model->rowCount() && previous == 0; ++row) {
        const ms::VersionRecord &other = m_model->record(row);
        if (other.modelName == v.modelName && other.aliases.contains(alias))
            previous = other.id;
    }
    return pushEdit(new SetAliasCommand(m_workspace, v.modelName, alias.trimmed(), id, v.ref(),
                                        previous));
}

bool VersionsPanel::removeAlias(const QString &alias)
{
    const qint64 id = selectedId();
    const int row = id == 0 ? -1 : m_model->rowOf(id);
    if (row < 0 || !m_model->record(row).aliases.contains(alias)) {
        m_status->setStatus(
            row < 0 ? tr("Select a version first.")
                    : tr("%1 has no alias \"%2\".").arg(m_model->record(row).ref(), alias),
            Tone::Error);
        return false;
    }
    const ms::VersionRecord &v = m_model->record(row);
    return pushEdit(new RemoveAliasCommand(m_workspace, v.modelName, alias, id, v.ref()));
}

bool VersionsPanel::setNotes(const QString &notes)
{
    const qint64 id = selectedId();
    if (id == 0) {
        m_status->setStatus(tr("Select a version first."), Tone::Error);
        return false;
    }
    const ms::VersionRecord &v = m_model->record(m_model->rowOf(id));
    if (v.notes == notes)
        return true;
    return pushEdit(new SetNotesCommand(m_workspace, id, v.ref(), notes, v.notes));
}

bool VersionsPanel::renameModel(const QString &newName)
{
    const qint64 id = selectedId();
    if (id == 0) {
        m_status->setStatus(tr("Select a version of the model to rename."), Tone::Error);
        return false;
    }
    const QString oldName = m_model->record(m_model->rowOf(id)).modelName;
    if (oldName == newName)
        return true;
    try {
        ms::checkModelName(newName);   // said at once, in the rule's own words
    } catch (const ms::Error &e) {
        m_status->setStatus(e.message(), Tone::Error);
        return false;
    }
    const bool showingModel = m_proxy->modelName() == oldName;
    if (!pushEdit(new RenameModelCommand(m_workspace, oldName, newName)))
        return false;
    // A rename that leaves the undo stack (from a refused old name) does not reload by itself.
    reload();
    if (showingModel)
        showModel(newName);
    selectId(id);
    return true;
}

void VersionsPanel::askRenameModel()
{
    const qint64 id = selectedId();
    if (id == 0)
        return;
    const QString oldName = m_model->record(m_model->rowOf(id)).modelName;
    bool ok = false;
    const QString name = QInputDialog::getText(
        this, tr("Rename model %1").arg(ms::printable(oldName)),
        tr("New name (%1):").arg(ms::modelNameRule()), QLineEdit::Normal,
        ms::modelNameFrom(oldName), &ok);
    if (ok && !name.trimmed().isEmpty())
        renameModel(name.trimmed());
}

void VersionsPanel::askTag()
{
    const QString ref = selectedRef();
    if (ref.isEmpty())
        return;
    bool ok = false;
    const QString text = QInputDialog::getText(this, tr("Tag %1").arg(ref),
                                               tr("Tag (key=value, or a key alone):"),
                                               QLineEdit::Normal, QString(), &ok);
    if (!ok || text.trimmed().isEmpty())
        return;
    const int eq = text.indexOf(QLatin1Char('='));
    setTag(eq < 0 ? text.trimmed() : text.left(eq).trimmed(),
           eq < 0 ? QString() : text.mid(eq + 1).trimmed());
}

void VersionsPanel::askRemoveTag()
{
    const qint64 id = selectedId();
    if (id == 0)
        return;
    const QStringList keys = m_model->record(m_model->rowOf(id)).tags.keys();
    bool ok = false;
    const QString key = QInputDialog::getItem(this, tr("Remove tag"), tr("Tag:"), keys, 0, false,
                                              &ok);
    if (ok && !key.isEmpty())
        removeTag(key);
}

void VersionsPanel::askAlias()
{
    const QString ref = selectedRef();
    if (ref.isEmpty())
        return;
    bool ok = false;
    const QString alias = QInputDialog::getItem(
        this, tr("Alias for %1").arg(ref), tr("Alias (moves it if another version has it):"),
        {QStringLiteral("production"), QStringLiteral("candidate"), QStringLiteral("staging")},
        0, true, &ok);
    if (ok && !alias.trimmed().isEmpty())
        setAlias(alias.trimmed());
}

void VersionsPanel::askRemoveAlias()
{
    const qint64 id = selectedId();
    if (id == 0)
        return;
    const QStringList aliases = m_model->record(m_model->rowOf(id)).aliases;
    bool ok = false;
    const QString alias = QInputDialog::getItem(this, tr("Remove alias"), tr("Alias:"), aliases,
                                                0, false, &ok);
    if (ok && !alias.isEmpty())
        removeAlias(alias);
}

// --- diff and re-run -----------------------------------------------------------------------

VersionDiffDialog *VersionsPanel::diffSelected()
{
    const QStringList refs = selectedRefs();
    if (refs.size() != 2) {
        m_status->setStatus(tr("Select exactly two versions to diff (Ctrl+click)."), Tone::Warning);
        return nullptr;
    }
    try {
        const ms::Registry registry(m_workspace);
        // Older first, so B − A reads as "what changed since".
        ms::VersionRecord a = registry.resolve(refs.at(0));
        ms::VersionRecord b = registry.resolve(refs.at(1));
        if (b.created < a.created || (b.created == a.created && b.id < a.id))
            std::swap(a, b);
        auto *dialog = new VersionDiffDialog(a, b, this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->show();
        return dialog;
    } catch (const std::exception &e) {
        m_status->setStatus(tr("Cannot diff: %1").arg(errorMessage(e)), Tone::Error);
        return nullptr;
    }
}

bool VersionsPanel::rerunSelected()
{
    const qint64 id = selectedId();
    if (id == 0)
        return false;
    try {
        const ms::VersionRecord v = ms::Registry(m_workspace).version(id);
        if (v.recipe.isEmpty()) {
            m_status->setStatus(
                tr("%1 has no recipe (imported): there is nothing to re-run.").arg(v.ref()),
                Tone::Error);
            return false;
        }
        m_status->setStatus(tr("Re-running %1's recipe on the Train panel.").arg(v.ref()),
                            Tone::Info);
        Q_EMIT rerunRequested(v.recipe, v.ref());
        return true;
    } catch (const std::exception &e) {
        m_status->setStatus(tr("Cannot read the version: %1").arg(errorMessage(e)), Tone::Error);
        return false;
    }
}

// --- export and delete ---------------------------------------------------------------------

void VersionsPanel::chooseExportPath(const QString &format)
{
    const QString ref = selectedRef();
    if (ref.isEmpty())
        return;
    QString path;
    if (format == QLatin1String("triton")) {
        path = QFileDialog::getExistingDirectory(
            this, tr("Export %1 into a Triton model repository").arg(ref), QDir::homePath());
    } else if (format == QLatin1String("torchserve")) {
        const QString model = ref.section(QLatin1Char(':'), 0, 0);
        path = QFileDialog::getSaveFileName(
            this, tr("Export %1 as a TorchServe archive").arg(ref),
            suggestedPath(model + QStringLiteral(".mar")), tr("TorchServe archive (*.mar)"),
            nullptr, QFileDialog::DontConfirmOverwrite);
    } else if (format == QLatin1String("pt")) {
        QString suggested = ref;
        suggested.replace(QLatin1Char(':'), QLatin1String("-v"));
        path = QFileDialog::getSaveFileName(this, tr("Export %1").arg(ref),
                                            suggestedPath(suggested + QStringLiteral(".pt")),
                                            tr("TorchScript (*.pt);;All files (*)"), nullptr,
                                            QFileDialog::DontConfirmOverwrite);
    } else {
        path = QFileDialog::getSaveFileName(this, tr("Export %1 (%2)").arg(ref, format),
                                            QDir::homePath());
    }
    if (path.isEmpty())
        return;
    // The exporters never replace a file unasked; here the person is asked, once, naming every
    // file that would go (a .pt's README too, which the file dialog does not know about).
    QStringList existing;
    if (format == QLatin1String("pt") || format == QLatin1String("torchserve")) {
        const QFileInfo target(path);
        if (target.exists() && !target.isDir())
            existing << QDir::toNativeSeparators(path);
        const QString readme =
            target.dir().filePath(target.completeBaseName() + QStringLiteral(".README.md"));
        if (format == QLatin1String("pt") && QFileInfo::exists(readme))
            existing << QDir::toNativeSeparators(readme);
    }
    bool overwrite = false;
    if (!existing.isEmpty()) {
        if (QMessageBox::question(this, tr("Replace files?"),
                                  tr("%1 already exist(s). Replace?")
                                      .arg(existing.join(QStringLiteral(", "))),
                                  QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel)
            != QMessageBox::Yes)
            return;
        overwrite = true;
    }
    exportSelected(path, format, overwrite);
}

bool VersionsPanel::exportSelected(const QString &path, const QString &format, bool overwrite)
{
    const qint64 id = selectedId();
    if (id == 0)
        return false;
    QString ref;
    QStringList written;
    try {
        const std::shared_ptr<ms::Exporter> exporter =
            ms::ExporterRegistry::instance().exporter(format);
        const ms::Registry registry(m_workspace);
        ms::ExportInput input;
        input.version = registry.version(id);
        ref = input.version.ref();
        input.artifactPath = registry.verifiedArtifactPath(input.version);
        if (overwrite)
            input.options.insert(QStringLiteral("force"), true);
        written = exporter->write(input, path);
    } catch (const std::exception &e) {
        m_status->setStatus(
            tr("Cannot export %1: %2").arg(ref.isEmpty() ? selectedRef() : ref, errorMessage(e)),
            Tone::Error);
        return false;
    }
    m_status->setStatus(
        tr("Exported %1 to %2.").arg(ref, QDir::toNativeSeparators(written.value(0))), Tone::Ok);
    return true;
}

bool VersionsPanel::deleteSelected()
{
    const qint64 id = selectedId();
    const QString ref = selectedRef();
    if (id == 0)
        return false;
    if (m_confirmDeletes
        && QMessageBox::question(this, tr("Delete %1").arg(ref),
                                 tr("Remove %1 from the registry? Its file stays until the "
                                    "next garbage collection.")
                                     .arg(ref),
                                 QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel)
               != QMessageBox::Yes)
        return false;
    try {
        ms::Registry(m_workspace).removeVersion(id, false);
    } catch (const std::exception &e) {
        reload();
        m_status->setStatus(tr("Cannot delete %1: %2").arg(ref, errorMessage(e)), Tone::Error);
        return false;
    }
    reload();
    m_status->setStatus(tr("Deleted %1.").arg(ref), Tone::Ok);
    return true;
}

} // namespace ms::ui
