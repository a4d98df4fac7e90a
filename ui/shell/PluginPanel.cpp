#include "shell/PluginPanel.h"

#include "common/Icons.h"

#include <QVBoxLayout>

namespace ms::ui {

PluginPanel::PluginPanel(PanelDescription description, QWidget *content, QWidget *parent)
    : Panel(parent), m_description(std::move(description))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    content->setParent(this);
    layout->addWidget(content);
}

QIcon PluginPanel::icon() const
{
    return m_description.icon.isNull() ? appIcon() : m_description.icon;
}

} // namespace ms::ui
