#pragma once

#include <QDialog>

class QLabel;
class QTableView;

namespace ms::ui {

class PluginTableModel;

// Help > Plugins: every plugin found, loaded or skipped and why, with a check box to enable
// or disable each; the same list as `modelstudio-cli plugins`.
class PluginsDialog final : public QDialog
{
    Q_OBJECT

public:
    explicit PluginsDialog(const QString &workspace, QWidget *parent = nullptr);

    PluginTableModel *model() const { return m_model; }
    QTableView *view() const { return m_view; }
    QString message() const;

private:
    PluginTableModel *m_model = nullptr;
    QTableView *m_view = nullptr;
    QLabel *m_message = nullptr;
};

} // namespace ms::ui
