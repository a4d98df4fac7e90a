#pragma once

// The plugin interface for panels of the window (docs/plugins.md). It lives in ui/, not in the
// core, because panels are widgets. A plugin hands out plain QWidgets rather than Panel
// subclasses: ModelStudio::Ui is a static library, and a plugin linking its own copy would
// carry a second Panel meta-object that qobject_cast in the window would not recognise. The
// window wraps each widget in a Panel of its own (PluginPanel).

#include "plugins/PluginInterfaces.h"

#include <QIcon>
#include <QList>
#include <QString>

class QWidget;

namespace ms {
class JobRunner;
}

namespace ms::ui {

// What a plugin panel may use: the window's workspace and its one JobRunner (run long work
// as a Job there, never on the GUI thread).
struct PanelContext
{
    QString workspace;
    ms::JobRunner *jobRunner = nullptr;
};

struct PanelDescription
{
    QString id;      // stable, for --panel and QSettings; must not clash with a built-in panel
    QString title;   // shown in the navigation
    QIcon icon;
};

class PanelPlugin
{
public:
    virtual ~PanelPlugin() = default;
    virtual QList<PanelDescription> panels() const = 0;
    // The widget of panel `id`, parented to `parent` (the window owns it).
    virtual QWidget *createPanel(const QString &id, const PanelContext &context,
                                 QWidget *parent) = 0;
};

} // namespace ms::ui

Q_DECLARE_INTERFACE(ms::ui::PanelPlugin, MODELSTUDIO_PANEL_PLUGIN_IID)
