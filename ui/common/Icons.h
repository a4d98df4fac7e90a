#pragma once

#include <QIcon>

namespace ms::ui {

// Icons drawn in code. The app icon also exists as resources/icons/modelstudio.svg (for the
// .desktop file and installers); the window uses the SVG when Qt's svg plugin is installed and
// paints the same motif otherwise, so a missing plugin never leaves a blank icon.
QIcon appIcon();
// Navigation icons: line glyphs tinted with `color`.
QIcon trainIcon(const QColor &color);
QIcon serveIcon(const QColor &color);
QIcon versionsIcon(const QColor &color);
QIcon dataIcon(const QColor &color);
QIcon compareIcon(const QColor &color);
QIcon optimizeIcon(const QColor &color);
QIcon tryIcon(const QColor &color);
QIcon chatIcon(const QColor &color);

} // namespace ms::ui
