#pragma once

#include "registry/Registry.h"

#include <QAbstractTableModel>
#include <QString>
#include <QVector>

namespace ms::ui {

// Every version of every model in the registry, one row each, read with
// Registry::Detail::Listing (no recipe), so 10,000 versions list in well under a second. Sorting
// through a proxy uses SortRole: numbers for Accuracy, Params, Size and Created.
class VersionTableModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { Model, Version, Kind, Accuracy, Params, Size, Created, Aliases, Tags,
                  ColumnCount };
    static constexpr int SortRole = Qt::UserRole + 1;
    static constexpr int IdRole = Qt::UserRole + 2;    // the version's registry id (qint64)
    static constexpr int RefRole = Qt::UserRole + 3;   // "name:N"

    explicit VersionTableModel(QString workspace, QObject *parent = nullptr);

    // Re-reads the registry. Returns the error text when it cannot be read (the table is then
    // empty), an empty string on success.
    QString reload();

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

    const ms::VersionRecord &record(int row) const { return m_versions.at(row); }
    // Every column's text of a row, lower-cased, for the text filter. Built for all rows on
    // first use after a reload: formatting 10,000 rows x 9 columns (dates above all) on every
    // keystroke made filtering take 150 ms a key.
    const QString &searchText(int row) const;
    int rowOf(qint64 versionId) const;   // -1 when absent

private:
    QString m_workspace;
    QVector<ms::VersionRecord> m_versions;
    mutable QStringList m_searchTexts;
};

} // namespace ms::ui
