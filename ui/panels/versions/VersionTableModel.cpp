#include "panels/versions/VersionTableModel.h"

#include "common/Format.h"

#include "common/Error.h"

#include <QLocale>

#include <exception>

namespace ms::ui {

namespace {

QString tagsText(const QMap<QString, QString> &tags)
{
    QStringList parts;
    for (auto it = tags.cbegin(); it != tags.cend(); ++it)
        parts << (it.value().isEmpty() ? it.key() : it.key() + QLatin1Char('=') + it.value());
    return parts.join(QStringLiteral(", "));
}

} // namespace

VersionTableModel::VersionTableModel(QString workspace, QObject *parent)
    : QAbstractTableModel(parent)
    , m_workspace(std::move(workspace))
{
}

QString VersionTableModel::reload()
{
    QVector<ms::VersionRecord> versions;
    QString error;
    try {
        const ms::Registry registry(m_workspace);
        for (const ms::ModelRecord &model : registry.models())
            versions += registry.versions(model.name, ms::Registry::Detail::Listing);
    } catch (const std::exception &e) {
        error = errorMessage(e);
        versions.clear();
    }
    beginResetModel();
    m_versions = std::move(versions);
    m_searchTexts.clear();
    endResetModel();
    return error;
}

int VersionTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_versions.size());
}

int VersionTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

const QString &VersionTableModel::searchText(int row) const
{
    if (m_searchTexts.size() != m_versions.size()) {
        m_searchTexts.clear();
        m_searchTexts.reserve(m_versions.size());
        for (int r = 0; r < m_versions.size(); ++r) {
            QString text;
            for (int column = 0; column < ColumnCount; ++column) {
                text += data(index(r, column)).toString();
                text += QLatin1Char('\n');   // no match across two columns
            }
            m_searchTexts << text.toLower();
        }
    }
    return m_searchTexts.at(row);
}

int VersionTableModel::rowOf(qint64 versionId) const
{
    for (int row = 0; row < m_versions.size(); ++row) {
        if (m_versions.at(row).id == versionId)
            return row;
    }
    return -1;
}

QVariant VersionTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_versions.size())
        return {};
    const ms::VersionRecord &v = m_versions.at(index.row());
    if (role == IdRole)
        return v.id;
    if (role == RefRole)
        return v.ref();
    if (role == Qt::TextAlignmentRole) {
        switch (index.column()) {
        case Version:
        case Accuracy:
        case Params:
        case Size:
            return int(Qt::AlignRight | Qt::AlignVCenter);
        default:
            return {};
        }
    }
    if (role == Qt::ToolTipRole) {
        // The whole text of the columns that may be elided when the table is narrow; the
        // model's cell adds the version's notes.
        switch (index.column()) {
        case Model:
            return v.notes.isEmpty() ? v.modelName
                                     : QStringLiteral("%1\n\n%2").arg(v.modelName, v.notes);
        case Version:
            return v.ref();
        case Aliases:
        case Tags: {
            const QString text = data(index, Qt::DisplayRole).toString();
            return text.isEmpty() ? QVariant() : QVariant(text);
        }
        default:
            return {};
        }
    }
    if (role != Qt::DisplayRole && role != SortRole)
        return {};
    const bool sort = role == SortRole;
    switch (index.column()) {
    case Model:
        return v.modelName;
    case Version:
        return sort ? QVariant(v.number) : QVariant(v.ref());
    case Kind:
        return ms::versionKindName(v.kind);
    case Accuracy: {
        const double acc = v.accuracy();
        if (sort)
            return acc;
        return acc < 0 ? QString() : QStringLiteral("%1 %").arg(acc * 100.0, 0, 'f', 2);
    }
    case Params:
        return sort ? QVariant(v.parameterCount) : QVariant(formatCount(v.parameterCount));
    case Size:
        return sort ? QVariant(v.sizeBytes) : QVariant(formatSize(v.sizeBytes));
    case Created:
        return sort ? QVariant(v.created.toMSecsSinceEpoch())
                    : QVariant(QLocale().toString(v.created.toLocalTime(),
                                                  QStringLiteral("yyyy-MM-dd HH:mm")));
    case Aliases:
        return v.aliases.join(QStringLiteral(", "));
    case Tags:
        return tagsText(v.tags);
    default:
        return {};
    }
}

QVariant VersionTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Model: return tr("Model");
    case Version: return tr("Version");
    case Kind: return tr("Kind");
    case Accuracy: return tr("Accuracy");
    case Params: return tr("Params");
    case Size: return tr("Size");
    case Created: return tr("Created");
    case Aliases: return tr("Aliases");
    case Tags: return tr("Tags");
    default: return {};
    }
}

} // namespace ms::ui
