#include "common/ColumnFit.h"

#include <QAbstractItemModel>
#include <QApplication>
#include <QEvent>
#include <QHeaderView>
#include <QHelpEvent>
#include <QTableView>
#include <QToolTip>

#include <algorithm>
#include <cmath>

namespace ms::ui {

namespace {

// The room a cell's text gets inside the cell, as QCommonStyle draws an item's text.
int textWidth(const QAbstractItemView *view, const QStyleOptionViewItem &option)
{
    const QStyle *style = view ? view->style() : QApplication::style();
    const QRect textRect = style->subElementRect(QStyle::SE_ItemViewItemText, &option, view);
    const int margin = style->pixelMetric(QStyle::PM_FocusFrameHMargin, nullptr, view) + 1;
    return textRect.width() - 2 * margin;
}

} // namespace

ColumnFitter::ColumnFitter(QTableView *view)
    : QObject(view)
    , m_view(view)
{
    view->setItemDelegate(new ElidingDelegate(view));
    view->viewport()->installEventFilter(this);
    view->horizontalHeader()->viewport()->installEventFilter(this);
    connect(view->horizontalHeader(), &QHeaderView::sectionResized, this, [this] {
        if (m_headerPressed && !m_fitting)
            m_userSized = true;
    });
    auto follow = [this](QAbstractItemModel *model) {
        if (!model)
            return;
        connect(model, &QAbstractItemModel::modelReset, this, &ColumnFitter::scheduleFit);
        connect(model, &QAbstractItemModel::layoutChanged, this, &ColumnFitter::scheduleFit);
        connect(model, &QAbstractItemModel::rowsInserted, this, &ColumnFitter::scheduleFit);
        connect(model, &QAbstractItemModel::dataChanged, this, &ColumnFitter::scheduleFit);
        connect(model, &QAbstractItemModel::headerDataChanged, this, &ColumnFitter::scheduleFit);
    };
    follow(view->model());
    scheduleFit();
}

void ColumnFitter::setElidable(int column, Qt::TextElideMode mode, int rank, int floorChars)
{
    m_elidable.insert(column, rank);
    if (floorChars > 0)
        m_floors.insert(column, floorChars);
    else
        m_floors.remove(column);
    if (auto *delegate = qobject_cast<ElidingDelegate *>(m_view->itemDelegate()))
        delegate->setElideMode(column, mode);
    scheduleFit();
}

void ColumnFitter::setCharLimits(int floorChars, int capChars)
{
    m_floorChars = floorChars;
    m_capChars = std::max(floorChars, capChars);
    scheduleFit();
}

void ColumnFitter::scheduleFit()
{
    if (m_fitQueued)
        return;
    m_fitQueued = true;
    QMetaObject::invokeMethod(this, [this] { fit(); }, Qt::QueuedConnection);
}

void ColumnFitter::fit()
{
    m_fitQueued = false;
    const QAbstractItemModel *model = m_view->model();
    if (m_userSized || !model)
        return;
    QHeaderView *header = m_view->horizontalHeader();
    const int columns = model->columnCount();
    const int charWidth = std::max(1, m_view->fontMetrics().averageCharWidth());
    // QTableView makes sizeHintForColumn protected; the base class's public one dispatches to it.
    const QAbstractItemView *itemView = m_view;
    QVector<int> widths(columns, 0);
    int total = 0;
    for (int c = 0; c < columns; ++c) {
        if (header->isSectionHidden(c))
            continue;
        int width = std::max(itemView->sizeHintForColumn(c), header->sectionSizeHint(c));
        if (m_elidable.contains(c))
            width = std::min(width, std::max(m_capChars * charWidth, header->sectionSizeHint(c)));
        widths[c] = width;
        total += width;
    }
    // Too wide for the viewport: the free-text columns give way, rank by rank, each column of
    // a rank in proportion to what it has above its floor; numbers and dates keep their width
    // (a horizontal scroll bar is better than a cut number).
    int excess = total - m_view->viewport()->width();
    // What a column can give: down to its floor, never below its header's text.
    auto room = [&](int c) {
        const int floor = m_floors.value(c, m_floorChars) * charWidth;
        return std::max(0, widths[c] - std::max(floor, header->sectionSizeHint(c)));
    };
    QList<int> ranks = m_elidable.values();
    std::sort(ranks.begin(), ranks.end());
    ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
    for (int rank : std::as_const(ranks)) {
        if (excess <= 0)
            break;
        QList<int> group;
        int slack = 0;
        for (auto it = m_elidable.cbegin(); it != m_elidable.cend(); ++it) {
            if (it.value() == rank && it.key() < columns && !header->isSectionHidden(it.key())) {
                group << it.key();
                slack += room(it.key());
            }
        }
        if (slack <= 0)
            continue;
        const double share = std::min(1.0, double(excess) / double(slack));
        for (int c : std::as_const(group)) {
            const int cut = std::min(room(c), int(std::ceil(share * room(c))));
            widths[c] -= cut;
            excess -= cut;
        }
    }
    m_fitting = true;
    for (int c = 0; c < columns; ++c) {
        if (!header->isSectionHidden(c) && header->sectionSize(c) != widths[c])
            header->resizeSection(c, widths[c]);
    }
    m_fitting = false;
}

bool ColumnFitter::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_view->viewport() && event->type() == QEvent::Resize) {
        scheduleFit();
    } else if (watched == m_view->horizontalHeader()->viewport()) {
        switch (event->type()) {
        case QEvent::MouseButtonPress:
        case QEvent::MouseButtonDblClick:
            m_headerPressed = true;
            break;
        case QEvent::MouseButtonRelease:
            m_headerPressed = false;
            break;
        default:
            break;
        }
    }
    return QObject::eventFilter(watched, event);
}

ElidingDelegate::ElidingDelegate(QObject *parent)
    : QStyledItemDelegate(parent)
{
}

void ElidingDelegate::initStyleOption(QStyleOptionViewItem *option,
                                      const QModelIndex &index) const
{
    QStyledItemDelegate::initStyleOption(option, index);
    if (m_modes.contains(index.column()))
        option->textElideMode = m_modes.value(index.column());
}

QString ElidingDelegate::shownText(const QAbstractItemView *view, const QModelIndex &index) const
{
    QStyleOptionViewItem option;
    option.initFrom(view);
    option.rect = view->visualRect(index);
    option.textElideMode = view->textElideMode();
    initStyleOption(&option, index);
    return option.fontMetrics.elidedText(option.text, option.textElideMode,
                                         textWidth(view, option));
}

bool ElidingDelegate::helpEvent(QHelpEvent *event, QAbstractItemView *view,
                                const QStyleOptionViewItem &option, const QModelIndex &index)
{
    if (event && view && event->type() == QEvent::ToolTip && index.isValid()
        && !index.data(Qt::ToolTipRole).isValid()) {
        const QString text = index.data(Qt::DisplayRole).toString();
        if (!text.isEmpty() && shownText(view, index) != text) {
            QToolTip::showText(event->globalPos(), text, view->viewport(), option.rect);
            return true;
        }
    }
    return QStyledItemDelegate::helpEvent(event, view, option, index);
}

} // namespace ms::ui
