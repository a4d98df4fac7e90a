#include "panels/versions/VersionsPanel.h"

#include "common/ColumnFit.h"
#include "common/Icons.h"
#include "common/Widgets.h"
#include "panels/versions/LineageView.h"
#include "panels/versions/VersionDetailPane.h"
#include "panels/versions/VersionFilterProxy.h"
#include "panels/versions/VersionTableModel.h"

#include "common/Error.h"
#include "export/Exporter.h"
#include "registry/Registry.h"

#include <QEvent>
#include <QAction>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMap>
#include <QMenu>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QStyle>
#include <QTableView>
#include <QToolButton>
#include <QUndoStack>
#include <QVBoxLayout>

#include <exception>

namespace ms::ui {

namespace {

// Past this many versions the lineage view shows the selected version's ancestors and
// descendants instead of the whole model: a picture of 10,000 boxes helps nobody.
constexpr int kMaxLineageNodes = 200;

} // namespace

VersionsPanel::VersionsPanel(QString workspace, QWidget *parent)
    : Panel(parent)
    , m_workspace(std::move(workspace))
    , m_undoStack(new QUndoStack(this))
{
    createActions();

    m_model = new VersionTableModel(m_workspace, this);
    m_proxy = new VersionFilterProxy(this);
    m_proxy->setSourceModel(m_model);

    m_models = new QListWidget(this);
    m_models->setMinimumWidth(90);
    // A long name is elided in the middle (whole in its tooltip), not cut at the edge.
    m_models->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_models->setTextElideMode(Qt::ElideMiddle);
    m_models->setToolTip(tr("Show one model's versions"));
    connect(m_models, &QListWidget::currentRowChanged, this, [this](int row) {
        if (m_reloading || row < 0)
            return;
        m_proxy->setModelName(m_models->item(row)->data(Qt::UserRole).toString());
        updateCount();
        if (selectedId() == 0 && m_proxy->rowCount() > 0)
            m_table->selectRow(0);
        onSelectionChanged();
    });
    auto *modelSide = new QWidget(this);
    auto *modelLayout = new QVBoxLayout(modelSide);
    modelLayout->setContentsMargins(0, 0, 0, 0);
    modelLayout->addWidget(sectionTitle(tr("Models"), modelSide));
    modelLayout->addWidget(m_models, 1);

    m_detail = new VersionDetailPane(m_workspace, this);
    connect(m_detail, &VersionDetailPane::notesSaveRequested, this,
            [this](const QString &notes) { setNotes(notes); });
    connect(m_detail, &VersionDetailPane::errorOccurred, this,
            [this](const QString &text) { m_status->setStatus(text, Tone::Error); });
    auto *detailSide = new QWidget(this);
    m_detailSide = detailSide;
    auto *detailLayout = new QVBoxLayout(detailSide);
    detailLayout->setContentsMargins(0, 0, 0, 0);
    detailLayout->addWidget(sectionTitle(tr("Details"), detailSide));
    detailLayout->addWidget(m_detail, 1);
    // The window may take the pane into a dock (dockablePane): the empty side goes with it.
    m_detail->installEventFilter(this);

    m_splitter = new QSplitter(Qt::Horizontal, this);
    m_splitter->setChildrenCollapsible(false);
    m_splitter->addWidget(modelSide);
    m_splitter->addWidget(buildTableSide());
    m_splitter->addWidget(detailSide);
    m_splitter->setStretchFactor(0, 0);
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setStretchFactor(2, 0);
    m_splitter->setSizes({130, 720, 390});

    m_status = new StatusLine(this);

    auto *statusRow = new QHBoxLayout;
    statusRow->addWidget(m_status, 1);
    statusRow->addWidget(m_count, 0, Qt::AlignTop);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    layout->addWidget(m_splitter, 1);
    layout->addLayout(statusRow);

    // Every edit, undo and redo changed the registry: show it.
    connect(m_undoStack, &QUndoStack::indexChanged, this, [this] { reload(); });

    reload();
}

VersionsPanel::~VersionsPanel()
{
    // Children are deleted after this body, the undo stack first: its clear() and the models'
    // resets must not call back into a half-destroyed panel.
    m_undoStack->disconnect(this);
    m_table->selectionModel()->disconnect(this);
    m_models->disconnect(this);
    m_filter->disconnect(this);
}

QWidget *VersionsPanel::buildTableSide()
{
    m_filter = new QLineEdit(this);
    m_filter->setPlaceholderText(tr("Filter versions…"));
    m_filter->setToolTip(tr("Matches any column: model, version, kind, alias, tag…"));
    m_filter->setClearButtonEnabled(true);
    // Room for a few words typed; the count of matches is on the status line, not beside it,
    // so the panel and its details dock still fit a 1024-pixel screen.
    m_filter->setMinimumWidth(m_filter->fontMetrics().averageCharWidth() * 14);
    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_proxy->setText(text);
        updateCount();
    });
    m_count = new QLabel(this);

    auto *editButton = new QToolButton(this);
    editButton->setText(tr("Edit"));
    editButton->setToolTip(tr("Tags, aliases (undo with Ctrl+Z)"));
    editButton->setPopupMode(QToolButton::InstantPopup);
    editButton->setMenu(m_editMenu);
    auto iconButton = [this](QAction *action) {
        auto *button = new QToolButton(this);
        button->setDefaultAction(action);
        button->setToolButtonStyle(Qt::ToolButtonIconOnly);
        return button;
    };

    // Tool buttons, not push buttons: a push button is at least 80 px whatever its text, and
    // four of them kept the panel with its details dock from fitting a 1024-pixel screen.
    auto textButton = [this](QAction *action) {
        auto *button = new QToolButton(this);
        button->setDefaultAction(action);
        button->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
        return button;
    };
    auto *toolbar = new QHBoxLayout;
    toolbar->addWidget(m_filter, 1);
    toolbar->addSpacing(8);
    toolbar->addWidget(textButton(m_diffAction));
    toolbar->addWidget(textButton(m_rerunAction));
    toolbar->addWidget(textButton(m_compressAction));
    toolbar->addWidget(textButton(m_serveAction));
    toolbar->addWidget(editButton);
    QToolButton *exportButton = iconButton(m_exportAction);
    exportButton->setPopupMode(QToolButton::InstantPopup);   // the button offers the formats
    toolbar->addWidget(exportButton);
    toolbar->addWidget(iconButton(m_deleteAction));
    toolbar->addWidget(iconButton(m_reloadAction));

    m_table = new QTableView(this);
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(VersionTableModel::Created, Qt::DescendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->setVisible(false);
    m_table->verticalHeader()->setDefaultSectionSize(
        m_table->fontMetrics().height() + 8);   // fixed: no per-row measuring
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setHighlightSections(false);
    // Columns as wide as their text; names, aliases and tags give way when the table is narrow
    // (elided, whole in the tooltip), a reference in the middle so its ":N" stays in view.
    m_columns = new ColumnFitter(m_table);
    // Tags and aliases give way first, then the name (the reference repeats it).
    m_columns->setElidable(VersionTableModel::Tags, Qt::ElideRight, 0);
    m_columns->setElidable(VersionTableModel::Aliases, Qt::ElideRight, 0);
    m_columns->setElidable(VersionTableModel::Model, Qt::ElideRight, 1, 6);
    m_columns->setElidable(VersionTableModel::Version, Qt::ElideMiddle, 2, 14);
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_table, &QTableView::customContextMenuRequested, this,
            &VersionsPanel::showContextMenu);
    connect(m_table, &QTableView::doubleClicked, this, [this] { m_serveAction->trigger(); });
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] { onSelectionChanged(); });
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this] { onSelectionChanged(); });

    m_lineage = new LineageView(this);
    m_lineage->setToolTip(tr("Which version came from which. Click a version to select it."));
    connect(m_lineage, &LineageView::versionClicked, this,
            [this](qint64 id) { selectId(id); });
    auto *lineageSide = new QWidget(this);
    auto *lineageLayout = new QVBoxLayout(lineageSide);
    lineageLayout->setContentsMargins(0, 4, 0, 0);
    lineageLayout->addWidget(sectionTitle(tr("Lineage"), lineageSide));
    lineageLayout->addWidget(m_lineage, 1);

    auto *tableSide = new QWidget(this);
    auto *tableLayout = new QVBoxLayout(tableSide);
    tableLayout->setContentsMargins(0, 0, 0, 0);
    tableLayout->addLayout(toolbar);
    tableLayout->addWidget(m_table, 1);

    m_tableSplitter = new QSplitter(Qt::Vertical, this);
    m_tableSplitter->setChildrenCollapsible(false);
    m_tableSplitter->addWidget(tableSide);
    m_tableSplitter->addWidget(lineageSide);
    m_tableSplitter->setStretchFactor(0, 3);
    m_tableSplitter->setStretchFactor(1, 2);
    return m_tableSplitter;
}

QTextEdit *VersionsPanel::detailView() const
{
    return m_detail->recordView();
}

QIcon VersionsPanel::icon() const
{
    return versionsIcon(palette().color(QPalette::WindowText));
}

void VersionsPanel::createActions()
{
    const QColor ink = palette().color(QPalette::WindowText);
    m_serveAction = new QAction(serveIcon(ink), tr("Serve"), this);
    m_serveAction->setStatusTip(tr("Serve this version on the Serve panel, starting it"));
    connect(m_serveAction, &QAction::triggered, this, [this] {
        const QString ref = selectedRef();
        if (ref.isEmpty())
            return;
        m_status->setStatus(tr("Serving %1 on the Serve panel.").arg(ref), Tone::Info);
        Q_EMIT serveRequested(ref);
    });

    m_rerunAction = new QAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("Re-run"),
                                this);
    m_rerunAction->setStatusTip(tr("Open the Train panel with this version's recipe"));
    connect(m_rerunAction, &QAction::triggered, this, [this] { rerunSelected(); });

    m_compressAction = new QAction(tr("Compress…"), this);
    m_compressAction->setStatusTip(tr("Prune, quantize or distill this version into a new one"));
    connect(m_compressAction, &QAction::triggered, this, [this] { compressSelected(); });
    m_diffAction = new QAction(tr("Diff"), this);
    m_diffAction->setStatusTip(tr("Compare the two selected versions side by side"));
    m_diffAction->setToolTip(tr("Select two versions (Ctrl+click), then Diff"));
    connect(m_diffAction, &QAction::triggered, this, [this] { diffSelected(); });

    m_exportAction = new QAction(style()->standardIcon(QStyle::SP_DialogSaveButton),
                                 tr("Export"), this);
    m_exportAction->setStatusTip(tr("Write the version as a TorchScript file, a TorchServe "
                                    "archive or a Triton model"));
    // Triggered on its own (a shortcut, a test), it exports the plain TorchScript file.
    connect(m_exportAction, &QAction::triggered, this,
            [this] { chooseExportPath(QStringLiteral("pt")); });
    m_exportMenu = new QMenu(tr("Export"), this);
    const struct
    {
        const char *format;
        QString text;
    } formats[] = {{"pt", tr("TorchScript .pt with a Python README…")},
                   {"torchserve", tr("TorchServe archive .mar…")},
                   {"triton", tr("Triton model repository…")}};
    QStringList others = ms::ExporterRegistry::instance().exporters().names();
    for (const auto &f : formats) {
        const QString format = QString::fromLatin1(f.format);
        others.removeAll(format);
        QAction *action = m_exportMenu->addAction(f.text);
        connect(action, &QAction::triggered, this, [this, format] { chooseExportPath(format); });
    }
    // Exporters that plugins registered: their own one-line description, a plain save dialog.
    for (const QString &format : others) {
        const std::shared_ptr<ms::Exporter> exporter = ms::ExporterRegistry::instance()
                                                           .exporters().find(format);
        QAction *action = m_exportMenu->addAction(tr("%1…").arg(exporter->description()));
        connect(action, &QAction::triggered, this, [this, format] { chooseExportPath(format); });
    }
    m_exportAction->setMenu(m_exportMenu);

    m_deleteAction = new QAction(style()->standardIcon(QStyle::SP_TrashIcon), tr("Delete…"),
                                 this);
    m_deleteAction->setShortcut(QKeySequence::Delete);
    m_deleteAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_deleteAction->setStatusTip(tr("Remove the version from the registry"));
    connect(m_deleteAction, &QAction::triggered, this, [this] { deleteSelected(); });

    m_reloadAction = new QAction(style()->standardIcon(QStyle::SP_BrowserReload), tr("Reload"),
                                 this);
    m_reloadAction->setShortcut(QKeySequence::Refresh);
    m_reloadAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(m_reloadAction, &QAction::triggered, this, [this] { reload(); });

    m_tagAction = new QAction(tr("Add tag…"), this);
    connect(m_tagAction, &QAction::triggered, this, [this] { askTag(); });
    m_removeTagAction = new QAction(tr("Remove tag…"), this);
    connect(m_removeTagAction, &QAction::triggered, this, [this] { askRemoveTag(); });
    m_renameModelAction = new QAction(tr("Rename model…"), this);
    m_renameModelAction->setStatusTip(tr("Give the model a new name; its versions follow"));
    connect(m_renameModelAction, &QAction::triggered, this, [this] { askRenameModel(); });
    m_aliasAction = new QAction(tr("Set alias…"), this);
    connect(m_aliasAction, &QAction::triggered, this, [this] { askAlias(); });
    m_removeAliasAction = new QAction(tr("Remove alias…"), this);
    connect(m_removeAliasAction, &QAction::triggered, this, [this] { askRemoveAlias(); });

    m_undoAction = m_undoStack->createUndoAction(this, tr("&Undo"));
    m_undoAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Z));
    m_redoAction = m_undoStack->createRedoAction(this, tr("&Redo"));
    m_redoAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z));
    // Live while the panel (or a menu holding them) has focus; a text box's own Ctrl+Z still
    // undoes its typing first.
    for (QAction *action : {m_undoAction, m_redoAction})
        action->setShortcutContext(Qt::WidgetWithChildrenShortcut);

    m_editMenu = new QMenu(this);
    m_editMenu->addAction(m_tagAction);
    m_editMenu->addAction(m_removeTagAction);
    m_editMenu->addSeparator();
    m_editMenu->addAction(m_aliasAction);
    m_editMenu->addAction(m_removeAliasAction);
    m_editMenu->addSeparator();
    m_editMenu->addAction(m_renameModelAction);
    m_editMenu->addSeparator();
    m_editMenu->addAction(m_undoAction);
    m_editMenu->addAction(m_redoAction);

    addActions({m_deleteAction, m_reloadAction, m_undoAction, m_redoAction});
}

void VersionsPanel::showEvent(QShowEvent *event)
{
    Panel::showEvent(event);
    reload();
}

void VersionsPanel::reload()
{
    // The current version first, so it stays current after the reload.
    QStringList keep = selectedRefs();
    const QString current = selectedRef();
    if (!current.isEmpty()) {
        keep.removeAll(current);
        keep.prepend(current);
    }
    m_reloading = true;
    const QString error = m_model->reload();
    fillModelList();
    m_reloading = false;
    if (!error.isEmpty())
        m_status->setStatus(tr("Cannot read the registry: %1").arg(error), Tone::Error);
    else if (m_status->tone() == Tone::Info || m_status->tone() == Tone::Busy
             || m_status->statusText().startsWith(tr("Cannot read")))
        m_status->setStatus(
            m_model->rowCount() == 0
                ? tr("No versions yet: train or import a model.")
                : tr("%n version(s). Right-click a version to serve, edit, export or "
                     "delete it; select two to diff them.",
                     nullptr, m_model->rowCount()),
            Tone::Info);
    // The registry may have changed under the lineage view.
    m_lineageModel.clear();
    const bool kept = !keep.isEmpty() && selectRefs(keep);
    if (!kept && m_proxy->rowCount() > 0)
        m_table->selectRow(0);
    onSelectionChanged();
    updateCount();
    m_columns->fit();
}

void VersionsPanel::fillModelList()
{
    QMap<QString, int> counts;
    for (int row = 0; row < m_model->rowCount(); ++row)
        ++counts[m_model->record(row).modelName];
    QString keep = m_proxy->modelName();
    if (!keep.isEmpty() && !counts.contains(keep))
        keep.clear();   // the model is gone: show all
    m_models->clear();
    auto *all = new QListWidgetItem(tr("All models (%1)").arg(m_model->rowCount()), m_models);
    all->setData(Qt::UserRole, QString());
    all->setToolTip(all->text());
    int keepRow = 0;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it) {
        auto *item = new QListWidgetItem(
            QStringLiteral("%1 (%2)").arg(it.key(), QString::number(it.value())), m_models);
        item->setData(Qt::UserRole, it.key());
        item->setToolTip(it.key());
        if (it.key() == keep)
            keepRow = m_models->count() - 1;
    }
    m_models->setCurrentRow(keepRow);
    m_proxy->setModelName(keep);
}

void VersionsPanel::showModel(const QString &name)
{
    for (int row = 0; row < m_models->count(); ++row) {
        if (m_models->item(row)->data(Qt::UserRole).toString() == name) {
            m_models->setCurrentRow(row);
            return;
        }
    }
}

void VersionsPanel::updateCount()
{
    // The status line says how many there are; this says how many the filters leave.
    m_count->setText(m_proxy->rowCount() == m_model->rowCount()
                         ? QString()
                         : tr("%1 of %2 shown").arg(m_proxy->rowCount()).arg(m_model->rowCount()));
}

bool VersionsPanel::selectRef(const QString &ref)
{
    return selectRefs({ref});
}

bool VersionsPanel::selectRefs(const QStringList &refs)
{
    QItemSelection selection;
    QModelIndex first;
    int found = 0;
    for (int row = 0; row < m_proxy->rowCount() && found < refs.size(); ++row) {
        const QModelIndex index = m_proxy->index(row, 0);
        if (refs.contains(index.data(VersionTableModel::RefRole).toString())) {
            selection.select(index, m_proxy->index(row, VersionTableModel::ColumnCount - 1));
            // The first reference asked for becomes the current one.
            if (!first.isValid() || index.data(VersionTableModel::RefRole) == refs.first())
                first = index;
            ++found;
        }
    }
    if (found != refs.size() || refs.isEmpty())
        return false;
    QItemSelectionModel *selectionModel = m_table->selectionModel();
    selectionModel->setCurrentIndex(first, QItemSelectionModel::NoUpdate);
    selectionModel->select(selection, QItemSelectionModel::ClearAndSelect);
    m_table->scrollTo(first);
    return true;
}

bool VersionsPanel::selectId(qint64 versionId)
{
    const int sourceRow = m_model->rowOf(versionId);
    if (sourceRow < 0)
        return false;
    QModelIndex index = m_proxy->mapFromSource(m_model->index(sourceRow, 0));
    if (!index.isValid()) {
        // Hidden by the filters: the user clicked it, so show it.
        m_filter->clear();
        showModel(m_model->record(sourceRow).modelName);
        index = m_proxy->mapFromSource(m_model->index(sourceRow, 0));
    }
    return index.isValid() && selectRef(index.data(VersionTableModel::RefRole).toString());
}

QString VersionsPanel::selectedRef() const
{
    const QModelIndex index = m_table->currentIndex();
    if (!index.isValid() || !m_table->selectionModel()->isRowSelected(index.row(), {}))
        return {};
    return index.data(VersionTableModel::RefRole).toString();
}

QStringList VersionsPanel::selectedRefs() const
{
    QStringList refs;
    for (const QModelIndex &index : m_table->selectionModel()->selectedRows(0))
        refs << index.data(VersionTableModel::RefRole).toString();
    return refs;
}

qint64 VersionsPanel::selectedId() const
{
    const QModelIndex index = m_table->currentIndex();
    if (!index.isValid() || !m_table->selectionModel()->isRowSelected(index.row(), {}))
        return 0;
    return index.data(VersionTableModel::IdRole).toLongLong();
}

void VersionsPanel::onSelectionChanged()
{
    if (m_reloading)
        return;
    updateDetail();
    updateLineage();
    updateActions();
}

void VersionsPanel::updateDetail()
{
    const qint64 id = selectedId();
    if (id == 0) {
        m_detail->clear();
        return;
    }
    try {
        m_detail->showVersion(ms::Registry(m_workspace).version(id));
    } catch (const std::exception &e) {
        m_detail->clear();
        m_status->setStatus(tr("Cannot read the version: %1").arg(errorMessage(e)), Tone::Error);
    }
}

void VersionsPanel::updateLineage()
{
    const qint64 id = selectedId();
    const int sourceRow = id == 0 ? -1 : m_model->rowOf(id);
    if (sourceRow < 0) {
        m_lineageModel.clear();
        m_lineage->setMessage(tr("Select a version to see where it came from."));
        return;
    }
    const QString model = m_model->record(sourceRow).modelName;
    QVector<ms::VersionRecord> versions;
    for (int row = 0; row < m_model->rowCount(); ++row) {
        if (m_model->record(row).modelName == model)
            versions.append(m_model->record(row));
    }
    const bool whole = versions.size() <= kMaxLineageNodes;
    if (model == m_lineageModel && (whole || m_lineageAnchor == id)) {
        m_lineage->setCurrentVersion(id);
        return;
    }
    try {
        const ms::Registry registry(m_workspace);
        if (whole) {
            m_lineage->setLineage(versions, registry.modelLineage(model));
        } else {
            const QVector<ms::LineageEdge> edges = registry.lineage(id);
            QVector<ms::VersionRecord> shown;
            for (const ms::VersionRecord &v : std::as_const(versions)) {
                bool onEdge = v.id == id;
                for (const ms::LineageEdge &e : edges)
                    onEdge = onEdge || e.parentId == v.id || e.childId == v.id;
                if (onEdge)
                    shown.append(v);
            }
            m_lineage->setLineage(shown, edges);
        }
    } catch (const std::exception &e) {
        m_lineage->setMessage(tr("Cannot read the lineage: %1").arg(errorMessage(e)));
        return;
    }
    m_lineageModel = model;
    m_lineageAnchor = id;
    m_lineage->setCurrentVersion(id);
}

void VersionsPanel::updateActions()
{
    const qint64 id = selectedId();
    const bool selected = id != 0;
    const int row = selected ? m_model->rowOf(id) : -1;
    const bool trained = row >= 0 && (m_model->record(row).kind == ms::VersionKind::Trained
                                      || m_model->record(row).runId != 0);
    m_serveAction->setEnabled(selected);
    m_rerunAction->setEnabled(trained);
    m_diffAction->setEnabled(selectedRefs().size() == 2);
    m_compressAction->setEnabled(selected && m_runner && m_compressJob == 0);
    m_exportAction->setEnabled(selected);
    m_deleteAction->setEnabled(selected);
    m_tagAction->setEnabled(selected);
    m_renameModelAction->setEnabled(selected);
    m_aliasAction->setEnabled(selected);
    m_removeTagAction->setEnabled(row >= 0 && !m_model->record(row).tags.isEmpty());
    m_removeAliasAction->setEnabled(row >= 0 && !m_model->record(row).aliases.isEmpty());
}

void VersionsPanel::showContextMenu(const QPoint &pos)
{
    const QModelIndex index = m_table->indexAt(pos);
    if (!index.isValid())
        return;
    if (!m_table->selectionModel()->isRowSelected(index.row(), {}))
        m_table->selectRow(index.row());
    QMenu menu(this);
    menu.addAction(m_serveAction);
    menu.addAction(m_rerunAction);
    menu.addAction(m_compressAction);
    menu.addAction(m_diffAction);
    menu.addSeparator();
    menu.addAction(m_tagAction);
    menu.addAction(m_removeTagAction);
    menu.addAction(m_aliasAction);
    menu.addAction(m_removeAliasAction);
    menu.addAction(m_renameModelAction);
    menu.addSeparator();
    menu.addAction(m_exportAction);
    menu.addAction(m_deleteAction);
    menu.exec(m_table->viewport()->mapToGlobal(pos));
}

void VersionsPanel::saveState(QSettings &settings) const
{
    settings.setValue(QStringLiteral("splitter"), m_splitter->saveState());
    settings.setValue(QStringLiteral("tableSplitter"), m_tableSplitter->saveState());
    // Column widths only once the user sized them: otherwise they follow the contents. (The
    // key is new: widths saved under "header" were fixed ones that clipped long names.)
    if (m_columns->isUserSized())
        settings.setValue(QStringLiteral("columns"), m_table->horizontalHeader()->saveState());
    else
        settings.remove(QStringLiteral("columns"));
    settings.setValue(QStringLiteral("sortColumn"),
                      m_table->horizontalHeader()->sortIndicatorSection());
    settings.setValue(QStringLiteral("sortOrder"),
                      int(m_table->horizontalHeader()->sortIndicatorOrder()));
}

void VersionsPanel::restoreState(QSettings &settings)
{
    m_splitter->restoreState(settings.value(QStringLiteral("splitter")).toByteArray());
    m_tableSplitter->restoreState(settings.value(QStringLiteral("tableSplitter")).toByteArray());
    const QByteArray columns = settings.value(QStringLiteral("columns")).toByteArray();
    if (!columns.isEmpty() && m_table->horizontalHeader()->restoreState(columns))
        m_columns->setUserSized(true);
    if (settings.contains(QStringLiteral("sortColumn")))
        m_table->sortByColumn(settings.value(QStringLiteral("sortColumn")).toInt(),
                              Qt::SortOrder(settings.value(QStringLiteral("sortOrder")).toInt()));
}

QWidget *VersionsPanel::dockablePane() const
{
    return m_detail;
}

bool VersionsPanel::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_detail && event->type() == QEvent::ParentChange)
        m_detailSide->setVisible(m_detail->parentWidget() == m_detailSide);
    return Panel::eventFilter(watched, event);
}

} // namespace ms::ui
