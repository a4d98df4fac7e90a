#pragma once

#include "bench/Comparison.h"
#include "jobs/JobRunner.h"

#include <QColor>
#include <QJsonObject>
#include <QList>
#include <QPointer>
#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QHBoxLayout;
class QLabel;
class QPushButton;
class QScrollArea;
class QSplitter;
class QTableView;

namespace ms::ui {

class ConfusionHeatmap;
class DisagreementView;
class VariantCard;
class VariantScatter;
class VariantTableModel;

// The Compare panel's "Variants" tab: the stored benchmarks of the checked versions compared
// against the first one (ms::Comparison, what `modelstudio-cli compare` prints) as cards, an
// accuracy-latency scatter with its Pareto front, the table, and confusion matrices of the rows
// selected in it. Versions without a benchmark are named, with the CLI line that measures them
// and a button that runs the same BenchmarkJob on the window's JobRunner. Below, the
// disagreement explorer (DisagreementView) lists the test images two checked versions predict
// differently; it needs no benchmark.
class VariantsView final : public QWidget
{
    Q_OBJECT

public:
    struct Entry
    {
        QString ref;             // "cnn:3"
        QColor color;
        QJsonObject benchmark;   // the latest stored result; empty when there is none
    };

    explicit VariantsView(QWidget *parent = nullptr);

    // Where the Benchmark button runs its job; without a runner it is hidden and the hint names
    // the CLI command only.
    void setJobRunner(ms::JobRunner *runner, const QString &workspace);

    void setEntries(const QVector<Entry> &entries);
    // The batch size whose p50 latency the scatter and the cards show; false when no
    // benchmark measured it.
    bool setBatch(int batch);
    int batch() const;
    void setLogLatency(bool log);
    // Shows the confusion matrices of these versions (at most kMaxHeatmaps), as selecting their
    // rows in the table does.
    void showConfusion(const QStringList &refs);

    static constexpr int kMaxHeatmaps = 3;

    int benchmarkedCount() const { return int(m_comparison.rows().size()); }
    QStringList missing() const { return m_missing; }
    VariantTableModel *tableModel() const { return m_model; }
    QTableView *tableView() const { return m_table; }
    VariantScatter *scatter() const { return m_scatter; }
    QList<VariantCard *> cards() const { return m_cards; }
    QList<ConfusionHeatmap *> heatmaps() const { return m_heatmaps; }
    QComboBox *batchCombo() const { return m_batch; }
    QPushButton *benchmarkButton() const { return m_benchButton; }
    DisagreementView *disagreements() const { return m_disagreements; }
    QString hintText() const;
    QString warningText() const;

Q_SIGNALS:
    // A benchmark started here finished and stored its results: the owner reloads.
    void benchmarksStored();
    // A cell of the disagreement explorer was activated (DisagreementView::tryRequested).
    void tryRequested(qint64 sample, const QStringList &versions, const QString &source);

protected:
    void showEvent(QShowEvent *event) override;

private:
    // Gives the matrices the width they need beside the scatter (the scatter the rest, down to
    // its minimum); they scroll when that is not enough.
    void balanceMiddle();
    void rebuildBatchChoices();
    void refreshScatterAndCards();
    void refreshHeatmaps();
    void runBenchmarks();

    QVector<Entry> m_allEntries;     // as given
    QVector<Entry> m_entries;        // those with a benchmark, in comparison order
    QStringList m_missing;           // refs of the checked versions without one
    ms::Comparison m_comparison;
    int m_wantedBatch = 32;

    QPointer<ms::JobRunner> m_runner;
    QString m_workspace;
    ms::JobId m_job = 0;
    QString m_jobMessage;            // why the last benchmark started here failed

    QComboBox *m_batch = nullptr;
    QCheckBox *m_log = nullptr;
    QLabel *m_hint = nullptr;
    QLabel *m_warnings = nullptr;
    QPushButton *m_benchButton = nullptr;
    QWidget *m_content = nullptr;
    QLabel *m_empty = nullptr;
    QScrollArea *m_cardScroll = nullptr;
    QHBoxLayout *m_cardRow = nullptr;
    QList<VariantCard *> m_cards;
    VariantScatter *m_scatter = nullptr;
    QHBoxLayout *m_heatmapRow = nullptr;
    QScrollArea *m_heatmapScroll = nullptr;
    QSplitter *m_middle = nullptr;
    bool m_balanced = false;   // the first show has balanced the splitter
    QList<ConfusionHeatmap *> m_heatmaps;
    VariantTableModel *m_model = nullptr;
    QTableView *m_table = nullptr;
    DisagreementView *m_disagreements = nullptr;
};

} // namespace ms::ui
