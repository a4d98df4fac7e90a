// The Compare panel over a real registry with two recorded runs (points written through the
// Registry, not trained) and an import without a run: overlaying two runs draws two graphs with
// the registry's point counts, the table's best values are the registry's best, the metric list
// is the union of the runs' keys, and stored benchmarks show in the Variants tab.
#include "panels/compare/ComparePanel.h"
#include "panels/compare/CompareSelectionModel.h"
#include "panels/compare/CompareTableModel.h"
#include "panels/compare/VariantScatter.h"
#include "panels/compare/VariantTableModel.h"
#include "panels/compare/VariantsView.h"
#include "plots/MetricPlot.h"
#include "ui/TinyModel.h"

#include <qcustomplot.h>

#include "registry/Registry.h"

#include <QComboBox>
#include <QJsonArray>
#include <QLineEdit>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTreeView>
#include <QtTest>

#include <algorithm>

using ms::ui::ComparePanel;
using ms::ui::CompareTableModel;

namespace {

// One run logging `accuracies` once an epoch (val_acc) and `stepsPerEpoch` losses an epoch;
// `extraKey`, when given, is logged once too.
qint64 recordRun(ms::Registry &registry, const QString &dir, const QVector<double> &accuracies,
                 int stepsPerEpoch, const QString &extraKey = QString())
{
    const qint64 run = registry.startRun(QStringLiteral("train"),
                                         QJsonObject{{QStringLiteral("arch"),
                                                      QStringLiteral("mlp")}},
                                         dir);
    ms::MetricBatch batch;
    qint64 step = 0;
    for (int epoch = 1; epoch <= accuracies.size(); ++epoch) {
        for (int s = 0; s < stepsPerEpoch; ++s, ++step)
            batch.append({QStringLiteral("loss"), step, epoch, 2.0 / double(step + 1),
                          double(step) * 0.01});
        batch.append({QStringLiteral("val_acc"), step - 1, epoch, accuracies[epoch - 1],
                      double(step) * 0.01});
    }
    if (!extraKey.isEmpty())
        batch.append({extraKey, 0, 1, 0.001, 0.0});
    registry.appendMetrics(run, batch);
    return run;
}

double registryBest(const ms::Registry &registry, qint64 run, const QString &key, bool lower)
{
    const QVector<ms::MetricSample> samples = registry.metrics(run, key);
    double best = samples.first().value;
    for (const ms::MetricSample &s : samples)
        best = lower ? std::min(best, s.value) : std::max(best, s.value);
    return best;
}

} // namespace

class TestComparePanel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void overlaysTwoRuns();
    void bestValuesAreTheRegistrys();
    void metricsAreTheUnionOfKeys();
    void benchmarksShowInVariants();
    void newestSelectsVersionsWithCurves();
    void newestSkipsVariantsWithoutCurves();
    void filterKeepsMatchingVersions();

private:
    QTemporaryDir m_workspace;
    qint64 m_runA = 0;
    qint64 m_runB = 0;
};

void TestComparePanel::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_workspace.isValid());
    ms::Registry registry(m_workspace.path());
    // Run A peaks at epoch 2 and falls back: its best is not its final value.
    m_runA = recordRun(registry, m_workspace.filePath(QStringLiteral("runs/a")),
                       {0.5, 0.7, 0.6}, 10);
    m_runB = recordRun(registry, m_workspace.filePath(QStringLiteral("runs/b")),
                       {0.4, 0.55, 0.65, 0.8}, 10, QStringLiteral("lr"));
    const ms::NewVersion tiny = ms::test::tinyImageVersion(
        QStringLiteral("net"), m_workspace.filePath(QStringLiteral("tiny.pt")));
    auto add = [&](qint64 run, double testAcc) {
        ms::NewVersion version = tiny;
        version.kind = run ? ms::VersionKind::Trained : ms::VersionKind::Imported;
        version.runId = run;
        version.metrics = QJsonObject{{QStringLiteral("test_acc"), testAcc}};
        const ms::VersionRecord added = registry.addVersion(version);
        if (run)
            registry.finishRun(run, ms::RunStatus::Finished, QString(), added.id);
        return added;
    };
    add(m_runA, 0.61);                                   // net:1
    const ms::VersionRecord b = add(m_runB, 0.79);       // net:2
    add(0, 0.5);                                          // net:3, imported: no curves
    registry.addBenchmark(b.id, QJsonObject{{QStringLiteral("threads"), 1},
                                            {QStringLiteral("memory_bytes"), 4096},
                                            {QStringLiteral("latency_ms"), 1.25},
                                            {QStringLiteral("accuracy"), 0.79},
                                            {QStringLiteral("size_bytes"), 942000},
                                            {QStringLiteral("version"), QStringLiteral("net:2")},
                                            {QStringLiteral("confusion_matrix"),
                                             QJsonArray{QJsonArray{3, 1}, QJsonArray{0, 4}}}});
}

void TestComparePanel::overlaysTwoRuns()
{
    ComparePanel panel(m_workspace.path());
    QVERIFY2(!panel.statusIsError(), qPrintable(panel.statusText()));
    QVERIFY(panel.setChecked(QStringLiteral("net:1"), true));
    QVERIFY(panel.setChecked(QStringLiteral("net:2"), true));

    // val_acc is preferred; it is logged once an epoch, so the x axis is the epoch.
    QCOMPARE(panel.metric(), QStringLiteral("val_acc"));
    ms::ui::MetricPlot *plot = panel.plot();
    QCOMPARE(panel.seriesIds().size(), 2);
    QCOMPARE(plot->customPlot()->graphCount(), 2);   // drawn, not only listed
    const QStringList ids = panel.seriesIds();
    QCOMPARE(plot->pointCount(ids[0]), 3);
    QCOMPARE(plot->pointCount(ids[1]), 4);
    QCOMPARE(plot->point(ids[1], 3), QPointF(4.0, 0.8));   // epoch 4, 0.8
    // One distinct colour per run, in the table too.
    const auto &rows = panel.tableModel()->rows();
    QCOMPARE(rows.size(), 2);
    QVERIFY(rows[0].color != rows[1].color);

    // The losses: ten a step per epoch, drawn against the step.
    QVERIFY(panel.setMetric(QStringLiteral("loss")));
    QCOMPARE(plot->pointCount(ids[0]), 30);
    QCOMPARE(plot->pointCount(ids[1]), 40);
    QCOMPARE(plot->point(ids[0], 29).x(), 29.0);

    // Unchecking one leaves one graph.
    QVERIFY(panel.setChecked(QStringLiteral("net:1"), false));
    QCOMPARE(panel.seriesIds().size(), 1);
    QCOMPARE(plot->customPlot()->graphCount(), 1);
    QCOMPARE(panel.tableModel()->rowCount(), 1);
}

void TestComparePanel::bestValuesAreTheRegistrys()
{
    ComparePanel panel(m_workspace.path());
    QVERIFY(panel.setChecked(QStringLiteral("net:1"), true));
    QVERIFY(panel.setChecked(QStringLiteral("net:2"), true));
    QVERIFY(panel.setMetric(QStringLiteral("val_acc")));
    const ms::Registry registry(m_workspace.path());
    CompareTableModel *table = panel.tableModel();
    QCOMPARE(table->rowCount(), 2);
    const qint64 runs[] = {m_runA, m_runB};
    for (int row = 0; row < 2; ++row) {
        const double best = table->index(row, CompareTableModel::Best)
                                .data(CompareTableModel::ValueRole).toDouble();
        QCOMPARE(best, registryBest(registry, runs[row], QStringLiteral("val_acc"), false));
    }
    // Run A's best (0.7 at epoch 2) is not its final value (0.6).
    QCOMPARE(table->rows()[0].best, 0.7);
    QCOMPARE(table->rows()[0].final, 0.6);
    QCOMPARE(table->rows()[0].bestEpoch, 2);
    QCOMPARE(table->rows()[0].testAcc, 0.61);

    // For a loss the best is the smallest.
    QVERIFY(panel.setMetric(QStringLiteral("loss")));
    QVERIFY(table->headerData(CompareTableModel::Best, Qt::Horizontal).toString()
                .contains(QStringLiteral("min")));
    for (int row = 0; row < 2; ++row)
        QCOMPARE(table->rows()[row].best,
                 registryBest(registry, runs[row], QStringLiteral("loss"), true));
}

void TestComparePanel::metricsAreTheUnionOfKeys()
{
    ComparePanel panel(m_workspace.path());
    QVERIFY(panel.setChecked(QStringLiteral("net:1"), true));
    QComboBox *combo = panel.metricCombo();
    QCOMPARE(combo->count(), 2);   // loss, val_acc
    QVERIFY(!panel.setMetric(QStringLiteral("lr")));
    QVERIFY(panel.setChecked(QStringLiteral("net:2"), true));
    QCOMPARE(combo->count(), 3);   // run B also logs lr
    QVERIFY(panel.setMetric(QStringLiteral("lr")));
    // Only run B has it: one graph, and run A's row says it has no point of it.
    QCOMPARE(panel.seriesIds().size(), 1);
    QCOMPARE(panel.tableModel()->rows()[0].points, 0);
    QCOMPARE(panel.tableModel()->rows()[1].points, 1);
}

void TestComparePanel::benchmarksShowInVariants()
{
    ComparePanel panel(m_workspace.path());
    QVERIFY(panel.setChecked(QStringLiteral("net:1"), true));
    ms::ui::VariantsView *variants = panel.variants();
    QCOMPARE(variants->benchmarkedCount(), 0);
    QCOMPARE(variants->missing(), QStringList{QStringLiteral("net:1")});
    QVERIFY(panel.setChecked(QStringLiteral("net:2"), true));
    QCOMPARE(variants->benchmarkedCount(), 1);
    QCOMPARE(variants->tableModel()->rowCount(), 1);
    QCOMPARE(variants->tableModel()->index(0, 0).data().toString(), QStringLiteral("net:2"));
    // A stored size shows in its column; what the result lacks shows as "-".
    const int size = variants->tableModel()->columnOf(QStringLiteral("size_bytes"));
    QCOMPARE(variants->tableModel()->index(0, size).data(ms::ui::VariantTableModel::ValueRole)
                 .toDouble(), 942000.0);
    const int acc = variants->tableModel()->columnOf(QStringLiteral("test_acc"));
    QCOMPARE(variants->tableModel()->index(0, acc).data().toString(), QStringLiteral("-"));
    QCOMPARE(panel.tabs()->tabText(ComparePanel::VariantsTab), QStringLiteral("Variants (1)"));
    // No accuracy: nothing to place on the accuracy-latency scatter.
    QCOMPARE(variants->scatter()->points().size(), 0);
}

void TestComparePanel::newestSelectsVersionsWithCurves()
{
    ComparePanel panel(m_workspace.path());
    // net:3 is newer but an import without a run: it has no curves to overlay.
    QCOMPARE(panel.selectNewest(3), 2);
    const QVector<ms::ui::CompareItem> items = panel.selectionModel()->checkedItems();
    QCOMPARE(items.size(), 2);
    QStringList labels{items[0].label, items[1].label};
    labels.sort();
    QCOMPARE(labels, (QStringList{QStringLiteral("net:1"), QStringLiteral("net:2")}));
    QCOMPARE(panel.seriesIds().size(), 2);

    // An import can still be checked: it brings its final metrics, not a graph.
    QVERIFY(panel.setChecked(QStringLiteral("net:3"), true));
    QCOMPARE(panel.tableModel()->rowCount(), 3);
    QCOMPARE(panel.seriesIds().size(), 2);
    QCOMPARE(panel.tableModel()->rows()[2].testAcc, 0.5);
    QVERIFY(!panel.tableModel()->rows()[2].hasRun);
}

void TestComparePanel::newestSkipsVariantsWithoutCurves()
{
    // A quantization records a run too, but logs no curve: "Newest 3" must not spend a slot on
    // it, however new it is.
    QTemporaryDir workspace;
    QVERIFY(workspace.isValid());
    {
        ms::Registry registry(workspace.path());
        const ms::NewVersion tiny = ms::test::tinyImageVersion(
            QStringLiteral("net"), workspace.filePath(QStringLiteral("tiny.pt")));
        const qint64 trainRun = recordRun(registry, workspace.filePath(QStringLiteral("runs/t")),
                                          {0.5, 0.7}, 10);
        ms::NewVersion trained = tiny;
        trained.kind = ms::VersionKind::Trained;
        trained.runId = trainRun;
        const ms::VersionRecord source = registry.addVersion(trained);   // net:1
        registry.finishRun(trainRun, ms::RunStatus::Finished, QString(), source.id);
        const qint64 quantRun = registry.startRun(QStringLiteral("compress"), QJsonObject(),
                                                  workspace.filePath(QStringLiteral("runs/q")));
        ms::NewVersion quantized = tiny;
        quantized.kind = ms::VersionKind::Quantized;
        quantized.runId = quantRun;
        quantized.parents = {{source.id, QStringLiteral("source")}};
        const ms::VersionRecord variant = registry.addVersion(quantized); // net:2, newer
        registry.finishRun(quantRun, ms::RunStatus::Finished, QString(), variant.id);
    }
    ComparePanel panel(workspace.path());
    QCOMPARE(panel.selectNewest(3), 1);
    QCOMPARE(panel.selectionModel()->checkedItems().value(0).label, QStringLiteral("net:1"));
}

void TestComparePanel::filterKeepsMatchingVersions()
{
    ComparePanel panel(m_workspace.path());
    auto *proxy = qobject_cast<QSortFilterProxyModel *>(
        panel.findChild<QTreeView *>()->model());
    QVERIFY(proxy);
    QCOMPARE(proxy->rowCount(), 1);                       // one model, "net"
    QCOMPARE(proxy->rowCount(proxy->index(0, 0)), 3);
    panel.findChild<QLineEdit *>()->setText(QStringLiteral("net:2"));
    QCOMPARE(proxy->rowCount(), 1);
    QCOMPARE(proxy->rowCount(proxy->index(0, 0)), 1);
    panel.findChild<QLineEdit *>()->setText(QStringLiteral("nothing"));
    QCOMPARE(proxy->rowCount(), 0);
}

QTEST_MAIN(TestComparePanel)
#include "tst_comparepanel.moc"
