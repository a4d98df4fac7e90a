#pragma once

#include "plugins/PluginManager.h"

#include <QAbstractTableModel>

namespace ms::ui {

// The plugins PluginManager found, one row each, for the Plugins dialog: whether enabled (a
// check box that enables or disables the plugin through the manager), name, version, state,
// what it provides or why it was skipped, and its file.
class PluginTableModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column {
        EnabledColumn, NameColumn, VersionColumn, StateColumn, DetailColumn, FileColumn,
        ColumnCount
    };

    PluginTableModel(ms::PluginManager &manager, QString workspace, QObject *parent = nullptr);

    void reload();
    const ms::PluginInfo &plugin(int row) const { return m_plugins.at(row); }

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex &index, const QVariant &value, int role) override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    // Enabling or disabling failed (plugins.json not writable, ...): one line to show.
    void failed(const QString &message);

private:
    ms::PluginManager &m_manager;
    QString m_workspace;
    QList<ms::PluginInfo> m_plugins;
    QStringList m_disabled;   // from plugins.json: what the check boxes show
};

} // namespace ms::ui
