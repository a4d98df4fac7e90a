#include "BenchmarkTableModel.h"

#include "Format.h"

#include <QJsonArray>
#include <QJsonDocument>

#include <algorithm>

namespace ms::ui {

namespace {

// Where a key sorts: the four families a comparison of variants is about come first.
int family(const QString &key)
{
    const QString k = key.toLower();
    if (k.contains(QLatin1String("acc")))
        return 0;
    if (k.contains(QLatin1String("latency")) || k.contains(QLatin1String("throughput"))
        || k.endsWith(QLatin1String("_ms")))
        return 1;
    if (k.contains(QLatin1String("size")))
        return 2;
    if (k.contains(QLatin1String("memory")) || k.contains(QLatin1String("mem_"))
        || k.contains(QLatin1String("rss")))
        return 3;
    return 4;
}

// The whole value, for a tooltip: nested results (latency per batch size, a confusion matrix)
// are too large for a cell.
QString fullText(const QJsonValue &value)
{
    constexpr int kTooltipChars = 2000;
    QString text;
    if (value.isArray())
        text = QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Indented));
    else if (value.isObject())
        text = QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Indented));
    else
        text = value.toVariant().toString();
    return text.size() > kTooltipChars ? text.left(kTooltipChars) + QStringLiteral("\n…") : text;
}

QString cellText(const QJsonValue &value)
{
    switch (value.type()) {
    case QJsonValue::Double: return formatValue(value.toDouble());
    case QJsonValue::String: return value.toString();
    case QJsonValue::Bool: return value.toBool() ? QStringLiteral("yes") : QStringLiteral("no");
    case QJsonValue::Array: return QStringLiteral("[%1 items]").arg(value.toArray().size());
    case QJsonValue::Object: return QStringLiteral("{%1}").arg(
        QStringList(value.toObject().keys().mid(0, 3)).join(QStringLiteral(", "))
        + (value.toObject().size() > 3 ? QStringLiteral(", …") : QString()));
    case QJsonValue::Null: return QStringLiteral("—");
    default: return QString();
    }
}

} // namespace

BenchmarkTableModel::BenchmarkTableModel(QObject *parent)
    : QAbstractTableModel(parent)
{}

void BenchmarkTableModel::setRows(QVector<Row> rows)
{
    beginResetModel();
    m_rows = std::move(rows);
    QStringList keys;
    for (const Row &row : std::as_const(m_rows)) {
        for (auto it = row.result.constBegin(); it != row.result.constEnd(); ++it) {
            // The first column already names the version.
            if (it.key() == QLatin1String("version") || it.key() == QLatin1String("version_id"))
                continue;
            if (!keys.contains(it.key()))
                keys << it.key();
        }
    }
    std::stable_sort(keys.begin(), keys.end(), [](const QString &a, const QString &b) {
        const int fa = family(a);
        const int fb = family(b);
        return fa != fb ? fa < fb : a < b;
    });
    m_keys = keys;
    endResetModel();
}

int BenchmarkTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int BenchmarkTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_keys.size()) + 1;
}

QVariant BenchmarkTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size())
        return {};
    const Row &row = m_rows.at(index.row());
    if (index.column() == 0) {
        if (role == Qt::DisplayRole)
            return row.label;
        if (role == Qt::DecorationRole)
            return row.color;
        return {};
    }
    const QJsonValue value = row.result.value(m_keys.at(index.column() - 1));
    switch (role) {
    case Qt::DisplayRole: return value.isUndefined() ? QStringLiteral("—") : cellText(value);
    case Qt::ToolTipRole: return fullText(value);
    case Qt::UserRole: return value.toVariant();
    case Qt::TextAlignmentRole:
        return QVariant::fromValue(Qt::Alignment(
            (value.isDouble() ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter));
    default: return {};
    }
}

QVariant BenchmarkTableModel::headerData(int section, Qt::Orientation orientation,
                                         int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    if (section == 0)
        return tr("Version");
    return section - 1 < m_keys.size() ? m_keys.at(section - 1) : QVariant();
}

} // namespace ms::ui
