#include "shell/StudioPanels.h"

#include "panels/chat/ChatPanel.h"
#include "panels/compare/ComparePanel.h"
#include "panels/data/DataPanel.h"
#include "panels/optimize/OptimizePanel.h"
#include "panels/serve/ServePanel.h"
#include "panels/train/TrainForm.h"
#include "panels/train/TrainPanel.h"
#include "panels/try/TryPanel.h"
#include "panels/versions/VersionsPanel.h"
#include "shell/MainWindow.h"
#include "shell/StudioSettings.h"

#include <QDebug>
#include <QJsonObject>
#include <QMenu>

namespace ms::ui {

void addStudioPanels(MainWindow &window)
{
    const QString workspace = window.workspace();
    auto *dataPanel = new DataPanel(window.jobRunner());
    window.addPanel(dataPanel);
    auto *trainPanel = new TrainPanel(window.jobRunner(), workspace);
    trainPanel->form()->setThreads(StudioSettings::computeThreads());
    window.addPanel(trainPanel);
    auto *versionsPanel = new VersionsPanel(workspace);
    versionsPanel->setJobRunner(window.jobRunner());
    window.addPanel(versionsPanel);
    auto *comparePanel = new ComparePanel(workspace, window.jobRunner());
    window.addPanel(comparePanel);
    auto *servePanel = new ServePanel(workspace);
    window.addPanel(servePanel);
    auto *optimizePanel = new OptimizePanel(window.jobRunner(), workspace);
    window.addPanel(optimizePanel);
    auto *tryPanel = new TryPanel(window.jobRunner(), workspace);
    window.addPanel(tryPanel);
    // Every new version can be tried at once.
    QObject::connect(trainPanel, &TrainPanel::runFinished, tryPanel, &TryPanel::reload);
    QObject::connect(&window, &MainWindow::versionsChanged, tryPanel, &TryPanel::reload);
    QObject::connect(versionsPanel, &VersionsPanel::compressFinished, tryPanel,
                     &TryPanel::reload);
    QObject::connect(optimizePanel, &OptimizePanel::versionsChanged, tryPanel,
                     &TryPanel::reload);
    // A cell of the disagreement explorer opens in the Try panel with both versions.
    QObject::connect(comparePanel, &ComparePanel::tryRequested, tryPanel,
                     [&window, tryPanel](qint64 sample, const QStringList &versions,
                                         const QString &source) {
                         window.showPanel(tryPanel->id());
                         tryPanel->trySample(sample, versions, source);
                     });
    // A trial of a sweep opens with its curves in the Compare panel, beside what was checked.
    QObject::connect(optimizePanel, &OptimizePanel::curvesRequested, comparePanel,
                     [&window, comparePanel](qint64 runId) {
                         comparePanel->reload();
                         comparePanel->setChecked(QStringLiteral("r:%1").arg(runId), true);
                         comparePanel->showTab(ComparePanel::CurvesTab);
                         window.showPanel(comparePanel->id());
                     });
    auto *chatPanel = new ChatPanel(workspace);
    window.addPanel(chatPanel);

    // A finished run's version shows in the Versions and Compare panels at once; so does an
    // import. Receivers are the panels, so these connections end with them on a switch.
    QObject::connect(trainPanel, &TrainPanel::runFinished, versionsPanel,
                     &VersionsPanel::reload);
    QObject::connect(trainPanel, &TrainPanel::runFinished, comparePanel, &ComparePanel::reload);
    QObject::connect(&window, &MainWindow::versionsChanged, versionsPanel,
                     &VersionsPanel::reload);
    QObject::connect(&window, &MainWindow::versionsChanged, comparePanel,
                     &ComparePanel::reload);
    QObject::connect(versionsPanel, &VersionsPanel::compressFinished, comparePanel,
                     &ComparePanel::reload);
    // A sweep registers its best trial (and Register a chosen one): the listings follow.
    QObject::connect(optimizePanel, &OptimizePanel::versionsChanged, versionsPanel,
                     &VersionsPanel::reload);
    QObject::connect(optimizePanel, &OptimizePanel::versionsChanged, comparePanel,
                     &ComparePanel::reload);
    QObject::connect(optimizePanel, &OptimizePanel::versionsChanged, trainPanel,
                     &TrainPanel::reloadVersions);
    // A language model trained, imported or registered is there to talk to.
    QObject::connect(trainPanel, &TrainPanel::runFinished, chatPanel,
                     &ChatPanel::reloadVersions);
    QObject::connect(&window, &MainWindow::versionsChanged, chatPanel,
                     &ChatPanel::reloadVersions);
    // The Train panel's picker offers every version to start from.
    QObject::connect(&window, &MainWindow::versionsChanged, trainPanel,
                     &TrainPanel::reloadVersions);
    QObject::connect(versionsPanel, &VersionsPanel::compressFinished, trainPanel,
                     &TrainPanel::reloadVersions);
    // "Serve" on a version: the Serve panel serves it, starting the server if needed.
    QObject::connect(versionsPanel, &VersionsPanel::serveRequested, servePanel,
                     [&window, servePanel](const QString &ref) {
                         window.showPanel(servePanel->id());
                         servePanel->serveNow(ref);
                     });
    // "Re-run" on a version: the Train panel shows, filled with its recipe, ready to start.
    QObject::connect(versionsPanel, &VersionsPanel::rerunRequested, trainPanel,
                     [&window, trainPanel](const QJsonObject &recipe, const QString &ref) {
                         window.showPanel(trainPanel->id());
                         trainPanel->loadRecipe(recipe, ref);
                     });
    // The Versions panel's undo stack (tags, aliases, notes) in an Edit menu beside File. The
    // menu outlives a workspace switch; the old panel's actions leave it with the panel.
    QMenu *editMenu = window.editMenu();
    editMenu->clear();
    editMenu->addAction(versionsPanel->undoAction());
    editMenu->addAction(versionsPanel->redoAction());
    QObject::connect(&window, &MainWindow::computeThreadsChanged, trainPanel,
                     [trainPanel](int threads) {
                         trainPanel->form()->setThreads(threads);
                     });

    // Plugin panels last, and again after a switch, so they see the current workspace. A broken
    // one is skipped with a warning; it never keeps the window from opening.
    for (const QString &problem : window.addPluginPanels())
        qWarning().noquote() << QStringLiteral("modelstudio: %1").arg(problem);
}

} // namespace ms::ui
