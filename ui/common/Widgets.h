#pragma once

#include <QString>

class QAction;
class QLabel;
class QPushButton;
class QWidget;

namespace ms::ui {

// Small widget builders the panels share, so they look and behave alike.

// A push button that mirrors an action, so a panel's buttons, the window's Run menu and the
// shortcuts are one thing with one enabled state.
QPushButton *buttonFor(QAction *action, QWidget *parent);
// The bold title above a section of a panel.
QLabel *sectionTitle(const QString &text, QWidget *parent);

} // namespace ms::ui
