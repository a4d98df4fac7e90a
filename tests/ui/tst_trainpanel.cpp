// The Train panel end to end: form -> TrainJob on a JobRunner -> plots and status, plus the
// layer table, the error path and MetricPlot's big-series path. Offscreen, isolated workspace.
#include "common/Format.h"
#include "common/ScientificSpinBox.h"
#include "common/LayerTableModel.h"
#include "common/ModelSummaryView.h"
#include "panels/train/TrainCharts.h"
#include "panels/train/TrainForm.h"
#include "panels/train/TrainPanel.h"
#include "plots/MetricPlot.h"
#include "shell/MainWindow.h"

#include "data/DatasetRegistry.h"
#include "jobs/JobRunner.h"
#include "registry/Registry.h"

#include <qcustomplot.h>

#include <QAbstractButton>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonObject>
#include <QProgressBar>
#include <QSignalSpy>
#include <QSlider>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QToolTip>
#include <QtTest>

using ms::ui::MetricPlot;
using ms::ui::TrainPanel;

class TestTrainPanel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void layerTableShowsCnnSummary();
    void invalidDatasetShowsError();
    void csvDatasetSummary_data();
    void csvDatasetSummary();
    void builtinDatasetsDescribeThemselves();
    void trainsAndPlots();
    void trainsALanguageModelAndPlotsPerplexity();
    void fineTunesAVersionAndReruns();
    void shortcutsPauseResumeAndStop();
    void windowRemembersItsState();
    void metricPlotHoldsAMillionPoints();
    void metricPlotKeepsEachRunsEpochScale();

private:
    static void chooseArchitecture(TrainPanel &panel, const QString &name);

    QTemporaryDir m_workspace;
};

void TestTrainPanel::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_workspace.isValid());
}

void TestTrainPanel::chooseArchitecture(TrainPanel &panel, const QString &name)
{
    QComboBox *combo = panel.form()->architectureCombo();
    const int index = combo->findText(name);
    QVERIFY2(index >= 0, qPrintable(QStringLiteral("no architecture named %1").arg(name)));
    combo->setCurrentIndex(index);
}

void TestTrainPanel::layerTableShowsCnnSummary()
{
    ms::JobRunner runner;
    TrainPanel panel(&runner, m_workspace.path());
    panel.form()->datasetCombo()->setCurrentText(QStringLiteral("fashion-mnist"));
    chooseArchitecture(panel, QStringLiteral("cnn"));

    ms::ui::ModelSummaryView *view = panel.summaryView();
    QTRY_COMPARE(view->tableView()->model()->rowCount(), 8);
    QVERIFY2(!view->hasError(), qPrintable(view->messageText()));
    QCOMPARE(view->layerModel()->summary().totalParams, qint64(83466));
    QVERIFY2(view->totalsText().contains(ms::ui::formatCount(83466)),
             qPrintable(view->totalsText()));
    const QModelIndex firstName = view->tableView()->model()->index(
        0, ms::ui::LayerTableModel::NameColumn);
    QVERIFY(!firstName.data().toString().isEmpty());

    // Switching the architecture rebuilds the table.
    chooseArchitecture(panel, QStringLiteral("mlp"));
    QTRY_VERIFY(view->layerModel()->summary().totalParams != 83466);
    QVERIFY(view->tableView()->model()->rowCount() > 0);
}

void TestTrainPanel::invalidDatasetShowsError()
{
    ms::JobRunner runner;
    TrainPanel panel(&runner, m_workspace.path());
    const QString missing = m_workspace.filePath(QStringLiteral("no-such-data.csv"));
    panel.form()->datasetCombo()->setCurrentText(missing);

    // The summary says why it cannot show layers (after the typing debounce).
    QTRY_VERIFY(panel.summaryView()->hasError());
    QVERIFY(!panel.summaryView()->messageText().isEmpty());

    // Starting anyway ends in a readable failure, in the panel, not in a crash.
    QSignalSpy finished(&runner, &ms::JobRunner::finished);
    QTest::mouseClick(panel.startButton(), Qt::LeftButton);
    if (panel.isRunning())
        QVERIFY(finished.wait(60000));
    QVERIFY2(panel.statusIsError(), qPrintable(panel.statusText()));
    QVERIFY(panel.statusText().size() > 10);
    if (panel.lastResult())
        QCOMPARE(panel.lastResult()->status, ms::JobStatus::Failed);
    QVERIFY(panel.startButton()->isEnabled());
}

void TestTrainPanel::csvDatasetSummary_data()
{
    QTest::addColumn<QString>("csv");
    QTest::addColumn<QString>("arch");
    QTest::addColumn<bool>("expectError");
    QTest::addColumn<QString>("expectedText");   // in the totals, or in the error

    QString good = QStringLiteral("a,b,c,d,species\n");
    for (int i = 0; i < 30; ++i) {
        good += QStringLiteral("%1,%2,%3,%4,%5\n").arg(i % 7).arg(i % 5).arg(i % 3).arg(i % 2)
                    .arg(QStringList{"setosa", "versicolor", "virginica"}.at(i % 3));
    }
    QTest::newRow("mlp on a table") << good << "mlp" << false << QStringLiteral("Input 4, 3");
    // A CNN cannot take a table: the provider's error shows where the layers would be.
    QTest::newRow("cnn on a table") << good << "cnn" << true << QString();
    QTest::newRow("bad cell") << QStringLiteral("a,b,label\n1,2,0\n1,oops,1\n") << "mlp"
                              << true << QStringLiteral("oops");
}

void TestTrainPanel::csvDatasetSummary()
{
    QFETCH(QString, csv);
    QFETCH(QString, arch);
    QFETCH(bool, expectError);
    QFETCH(QString, expectedText);

    const QString path = m_workspace.filePath(QString::fromLatin1(QTest::currentDataTag())
                                                  .replace(QLatin1Char(' '), QLatin1Char('-'))
                                              + QStringLiteral(".csv"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write(csv.toUtf8());
    file.close();

    ms::JobRunner runner;
    TrainPanel panel(&runner, m_workspace.path());
    chooseArchitecture(panel, arch);
    QSignalSpy updated(&panel, &TrainPanel::summaryUpdated);
    panel.form()->datasetCombo()->setCurrentText(path);
    // Read on a worker thread after the typing debounce: wait for the answer.
    QVERIFY(updated.wait(10000));
    ms::ui::ModelSummaryView *view = panel.summaryView();
    QCOMPARE(view->hasError(), expectError);
    const QString shown = expectError ? view->messageText() : view->totalsText();
    QVERIFY2(shown.contains(expectedText), qPrintable(shown));
}

void TestTrainPanel::builtinDatasetsDescribeThemselves()
{
    // A plugin's built-in that says what its samples are is summarised with that, at once and
    // without reading (no file of it need exist beyond its folder); one that does not say is
    // read like a path. Neither is taken for Fashion-MNIST's 1x28x28 in 10 classes.
    ms::DatasetRegistry &registry = ms::DatasetRegistry::instance();
    ms::BuiltinDataset described;
    described.name = QStringLiteral("tiles-described");
    described.path = m_workspace.path();
    described.reader = QStringLiteral("idx");
    described.sampleShape = {3, 8, 8};
    described.numClasses = 4;
    registry.builtins().add(std::make_shared<ms::BuiltinDatasetProvider>(described));

    const QString csv = m_workspace.filePath(QStringLiteral("builtin-table.csv"));
    QFile file(csv);
    QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
    file.write("a,b,label\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n");
    file.close();
    ms::BuiltinDataset silent;
    silent.name = QStringLiteral("table-silent");
    silent.path = csv;
    silent.reader = QStringLiteral("csv");
    registry.builtins().add(std::make_shared<ms::BuiltinDatasetProvider>(silent));

    {
        ms::JobRunner runner;
        TrainPanel panel(&runner, m_workspace.path());
        chooseArchitecture(panel, QStringLiteral("mlp"));
        ms::ui::ModelSummaryView *view = panel.summaryView();
        panel.form()->datasetCombo()->setCurrentText(described.name);
        const QString shape = QStringLiteral("Input 3\u00D78\u00D78, 4 classes");
        QTRY_VERIFY2(view->totalsText().contains(shape),
                     qPrintable(view->totalsText() + view->messageText()));
        QVERIFY(view->totalsText().contains(QStringLiteral("built-in")));

        panel.form()->datasetCombo()->setCurrentText(silent.name);
        QTRY_VERIFY2(view->totalsText().contains(QStringLiteral("Input 2, 2 classes")),
                     qPrintable(view->totalsText() + view->messageText()));
        QVERIFY(!view->totalsText().contains(QStringLiteral("built-in")));
    }
    registry.builtins().remove(described.name);
    registry.builtins().remove(silent.name);
}

void TestTrainPanel::trainsAndPlots()
{
    ms::ui::MainWindow window(m_workspace.path());
    auto *panel = new TrainPanel(window.jobRunner(), m_workspace.path());
    window.addPanel(panel);
    window.resize(1280, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));

    ms::ui::TrainForm *form = panel->form();
    form->datasetCombo()->setCurrentText(QStringLiteral("fashion-mnist"));
    chooseArchitecture(*panel, QStringLiteral("mlp"));
    form->epochsSpin()->setValue(1);
    form->limitSpin()->setValue(512);
    form->batchSizeSpin()->setValue(64);

    QSignalSpy finished(window.jobRunner(), &ms::JobRunner::finished);
    QVERIFY(panel->startButton()->isEnabled());
    QVERIFY(!panel->stopButton()->isEnabled());
    QTest::mouseClick(panel->startButton(), Qt::LeftButton);
    QVERIFY2(panel->isRunning(), qPrintable(panel->statusText()));
    QVERIFY(!panel->startButton()->isEnabled());
    QVERIFY(panel->stopButton()->isEnabled());
    QVERIFY(!form->isEnabled());

    QVERIFY(finished.wait(120000));
    QVERIFY(panel->lastResult().has_value());
    QVERIFY2(panel->lastResult()->status == ms::JobStatus::Finished,
             qPrintable(panel->lastResult()->message));
    QVERIFY2(panel->statusText().startsWith(QStringLiteral("Finished")),
             qPrintable(panel->statusText()));
    QVERIFY(!panel->statusIsError());

    // 512 samples, 10 % held out for validation: 461 training samples, 8 steps of 64.
    QCOMPARE(panel->lossPlot()->pointCount(QStringLiteral("loss")), 8);
    QCOMPARE(panel->lossPlot()->point(QStringLiteral("loss"), 7).x(), 8.0);
    MetricPlot *accuracy = panel->accuracyPlot();
    QCOMPARE(accuracy->pointCount(QStringLiteral("train_acc")), 1);
    QCOMPARE(accuracy->pointCount(QStringLiteral("val_acc")), 1);
    QCOMPARE(accuracy->pointCount(QStringLiteral("test_acc")), 1);   // Fashion-MNIST has one
    QCOMPARE(accuracy->point(QStringLiteral("val_acc"), 0).x(), 1.0);

    QVERIFY(panel->startButton()->isEnabled());
    QVERIFY(!panel->stopButton()->isEnabled());
    QVERIFY(form->isEnabled());
    QCOMPARE(panel->progressBar()->value(), panel->progressBar()->maximum());

    // Hovering the last loss point shows its value.
    QCustomPlot *lossPlot = panel->lossPlot()->customPlot();
    const QPointF last = panel->lossPlot()->point(QStringLiteral("loss"), 7);
    const QPoint pixel(int(lossPlot->xAxis->coordToPixel(last.x())),
                       int(lossPlot->yAxis->coordToPixel(last.y())));
    QTest::mouseMove(lossPlot, pixel);
    QTRY_VERIFY(QToolTip::text().contains(QStringLiteral("step 8")));
}

// Text trains a language model: choosing fortunes picks gpt, the run's task is lm, and the lower
// plot and the run table speak perplexity instead of accuracy.
void TestTrainPanel::trainsALanguageModelAndPlotsPerplexity()
{
    ms::ui::MainWindow window(m_workspace.path());
    auto *panel = new TrainPanel(window.jobRunner(), m_workspace.path());
    window.addPanel(panel);
    window.resize(1280, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));

    ms::ui::TrainForm *form = panel->form();
    QComboBox *datasets = form->datasetCombo();
    // Images have no tokenizer: the row shows the fine-tune checks instead.
    QVERIFY(!form->tokenizerCombo()->isVisibleTo(form));
    QVERIFY(form->replaceHeadCheck()->isVisibleTo(form));
    const int fortunes = datasets->findText(QStringLiteral("fortunes"));
    QVERIFY(fortunes >= 0);
    datasets->setCurrentIndex(fortunes);
    Q_EMIT datasets->activated(fortunes);   // what a click on the item does
    QCOMPARE(form->architecture(), QStringLiteral("gpt"));
    QCOMPARE(form->config().task, QStringLiteral("lm"));
    QTRY_VERIFY(panel->summaryView()->totalsText().contains(QStringLiteral("language model")));
    QVERIFY(!panel->summaryView()->hasError());

    // The tokenizer, as `train --tokenizer --vocab-size` chooses it: a SentencePiece one takes
    // a vocabulary size, and the summary's alphabet follows the choice.
    QVERIFY(form->tokenizerCombo()->isVisibleTo(form) && form->tokenizerCombo()->isEnabled());
    QVERIFY(!form->replaceHeadCheck()->isVisibleTo(form));
    QCOMPARE(form->tokenizerCombo()->currentText(), QStringLiteral("byte"));
    QVERIFY(!form->vocabularySpin()->isEnabled());
    form->tokenizerCombo()->setCurrentText(QStringLiteral("spm-bpe"));
    QVERIFY(form->vocabularySpin()->isEnabled());
    form->vocabularySpin()->setValue(512);
    QCOMPARE(form->config().tokenizer, QStringLiteral("spm-bpe"));
    QCOMPARE(form->config().vocabSize, 512);
    QTRY_VERIFY2(panel->summaryView()->totalsText().contains(QStringLiteral("512 symbols")),
                 qPrintable(panel->summaryView()->totalsText()));
    form->tokenizerCombo()->setCurrentText(QStringLiteral("byte"));
    QTRY_VERIFY2(panel->summaryView()->totalsText().contains(QStringLiteral("256 symbols")),
                 qPrintable(panel->summaryView()->totalsText()));
    // A tiny gpt and 10 steps (fields the form keeps without showing them).
    ms::TrainConfig tiny = form->config();
    tiny.archParams = QJsonObject{{"n_layer", 1}, {"n_head", 2}, {"n_embd", 32},
                                  {"block_size", 32}};
    tiny.stepsPerEpoch = 10;
    tiny.epochs = 1;
    tiny.limit = 200;
    tiny.batchSize = 4;
    tiny.threads = 1;
    form->setConfig(tiny);
    QCOMPARE(form->architecture(), QStringLiteral("gpt"));

    QSignalSpy finished(window.jobRunner(), &ms::JobRunner::finished);
    QTest::mouseClick(panel->startButton(), Qt::LeftButton);
    QVERIFY2(panel->isRunning(), qPrintable(panel->statusText()));
    QVERIFY(finished.wait(300000));
    QVERIFY2(panel->lastResult()->status == ms::JobStatus::Finished,
             qPrintable(panel->lastResult()->message));
    MetricPlot *epochPlot = panel->accuracyPlot();
    QCOMPARE(epochPlot->pointCount(QStringLiteral("val_ppl")), 1);
    QCOMPARE(epochPlot->pointCount(QStringLiteral("train_ppl")), 1);
    QCOMPARE(epochPlot->pointCount(QStringLiteral("val_acc")), 0);
    const double ppl = epochPlot->point(QStringLiteral("val_ppl"), 0).y();
    QVERIFY2(ppl > 1.0 && ppl < 300.0, qPrintable(QString::number(ppl)));   // byte vocabulary
    QTableWidget *runs = panel->charts()->runTable();
    QCOMPARE(runs->horizontalHeaderItem(2)->text(), QStringLiteral("Best val ppl"));
    QCOMPARE(runs->item(0, 2)->text(), ms::ui::formatValue(ppl));
}

// The architecture picker offers the workspace's versions: a run started from one fine-tunes
// it (lineage finetuned-from), and Re-run of the new version starts from the same version.
void TestTrainPanel::fineTunesAVersionAndReruns()
{
    ms::JobRunner runner;
    TrainPanel panel(&runner, m_workspace.path());
    ms::ui::TrainForm *form = panel.form();
    QVERIFY(!form->replaceHeadCheck()->isEnabled());   // only with a version to start from
    QComboBox *combo = form->architectureCombo();
    const int index = combo->findText(QStringLiteral("start from mlp:1"));
    QVERIFY2(index >= 0, "the version trainsAndPlots registered is offered");
    combo->setCurrentIndex(index);
    QCOMPARE(form->startFrom(), QStringLiteral("mlp:1"));
    QVERIFY(form->replaceHeadCheck()->isEnabled());
    form->datasetCombo()->setCurrentText(QStringLiteral("fashion-mnist"));
    QTRY_VERIFY2(panel.summaryView()->messageText().contains(QStringLiteral("Fine-tunes mlp:1")),
                 qPrintable(panel.summaryView()->messageText()));
    form->epochsSpin()->setValue(1);
    form->limitSpin()->setValue(512);
    form->augmentCombo()->setCurrentText(QStringLiteral("hflip"));
    QCOMPARE(form->config().from, QStringLiteral("mlp:1"));
    QCOMPARE(form->config().augment, QStringLiteral("hflip"));

    QSignalSpy finished(&runner, &ms::JobRunner::finished);
    panel.start();
    QVERIFY2(panel.isRunning(), qPrintable(panel.statusText()));
    QVERIFY(finished.wait(120000));
    QVERIFY2(panel.lastResult()->status == ms::JobStatus::Finished,
             qPrintable(panel.lastResult()->message));
    const QString ref = panel.lastResult()->output.value(QStringLiteral("version")).toString();
    QCOMPARE(ref, QStringLiteral("mlp:2"));
    const ms::Registry registry(m_workspace.path());
    const ms::VersionRecord tuned = registry.resolve(ref);
    QCOMPARE(tuned.kind, ms::VersionKind::Finetuned);
    QCOMPARE(registry.lineage(tuned.id).first().role, QStringLiteral("finetuned-from"));
    // The picker lists the new version too.
    QVERIFY(combo->findText(QStringLiteral("start from mlp:2")) >= 0);

    // Re-run: the recipe starts from mlp:1 again.
    chooseArchitecture(panel, QStringLiteral("cnn"));
    form->augmentCombo()->setCurrentText(QStringLiteral("none"));
    QVERIFY(panel.loadRecipe(tuned.recipe, ref));
    QCOMPARE(form->startFrom(), QStringLiteral("mlp:1"));
    QCOMPARE(form->config().from, QStringLiteral("mlp:1"));
    QCOMPARE(form->config().epochs, 1);
    QCOMPARE(form->config().augment, QStringLiteral("hflip"));   // recorded in the recipe
}

void TestTrainPanel::shortcutsPauseResumeAndStop()
{
    ms::ui::MainWindow window(m_workspace.path());
    auto *panel = new TrainPanel(window.jobRunner(), m_workspace.path());
    window.addPanel(panel);
    window.show();
    QVERIFY(QTest::qWaitForWindowActive(&window));

    ms::ui::TrainForm *form = panel->form();
    form->datasetCombo()->setCurrentText(QStringLiteral("fashion-mnist"));
    chooseArchitecture(*panel, QStringLiteral("mlp"));
    form->epochsSpin()->setValue(50);
    form->limitSpin()->setValue(20000);
    form->batchSizeSpin()->setValue(32);

    QSignalSpy paused(window.jobRunner(), &ms::JobRunner::pausedChanged);
    QSignalSpy finished(window.jobRunner(), &ms::JobRunner::finished);
    QTest::keyClick(&window, Qt::Key_Return, Qt::ControlModifier);
    QVERIFY2(panel->isRunning(), qPrintable(panel->statusText()));

    QTest::keyClick(&window, Qt::Key_P, Qt::ControlModifier);
    QCOMPARE(paused.count(), 1);
    QCOMPARE(paused.at(0).at(1).toBool(), true);
    QCOMPARE(panel->pauseButton()->text(), QStringLiteral("Resume"));
    QTest::keyClick(&window, Qt::Key_P, Qt::ControlModifier);
    QCOMPARE(paused.count(), 2);
    QCOMPARE(panel->pauseButton()->text(), QStringLiteral("Pause"));

    QTest::keyClick(&window, Qt::Key_Period, Qt::ControlModifier);
    QVERIFY(!panel->stopButton()->isEnabled());
    QVERIFY(finished.wait(60000));
    QVERIFY(panel->lastResult().has_value());
    QCOMPARE(panel->lastResult()->status, ms::JobStatus::Cancelled);
    QVERIFY2(panel->statusText().startsWith(QStringLiteral("Stopped")),
             qPrintable(panel->statusText()));
    QVERIFY(panel->startButton()->isEnabled());
}

void TestTrainPanel::windowRemembersItsState()
{
    {
        ms::ui::MainWindow window(m_workspace.path());
        auto *panel = new TrainPanel(window.jobRunner(), m_workspace.path());
        window.addPanel(panel);
        chooseArchitecture(*panel, QStringLiteral("mlp"));
        panel->form()->epochsSpin()->setValue(7);
        panel->form()->learningRateSpin()->setValue(3e-4);
        panel->charts()->smoothingSlider()->setValue(50);
        window.saveSettings();
    }
    ms::ui::MainWindow window(m_workspace.path());
    auto *panel = new TrainPanel(window.jobRunner(), m_workspace.path());
    window.addPanel(panel);
    window.restoreSettings();
    QCOMPARE(window.currentPanel(), panel);
    QCOMPARE(panel->form()->architecture(), QStringLiteral("mlp"));
    QCOMPARE(panel->form()->epochsSpin()->value(), 7);
    QCOMPARE(panel->form()->config().lr, 3e-4);
    QCOMPARE(panel->charts()->smoothingSlider()->value(), 50);
    QCOMPARE(panel->lossPlot()->smoothing(), 0.5);
}

void TestTrainPanel::metricPlotHoldsAMillionPoints()
{
    MetricPlot plot;
    plot.resize(800, 400);
    plot.addSeries(QStringLiteral("loss"), QStringLiteral("loss"), {Qt::blue, true, false});
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));

    constexpr int kBatches = 1000;
    constexpr int kBatchSize = 1000;
    QElapsedTimer clock;
    clock.start();
    for (int batch = 0; batch < kBatches; ++batch) {
        ms::MetricBatch points;
        points.reserve(kBatchSize);
        for (int i = 0; i < kBatchSize; ++i) {
            const qint64 step = qint64(batch) * kBatchSize + i + 1;
            points.append({QStringLiteral("loss"), step, 1, 2.0 / std::sqrt(double(step)), 0.0});
        }
        plot.appendBatch(points);
    }
    const qint64 append_ms = clock.restart();
    plot.replotNow();
    const qint64 replot_ms = clock.restart();
    plot.setSmoothing(0.9);
    plot.replotNow();
    const qint64 resmooth_ms = clock.elapsed();
    // Figures for the reader, not assertions (house style: speed belongs in bench/).
    qInfo("1M points: append %lld ms, replot %lld ms, re-smooth + replot %lld ms", append_ms,
          replot_ms, resmooth_ms);

    QCOMPARE(plot.pointCount(QStringLiteral("loss")), kBatches * kBatchSize);
    QCOMPARE(plot.point(QStringLiteral("loss"), kBatches * kBatchSize - 1).x(),
             double(kBatches * kBatchSize));
}

void TestTrainPanel::metricPlotKeepsEachRunsEpochScale()
{
    // Two runs overlaid, 10 and 5 steps per epoch: on the epoch axis each run's last step of
    // epoch 1 lands at 1.0, and the step axis comes back unchanged.
    MetricPlot plot;
    plot.addSeries(QStringLiteral("loss"), QStringLiteral("loss"), {Qt::blue, true, false});
    auto feed = [&plot](int steps) {
        ms::MetricBatch points;
        for (int step = 1; step <= steps; ++step)
            points.append({QStringLiteral("loss"), step, 1, 1.0 / step, 0.1 * step});
        plot.appendBatch(points);
    };
    plot.setStepsPerEpoch(10);
    feed(10);
    plot.copySeries(QStringLiteral("loss"), QStringLiteral("past"), QStringLiteral("past"),
                    {Qt::red, true, false});
    plot.clearSeries(QStringLiteral("loss"));
    plot.setStepsPerEpoch(5);
    feed(5);
    plot.setXSource(MetricPlot::XSource::Epoch);
    QCOMPARE(plot.point(QStringLiteral("past"), 9).x(), 1.0);
    QCOMPARE(plot.point(QStringLiteral("past"), 4).x(), 0.5);
    QCOMPARE(plot.point(QStringLiteral("loss"), 4).x(), 1.0);
    plot.setXSource(MetricPlot::XSource::WallTime);
    QCOMPARE(plot.point(QStringLiteral("past"), 9).x(), 1.0);
    plot.setXSource(MetricPlot::XSource::Step);
    QCOMPARE(plot.point(QStringLiteral("loss"), 4).x(), 5.0);
    QCOMPARE(plot.minValue(QStringLiteral("past")), 0.1);
    QCOMPARE(plot.maxValue(QStringLiteral("loss")), 1.0);
    plot.removeSeries(QStringLiteral("past"));
    QVERIFY(!plot.hasSeries(QStringLiteral("past")));
    QCOMPARE(plot.pointCount(QStringLiteral("loss")), 5);
}

QTEST_MAIN(TestTrainPanel)
#include "tst_trainpanel.moc"
