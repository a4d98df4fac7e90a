#pragma once

#include "jobs/JobRunner.h"

#include <QMainWindow>
#include <QString>

class QLabel;
class QListWidget;
class QMenu;
class QProgressBar;
class QStackedWidget;

namespace ms::ui {

class Panel;

// The studio window. It only assembles panels: a navigation list on the left, the panels in a
// stack, the menus, and a status bar with the workspace and the running job. It owns the one
// JobRunner the panels share, so a job started in one panel shows in the status bar everywhere.
class MainWindow final : public QMainWindow
{
    Q_OBJECT

public:
    explicit MainWindow(QString workspace, QWidget *parent = nullptr);
    ~MainWindow() override;

    void addPanel(Panel *panel);
    // Adds the panels of every loaded plugin that offers some (PanelPlugin); call after
    // PluginManager::loadAll(). Returns one line per panel that could not be added (an id
    // already taken), empty when all were.
    QStringList addPluginPanels();
    // Help > Plugins...
    void showPlugins();
    // False when no panel has that id.
    bool showPanel(const QString &id);
    Panel *panel(const QString &id) const;
    Panel *currentPanel() const;
    QStringList panelIds() const;

    ms::JobRunner *jobRunner() const { return m_runner; }
    QString workspace() const { return m_workspace; }

    // Window geometry, the current panel and each panel's own state, from QSettings.
    void restoreSettings();
    void saveSettings() const;

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void createMenus();
    void createStatusBar();
    void onCurrentPanelChanged(int row);
    void showAbout();

    void onJobStarted(ms::JobId id, const QString &title);
    void onJobProgress(ms::JobId id, double fraction, const QString &text);
    void onJobPaused(ms::JobId id, bool paused);
    void onJobFinished(ms::JobId id, const ms::JobResult &result);

    // Created first, so it is destroyed first: it stops and waits for every worker before any
    // panel that observes it goes away.
    ms::JobRunner *m_runner = nullptr;
    QString m_workspace;
    QListWidget *m_navigation = nullptr;
    QStackedWidget *m_stack = nullptr;
    QMenu *m_runMenu = nullptr;
    QLabel *m_workspaceLabel = nullptr;
    QLabel *m_jobLabel = nullptr;
    QProgressBar *m_jobProgress = nullptr;
    QString m_jobTitle;
    ms::JobId m_shownJob = 0;   // the job the status bar follows (the latest started)
};

} // namespace ms::ui
