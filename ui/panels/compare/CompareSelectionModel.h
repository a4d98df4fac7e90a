#pragma once

#include <QDateTime>
#include <QJsonObject>
#include <QStandardItemModel>
#include <QStringList>
#include <QVector>

namespace ms {
class Registry;
}

namespace ms::ui {

// One thing the Compare panel can overlay: a version (with the run that produced it, if any)
// or a run that produced no version (stopped, failed, diverged).
struct CompareItem
{
    QString key;              // "v:<version id>" or "r:<run id>": stable across reloads
    QString label;            // "cnn:3", or "run 7 (cancelled)"
    qint64 versionId = 0;     // 0 for a bare run
    qint64 runId = 0;         // 0 for a version without a run (an import)
    QString kind;             // "trained", "quantized", ..., or the run's status
    QJsonObject metrics;      // the version's final metrics
    qint64 parameterCount = 0;
    qint64 sizeBytes = 0;
    QDateTime created;
};

// The registry's versions grouped by model, and the runs that made no version, as a checkable
// tree (Version | Kind | Test acc). Checked items survive a reload; checkedItems() lists them in
// the order they were checked, so each keeps its colour while others come and go.
class CompareSelectionModel final : public QStandardItemModel
{
    Q_OBJECT

public:
    enum Column { VersionColumn, KindColumn, AccuracyColumn, ColumnCount };
    static constexpr int KeyRole = Qt::UserRole + 1;

    explicit CompareSelectionModel(QObject *parent = nullptr);

    // Re-reads versions and runs; throws ms::Error when the registry cannot be read.
    void reload(const ms::Registry &registry);

    QVector<CompareItem> checkedItems() const;
    QStringList checkedKeys() const { return m_checked; }
    // False when no item has that key ("v:12") or ref ("cnn:3").
    bool setChecked(const QString &keyOrRef, bool checked);
    void clearChecks();
    // Checks the `count` newest trained, fine-tuned or distilled versions (those whose runs drew
    // curves), unchecking the rest.
    int checkNewest(int count);
    const CompareItem *item(const QString &key) const;

Q_SIGNALS:
    void checkedChanged();

private:
    void onItemChanged(QStandardItem *item);
    QStandardItem *findItem(const QString &keyOrRef) const;

    QVector<CompareItem> m_items;
    QStringList m_checked;     // keys in check order
    bool m_rebuilding = false;
};

} // namespace ms::ui
