#pragma once

#include <QHash>
#include <QObject>
#include <QStyledItemDelegate>

class QTableView;

namespace ms::ui {

// Keeps a table's columns as wide as their contents, so no number, date or short name is cut
// off, while free-text columns (names, tags) give way when the table is too narrow for all of
// them: those are capped, shrunk first when the columns would overflow the viewport, elided in
// their own mode (a version reference keeps its ":N" with Qt::ElideMiddle), and shown whole in a
// tooltip. It measures with QTableView::sizeHintForColumn (the rows in view and the header's
// resizeContentsPrecision beyond them) once per model change or viewport resize, not on every
// layout as QHeaderView::ResizeToContents would, and stops the moment the user drags a column's
// edge: from then on their widths stand.
class ColumnFitter final : public QObject
{
    Q_OBJECT

public:
    // Installs an ElidingDelegate on `view` and follows its model and viewport.
    explicit ColumnFitter(QTableView *view);

    // A free-text column: elided with `mode` when it must give way. Columns of a lower `rank`
    // give way first (to their floor) before those of the next rank do. `floorChars` (when
    // positive) is this column's own floor.
    void setElidable(int column, Qt::TextElideMode mode = Qt::ElideRight, int rank = 0,
                     int floorChars = 0);
    // A free-text column is never wider than `capChars` average characters, and gives way down
    // to `floorChars`.
    void setCharLimits(int floorChars, int capChars);

    // Measures now (a panel calls it after a reload); nothing once the user sized a column.
    void fit();
    bool isUserSized() const { return m_userSized; }
    // A restored header state is the user's sizing: it stands.
    void setUserSized(bool userSized) { m_userSized = userSized; }

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void scheduleFit();

    QTableView *m_view = nullptr;
    QHash<int, int> m_elidable;   // column -> rank
    QHash<int, int> m_floors;     // column -> its own floor in characters
    int m_floorChars = 8;
    int m_capChars = 32;
    bool m_fitting = false;
    bool m_fitQueued = false;
    bool m_userSized = false;
    bool m_headerPressed = false;   // a drag or double-click on a header handle is the user
};

// The item delegate ColumnFitter installs: a per-column elide mode, and the whole text as a
// tooltip when the cell elides it and the model offers no tooltip of its own.
class ElidingDelegate final : public QStyledItemDelegate
{
    Q_OBJECT

public:
    explicit ElidingDelegate(QObject *parent = nullptr);

    void setElideMode(int column, Qt::TextElideMode mode) { m_modes.insert(column, mode); }
    Qt::TextElideMode elideMode(int column) const
    {
        return m_modes.value(column, Qt::ElideRight);
    }
    // The text as the cell draws it at its current width ("resn…cifar:3" when elided).
    QString shownText(const QAbstractItemView *view, const QModelIndex &index) const;

    bool helpEvent(QHelpEvent *event, QAbstractItemView *view,
                   const QStyleOptionViewItem &option, const QModelIndex &index) override;

protected:
    void initStyleOption(QStyleOptionViewItem *option, const QModelIndex &index) const override;

private:
    QHash<int, Qt::TextElideMode> m_modes;
};

} // namespace ms::ui
