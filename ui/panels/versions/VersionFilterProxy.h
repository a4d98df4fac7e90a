#pragma once

#include <QSortFilterProxyModel>
#include <QString>

namespace ms::ui {

// The Versions table's proxy: one model (or all), then a case-insensitive text filter over every
// column (VersionTableModel::searchText, formatted once per reload rather than per keystroke),
// and sorting by VersionTableModel::SortRole so numbers sort as numbers.
class VersionFilterProxy final : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    explicit VersionFilterProxy(QObject *parent = nullptr);

    // Empty: every model.
    void setModelName(const QString &name);
    QString modelName() const { return m_modelName; }
    // Rows whose text contains `text`, ignoring case; empty: every row.
    void setText(const QString &text);
    QString text() const { return m_text; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QString m_modelName;
    QString m_text;   // lower-cased
};

} // namespace ms::ui
