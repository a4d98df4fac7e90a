#include "panels/compare/CompareSelectionModel.h"

#include "registry/Registry.h"

#include <QFont>

#include <algorithm>

namespace ms::ui {

namespace {

QString accuracyText(const QJsonObject &metrics)
{
    const QJsonValue value = metrics.value(QStringLiteral("test_acc"));
    return value.isDouble() ? QStringLiteral("%1 %").arg(value.toDouble() * 100.0, 0, 'f', 2)
                            : QString();
}

} // namespace

CompareSelectionModel::CompareSelectionModel(QObject *parent)
    : QStandardItemModel(parent)
{
    setHorizontalHeaderLabels({tr("Version"), tr("Kind"), tr("Test acc")});
    connect(this, &QStandardItemModel::itemChanged, this,
            &CompareSelectionModel::onItemChanged);
}

void CompareSelectionModel::reload(const ms::Registry &registry)
{
    QVector<CompareItem> items;
    QVector<QPair<QString, QVector<int>>> groups;   // model name -> indexes into items
    for (const ms::ModelRecord &model : registry.models()) {
        QVector<int> indexes;
        for (const ms::VersionRecord &v :
             registry.versions(model.name, ms::Registry::Detail::Listing)) {
            CompareItem item;
            item.key = QStringLiteral("v:%1").arg(v.id);
            item.label = v.ref();
            item.versionId = v.id;
            item.runId = v.runId;
            item.kind = ms::versionKindName(v.kind);
            item.metrics = v.metrics;
            item.parameterCount = v.parameterCount;
            item.sizeBytes = v.sizeBytes;
            item.created = v.created;
            indexes << int(items.size());
            items << item;
        }
        groups.append({model.name, indexes});
    }
    QVector<int> bareRuns;
    for (const ms::RunRecord &run : registry.runs()) {
        if (run.versionId != 0 || run.status == ms::RunStatus::Running)
            continue;
        CompareItem item;
        item.key = QStringLiteral("r:%1").arg(run.id);
        const QString arch = run.spec.value(QStringLiteral("arch")).toString();
        item.label = arch.isEmpty() ? tr("run %1").arg(run.id)
                                    : tr("run %1 (%2)").arg(run.id).arg(arch);
        item.runId = run.id;
        item.kind = ms::runStatusName(run.status);
        item.created = run.started;
        bareRuns << int(items.size());
        items << item;
    }
    if (!bareRuns.isEmpty())
        groups.append({tr("Runs without a version"), bareRuns});

    m_rebuilding = true;
    removeRows(0, rowCount());
    QStringList stillThere;
    for (const auto &group : std::as_const(groups)) {
        auto *parent = new QStandardItem(
            QStringLiteral("%1 (%2)").arg(group.first, QString::number(group.second.size())));
        parent->setEditable(false);
        parent->setSelectable(false);
        parent->setToolTip(group.first);   // elided when the tree is narrow
        QFont bold = parent->font();
        bold.setBold(true);
        parent->setFont(bold);
        QList<QStandardItem *> parentRow{parent};
        for (int c = 1; c < ColumnCount; ++c) {
            auto *filler = new QStandardItem;
            filler->setEditable(false);
            filler->setSelectable(false);
            parentRow << filler;
        }
        appendRow(parentRow);
        for (const int index : group.second) {
            const CompareItem &item = items.at(index);
            auto *name = new QStandardItem(item.label);
            name->setEditable(false);
            name->setCheckable(true);
            name->setData(item.key, KeyRole);
            name->setCheckState(m_checked.contains(item.key) ? Qt::Checked : Qt::Unchecked);
            name->setToolTip(item.runId != 0
                                 ? tr("%1 · run %2").arg(item.label, QString::number(item.runId))
                                 : tr("%1 · no run: final metrics only").arg(item.label));
            auto *kind = new QStandardItem(item.kind);
            kind->setEditable(false);
            auto *accuracy = new QStandardItem(accuracyText(item.metrics));
            accuracy->setEditable(false);
            accuracy->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            parent->appendRow({name, kind, accuracy});
            if (m_checked.contains(item.key))
                stillThere << item.key;
        }
    }
    m_items = items;
    // A checked version someone deleted meanwhile is dropped, the order of the rest kept.
    QStringList kept;
    for (const QString &key : std::as_const(m_checked)) {
        if (stillThere.contains(key))
            kept << key;
    }
    const bool changed = kept != m_checked;
    m_checked = kept;
    m_rebuilding = false;
    if (changed)
        Q_EMIT checkedChanged();
}

QVector<CompareItem> CompareSelectionModel::checkedItems() const
{
    QVector<CompareItem> out;
    for (const QString &key : m_checked) {
        if (const CompareItem *found = item(key))
            out << *found;
    }
    return out;
}

const CompareItem *CompareSelectionModel::item(const QString &key) const
{
    for (const CompareItem &candidate : m_items) {
        if (candidate.key == key)
            return &candidate;
    }
    return nullptr;
}

QStandardItem *CompareSelectionModel::findItem(const QString &keyOrRef) const
{
    for (int row = 0; row < rowCount(); ++row) {
        QStandardItem *parent = QStandardItemModel::item(row);
        for (int child = 0; child < parent->rowCount(); ++child) {
            QStandardItem *candidate = parent->child(child);
            if (candidate->data(KeyRole).toString() == keyOrRef
                || candidate->text() == keyOrRef)
                return candidate;
        }
    }
    return nullptr;
}

bool CompareSelectionModel::setChecked(const QString &keyOrRef, bool checked)
{
    QStandardItem *found = findItem(keyOrRef);
    if (!found)
        return false;
    found->setCheckState(checked ? Qt::Checked : Qt::Unchecked);   // onItemChanged follows
    return true;
}

void CompareSelectionModel::clearChecks()
{
    const QStringList keys = m_checked;
    for (const QString &key : keys)
        setChecked(key, false);
}

int CompareSelectionModel::checkNewest(int count)
{
    // Versions whose runs trained (a training run, a distillation): their curves are what this
    // panel overlays. A quantization or a one-shot pruning records a run with no curve at all.
    static const QStringList kindsWithCurves{QStringLiteral("trained"),
                                             QStringLiteral("finetuned"),
                                             QStringLiteral("distilled")};
    QVector<const CompareItem *> candidates;
    for (const CompareItem &item : std::as_const(m_items)) {
        if (item.versionId != 0 && item.runId != 0 && kindsWithCurves.contains(item.kind))
            candidates << &item;
    }
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const CompareItem *a, const CompareItem *b) {
                         return a->created > b->created
                                || (a->created == b->created && a->versionId > b->versionId);
                     });
    clearChecks();
    int checked = 0;
    // Oldest of the chosen first, so the newest gets the last colour and draws on top.
    for (int i = std::min<int>(count, int(candidates.size())) - 1; i >= 0; --i) {
        if (setChecked(candidates[i]->key, true))
            ++checked;
    }
    return checked;
}

void CompareSelectionModel::onItemChanged(QStandardItem *changed)
{
    if (m_rebuilding || !changed->isCheckable())
        return;
    const QString key = changed->data(KeyRole).toString();
    const bool checked = changed->checkState() == Qt::Checked;
    if (checked == m_checked.contains(key))
        return;
    if (checked)
        m_checked << key;
    else
        m_checked.removeAll(key);
    Q_EMIT checkedChanged();
}

} // namespace ms::ui
