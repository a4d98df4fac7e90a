#pragma once

#include <QSortFilterProxyModel>
#include <QString>

namespace ms::ui {

// The Versions table's proxy: one model (or all), then the text filter over every column, and
// sorting by VersionTableModel::SortRole so numbers sort as numbers.
class VersionFilterProxy final : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    explicit VersionFilterProxy(QObject *parent = nullptr);

    // Empty: every model.
    void setModelName(const QString &name);
    QString modelName() const { return m_modelName; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QString m_modelName;
};

} // namespace ms::ui
