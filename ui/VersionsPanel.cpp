#include "VersionsPanel.h"

#include "Format.h"
#include "Icons.h"
#include "VersionTableModel.h"
#include "Widgets.h"

#include "common/Error.h"
#include "export/Exporter.h"
#include "registry/Registry.h"

#include <QAction>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStyle>
#include <QTableView>
#include <QVBoxLayout>

#include <exception>

namespace ms::ui {

namespace {

QString errorText(const std::exception &e)
{
    if (const auto *error = dynamic_cast<const ms::Error *>(&e))
        return error->message();
    return QString::fromUtf8(e.what());
}

QString signatureText(const ms::Signature &signature)
{
    QStringList parts;
    for (const ms::TensorSignature &t : signature)
        parts << QStringLiteral("%1 %2 [%3]").arg(t.name, t.dtype, formatShape(t.shape));
    return parts.isEmpty() ? QStringLiteral("—") : parts.join(QStringLiteral("; "));
}

QString detailText(const ms::VersionRecord &v)
{
    QString text;
    auto line = [&text](const QString &key, const QString &value) {
        text += QStringLiteral("%1 %2\n").arg(key + QLatin1Char(':'), -9).arg(value);
    };
    line(QStringLiteral("Ref"), v.ref());
    line(QStringLiteral("Kind"), ms::versionKindName(v.kind));
    line(QStringLiteral("Created"), v.created.toLocalTime().toString(Qt::ISODate));
    line(QStringLiteral("Params"), formatCount(v.parameterCount));
    line(QStringLiteral("Size"), VersionTableModel::sizeText(v.sizeBytes));
    line(QStringLiteral("SHA-256"), v.sha256);
    line(QStringLiteral("Inputs"), signatureText(v.inputs));
    line(QStringLiteral("Outputs"), signatureText(v.outputs));
    // The first few: the pane stays narrow; all of them are in the signature's output.
    constexpr int kShownClasses = 4;
    QString classes = v.classNames.isEmpty()
                          ? QStringLiteral("—")
                          : QStringList(v.classNames.mid(0, kShownClasses))
                                .join(QStringLiteral(", "));
    if (v.classNames.size() > kShownClasses)
        classes += QStringLiteral(", … (%1)").arg(v.classNames.size());
    line(QStringLiteral("Classes"), classes);
    line(QStringLiteral("Aliases"), v.aliases.isEmpty() ? QStringLiteral("—")
                                                        : v.aliases.join(QStringLiteral(", ")));
    QStringList tags;
    for (auto it = v.tags.cbegin(); it != v.tags.cend(); ++it)
        tags << it.key() + QLatin1Char('=') + it.value();
    line(QStringLiteral("Tags"), tags.isEmpty() ? QStringLiteral("—")
                                                : tags.join(QStringLiteral(", ")));
    if (v.runId != 0)
        line(QStringLiteral("Run"), QString::number(v.runId));
    text += QStringLiteral("\nMetrics:\n");
    if (v.metrics.isEmpty())
        text += QStringLiteral("  —\n");
    for (auto it = v.metrics.constBegin(); it != v.metrics.constEnd(); ++it) {
        const QString value = it.value().isDouble() ? formatValue(it.value().toDouble())
                                                    : it.value().toVariant().toString();
        text += QStringLiteral("  %1 %2\n").arg(it.key() + QLatin1Char(':'), -16).arg(value);
    }
    text += QStringLiteral("\nNotes:\n%1\n").arg(v.notes.isEmpty() ? QStringLiteral("  —")
                                                                    : v.notes);
    text += QStringLiteral("\nRecipe:\n");
    text += v.recipe.isEmpty()
                ? QStringLiteral("  — (imported)\n")
                : QString::fromUtf8(QJsonDocument(v.recipe).toJson(QJsonDocument::Indented));
    return text;
}

} // namespace

VersionsPanel::VersionsPanel(QString workspace, QWidget *parent)
    : Panel(parent)
    , m_workspace(std::move(workspace))
{
    createActions();

    m_model = new VersionTableModel(m_workspace, this);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(VersionTableModel::SortRole);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setFilterKeyColumn(-1);   // any column

    m_filter = new QLineEdit(this);
    m_filter->setPlaceholderText(tr("Filter versions…"));
    m_filter->setToolTip(tr("Matches any column: model, version, kind, alias, tag…"));
    m_filter->setClearButtonEnabled(true);
    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_proxy->setFilterFixedString(text);
        updateCount();
    });
    m_count = new QLabel(this);

    auto *toolbar = new QHBoxLayout;
    toolbar->addWidget(m_filter, 1);
    toolbar->addWidget(m_count);
    toolbar->addSpacing(12);
    toolbar->addWidget(buttonFor(m_serveAction, this));
    QPushButton *exportButton = buttonFor(m_exportAction, this);
    exportButton->setMenu(m_exportMenu);   // the button offers the formats
    toolbar->addWidget(exportButton);
    toolbar->addWidget(buttonFor(m_deleteAction, this));
    toolbar->addWidget(buttonFor(m_reloadAction, this));

    m_table = new QTableView(this);
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(VersionTableModel::Created, Qt::DescendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->setVisible(false);
    m_table->verticalHeader()->setDefaultSectionSize(
        m_table->fontMetrics().height() + 8);   // fixed: no per-row measuring
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setHighlightSections(false);
    const int widths[] = {76, 66, 60, 70, 64, 74, 120, 70, 60};
    for (int c = 0; c < VersionTableModel::ColumnCount; ++c)
        m_table->setColumnWidth(c, widths[c]);
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_table, &QTableView::customContextMenuRequested, this,
            &VersionsPanel::showContextMenu);
    connect(m_table, &QTableView::doubleClicked, this, [this] { m_serveAction->trigger(); });
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, [this] {
        updateDetail();
        updateActions();
    });

    m_detail = new QPlainTextEdit(this);
    m_detail->setReadOnly(true);
    m_detail->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_detail->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_detail->setPlaceholderText(tr("Select a version to see its record."));

    auto *detailSide = new QWidget(this);
    auto *detailLayout = new QVBoxLayout(detailSide);
    detailLayout->setContentsMargins(0, 0, 0, 0);
    detailLayout->addWidget(sectionTitle(tr("Details"), detailSide));
    detailLayout->addWidget(m_detail, 1);

    auto *tableSide = new QWidget(this);
    auto *tableLayout = new QVBoxLayout(tableSide);
    tableLayout->setContentsMargins(0, 0, 0, 0);
    tableLayout->addLayout(toolbar);
    tableLayout->addWidget(m_table, 1);

    m_splitter = new QSplitter(Qt::Horizontal, this);
    m_splitter->setChildrenCollapsible(false);
    m_splitter->addWidget(tableSide);
    m_splitter->addWidget(detailSide);
    m_splitter->setStretchFactor(0, 1);
    m_splitter->setStretchFactor(1, 0);
    m_splitter->setSizes({750, 510});

    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    layout->addWidget(m_splitter, 1);
    layout->addWidget(m_status);

    reload();
}

VersionsPanel::~VersionsPanel() = default;

QIcon VersionsPanel::icon() const
{
    return versionsIcon(palette().color(QPalette::WindowText));
}

void VersionsPanel::createActions()
{
    m_serveAction = new QAction(serveIcon(palette().color(QPalette::WindowText)), tr("Serve"),
                                this);
    m_serveAction->setStatusTip(tr("Serve this version on the Serve panel, starting it"));
    connect(m_serveAction, &QAction::triggered, this, [this] {
        const QString ref = selectedRef();
        if (ref.isEmpty())
            return;
        setStatus(tr("Serving %1 on the Serve panel.").arg(ref), Tone::Neutral);
        Q_EMIT serveRequested(ref);
    });

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

    addActions({m_deleteAction, m_reloadAction});
}

void VersionsPanel::showEvent(QShowEvent *event)
{
    Panel::showEvent(event);
    reload();
}

void VersionsPanel::reload()
{
    const QString keep = selectedRef();
    const QString error = m_model->reload();
    if (!error.isEmpty())
        setStatus(tr("Cannot read the registry: %1").arg(error), Tone::Error);
    else if (m_statusTone == Tone::Neutral || m_statusPlain.startsWith(tr("Cannot read")))
        setStatus(m_model->rowCount() == 0
                      ? tr("No versions yet: train or import a model.")
                      : tr("%n version(s). Right-click a version to serve, export or delete it.",
                           nullptr, m_model->rowCount()),
                  Tone::Neutral);
    if (keep.isEmpty() || !selectRef(keep)) {
        if (m_proxy->rowCount() > 0)
            m_table->selectRow(0);
    }
    updateDetail();
    updateActions();
    updateCount();
}

void VersionsPanel::updateCount()
{
    m_count->setText(m_proxy->rowCount() == m_model->rowCount()
                         ? tr("%n version(s)", nullptr, m_model->rowCount())
                         : tr("%1 of %2").arg(m_proxy->rowCount()).arg(m_model->rowCount()));
}

bool VersionsPanel::selectRef(const QString &ref)
{
    for (int row = 0; row < m_proxy->rowCount(); ++row) {
        const QModelIndex index = m_proxy->index(row, 0);
        if (index.data(VersionTableModel::RefRole).toString() == ref) {
            m_table->setCurrentIndex(index);
            m_table->selectRow(row);
            return true;
        }
    }
    return false;
}

QString VersionsPanel::selectedRef() const
{
    const QModelIndex index = m_table->currentIndex();
    if (!index.isValid() || !m_table->selectionModel()->isRowSelected(index.row(), {}))
        return {};
    return index.data(VersionTableModel::RefRole).toString();
}

qint64 VersionsPanel::selectedId() const
{
    const QModelIndex index = m_table->currentIndex();
    if (!index.isValid() || !m_table->selectionModel()->isRowSelected(index.row(), {}))
        return 0;
    return index.data(VersionTableModel::IdRole).toLongLong();
}

void VersionsPanel::updateDetail()
{
    const qint64 id = selectedId();
    if (id == 0) {
        m_detail->clear();
        return;
    }
    try {
        m_detail->setPlainText(detailText(ms::Registry(m_workspace).version(id)));
    } catch (const std::exception &e) {
        m_detail->clear();
        setStatus(tr("Cannot read the version: %1").arg(errorText(e)), Tone::Error);
    }
}

void VersionsPanel::updateActions()
{
    const bool selected = selectedId() != 0;
    m_serveAction->setEnabled(selected);
    m_exportAction->setEnabled(selected);
    m_deleteAction->setEnabled(selected);
}

void VersionsPanel::showContextMenu(const QPoint &pos)
{
    const QModelIndex index = m_table->indexAt(pos);
    if (!index.isValid())
        return;
    m_table->selectRow(index.row());
    QMenu menu(this);
    menu.addAction(m_serveAction);
    menu.addAction(m_exportAction);
    menu.addSeparator();
    menu.addAction(m_deleteAction);
    menu.exec(m_table->viewport()->mapToGlobal(pos));
}

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
            QDir::home().filePath(model + QStringLiteral(".mar")),
            tr("TorchServe archive (*.mar)"));
    } else if (format == QLatin1String("pt")) {
        QString suggested = ref;
        suggested.replace(QLatin1Char(':'), QLatin1String("-v"));
        path = QFileDialog::getSaveFileName(this, tr("Export %1").arg(ref),
                                            QDir::home().filePath(suggested
                                                                  + QStringLiteral(".pt")),
                                            tr("TorchScript (*.pt);;All files (*)"));
    } else {
        path = QFileDialog::getSaveFileName(this, tr("Export %1 (%2)").arg(ref, format),
                                            QDir::homePath());
    }
    if (!path.isEmpty())
        exportSelected(path, format);
}

bool VersionsPanel::exportSelected(const QString &path, const QString &format)
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
        written = exporter->write(input, path);
    } catch (const std::exception &e) {
        setStatus(tr("Cannot export %1: %2").arg(ref.isEmpty() ? selectedRef() : ref,
                                                 errorText(e)),
                  Tone::Error);
        return false;
    }
    setStatus(tr("Exported %1 to %2.").arg(ref, QDir::toNativeSeparators(written.value(0))),
              Tone::Success);
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
        setStatus(tr("Cannot delete %1: %2").arg(ref, errorText(e)), Tone::Error);
        return false;
    }
    reload();
    setStatus(tr("Deleted %1.").arg(ref), Tone::Success);
    return true;
}

void VersionsPanel::setStatus(const QString &text, Tone tone)
{
    static const char *const colors[] = {"#444444", "#2e7d32", "#a15c00", "#c62828"};
    m_status->setStyleSheet(QStringLiteral("color: %1;").arg(QLatin1String(colors[int(tone)])));
    m_status->setText(text);
    m_statusPlain = text;
    m_statusTone = tone;
}

void VersionsPanel::saveState(QSettings &settings) const
{
    settings.setValue(QStringLiteral("splitter"), m_splitter->saveState());
    settings.setValue(QStringLiteral("header"), m_table->horizontalHeader()->saveState());
}

void VersionsPanel::restoreState(QSettings &settings)
{
    m_splitter->restoreState(settings.value(QStringLiteral("splitter")).toByteArray());
    m_table->horizontalHeader()->restoreState(
        settings.value(QStringLiteral("header")).toByteArray());
}

} // namespace ms::ui
