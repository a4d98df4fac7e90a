#pragma once

#include <QDialog>

class QLineEdit;
class QSpinBox;

namespace ms::ui {

// File › Settings…: compute threads for new training runs, and the workspace (the folder
// switches at once when changed, and is the one opened next time).
class SettingsDialog final : public QDialog
{
    Q_OBJECT

public:
    SettingsDialog(int threads, const QString &workspace, QWidget *parent = nullptr);

    int threads() const;
    QString workspace() const;

private:
    QSpinBox *m_threads = nullptr;
    QLineEdit *m_workspace = nullptr;
};

} // namespace ms::ui
