#pragma once

#include <QIcon>
#include <QList>
#include <QString>
#include <QWidget>

class QAction;
class QSettings;

namespace ms::ui {

// One page of the main window: the studio's Data, Train, Versions, Compare and Serve panels
// (made by addStudioPanels) and any plugin's (PanelPlugin). The window only assembles panels:
// it lists them in the navigation, routes its Run menu to the visible one and hands each a
// QSettings group to remember its layout in.
class Panel : public QWidget
{
    Q_OBJECT

public:
    using QWidget::QWidget;

    virtual QString id() const = 0;      // stable, for --panel and QSettings ("train")
    virtual QString title() const = 0;   // shown in the navigation ("Train")
    virtual QIcon icon() const = 0;

    // Start / Pause / Stop of the panel's job. The window shows them in its Run menu while the
    // panel is current; their shortcuts follow the panel's visibility, so hidden panels' are off.
    virtual QList<QAction *> jobActions() const { return {}; }

    // A detail pane the window may take into a QDockWidget (moved, floated, closed and restored
    // with the window's layout), shown while the panel is current. nullptr: none. The panel
    // keeps owning what the pane shows; the window only reparents it into the dock.
    virtual QWidget *dockablePane() const { return nullptr; }

    // What destroying the panel now would stop, in a sentence the window shows before a
    // workspace switch rebuilds every panel ("The Serve panel is serving models from this
    // workspace. Switching stops the server."); empty when nothing would be lost.
    virtual QString switchWarning() const { return {}; }

    // Splitter positions, view options, last inputs. The settings are already in the panel's
    // own group.
    virtual void saveState(QSettings &settings) const { Q_UNUSED(settings) }
    virtual void restoreState(QSettings &settings) { Q_UNUSED(settings) }
};

} // namespace ms::ui
