#include "shell/MainWindow.h"

#include "common/Icons.h"
#include "shell/ImportDialog.h"
#include "shell/JobStatusWidget.h"
#include "shell/Panel.h"
#include "shell/PanelPlugin.h"
#include "shell/PluginPanel.h"
#include "shell/PluginsDialog.h"
#include "shell/SettingsDialog.h"
#include "shell/StudioSettings.h"

#include "common/Error.h"
#include "common/Runtime.h"
#include "common/Workspace.h"
#include "plugins/PluginManager.h"
#include "registry/ImportJob.h"
#include "registry/Registry.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QJsonObject>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>

#include <exception>

namespace ms::ui {

namespace {

const QSize kDefaultSize(1280, 800);
constexpr int kNavigationWidth = 88;
constexpr int kDockWidth = 320;   // at first; the user's width is saved with the layout
constexpr int kMessage_ms = 15000;   // how long an import's outcome stays in the status bar

// The navigation reads as a sidebar, not as a list box: no frame, a tinted background and an
// accent bar on the current panel.
const char kNavigationStyle[] = R"(
QListWidget#navigation { background: #eceef1; border: none; border-right: 1px solid #d5d8dd;
                         outline: none; }
QListWidget#navigation::item { color: #3a3f47; padding: 6px 2px; border-left: 3px solid
                               transparent; }
QListWidget#navigation::item:hover { background: #e2e5ea; }
QListWidget#navigation::item:selected { background: #ffffff; color: #1d4fa3;
                                        border-left: 3px solid #2b6cd4; }
)";

// The TorchScript files among dropped URLs.
QStringList droppedModels(const QMimeData *mime)
{
    QStringList paths;
    if (!mime || !mime->hasUrls())
        return paths;
    for (const QUrl &url : mime->urls()) {
        const QString path = url.toLocalFile();
        if (url.isLocalFile()
            && QFileInfo(path).suffix().compare(QLatin1String("pt"), Qt::CaseInsensitive) == 0)
            paths << path;
    }
    return paths;
}

// A stack whose size hints are the current panel's, not the largest of all panels' (what
// QStackedWidget's layout reports): the Train panel's side-by-side plots must not keep the
// Versions panel and its dock from fitting a 1024-pixel-wide screen. The window re-asks when
// the panel changes, and grows if the new one needs more room.
class CurrentPanelStack final : public QStackedWidget
{
public:
    explicit CurrentPanelStack(QWidget *parent)
        : QStackedWidget(parent)
    {
        connect(this, &QStackedWidget::currentChanged, this, [this] { updateGeometry(); });
    }

    QSize minimumSizeHint() const override
    {
        const QWidget *page = currentWidget();
        if (!page)
            return QStackedWidget::minimumSizeHint();
        return page->minimumSizeHint().expandedTo(page->minimumSize()) + frameSize();
    }
    QSize sizeHint() const override
    {
        const QWidget *page = currentWidget();
        return page ? page->sizeHint() + frameSize() : QStackedWidget::sizeHint();
    }

private:
    QSize frameSize() const { return QSize(2 * frameWidth(), 2 * frameWidth()); }
};

} // namespace

MainWindow::MainWindow(QString workspace, QWidget *parent)
    : QMainWindow(parent)
    , m_runner(new ms::JobRunner(this))
    , m_workspace(std::move(workspace))
{
    // Training threads yield the CPU to the event loop: on two busy cores the GUI thread
    // otherwise waited up to 40 ms for a slice (bench/stall_bench, bench/README.md).
    m_runner->setWorkerNiceness(10);
    setWindowTitle(tr("ModelStudio"));
    setWindowIcon(appIcon());
    setObjectName(QStringLiteral("MainWindow"));   // saveState() wants a name

    m_navigation = new QListWidget(this);
    m_navigation->setObjectName(QStringLiteral("navigation"));
    m_navigation->setViewMode(QListView::IconMode);
    m_navigation->setFlow(QListView::TopToBottom);
    m_navigation->setMovement(QListView::Static);
    m_navigation->setWrapping(false);
    m_navigation->setIconSize(QSize(28, 28));
    m_navigation->setSpacing(0);
    m_navigation->setFixedWidth(kNavigationWidth);
    m_navigation->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_navigation->setStyleSheet(QString::fromLatin1(kNavigationStyle));
    m_navigation->setFocusPolicy(Qt::NoFocus);

    m_stack = new CurrentPanelStack(this);

    auto *central = new QWidget(this);
    auto *layout = new QHBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_navigation);
    layout->addWidget(m_stack, 1);
    setCentralWidget(central);

    createMenus();
    createStatusBar();
    connect(m_navigation, &QListWidget::currentRowChanged, this,
            &MainWindow::onCurrentPanelChanged);
    connect(m_runner, &ms::JobRunner::finished, this, &MainWindow::onJobFinished);
    setAcceptDrops(true);

    resize(kDefaultSize);
}

MainWindow::~MainWindow()
{
    // Panels observe the runner: stop its workers while they still exist.
    delete m_runner;
    m_runner = nullptr;
}

void MainWindow::setPanelFactory(PanelFactory factory)
{
    m_factory = std::move(factory);
    removePanels();
    if (m_factory)
        m_factory(*this);
}

void MainWindow::addPanel(Panel *panel)
{
    m_stack->addWidget(panel);
    if (QWidget *pane = panel->dockablePane()) {
        auto *dock = new QDockWidget(tr("%1 details").arg(panel->title()), this);
        dock->setObjectName(QStringLiteral("dock-%1").arg(panel->id()));   // saveState() key
        dock->setWidget(pane);
        addDockWidget(Qt::RightDockWidgetArea, dock);
        // A pane's text wraps to the dock's width: the panel beside it gets the room it needs
        // for names and numbers.
        resizeDocks({dock}, {kDockWidth}, Qt::Horizontal);
        dock->setVisible(m_stack->currentWidget() == panel);
        m_docks.insert(panel, dock);
    }
    auto *item = new QListWidgetItem(panel->icon(), panel->title(), m_navigation);
    item->setTextAlignment(Qt::AlignHCenter | Qt::AlignBottom);
    // The full width, so the highlight reads as a tab of the sidebar rather than a chip.
    item->setSizeHint(QSize(kNavigationWidth - 1, 64));
    if (m_navigation->count() <= 9)
        item->setToolTip(tr("%1 (Ctrl+%2)")
                             .arg(panel->title(), QString::number(m_navigation->count())));
    else
        item->setToolTip(panel->title());
    if (m_navigation->count() == 1)
        m_navigation->setCurrentRow(0);
    updatePanelShortcuts();
}

void MainWindow::removePanels()
{
    m_runMenu->clear();
    // A dock holds its panel's pane: hand it back to the panel, which goes next and may still
    // use it while it is destroyed, then drop the empty dock.
    for (auto it = m_docks.cbegin(); it != m_docks.cend(); ++it) {
        if (QWidget *pane = it.value()->widget()) {
            pane->hide();
            pane->setParent(it.key());
        }
        delete it.value();
    }
    m_docks.clear();
    m_navigation->blockSignals(true);
    m_navigation->clear();
    m_navigation->blockSignals(false);
    while (m_stack->count() > 0) {
        QWidget *page = m_stack->widget(0);
        m_stack->removeWidget(page);
        delete page;
    }
    updatePanelShortcuts();
}

void MainWindow::updatePanelShortcuts()
{
    // View › one entry per panel, Ctrl+1..9 in navigation order.
    m_viewMenu->clear();
    for (int row = 0; row < m_stack->count(); ++row) {
        const auto *page = qobject_cast<Panel *>(m_stack->widget(row));
        QAction *action = m_viewMenu->addAction(page->icon(), page->title(), this,
                                                [this, row] { m_navigation->setCurrentRow(row); });
        if (row < 9)
            action->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + row)));
    }
}

QStringList MainWindow::addPluginPanels()
{
    QStringList problems;
    const PanelContext context{m_workspace, m_runner};
    for (QObject *object : ms::PluginManager::instance().instances()) {
        auto *plugin = qobject_cast<PanelPlugin *>(object);
        if (!plugin)
            continue;
        for (const PanelDescription &description : plugin->panels()) {
            if (description.id.isEmpty() || panel(description.id)) {
                problems << tr("a plugin panel's id \"%1\" is empty or already taken; "
                               "panel skipped").arg(description.id);
                continue;
            }
            QWidget *content = nullptr;
            try {
                content = plugin->createPanel(description.id, context, this);
            } catch (const std::exception &e) {
                // Plugin code: what it throws must not take the window down with it.
                problems << tr("the plugin failed to make panel \"%1\": %2")
                                .arg(description.id, errorMessage(e));
                continue;
            }
            if (!content) {
                problems << tr("the plugin made no widget for panel \"%1\"")
                                .arg(description.id);
                continue;
            }
            addPanel(new PluginPanel(description, content));
        }
    }
    return problems;
}

void MainWindow::showPlugins()
{
    PluginsDialog dialog(m_workspace, this);
    dialog.exec();
}

bool MainWindow::showPanel(const QString &id)
{
    for (int row = 0; row < m_stack->count(); ++row) {
        if (qobject_cast<Panel *>(m_stack->widget(row))->id() == id) {
            m_navigation->setCurrentRow(row);
            return true;
        }
    }
    return false;
}

Panel *MainWindow::panel(const QString &id) const
{
    for (int row = 0; row < m_stack->count(); ++row) {
        auto *candidate = qobject_cast<Panel *>(m_stack->widget(row));
        if (candidate && candidate->id() == id)
            return candidate;
    }
    return nullptr;
}

QList<Panel *> MainWindow::panels() const
{
    QList<Panel *> out;
    for (int row = 0; row < m_stack->count(); ++row)
        out << qobject_cast<Panel *>(m_stack->widget(row));
    return out;
}

Panel *MainWindow::currentPanel() const
{
    return qobject_cast<Panel *>(m_stack->currentWidget());
}

QStringList MainWindow::panelIds() const
{
    QStringList ids;
    for (int row = 0; row < m_stack->count(); ++row)
        ids << qobject_cast<Panel *>(m_stack->widget(row))->id();
    return ids;
}

void MainWindow::createMenus()
{
    QMenu *fileMenu = menuBar()->addMenu(tr("&File"));
    m_openWorkspaceAction = fileMenu->addAction(tr("&Open Workspace…"), this,
                                                [this] { chooseWorkspace(); });
    m_openWorkspaceAction->setShortcut(QKeySequence::Open);
    m_openWorkspaceAction->setStatusTip(tr("Switch to another folder of runs and versions"));
    m_importAction = fileMenu->addAction(tr("&Import Model…"), this, [this] { chooseImport(); });
    m_importAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
    m_importAction->setStatusTip(tr("Register a TorchScript .pt file as a new version (or drop "
                                    "it onto the window)"));
    fileMenu->addSeparator();
    QAction *settings = fileMenu->addAction(tr("&Settings…"), this, [this] { editSettings(); });
    settings->setShortcuts({QKeySequence::Preferences, QKeySequence(Qt::CTRL | Qt::Key_Comma)});
    settings->setMenuRole(QAction::PreferencesRole);
    fileMenu->addSeparator();
    QAction *quit = fileMenu->addAction(tr("&Quit"), this, [this] { close(); });
    quit->setShortcut(QKeySequence::Quit);
    quit->setMenuRole(QAction::QuitRole);

    // One entry per panel with Ctrl+1..9, filled by updatePanelShortcuts().
    m_viewMenu = menuBar()->addMenu(tr("&View"));

    // Filled with the current panel's Start / Pause / Stop in onCurrentPanelChanged.
    m_runMenu = menuBar()->addMenu(tr("&Run"));

    QMenu *helpMenu = menuBar()->addMenu(tr("&Help"));
    m_pluginsAction = helpMenu->addAction(tr("&Plugins..."), this, [this] { showPlugins(); });
    QAction *about = helpMenu->addAction(tr("&About ModelStudio"), this,
                                         [this] { showAbout(); });
    about->setMenuRole(QAction::AboutRole);
    helpMenu->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
}

QMenu *MainWindow::editMenu()
{
    if (!m_editMenu) {
        m_editMenu = new QMenu(tr("&Edit"), this);
        // Before View: the File, Edit, View order every desktop application keeps.
        menuBar()->insertMenu(m_viewMenu->menuAction(), m_editMenu);
    }
    return m_editMenu;
}

void MainWindow::createStatusBar()
{
    m_workspaceLabel = new QLabel(this);
    m_workspaceLabel->setText(tr("Workspace: %1").arg(QDir::toNativeSeparators(m_workspace)));
    m_workspaceLabel->setToolTip(tr("Runs, versions and artifacts are kept here "
                                    "(File › Open Workspace… to change)"));
    m_workspaceLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_jobStatus = new JobStatusWidget(m_runner, this);
    statusBar()->addWidget(m_workspaceLabel, 1);
    statusBar()->addPermanentWidget(m_jobStatus);
}

void MainWindow::onCurrentPanelChanged(int row)
{
    if (row < 0 || row >= m_stack->count())
        return;
    // The old panel's dock goes before the new panel comes, and the new one's dock after:
    // otherwise the window, for a moment asked to hold both, grows wider than it was.
    QWidget *next = m_stack->widget(row);
    for (auto it = m_docks.cbegin(); it != m_docks.cend(); ++it) {
        if (it.key() != next)
            it.value()->setVisible(false);
    }
    m_stack->setCurrentIndex(row);
    for (auto it = m_docks.cbegin(); it != m_docks.cend(); ++it) {
        if (it.key() == next)
            it.value()->setVisible(true);
    }
    m_runMenu->clear();
    const QList<QAction *> actions = currentPanel()->jobActions();
    m_runMenu->addActions(actions);
    m_runMenu->setEnabled(!actions.isEmpty());
}

bool MainWindow::setWorkspace(const QString &path, QString *error)
{
    const auto refuse = [error](const QString &why) {
        if (error)
            *error = why;
        return false;
    };
    const QString root = QDir::cleanPath(QFileInfo(path.trimmed()).absoluteFilePath());
    if (path.trimmed().isEmpty())
        return refuse(tr("Choose a folder for the workspace."));
    if (m_runner->runningCount() > 0)
        return refuse(tr("A job is running in %1: stop it or let it finish before switching "
                         "workspaces.").arg(QDir::toNativeSeparators(m_workspace)));
    try {
        ms::Workspace(root).ensure();
        const ms::Registry check(root);   // a registry.db that is not ours is refused here
    } catch (const std::exception &e) {
        return refuse(errorMessage(e));
    }

    // Each panel's layout and choices survive the switch (they live in QSettings).
    const QString current = currentPanel() ? currentPanel()->id() : QString();
    saveSettings();
    removePanels();
    m_workspace = root;
    m_workspaceLabel->setText(tr("Workspace: %1").arg(QDir::toNativeSeparators(root)));
    if (m_factory)
        m_factory(*this);
    QSettings settings;
    for (Panel *page : panels()) {
        settings.beginGroup(QStringLiteral("panels/") + page->id());
        page->restoreState(settings);
        settings.endGroup();
    }
    if (!current.isEmpty())
        showPanel(current);
    StudioSettings::setWorkspace(root);
    statusBar()->showMessage(tr("Opened the workspace %1").arg(QDir::toNativeSeparators(root)),
                             kMessage_ms);
    Q_EMIT workspaceChanged(root);
    return true;
}

bool MainWindow::confirmSwitch()
{
    // A switch rebuilds every panel: what that would stop is said before, not discovered after.
    QStringList warnings;
    for (const Panel *page : panels()) {
        const QString warning = page->switchWarning();
        if (!warning.isEmpty())
            warnings << warning;
    }
    if (warnings.isEmpty())
        return true;
    return QMessageBox::question(this, tr("Open Workspace"),
                                 tr("%1 Switch anyway?").arg(warnings.join(QLatin1Char(' '))),
                                 QMessageBox::Yes | QMessageBox::No, QMessageBox::No)
           == QMessageBox::Yes;
}

void MainWindow::chooseWorkspace()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open Workspace"),
                                                          m_workspace);
    if (dir.isEmpty() || !confirmSwitch())
        return;
    QString error;
    if (!setWorkspace(dir, &error))
        QMessageBox::warning(this, tr("Open Workspace"), error);
}

ms::JobId MainWindow::importModel(const ms::ImportOptions &options)
{
    const ms::JobId id =
        m_runner->start(std::make_unique<ms::ImportJob>(options, m_workspace));
    m_imports.insert(id);
    statusBar()->showMessage(tr("Importing %1…").arg(QDir::toNativeSeparators(options.path)));
    return id;
}

ms::JobId MainWindow::importFile(const QString &path)
{
    ms::ImportOptions options;
    options.path = path;
    options.modelName = ms::modelNameForFile(path);
    options.shapeHint = tr("File › Import Model… (Input shape)");
    return importModel(options);
}

void MainWindow::chooseImport()
{
    ImportDialog dialog(this);
    if (dialog.exec() == QDialog::Accepted)
        importModel(dialog.options());
}

void MainWindow::onJobFinished(ms::JobId id, const ms::JobResult &result)
{
    if (!m_imports.remove(id))
        return;
    if (result.status == ms::JobStatus::Finished) {
        statusBar()->showMessage(
            tr("Imported %1").arg(result.output.value(QStringLiteral("ref")).toString()),
            kMessage_ms);
        Q_EMIT versionsChanged();
    } else {
        // No dialog: a drop of several files would stack them. The line stays a while and the
        // job label keeps it as a tooltip.
        statusBar()->showMessage(tr("Import failed: %1").arg(result.message), kMessage_ms);
    }
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    if (!droppedModels(event->mimeData()).isEmpty())
        event->acceptProposedAction();
    else
        event->ignore();
}

void MainWindow::dropEvent(QDropEvent *event)
{
    const QStringList paths = droppedModels(event->mimeData());
    if (paths.isEmpty()) {
        event->ignore();
        return;
    }
    event->acceptProposedAction();
    for (const QString &path : paths)
        importFile(path);
}

void MainWindow::editSettings()
{
    SettingsDialog dialog(StudioSettings::computeThreads(), m_workspace, this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    if (dialog.threads() != StudioSettings::computeThreads()) {
        StudioSettings::setComputeThreads(dialog.threads());
        Q_EMIT computeThreadsChanged(dialog.threads());
    }
    const QString wanted = QDir::cleanPath(QFileInfo(dialog.workspace()).absoluteFilePath());
    if (wanted != QDir::cleanPath(m_workspace) && confirmSwitch()) {
        QString error;
        if (!setWorkspace(wanted, &error))
            QMessageBox::warning(this, tr("Settings"), error);
    }
}

void MainWindow::showAbout()
{
    // What the figures of this machine depend on: the CPU, the BLAS and the kernels it runs,
    // and whatever the studio changed at start-up (StartupTuning).
    const QJsonObject runtime = Runtime::describe();
    QString compute = tr("%1, %2 cores; BLAS %3")
                          .arg(runtime.value(QStringLiteral("cpu")).toString(),
                               QString::number(runtime.value(QStringLiteral("cores")).toInt()),
                               runtime.value(QStringLiteral("blas")).toString());
    const QString core = runtime.value(QStringLiteral("blas_core")).toString();
    if (!core.isEmpty())
        compute += tr(" (%1 kernels)").arg(core);
    QString startup = runtime.value(QStringLiteral("startup")).toString();
    if (!startup.isEmpty())
        startup = QStringLiteral("<p>%1</p>").arg(startup.toHtmlEscaped());
    QMessageBox::about(
        this, tr("About ModelStudio"),
        tr("<h3>ModelStudio %1</h3>"
           "<p>Train models while watching their curves, compress them, keep every version "
           "and serve any of them, on this machine.</p>"
           "<p>Workspace: <code>%2</code></p>"
           "<p>Qt %3</p><p>Compute: %4</p>%5")
            .arg(QApplication::applicationVersion(),
                 QDir::toNativeSeparators(m_workspace).toHtmlEscaped(),
                 QString::fromLatin1(qVersion()), compute.toHtmlEscaped(), startup));
}

void MainWindow::restoreSettings()
{
    QSettings settings;
    settings.beginGroup(QStringLiteral("window"));
    if (!restoreGeometry(settings.value(QStringLiteral("geometry")).toByteArray()))
        resize(kDefaultSize);
    restoreState(settings.value(QStringLiteral("state")).toByteArray());
    const QString current = settings.value(QStringLiteral("panel")).toString();
    settings.endGroup();

    for (int row = 0; row < m_stack->count(); ++row) {
        auto *page = qobject_cast<Panel *>(m_stack->widget(row));
        settings.beginGroup(QStringLiteral("panels/") + page->id());
        page->restoreState(settings);
        settings.endGroup();
    }
    if (!current.isEmpty())
        showPanel(current);
}

void MainWindow::saveSettings() const
{
    QSettings settings;
    settings.beginGroup(QStringLiteral("window"));
    settings.setValue(QStringLiteral("geometry"), saveGeometry());
    settings.setValue(QStringLiteral("state"), saveState());
    if (const Panel *current = currentPanel())
        settings.setValue(QStringLiteral("panel"), current->id());
    settings.endGroup();

    for (int row = 0; row < m_stack->count(); ++row) {
        const auto *page = qobject_cast<const Panel *>(m_stack->widget(row));
        settings.beginGroup(QStringLiteral("panels/") + page->id());
        page->saveState(settings);
        settings.endGroup();
    }
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (m_runner->runningCount() > 0) {
        const auto answer = QMessageBox::question(
            this, tr("Quit ModelStudio"),
            tr("A job is still running. Stop it and quit? A training run keeps its last "
               "finished epoch as a checkpoint."),
            QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
        if (answer != QMessageBox::Yes) {
            event->ignore();
            return;
        }
    }
    saveSettings();
    event->accept();
}

} // namespace ms::ui
