#include "panels/data/CsvRowsModel.h"

#include "data/CsvReader.h"

#include <QFont>

#include <algorithm>

namespace ms::ui {

CsvRowsModel::CsvRowsModel(QObject *parent)
    : QAbstractTableModel(parent)
{}

void CsvRowsModel::setRows(QList<QStringList> rows, const QString &labelColumn)
{
    beginResetModel();
    m_header.clear();
    m_columns = 0;
    for (const QStringList &row : std::as_const(rows))
        m_columns = std::max(m_columns, int(row.size()));
    if (!rows.isEmpty()) {
        const QStringList &first = rows.first();
        const bool isHeader = std::any_of(first.cbegin(), first.cend(), [](const QString &cell) {
            bool number = false;
            cell.trimmed().toDouble(&number);
            return !number;
        });
        if (isHeader)
            m_header = rows.takeFirst();
    }
    m_rows = std::move(rows);
    // The reader's own rule, so the bold column is the one a run would use.
    m_labelColumn = ms::CsvReader::defaultLabelColumn(m_header, m_columns);
    if (!labelColumn.isEmpty()) {
        bool isIndex = false;
        const int index = labelColumn.toInt(&isIndex);
        const qsizetype named = m_header.indexOf(labelColumn);
        if (named >= 0)
            m_labelColumn = int(named);
        else if (isIndex && index >= 0 && index < m_columns)
            m_labelColumn = index;
    }
    endResetModel();
}

void CsvRowsModel::clear()
{
    setRows({});
}

int CsvRowsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int CsvRowsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : m_columns;
}

QVariant CsvRowsModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const QStringList &row = m_rows.at(index.row());
    switch (role) {
    case Qt::DisplayRole:
        return index.column() < row.size() ? row.at(index.column()) : QString();
    case Qt::FontRole:
        if (index.column() == m_labelColumn) {
            QFont font;
            font.setBold(true);
            return font;
        }
        return {};
    case Qt::TextAlignmentRole: {
        bool number = false;
        if (index.column() < row.size())
            row.at(index.column()).toDouble(&number);
        return QVariant::fromValue(Qt::Alignment(
            (number ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter));
    }
    default:
        return {};
    }
}

QVariant CsvRowsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role != Qt::DisplayRole)
        return {};
    if (orientation == Qt::Vertical)
        return section + 1;
    QString name = section < m_header.size() ? m_header.at(section)
                                             : tr("column %1").arg(section + 1);
    if (section == m_labelColumn)
        name += tr(" (label)");
    return name;
}

} // namespace ms::ui
