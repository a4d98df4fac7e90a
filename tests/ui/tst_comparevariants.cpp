// The Compare panel's Variants tab over a real registry: two mlp versions (different seeds, so
// different accuracies) measured by the real BenchmarkJob on a 300-sample Fashion-MNIST slice,
// and a third left unbenchmarked. The table must be ms::Comparison's, the scatter one dot per
// version at its benchmark's coordinates, the Pareto front exactly the non-dominated points, the
// cards' deltas the comparison's, the heat maps the stored confusion matrices, and the Benchmark
// button must run the job and show its result.
#include "panels/compare/ComparePanel.h"
#include "panels/compare/ConfusionHeatmap.h"
#include "panels/compare/VariantCard.h"
#include "panels/compare/VariantScatter.h"
#include "panels/compare/VariantTableModel.h"
#include "panels/compare/VariantsView.h"

#include <qcustomplot.h>

#include "bench/BenchmarkJob.h"
#include "bench/Comparison.h"
#include "jobs/JobContext.h"
#include "jobs/JobRunner.h"
#include "models/ArchitectureRegistry.h"
#include "models/Model.h"
#include "registry/Registry.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using ms::ui::ComparePanel;
using ms::ui::VariantScatter;
using ms::ui::VariantsView;
using ms::ui::VariantTableModel;

namespace {

QStringList digitClasses()
{
    QStringList classes;
    for (int i = 0; i < 10; ++i)
        classes << QString::number(i);
    return classes;
}

// An untrained 1x28x28 -> 10 mlp whose recipe names a small Fashion-MNIST slice, so the
// benchmark measures its accuracy on 300 test images.
ms::NewVersion mlpVersion(const QString &artifactPath, quint64 seed)
{
    const ms::Model model = ms::Model::build(
        ms::ArchitectureRegistry::instance().resolve(QStringLiteral("mlp"), {1, 28, 28}, 10),
        ms::ModelDataInfo{{1, 28, 28}, {0.5f}, {0.25f}, digitClasses()}, seed);
    model.save(artifactPath);
    ms::NewVersion version;
    version.modelName = QStringLiteral("net");
    version.kind = ms::VersionKind::Imported;
    version.artifactPath = artifactPath;
    version.inputs = {ms::TensorSignature{QStringLiteral("input"), QStringLiteral("float32"),
                                          {-1, 1, 28, 28}}};
    version.outputs = {ms::TensorSignature{QStringLiteral("output"), QStringLiteral("float32"),
                                           {-1, 10}}};
    version.classNames = digitClasses();
    version.parameterCount = model.parameterCount();
    version.recipe = QJsonObject{
        {QStringLiteral("data"), QJsonObject{{QStringLiteral("dataset"),
                                              QStringLiteral("fashion-mnist")},
                                             {QStringLiteral("limit"), 300},
                                             {QStringLiteral("seed"), 0}}}};
    return version;
}

double p50(const QJsonObject &benchmark, int batch)
{
    for (const QJsonValue &v : benchmark.value(QStringLiteral("latency")).toArray()) {
        if (v.toObject().value(QStringLiteral("batch_size")).toInt() == batch)
            return v.toObject().value(QStringLiteral("p50_ms")).toDouble();
    }
    return -1.0;
}

// A result shaped like BenchmarkJob's, with only what the view reads.
QJsonObject crafted(const QString &ref, double latency_ms, double accuracy, double size_bytes)
{
    return QJsonObject{
        {QStringLiteral("version"), ref},
        {QStringLiteral("kind"), QStringLiteral("trained")},
        {QStringLiteral("threads"), 1},
        {QStringLiteral("test_acc"), accuracy},
        {QStringLiteral("size_bytes"), size_bytes},
        {QStringLiteral("peak_rss_delta_bytes"), size_bytes * 2},
        {QStringLiteral("latency"),
         QJsonArray{QJsonObject{{QStringLiteral("batch_size"), 32},
                                {QStringLiteral("p50_ms"), latency_ms},
                                {QStringLiteral("throughput_per_s"), 32000.0 / latency_ms}}}},
        {QStringLiteral("class_names"), QJsonArray{QStringLiteral("a"), QStringLiteral("b")}},
        {QStringLiteral("confusion_matrix"),
         QJsonArray{QJsonArray{int(accuracy * 10), 10 - int(accuracy * 10)},
                    QJsonArray{0, 10}}}};
}

} // namespace

class TestCompareVariants final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void tableIsTheComparison();
    void unbenchmarkedVersionsAreNamed();
    void scatterHasOnePointPerVersion();
    void paretoFront_data();
    void paretoFront();
    void frontDrawnIsTheNonDominatedPoints();
    void cardsShowDeltasAgainstTheBaseline();
    void heatmapsAreTheConfusionMatrices();
    void heatmapNamesDoNotOverlap_data();
    void heatmapNamesDoNotOverlap();
    void cardsNeverCutTheirText();
    void benchmarkButtonRunsTheJob();
    void failedBenchmarkIsExplained();

private:
    QVector<QPair<QString, QJsonObject>> latest(const QStringList &refs) const;

    QTemporaryDir m_workspace;
};

void TestCompareVariants::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_workspace.isValid());
    ms::Registry registry(m_workspace.path());
    for (quint64 seed : {1, 2, 3})
        registry.addVersion(mlpVersion(
            m_workspace.filePath(QStringLiteral("mlp%1.pt").arg(seed)), seed));

    // The real job, small: two batch sizes, few repetitions. net:3 stays unbenchmarked.
    ms::BenchmarkConfig config;
    config.versions = {QStringLiteral("net:1"), QStringLiteral("net:2")};
    config.batchSizes = {1, 4};
    config.warmup = 1;
    config.repetitions = 3;
    ms::BenchmarkJob job(m_workspace.path(), config);
    ms::JobContext context;
    const ms::JobResult result = job.run(context);
    QVERIFY2(result.status == ms::JobStatus::Finished, qPrintable(result.message));
    QCOMPARE(registry.benchmarks(registry.resolve(QStringLiteral("net:1")).id).size(), 1);
}

QVector<QPair<QString, QJsonObject>> TestCompareVariants::latest(const QStringList &refs) const
{
    const ms::Registry registry(m_workspace.path());
    QVector<QPair<QString, QJsonObject>> out;
    for (const QString &ref : refs)
        out.append({ref, registry.benchmarks(registry.resolve(ref).id).last()});
    return out;
}

void TestCompareVariants::tableIsTheComparison()
{
    ComparePanel panel(m_workspace.path());
    // net:2 checked first: it is the baseline.
    QVERIFY(panel.setChecked(QStringLiteral("net:2"), true));
    QVERIFY(panel.setChecked(QStringLiteral("net:1"), true));
    const ms::Comparison expected =
        ms::Comparison::fromBenchmarks(latest({QStringLiteral("net:2"), QStringLiteral("net:1")}));
    VariantTableModel *model = panel.variants()->tableModel();
    QCOMPARE(model->rowCount(), 2);
    QCOMPARE(model->columnCount(), int(ms::Comparison::columns().size()) + 1);
    const QList<QStringList> text = expected.textRows();
    for (int r = 0; r < 2; ++r) {
        const ms::Comparison::Row &row = expected.rows()[r];
        QCOMPARE(model->index(r, 0).data().toString(), row.version);
        for (int c = 1; c < model->columnCount(); ++c) {
            const QString key = ms::Comparison::columns()[c - 1].key;
            QCOMPARE(model->index(r, c).data().toString(), text[r][c]);
            QCOMPARE(model->index(r, c).data(VariantTableModel::ValueRole),
                     row.values.value(key).toVariant());
            const QJsonObject delta = row.deltas.value(key).toObject();
            if (r > 0 && delta.contains(QStringLiteral("diff")))
                QCOMPARE(model->index(r, c).data(VariantTableModel::DiffRole).toDouble(),
                         delta.value(QStringLiteral("diff")).toDouble());
            else
                QVERIFY(!model->index(r, c).data(VariantTableModel::DiffRole).isValid());
        }
    }
    // The accuracy delta is coloured by its sign: better green, worse red.
    const int accColumn = model->columnOf(QStringLiteral("test_acc"));
    const double diff = expected.rows()[1].deltas.value(QStringLiteral("test_acc")).toObject()
                            .value(QStringLiteral("diff")).toDouble();
    QCOMPARE(model->index(1, accColumn).data(VariantTableModel::BetterRole).toInt(),
             std::abs(diff) < 0.00005 ? 0 : diff > 0 ? 1 : -1);
    // Within half a percent is the same: "1.00x" in red would be noise read as a verdict.
    QCOMPARE(VariantTableModel::ratioVerdict(1.003, -1), 0);
    QCOMPARE(VariantTableModel::ratioVerdict(0.5, -1), 1);
    QCOMPARE(VariantTableModel::ratioVerdict(2.0, -1), -1);
    QCOMPARE(VariantTableModel::ratioVerdict(2.0, 1), 1);
    QCOMPARE(VariantTableModel::ratioVerdict(2.0, 0), 0);
    QCOMPARE(panel.tabs()->tabText(ComparePanel::VariantsTab), QStringLiteral("Variants (2)"));
}

void TestCompareVariants::unbenchmarkedVersionsAreNamed()
{
    ComparePanel panel(m_workspace.path());
    QVERIFY(panel.setChecked(QStringLiteral("net:3"), true));
    VariantsView *view = panel.variants();
    QCOMPARE(view->benchmarkedCount(), 0);
    QCOMPARE(view->missing(), QStringList{QStringLiteral("net:3")});
    QVERIFY2(view->hintText().contains(QStringLiteral("modelstudio-cli bench net:3")),
             qPrintable(view->hintText()));
    // Without a runner the window cannot run the job: no button, only the command.
    QVERIFY(view->benchmarkButton()->isHidden());

    QVERIFY(panel.setChecked(QStringLiteral("net:1"), true));
    QCOMPARE(view->benchmarkedCount(), 1);   // net:1 is the only row and so the baseline
    QCOMPARE(view->tableModel()->index(0, 0).data().toString(), QStringLiteral("net:1"));
}

void TestCompareVariants::scatterHasOnePointPerVersion()
{
    ComparePanel panel(m_workspace.path());
    QVERIFY(panel.setChecked(QStringLiteral("net:1"), true));
    QVERIFY(panel.setChecked(QStringLiteral("net:2"), true));
    VariantsView *view = panel.variants();
    // 32 was not measured: the largest batch measured is the default.
    QCOMPARE(view->batch(), 4);
    QCOMPARE(view->batchCombo()->count(), 2);
    const auto benchmarks = latest({QStringLiteral("net:1"), QStringLiteral("net:2")});
    for (int batch : {4, 1}) {
        QVERIFY(view->setBatch(batch));
        VariantScatter *scatter = view->scatter();
        QCOMPARE(scatter->points().size(), 2);
        for (const auto &[ref, b] : benchmarks) {
            QCPGraph *graph = scatter->pointGraph(ref);
            QVERIFY2(graph, qPrintable(ref));
            QCOMPARE(graph->dataCount(), 1);
            QCOMPARE(graph->data()->at(0)->key, p50(b, batch));
            QCOMPARE(graph->data()->at(0)->value,
                     b.value(QStringLiteral("test_acc")).toDouble() * 100.0);
        }
        QVERIFY(scatter->customPlot()->xAxis->label().contains(QString::number(batch)));
    }
    QVERIFY(!view->setBatch(32));
    // The larger artifact has the larger dot.
    QVERIFY(VariantScatter::markerDiameter(4e6, 4e6) > VariantScatter::markerDiameter(1e6, 4e6));
}

void TestCompareVariants::paretoFront_data()
{
    QTest::addColumn<QVector<QPointF>>("points");   // (latency, accuracy)
    QTest::addColumn<QVector<int>>("front");        // by increasing latency
    QTest::newRow("one dominated")
        << QVector<QPointF>{{10, 0.9}, {5, 0.85}, {8, 0.8}} << QVector<int>{1, 0};
    QTest::newRow("faster and better dominates all")
        << QVector<QPointF>{{10, 0.9}, {2, 0.95}, {8, 0.8}} << QVector<int>{1};
    QTest::newRow("a trade-off at every point")
        << QVector<QPointF>{{1, 0.7}, {2, 0.8}, {3, 0.9}} << QVector<int>{0, 1, 2};
    QTest::newRow("equal latency, lower accuracy is dominated")
        << QVector<QPointF>{{4, 0.9}, {4, 0.8}} << QVector<int>{0};
    QTest::newRow("identical points both stay")
        << QVector<QPointF>{{4, 0.9}, {4, 0.9}} << QVector<int>{0, 1};
}

void TestCompareVariants::paretoFront()
{
    QFETCH(QVector<QPointF>, points);
    QFETCH(QVector<int>, front);
    QVector<VariantScatter::Point> input;
    for (const QPointF &p : points)
        input << VariantScatter::Point{QString(), Qt::black, p.x(), p.y(), 1.0};
    QCOMPARE(VariantScatter::paretoFront(input), front);
}

void TestCompareVariants::frontDrawnIsTheNonDominatedPoints()
{
    // Three crafted results: c is slower and less accurate than b, so dominated.
    VariantsView view;
    view.setEntries({{QStringLiteral("a"), Qt::blue, crafted(QStringLiteral("a"), 10, 0.9, 4e6)},
                     {QStringLiteral("b"), Qt::red, crafted(QStringLiteral("b"), 5, 0.85, 1e6)},
                     {QStringLiteral("c"), Qt::green,
                      crafted(QStringLiteral("c"), 8, 0.8, 2e6)}});
    QCOMPARE(view.batch(), 32);
    VariantScatter *scatter = view.scatter();
    QCOMPARE(scatter->points().size(), 3);
    QCPGraph *front = scatter->frontGraph();
    QVERIFY(front);
    QCOMPARE(front->dataCount(), 2);
    QCOMPARE(front->data()->at(0)->key, 5.0);
    QCOMPARE(front->data()->at(0)->value, 85.0);
    QCOMPARE(front->data()->at(1)->key, 10.0);
    QCOMPARE(front->data()->at(1)->value, 90.0);
    QCOMPARE(front->lineStyle(), QCPGraph::lsStepLeft);
    // Every version's dot is drawn, the dominated one too, with its label beside it.
    QVERIFY(scatter->pointGraph(QStringLiteral("c")));
    QCOMPARE(scatter->customPlot()->itemCount(), 3);

    view.setLogLatency(true);
    QCOMPARE(scatter->customPlot()->xAxis->scaleType(), QCPAxis::stLogarithmic);
    QCOMPARE(scatter->frontGraph()->dataCount(), 2);
}

void TestCompareVariants::cardsShowDeltasAgainstTheBaseline()
{
    VariantsView view;
    view.setEntries({{QStringLiteral("fp32"), Qt::blue,
                      crafted(QStringLiteral("fp32"), 10, 0.9, 4e6)},
                     {QStringLiteral("int8"), Qt::red,
                      crafted(QStringLiteral("int8"), 4, 0.885, 1e6)},
                     {QStringLiteral("fp16"), Qt::green,
                      crafted(QStringLiteral("fp16"), 10.02, 0.9, 2e6)}});
    const QList<ms::ui::VariantCard *> cards = view.cards();
    QCOMPARE(cards.size(), 3);
    QCOMPARE(cards[0]->title(), QStringLiteral("fp32"));   // the baseline first
    for (const ms::ui::VariantCard::Line &line : cards[0]->lines())
        QVERIFY(line.delta.isEmpty());
    const QVector<ms::ui::VariantCard::Line> lines = cards[1]->lines();
    QCOMPARE(lines.size(), 4);   // accuracy, latency, size, memory
    QCOMPARE(lines[0].value, QStringLiteral("88.50 %"));
    QCOMPARE(lines[0].delta, QStringLiteral("-1.50 pt"));
    QCOMPARE(lines[0].better, -1);
    QCOMPARE(lines[1].delta, QStringLiteral("2.50× faster"));
    QCOMPARE(lines[1].better, 1);
    QCOMPARE(lines[2].delta, QStringLiteral("0.25×"));
    QCOMPARE(lines[2].better, 1);
    QCOMPARE(lines[3].delta, QStringLiteral("0.25×"));
    QCOMPARE(lines[3].better, 1);
    // 0.2 % slower is within the noise: neither green nor red.
    QCOMPARE(cards[2]->lines()[1].delta, QStringLiteral("same"));
    QCOMPARE(cards[2]->lines()[1].better, 0);
    QCOMPARE(cards[2]->lines()[0].delta, QStringLiteral("+0.00 pt"));
    QCOMPARE(cards[2]->lines()[0].better, 0);
}

void TestCompareVariants::heatmapsAreTheConfusionMatrices()
{
    ComparePanel panel(m_workspace.path());
    QVERIFY(panel.setChecked(QStringLiteral("net:1"), true));
    QVERIFY(panel.setChecked(QStringLiteral("net:2"), true));
    VariantsView *view = panel.variants();
    // The baseline's and the last variant's by default.
    QCOMPARE(view->heatmaps().size(), 2);
    const auto benchmarks = latest({QStringLiteral("net:1"), QStringLiteral("net:2")});
    for (int i = 0; i < 2; ++i) {
        ms::ui::ConfusionHeatmap *map = view->heatmaps()[i];
        QCOMPARE(map->title(), benchmarks[i].first);
        const QJsonArray matrix =
            benchmarks[i].second.value(QStringLiteral("confusion_matrix")).toArray();
        QCOMPARE(map->classCount(), 10);
        QCOMPARE(matrix.size(), 10);
        double total = 0.0;
        for (int t = 0; t < 10; ++t) {
            for (int p = 0; p < 10; ++p) {
                const double expected = matrix[t].toArray()[p].toDouble();
                QCOMPARE(map->cellCount(t, p), expected);
                total += expected;
            }
        }
        QCOMPARE(total, benchmarks[i].second.value(QStringLiteral("test_count")).toDouble());
        // The dataset's class names on both axes ("Dress" is Fashion-MNIST's class 3).
        const QJsonArray names = benchmarks[i].second.value(QStringLiteral("class_names"))
                                     .toArray();
        QCOMPARE(names[3].toString(), QStringLiteral("Dress"));
        // (A class is left unnamed when its cells are too small for every name:
        // heatmapNamesDoNotOverlap.)
        for (QCPAxis *axis : {map->customPlot()->xAxis, map->customPlot()->yAxis}) {
            auto ticker = axis->ticker().dynamicCast<QCPAxisTickerText>();
            QVERIFY(ticker);
            QCOMPARE(ticker->ticks().size(), 10);
            QCOMPARE(ticker->ticks().value(0), names[0].toString());
            for (int c = 0; c < 10; ++c) {
                const QString label = ticker->ticks().value(c);
                QVERIFY2(label.isEmpty() || label == names[c].toString(), qPrintable(label));
            }
        }
    }
    // Selecting one row shows its matrix alone.
    view->showConfusion({QStringLiteral("net:2")});
    QCOMPARE(view->heatmaps().size(), 1);
    QCOMPARE(view->heatmaps()[0]->title(), QStringLiteral("net:2"));
}

void TestCompareVariants::heatmapNamesDoNotOverlap_data()
{
    QTest::addColumn<QSize>("size");
    QTest::addColumn<bool>("everyName");
    // As the Variants tab lays out three matrices beside the scatter, and one alone, large.
    QTest::newRow("small") << QSize(230, 230) << false;
    QTest::newRow("large") << QSize(720, 720) << true;
}

void TestCompareVariants::heatmapNamesDoNotOverlap()
{
    QFETCH(QSize, size);
    QFETCH(bool, everyName);
    const QStringList names{QStringLiteral("T-shirt/top"), QStringLiteral("Trouser"),
                            QStringLiteral("Pullover"),    QStringLiteral("Dress"),
                            QStringLiteral("Coat"),        QStringLiteral("Sandal"),
                            QStringLiteral("Shirt"),       QStringLiteral("Sneaker"),
                            QStringLiteral("Bag"),         QStringLiteral("Ankle boot")};
    QVector<QVector<double>> matrix(10, QVector<double>(10, 1.0));
    for (int c = 0; c < 10; ++c)
        matrix[c][c] = 90.0;
    ms::ui::ConfusionHeatmap map;
    map.resize(size);
    map.show();
    QVERIFY(QTest::qWaitForWindowExposed(&map));
    map.setMatrix(QStringLiteral("cnn:1"), names, matrix);

    QCustomPlot *plot = map.customPlot();
    // Names drawn along each axis are a line's height apart at least: rotated on the x axis,
    // upright on the y axis, a name takes that much of its axis.
    auto spacingOk = [&](QCPAxis *axis, Qt::Orientation orientation, QString *why) {
        const QStringList shown = map.shownTickLabels(orientation);
        const double line_px = QFontMetricsF(axis->tickLabelFont()).height();
        int previous = -1;
        int count = 0;
        for (int c = 0; c < shown.size(); ++c) {
            if (shown[c].isEmpty())
                continue;
            ++count;
            if (previous >= 0) {
                const double gap_px = std::abs(axis->coordToPixel(c)
                                               - axis->coordToPixel(previous));
                if (gap_px < line_px) {
                    *why = QStringLiteral("\"%1\" and \"%2\" are %3 px apart, a line is %4 px")
                               .arg(shown[previous], shown[c]).arg(gap_px).arg(line_px);
                    return false;
                }
            }
            previous = c;
        }
        if (count < 2 || (everyName && count != 10)) {
            *why = QStringLiteral("%1 names shown").arg(count);
            return false;
        }
        return true;
    };
    QString why;
    QTRY_VERIFY2(spacingOk(plot->xAxis, Qt::Horizontal, &why), qPrintable(why));
    QTRY_VERIFY2(spacingOk(plot->yAxis, Qt::Vertical, &why), qPrintable(why));
    if (!everyName) {
        // The cells were too small for every name (else the case tests nothing).
        QVERIFY(map.shownTickLabels(Qt::Horizontal).contains(QString()));
    }
}

void TestCompareVariants::cardsNeverCutTheirText()
{
    // A row of cards squeezed as the Variants tab squeezes them in a narrow window: each card
    // stays as wide as its text (a fixed minimum of 180 px won over it and cut "330.7 KiB").
    QWidget row;
    auto *layout = new QHBoxLayout(&row);
    QList<ms::ui::VariantCard *> cards;
    for (int i = 0; i < 4; ++i) {
        auto *card = new ms::ui::VariantCard(&row);
        card->setContent(QStringLiteral("resnet18-finetuned-cifar:%1").arg(i + 1),
                         QStringLiteral("quantized · onednn"), Qt::red, i == 0,
                         {{QStringLiteral("Accuracy"), QStringLiteral("66.63 %"),
                           QStringLiteral("-0.60 pt"), -1},
                          {QStringLiteral("Latency"), QStringLiteral("18.2 ms"),
                           QStringLiteral("1.81× faster"), 1},
                          {QStringLiteral("Size"), QStringLiteral("330.7 KiB"),
                           QStringLiteral("0.27×"), 1},
                          {QStringLiteral("Memory"), QStringLiteral("10.6 MiB"),
                           QStringLiteral("0.64×"), 1}});
        layout->addWidget(card);
        cards << card;
    }
    row.resize(300, 200);   // far too narrow: the row takes its minimum
    row.show();
    QVERIFY(QTest::qWaitForWindowExposed(&row));
    for (ms::ui::VariantCard *card : std::as_const(cards)) {
        QVERIFY(card->width() >= ms::ui::VariantCard::kMinimumWidth);
        for (const QLabel *label : card->findChildren<QLabel *>()) {
            QTRY_VERIFY2(label->width() >= label->sizeHint().width(),
                         qPrintable(QStringLiteral("\"%1\" is %2 px, needs %3")
                                        .arg(label->text()).arg(label->width())
                                        .arg(label->sizeHint().width())));
        }
    }
}

void TestCompareVariants::benchmarkButtonRunsTheJob()
{
    ms::JobRunner runner;
    ComparePanel panel(m_workspace.path(), &runner);
    QVERIFY(panel.setChecked(QStringLiteral("net:1"), true));
    QVERIFY(panel.setChecked(QStringLiteral("net:3"), true));
    VariantsView *view = panel.variants();
    QCOMPARE(view->benchmarkedCount(), 1);
    QPushButton *button = view->benchmarkButton();
    QVERIFY(!button->isHidden());
    QVERIFY(button->text().contains(QStringLiteral("net:3")));

    QSignalSpy finished(&runner, &ms::JobRunner::finished);
    QSignalSpy stored(view, &VariantsView::benchmarksStored);
    button->click();
    QVERIFY(!button->isEnabled());   // one benchmark at a time
    QVERIFY(finished.wait(120000));
    const auto result = finished.first().at(1).value<ms::JobResult>();
    QVERIFY2(result.status == ms::JobStatus::Finished, qPrintable(result.message));
    QCOMPARE(stored.count(), 1);
    // The panel read the registry again: net:3 is a row now, and nothing is missing.
    QCOMPARE(view->benchmarkedCount(), 2);
    QVERIFY(view->missing().isEmpty());
    QVERIFY(button->isHidden());
    const ms::Registry registry(m_workspace.path());
    QCOMPARE(registry.benchmarks(registry.resolve(QStringLiteral("net:3")).id).size(), 1);
    // The job measured the CLI's default batch sizes, net:1 only 1 and 4: both are drawn at 1.
    QCOMPARE(view->batch(), 32);
    QCOMPARE(view->scatter()->points().size(), 1);
    QVERIFY(view->setBatch(1));
    QCOMPARE(view->scatter()->points().size(), 2);
}

void TestCompareVariants::failedBenchmarkIsExplained()
{
    // net:4's stored artifact is truncated after registering: the job refuses it by name.
    {
        ms::Registry registry(m_workspace.path());
        const ms::VersionRecord v = registry.addVersion(
            mlpVersion(m_workspace.filePath(QStringLiteral("mlp4.pt")), 4));
        QFile artifact(registry.artifactPath(v));
        QVERIFY(artifact.setPermissions(artifact.permissions() | QFile::WriteOwner));
        QVERIFY(artifact.open(QIODevice::ReadWrite));
        QVERIFY(artifact.resize(100));
    }
    ms::JobRunner runner;
    ComparePanel panel(m_workspace.path(), &runner);
    QVERIFY(panel.setChecked(QStringLiteral("net:4"), true));
    VariantsView *view = panel.variants();
    QSignalSpy finished(&runner, &ms::JobRunner::finished);
    view->benchmarkButton()->click();
    QVERIFY(finished.wait(60000));
    const auto result = finished.first().at(1).value<ms::JobResult>();
    QCOMPARE(result.status, ms::JobStatus::Failed);
    QVERIFY2(view->warningText().contains(QStringLiteral("did not finish")),
             qPrintable(view->warningText()));
    QVERIFY(!result.message.isEmpty());
    QVERIFY2(view->warningText().contains(result.message), qPrintable(view->warningText()));
    // Nothing stored, the version still named as missing, and the button usable again.
    const ms::Registry registry(m_workspace.path());
    QVERIFY(registry.benchmarks(registry.resolve(QStringLiteral("net:4")).id).isEmpty());
    QCOMPARE(view->missing(), QStringList{QStringLiteral("net:4")});
    QVERIFY(view->benchmarkButton()->isEnabled());
}

QTEST_MAIN(TestCompareVariants)
#include "tst_comparevariants.moc"
