#pragma once

#include "jobs/JobRunner.h"
#include "registry/ModelImport.h"

#include <QHash>
#include <QList>
#include <QMainWindow>
#include <QSet>
#include <QString>

#include <functional>

class QAction;
class QDockWidget;
class QLabel;
class QListWidget;
class QMenu;
class QStackedWidget;

namespace ms::ui {

class JobStatusWidget;
class Panel;

// The studio window. It only assembles panels: a navigation list on the left, the panels in a
// stack, the menus, and a status bar with the workspace and the running jobs. It owns the one
// JobRunner the panels share, so a job started in one panel shows in the status bar everywhere.
//
// Panels are made by a factory (addStudioPanels in the studio), so that switching the workspace
// rebuilds them all on the new registry: simpler and surer than teaching every panel to
// re-point itself, and a switch is rare.
class MainWindow final : public QMainWindow
{
    Q_OBJECT

public:
    using PanelFactory = std::function<void(MainWindow &)>;

    explicit MainWindow(QString workspace, QWidget *parent = nullptr);
    ~MainWindow() override;

    // Builds the panels now, and again after each workspace switch.
    void setPanelFactory(PanelFactory factory);
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
    template <typename T>
    T *panel() const
    {
        for (Panel *candidate : panels()) {
            if (auto *typed = qobject_cast<T *>(candidate))
                return typed;
        }
        return nullptr;
    }
    QList<Panel *> panels() const;
    Panel *currentPanel() const;
    QStringList panelIds() const;

    ms::JobRunner *jobRunner() const { return m_runner; }
    QString workspace() const { return m_workspace; }
    JobStatusWidget *jobStatus() const { return m_jobStatus; }

    // Switches every panel to the workspace `path` (created when missing) and remembers it for
    // the next start. Refused, with `error` saying why, while a job runs or when the folder or
    // its registry cannot be used; the current workspace then stays as it was.
    bool setWorkspace(const QString &path, QString *error = nullptr);

    // Imports a TorchScript file as an ImportJob on the runner; versionsChanged() follows its
    // success, the status bar reports either outcome. Returns the job id.
    ms::JobId importModel(const ms::ImportOptions &options);
    // What a dropped file becomes: the model named after the file, the shape it records.
    ms::JobId importFile(const QString &path);

    // Window geometry, the current panel and each panel's own state, from QSettings.
    void restoreSettings();
    void saveSettings() const;

    QAction *openWorkspaceAction() const { return m_openWorkspaceAction; }
    QAction *importAction() const { return m_importAction; }
    QAction *pluginsAction() const { return m_pluginsAction; }
    // The Edit menu, after File; made on first use, so a window whose panels edit nothing has
    // none. It outlives a workspace switch: the panel factory fills it again.
    QMenu *editMenu();

Q_SIGNALS:
    // A version was added outside the panels (an import): listings should reload.
    void versionsChanged();
    void workspaceChanged(const QString &path);
    // Settings… changed the compute threads for new runs.
    void computeThreadsChanged(int threads);

protected:
    void closeEvent(QCloseEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void createMenus();
    void createStatusBar();
    void onCurrentPanelChanged(int row);
    void removePanels();
    void updatePanelShortcuts();
    bool confirmSwitch();
    void chooseWorkspace();
    void chooseImport();
    void editSettings();
    void showAbout();
    void onJobFinished(ms::JobId id, const ms::JobResult &result);

    // Created first, so it is destroyed first: it stops and waits for every worker before any
    // panel that observes it goes away.
    ms::JobRunner *m_runner = nullptr;
    QString m_workspace;
    PanelFactory m_factory;
    QListWidget *m_navigation = nullptr;
    QStackedWidget *m_stack = nullptr;
    QMenu *m_editMenu = nullptr;
    QMenu *m_runMenu = nullptr;
    QMenu *m_viewMenu = nullptr;
    QAction *m_openWorkspaceAction = nullptr;
    QAction *m_importAction = nullptr;
    QAction *m_pluginsAction = nullptr;
    QLabel *m_workspaceLabel = nullptr;
    JobStatusWidget *m_jobStatus = nullptr;
    QSet<ms::JobId> m_imports;
    QHash<Panel *, QDockWidget *> m_docks;   // a panel's dockable pane, shown while it is current
};

} // namespace ms::ui
