#include "MainWindow.h"

#include "Icons.h"
#include "Panel.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>

namespace ms::ui {

namespace {

const QSize kDefaultSize(1280, 800);
constexpr int kNavigationWidth = 88;

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

    m_stack = new QStackedWidget(this);

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

    connect(m_runner, &ms::JobRunner::started, this, &MainWindow::onJobStarted);
    connect(m_runner, &ms::JobRunner::progress, this, &MainWindow::onJobProgress);
    connect(m_runner, &ms::JobRunner::pausedChanged, this, &MainWindow::onJobPaused);
    connect(m_runner, &ms::JobRunner::finished, this, &MainWindow::onJobFinished);

    resize(kDefaultSize);
}

MainWindow::~MainWindow() = default;

void MainWindow::addPanel(Panel *panel)
{
    m_stack->addWidget(panel);
    auto *item = new QListWidgetItem(panel->icon(), panel->title(), m_navigation);
    item->setTextAlignment(Qt::AlignHCenter | Qt::AlignBottom);
    // The full width, so the highlight reads as a tab of the sidebar rather than a chip.
    item->setSizeHint(QSize(kNavigationWidth - 1, 64));
    item->setToolTip(panel->title());
    if (m_navigation->count() == 1)
        m_navigation->setCurrentRow(0);
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
    QAction *quit = fileMenu->addAction(tr("&Quit"), this, [this] { close(); });
    quit->setShortcut(QKeySequence::Quit);
    quit->setMenuRole(QAction::QuitRole);

    // Filled with the current panel's Start / Pause / Stop in onCurrentPanelChanged.
    m_runMenu = menuBar()->addMenu(tr("&Run"));

    QMenu *helpMenu = menuBar()->addMenu(tr("&Help"));
    QAction *about = helpMenu->addAction(tr("&About ModelStudio"), this,
                                         [this] { showAbout(); });
    about->setMenuRole(QAction::AboutRole);
    helpMenu->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
}

void MainWindow::createStatusBar()
{
    m_workspaceLabel = new QLabel(this);
    m_workspaceLabel->setText(tr("Workspace: %1").arg(QDir::toNativeSeparators(m_workspace)));
    m_workspaceLabel->setToolTip(tr("Runs, versions and artifacts are kept here "
                                    "(--workspace DIR to change)"));
    m_workspaceLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_jobLabel = new QLabel(tr("No job running"), this);
    m_jobProgress = new QProgressBar(this);
    m_jobProgress->setRange(0, 1000);
    m_jobProgress->setTextVisible(false);
    m_jobProgress->setFixedSize(140, 12);
    m_jobProgress->setVisible(false);

    statusBar()->addWidget(m_workspaceLabel, 1);
    statusBar()->addPermanentWidget(m_jobLabel);
    statusBar()->addPermanentWidget(m_jobProgress);
}

void MainWindow::onCurrentPanelChanged(int row)
{
    if (row < 0 || row >= m_stack->count())
        return;
    m_stack->setCurrentIndex(row);
    m_runMenu->clear();
    const QList<QAction *> actions = currentPanel()->jobActions();
    m_runMenu->addActions(actions);
    m_runMenu->setEnabled(!actions.isEmpty());
}

void MainWindow::showAbout()
{
    QMessageBox::about(
        this, tr("About ModelStudio"),
        tr("<h3>ModelStudio %1</h3>"
           "<p>Train models while watching their curves, compress them, keep every version "
           "and serve any of them, on this machine.</p>"
           "<p>Workspace: <code>%2</code></p>"
           "<p>Qt %3</p>")
            .arg(QApplication::applicationVersion(),
                 QDir::toNativeSeparators(m_workspace).toHtmlEscaped(),
                 QString::fromLatin1(qVersion())));
}

void MainWindow::onJobStarted(ms::JobId id, const QString &title)
{
    m_shownJob = id;
    m_jobTitle = title;
    m_jobLabel->setText(tr("%1 · starting").arg(title));
    m_jobProgress->setValue(0);
    m_jobProgress->setVisible(true);
}

void MainWindow::onJobProgress(ms::JobId id, double fraction, const QString &text)
{
    if (id != m_shownJob)
        return;
    const int permille = int(qBound(0.0, fraction, 1.0) * 1000.0);
    m_jobProgress->setValue(permille);
    m_jobLabel->setText(tr("%1 · %2 %").arg(m_jobTitle).arg(permille / 10));
    m_jobLabel->setToolTip(text);
}

void MainWindow::onJobPaused(ms::JobId id, bool paused)
{
    if (id != m_shownJob)
        return;
    m_jobLabel->setText(paused ? tr("%1 · paused").arg(m_jobTitle)
                               : tr("%1 · %2 %").arg(m_jobTitle)
                                     .arg(m_jobProgress->value() / 10));
}

void MainWindow::onJobFinished(ms::JobId id, const ms::JobResult &result)
{
    if (id != m_shownJob)
        return;
    m_jobProgress->setVisible(false);
    m_jobLabel->setText(tr("%1 · %2").arg(m_jobTitle, ms::jobStatusName(result.status)));
    m_jobLabel->setToolTip(result.message);
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
