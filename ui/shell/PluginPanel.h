#pragma once

#include "shell/Panel.h"
#include "shell/PanelPlugin.h"

namespace ms::ui {

// A panel a plugin provides: the plugin's widget inside a Panel the window knows.
class PluginPanel final : public Panel
{
    Q_OBJECT

public:
    PluginPanel(PanelDescription description, QWidget *content, QWidget *parent = nullptr);

    QString id() const override { return m_description.id; }
    QString title() const override { return m_description.title; }
    // The plugin's icon, or the studio's when it gives none (an empty tab reads as a gap).
    QIcon icon() const override;

private:
    PanelDescription m_description;
};

} // namespace ms::ui
