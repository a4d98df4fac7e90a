#pragma once

#include "shell/StartupOptions.h"

#include <QObject>
#include <QString>

#include <memory>

namespace ms::ui {

class MainWindow;

// The studio window as its command line asks for it: the workspace chosen (--workspace, else
// $MODELSTUDIO_WORKSPACE, else the one last opened, else the default), the plugins loaded, the
// window made with the studio's panels (addStudioPanels), then every StartupOptions applied.
// app/gui/main.cpp is this and a QApplication; the tests drive the same object.
class Studio final : public QObject
{
    Q_OBJECT

public:
    explicit Studio(StartupOptions options, QObject *parent = nullptr);
    ~Studio() override;

    // Makes the window and applies what needs no event loop: the panel, the tab, the config,
    // the port, the size, the dataset, the version to select, the models to serve. False,
    // with `error` saying which option cannot be honoured and why, when one cannot; nothing
    // is shown then. A workspace that cannot be created is no reason to stay closed: it is
    // said (message()) and shown in the status bar.
    bool open(QString *error);
    // Shows the window, then starts what was asked (--start, --serve) and schedules the
    // --screenshot.
    void show();

    MainWindow *window() const { return m_window.get(); }
    const StartupOptions &options() const { return m_options; }

Q_SIGNALS:
    // A line for the terminal: the workspace that could not be made, where the server
    // listens or why it did not start, why a pictured dataset could not be read.
    void message(const QString &line);
    // --screenshot is taken (or could not be, or what it pictures failed): the process
    // should exit with `exitCode`.
    void finished(int exitCode);

private:
    bool applyPanelOptions(QString *error);
    bool applyDataOptions(QString *error);
    void scheduleScreenshot();
    bool saveScreenshot();

    StartupOptions m_options;
    QString m_workspaceError;
    std::unique_ptr<MainWindow> m_window;
};

} // namespace ms::ui
