#pragma once

#include "common/StatusLine.h"
#include "shell/Panel.h"

#include "jobs/JobRunner.h"

#include <QJsonObject>
#include <QString>

class QAction;
class QLabel;
class QLineEdit;
class QListWidget;
class QMenu;
class QTextEdit;
class QSplitter;
class QTableView;
class QUndoStack;

namespace ms::ui {

class ColumnFitter;
class LineageView;
class CompressDialog;
class VersionDetailPane;
class VersionDiffDialog;
class VersionEditCommand;
class VersionFilterProxy;
class VersionTableModel;

// The version browser: the models on the left, their versions in a sortable, filterable table
// (model/view: fast with 10,000 versions), the selected model's lineage graph under it, and the
// selected version in depth beside it (record, curves, benchmarks, notes).
//
// Actions on a version: Serve (asks the window, see serveRequested), Re-run (asks the window to
// fill the Train panel, see rerunRequested), Diff of two selected versions, Export (.pt,
// TorchServe .mar or Triton repository, through ExporterRegistry),
// Delete…, and edits of tags, aliases and notes. Every edit is a QUndoCommand on the panel's
// undo stack (VersionEditCommands.h); undoAction() / redoAction() go in the window's Edit menu.
class VersionsPanel final : public Panel
{
    Q_OBJECT

public:
    explicit VersionsPanel(QString workspace, QWidget *parent = nullptr);
    ~VersionsPanel() override;

    QString id() const override { return QStringLiteral("versions"); }
    QString title() const override { return tr("Versions"); }
    QIcon icon() const override;
    void saveState(QSettings &settings) const override;
    void restoreState(QSettings &settings) override;

    // Re-reads the registry, keeping the selection when the version still exists.
    void reload();
    // Selects the version with that reference ("name:N"); false when it is not listed (or is
    // filtered out).
    bool selectRef(const QString &ref);
    // Selects a version by id, clearing the filters that hide it; false when it is not listed.
    bool selectId(qint64 versionId);
    // Selects several versions (for Diff); false unless every one is listed.
    bool selectRefs(const QStringList &refs);
    QString selectedRef() const;
    QStringList selectedRefs() const;
    // Shows one model's versions ("" for all).
    void showModel(const QString &name);

    // Exports the selected version's verified artifact to `path` in `format` ("pt",
    // "torchserve", "triton": any name ExporterRegistry knows); the exporter writes temporary
    // files and renames them, so a failure leaves nothing half-written.
    // An existing file is refused (the status says so) unless `overwrite`; the Export menu asks
    // before it passes true.
    bool exportSelected(const QString &path, const QString &format = QStringLiteral("pt"),
                        bool overwrite = false);
    // Removes the selected version after a confirmation (unless turned off, for tests).
    bool deleteSelected();
    void setConfirmDeletes(bool confirm) { m_confirmDeletes = confirm; }

    // Edits of the selected version, each one undoable command. False, with the reason in the
    // status line, when nothing is selected or the registry refuses.
    bool setTag(const QString &key, const QString &value);
    bool removeTag(const QString &key);
    bool setAlias(const QString &alias);
    bool removeAlias(const QString &alias);
    bool setNotes(const QString &notes);
    // Renames the selected version's model (undoable); the way out for a model whose name an
    // older studio accepted and the naming rule refuses.
    bool renameModel(const QString &newName);

    // Opens the side-by-side comparison of the two selected versions (nullptr unless exactly
    // two are selected). The dialog deletes itself when closed.
    VersionDiffDialog *diffSelected();
    // Asks the window to re-run the selected version's recipe; false when it has none.
    bool rerunSelected();

    // "Compress…" runs its jobs on the window's runner; without one the action stays off.
    void setJobRunner(ms::JobRunner *runner);
    // Opens the Compress dialog for the selected version (nullptr when none is selected or no
    // runner is set); on OK its spec runs through startCompress(). Deletes itself when closed.
    CompressDialog *compressSelected();
    // Runs a CompressJob spec on the runner, with a progress line in the status; when it ends
    // the table reloads and selects the new version, or the status shows the job's message.
    bool startCompress(const QJsonObject &spec);
    bool isCompressing() const { return m_compressJob != 0; }

    QString statusText() const { return m_status->statusText(); }
    bool statusIsError() const { return m_status->isError(); }

    VersionTableModel *tableModel() const { return m_model; }
    VersionFilterProxy *proxyModel() const { return m_proxy; }
    QTableView *tableView() const { return m_table; }
    QLineEdit *filterEdit() const { return m_filter; }
    LineageView *lineageView() const { return m_lineage; }
    VersionDetailPane *detailPane() const { return m_detail; }
    QWidget *dockablePane() const override;
    bool eventFilter(QObject *watched, QEvent *event) override;
    // The Record tab: signature, metrics, notes and recipe as text.
    QTextEdit *detailView() const;
    QUndoStack *undoStack() const { return m_undoStack; }
    QAction *undoAction() const { return m_undoAction; }
    QAction *redoAction() const { return m_redoAction; }
    QAction *serveAction() const { return m_serveAction; }
    QAction *rerunAction() const { return m_rerunAction; }
    QAction *diffAction() const { return m_diffAction; }
    QMenu *exportMenu() const { return m_exportMenu; }
    QAction *compressAction() const { return m_compressAction; }
    QAction *reloadAction() const { return m_reloadAction; }

Q_SIGNALS:
    // The user asked to serve `ref` ("name:N"): the window shows the Serve panel and serves it.
    void serveRequested(const QString &ref);
    // The user asked to train `ref`'s recipe again: the window fills the Train panel with it.
    void rerunRequested(const QJsonObject &recipe, const QString &ref);
    // A compression job ended: `ok` with the new version's reference, else the job's message.
    void compressFinished(bool ok, const QString &refOrMessage);

protected:
    void showEvent(QShowEvent *event) override;

private:
    void createActions();
    QWidget *buildTableSide();
    void onSelectionChanged();
    void updateDetail();
    void updateLineage();
    void updateActions();
    void updateCount();
    void fillModelList();
    void showContextMenu(const QPoint &pos);
    void chooseExportPath(const QString &format);
    void askTag();
    void askRemoveTag();
    void askAlias();
    void askRemoveAlias();
    void askRenameModel();
    qint64 selectedId() const;
    // Pushes an edit command; false (status set) when it failed.
    bool pushEdit(VersionEditCommand *command);
    void onCompressFinished(ms::JobId id, const ms::JobResult &result);

    QString m_workspace;
    bool m_confirmDeletes = true;
    bool m_reloading = false;
    QString m_editError;      // the last failure an edit command reported
    QString m_lineageModel;   // the model the lineage view shows
    qint64 m_lineageAnchor = 0;   // for big models: the version whose lineage is shown

    VersionTableModel *m_model = nullptr;
    VersionFilterProxy *m_proxy = nullptr;
    QListWidget *m_models = nullptr;
    QTableView *m_table = nullptr;
    ColumnFitter *m_columns = nullptr;
    QLineEdit *m_filter = nullptr;
    QLabel *m_count = nullptr;
    LineageView *m_lineage = nullptr;
    VersionDetailPane *m_detail = nullptr;
    QSplitter *m_splitter = nullptr;
    QWidget *m_detailSide = nullptr;   // "Details" and the pane, while the window has not docked it
    QSplitter *m_tableSplitter = nullptr;
    StatusLine *m_status = nullptr;

    QUndoStack *m_undoStack = nullptr;
    QAction *m_undoAction = nullptr;
    QAction *m_redoAction = nullptr;
    QAction *m_serveAction = nullptr;
    QAction *m_rerunAction = nullptr;
    QAction *m_diffAction = nullptr;
    QAction *m_exportAction = nullptr;
    QMenu *m_exportMenu = nullptr;
    QAction *m_deleteAction = nullptr;
    QAction *m_reloadAction = nullptr;
    QAction *m_compressAction = nullptr;
    ms::JobRunner *m_runner = nullptr;
    ms::JobId m_compressJob = 0;
    QAction *m_tagAction = nullptr;
    QAction *m_renameModelAction = nullptr;
    QAction *m_removeTagAction = nullptr;
    QAction *m_aliasAction = nullptr;
    QAction *m_removeAliasAction = nullptr;
    QMenu *m_editMenu = nullptr;
};

} // namespace ms::ui
