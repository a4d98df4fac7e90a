#pragma once

namespace ms::ui {

class MainWindow;

// The studio's panels in navigation order (Data, Train, Versions, Compare, Serve, Optimize),
// made on the window's workspace and JobRunner and wired to each other: a finished run, a
// sweep or an import reloads the listings, "Serve" on a version serves it. The window calls it again after a workspace
// switch (MainWindow::setPanelFactory).
void addStudioPanels(MainWindow &window);

} // namespace ms::ui
