// The Optimize panel end to end: a sweep file opened and started by clicking, a real (tiny)
// sweep whose trials are modelstudio-cli processes, the live table and plots, brushing the
// parallel-coordinates plot to filter the table, Register, the past sweeps' combo, and bad
// sweep files refused before anything starts. Offscreen, isolated workspace.
#include "panels/optimize/HistoryPlot.h"
#include "panels/optimize/ImportancePlot.h"
#include "panels/optimize/IntermediatePlot.h"
#include "panels/optimize/OptimizePanel.h"
#include "panels/optimize/ParallelCoordinates.h"
#include "panels/optimize/ParetoPlot.h"
#include "panels/optimize/TrialTableModel.h"

#include "jobs/JobRunner.h"
#include "optimize/SweepSpec.h"
#include "registry/Registry.h"

#include <qcustomplot.h>

#include <QAbstractButton>
#include <QComboBox>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QProcess>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>

using ms::ui::OptimizePanel;
using ms::ui::ParallelCoordinates;
using ms::ui::TrialTableModel;

namespace {

constexpr int kSweepTimeout_ms = 900000;   // a loaded 2-core machine; the sweep ends far sooner

// Tiny budgets: mlp on 2000 images, one epoch per trial, four trials two at a time.
QJsonObject sweepFile()
{
    return QJsonDocument::fromJson(R"({
      "name": "panel-sweep",
      "train": {"dataset": "fashion-mnist", "arch": "mlp", "epochs": 1, "limit": 2000},
      "space": {
        "lr": {"log_uniform": [1e-4, 1e-2]},
        "batch_size": {"choice": [32, 64]},
        "arch.width": {"int_log_uniform": [16, 128]}
      },
      "objective": {"metric": "val_acc", "goal": "max"},
      "trials": 4, "parallel": 2, "threads": 1, "seed": 5, "sampler": "random",
      "early_stop": {"rule": "none"}
    })").object();
}

// A mouse move with the left button held (QTest::mouseMove sends none).
void dragTo(QWidget *widget, const QPoint &pos)
{
    QMouseEvent move(QEvent::MouseMove, QPointF(pos), widget->mapToGlobal(QPointF(pos)),
                     Qt::NoButton, Qt::LeftButton, Qt::NoModifier);
    QCoreApplication::sendEvent(widget, &move);
}

} // namespace

class TestOptimizePanel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void badSweepFilesStartNothing();
    void runsASweepLiveBrushesAndRegisters();
    void pausesStopsAndResumes();
    void followsASweepOfTheCommandLine();
    void showsTheParetoFrontOfSeveralObjectives();

private:
    QString write(const QString &name, const QByteArray &text) const;
    QString ws() const { return m_dir.filePath(QStringLiteral("ws")); }
    QTemporaryDir m_dir;
};

void TestOptimizePanel::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
}

QString TestOptimizePanel::write(const QString &name, const QByteArray &text) const
{
    const QString path = m_dir.filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(text) < 0)
        qFatal("cannot write %s", qPrintable(path));
    return path;
}

void TestOptimizePanel::badSweepFilesStartNothing()
{
    ms::JobRunner runner;
    OptimizePanel panel(&runner, ws());
    // The trials' executable is found beside the studio's (here: beside the test's).
    QCOMPARE(QFileInfo(panel.cliPath()).canonicalFilePath(),
             QFileInfo(QStringLiteral(MS_TEST_BIN_DIR "/modelstudio-cli")).canonicalFilePath());
    QVERIFY(!panel.startButton()->isEnabled());   // nothing opened yet

    // A log range reaching 0: refused naming the parameter, before anything runs.
    QJsonObject bad = sweepFile();
    QJsonObject space = bad.value("space").toObject();
    space.insert("lr", QJsonObject{{"log_uniform", QJsonArray{0.0, 1e-2}}});
    bad.insert("space", space);
    QVERIFY(!panel.openSweepFile(write("bad.json", QJsonDocument(bad).toJson())));
    QVERIFY(panel.statusIsError());
    QVERIFY2(panel.statusText().contains(QStringLiteral("lr")), qPrintable(panel.statusText()));
    QVERIFY2(panel.statusText().contains(QStringLiteral("bad.json")),
             qPrintable(panel.statusText()));
    QVERIFY(!panel.startButton()->isEnabled());
    QTest::mouseClick(panel.startButton(), Qt::LeftButton);
    panel.start();   // the shortcut's path too
    QCOMPARE(runner.runningCount(), 0);
    QVERIFY(!panel.isRunning());

    // Not JSON at all: one message saying so.
    QVERIFY(!panel.openSweepFile(write("broken.json", "{\"name\": \"x\",")));
    QVERIFY(panel.statusIsError());
    QVERIFY2(panel.statusText().contains(QStringLiteral("not JSON")),
             qPrintable(panel.statusText()));
    // An unknown parameter path.
    QJsonObject unknown = sweepFile();
    space = unknown.value("space").toObject();
    space.insert("arch.wings", QJsonObject{{"choice", QJsonArray{1, 2}}});
    unknown.insert("space", space);
    QVERIFY(!panel.openSweepFile(write("unknown.json", QJsonDocument(unknown).toJson())));
    QVERIFY2(panel.statusText().contains(QStringLiteral("arch.wings")),
             qPrintable(panel.statusText()));

    // A good file with the CLI missing: refused with where it was looked for.
    QVERIFY(panel.openSweepFile(write("good.json", QJsonDocument(sweepFile()).toJson())));
    QVERIFY(!panel.statusIsError());
    QVERIFY(panel.startButton()->isEnabled());
    panel.setCliPath(m_dir.filePath(QStringLiteral("no-such-cli")));
    QTest::mouseClick(panel.startButton(), Qt::LeftButton);
    QVERIFY(panel.statusIsError());
    QVERIFY2(panel.statusText().contains(QStringLiteral("no-such-cli")),
             qPrintable(panel.statusText()));
    QCOMPARE(runner.runningCount(), 0);
    QVERIFY(ms::Registry(ws()).sweeps().isEmpty());
}

void TestOptimizePanel::runsASweepLiveBrushesAndRegisters()
{
    ms::JobRunner runner;
    OptimizePanel panel(&runner, ws());
    panel.resize(1200, 800);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QVERIFY(panel.openSweepFile(write("sweep.json", QJsonDocument(sweepFile()).toJson())));

    // What the panel shows when the first trial ends, while the sweep still runs (the panel's
    // slot was connected first, so it has handled the event when this one runs).
    int rowsAtFirstTrial = -1;
    int linesAtFirstTrial = -1;
    bool runningAtFirstTrial = false;
    connect(&runner, &ms::JobRunner::event, this, [&](ms::JobId, const QJsonObject &event) {
        if (event.value("event") != QLatin1String("trial") || rowsAtFirstTrial >= 0)
            return;
        rowsAtFirstTrial = panel.trialModel()->rowCount();
        linesAtFirstTrial = panel.parallelPlot()->lineCount();
        runningAtFirstTrial = panel.isRunning();
    });

    QTest::mouseClick(panel.startButton(), Qt::LeftButton);
    QVERIFY(panel.isRunning());
    QVERIFY(panel.stopButton()->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(!panel.isRunning(), kSweepTimeout_ms);
    QVERIFY(panel.lastResult());
    QVERIFY2(panel.lastResult()->status == ms::JobStatus::Finished,
             qPrintable(panel.lastResult()->message));
    QVERIFY2(!panel.statusIsError(), qPrintable(panel.statusText()));

    QVERIFY(runningAtFirstTrial);
    QVERIFY(rowsAtFirstTrial >= 1);
    QVERIFY(linesAtFirstTrial >= 1);

    // One row per trial, one line and one history point per finished trial.
    const TrialTableModel *model = panel.trialModel();
    QCOMPARE(model->rowCount(), 4);
    QCOMPARE(model->columnCount(), TrialTableModel::FirstParamColumn + 3);
    int finished = 0;
    double best = -1.0;
    for (const ms::TrialRecord &t : model->trials()) {
        if (t.status == QLatin1String("finished")) {
            ++finished;
            best = std::max(best, t.value);
        }
    }
    QCOMPARE(finished, 4);   // no early stopping, nothing fails
    QCOMPARE(panel.parallelPlot()->lineCount(), finished);
    QCOMPARE(panel.historyPlot()->pointCount(), finished);
    QCOMPARE(panel.historyPlot()->bestValue(), best);
    // Four finished trials: a bar per searched parameter (3), shares summing to 1.
    const std::vector<ms::ParamImportance> &shares = panel.importancePlot()->shares();
    QCOMPARE(int(shares.size()), 3);
    double total = 0.0;
    for (const ms::ParamImportance &p : shares)
        total += p.importance;
    QVERIFY(std::abs(total - 1.0) < 1e-9);
    QCOMPARE(panel.intermediatePlot()->curveCount(), finished);   // one epoch each, at least
    QVERIFY(panel.statusText().contains(QStringLiteral("panel-sweep:1")));

    // Brush the lr axis from its low end to between the 2nd and 3rd trial: two trials stay.
    ParallelCoordinates *parallel = panel.parallelPlot();
    QVector<QPair<double, int>> along;
    for (const ms::TrialRecord &t : model->trials())
        along.append({*parallel->position(t, 0), t.number});
    std::sort(along.begin(), along.end());
    const double cut = (along[1].first + along[2].first) / 2.0;
    QCustomPlot *plot = parallel->plot();
    plot->replot(QCustomPlot::rpImmediateRefresh);
    const int x = int(std::lround(plot->xAxis->coordToPixel(0.0)));
    const auto yAt = [plot](double unit) {
        return int(std::lround(plot->yAxis->coordToPixel(unit)));
    };
    QTest::mousePress(plot, Qt::LeftButton, Qt::NoModifier, QPoint(x, yAt(0.0)));
    dragTo(plot, QPoint(x, yAt(cut / 2)));
    dragTo(plot, QPoint(x, yAt(cut)));
    QTest::mouseRelease(plot, Qt::LeftButton, Qt::NoModifier, QPoint(x, yAt(cut)));
    QVERIFY(parallel->brushes().contains(0));
    QCOMPARE(panel.trialProxy()->rowCount(), 2);
    QSet<int> shown;
    for (int row = 0; row < panel.trialProxy()->rowCount(); ++row)
        shown.insert(panel.trialProxy()->index(row, TrialTableModel::NumberColumn).data(Qt::UserRole).toInt());
    QCOMPARE(shown, (QSet<int>{along[0].second, along[1].second}));
    QCOMPARE(parallel->lineCount(), finished);   // the others are greyed, not removed

    // A click on empty space (between the first two axes) clears the brush.
    const QPoint empty(int(plot->xAxis->coordToPixel(0.5)), yAt(0.5));
    QTest::mouseClick(plot, Qt::LeftButton, Qt::NoModifier, empty);
    QVERIFY(parallel->brushes().isEmpty());
    QCOMPARE(panel.trialProxy()->rowCount(), 4);

    // Register a trial that is not the best (the sweep registered the best as version 1).
    const int other = along[0].second;
    QTableView *view = panel.trialView();
    for (int row = 0; row < panel.trialProxy()->rowCount(); ++row) {
        const QModelIndex index = panel.trialProxy()->index(row, TrialTableModel::NumberColumn);
        if (index.data(Qt::UserRole).toInt() == other)
            view->selectRow(row);
    }
    // The selected trial's line is drawn last, on top of the others.
    QCOMPARE(parallel->highlightedTrial(), other);
    QCOMPARE(panel.intermediatePlot()->highlightedTrial(), other);
    QCOMPARE(plot->graph(plot->graphCount() - 1)->name(), QStringLiteral("trial %1").arg(other));
    // Its curves: the run it recorded, for the Compare panel.
    QSignalSpy curves(&panel, &OptimizePanel::curvesRequested);
    QVERIFY(panel.curvesButton()->isEnabled());
    QTest::mouseClick(panel.curvesButton(), Qt::LeftButton);
    QCOMPARE(curves.count(), 1);
    qint64 otherRun = 0;
    for (const ms::TrialRecord &t : panel.trialModel()->trials())
        if (t.number == other)
            otherRun = t.runId;
    QVERIFY(otherRun > 0);
    QCOMPARE(curves.first().first().toLongLong(), otherRun);
    QVERIFY(panel.registerButton()->isEnabled());
    QTest::mouseClick(panel.registerButton(), Qt::LeftButton);
    QVERIFY2(!panel.statusIsError(), qPrintable(panel.statusText()));
    const ms::Registry registry(ws());
    const ms::VersionRecord version = registry.resolve(QStringLiteral("panel-sweep:2"));
    QCOMPARE(version.tags.value(QStringLiteral("sweep")),
             QStringLiteral("%1/trial %2").arg(panel.shownSweep()).arg(other));

    // A panel opened later lists the sweep and shows its trials from the registry.
    OptimizePanel later(&runner, ws());
    QCOMPARE(later.sweepCombo()->count(), 1);
    QCOMPARE(later.shownSweep(), panel.shownSweep());
    QCOMPARE(later.trialModel()->rowCount(), 4);
    QCOMPARE(later.parallelPlot()->lineCount(), finished);
}

void TestOptimizePanel::pausesStopsAndResumes()
{
    const QString workspace = m_dir.filePath(QStringLiteral("ws-stop"));
    QJsonObject file = sweepFile();
    file.insert("name", "stopped");
    file.insert("parallel", 1);
    QJsonObject train = file.value("train").toObject();
    train.insert("epochs", 2);
    file.insert("train", train);
    ms::JobRunner runner;
    OptimizePanel panel(&runner, workspace);
    QVERIFY(panel.openSweepFile(write("stop.json", QJsonDocument(file).toJson())));
    QTest::mouseClick(panel.startButton(), Qt::LeftButton);
    QVERIFY(panel.isRunning());

    // Pause and resume: the button says which comes next.
    QTest::mouseClick(panel.pauseButton(), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(panel.pauseButton()->text(), QStringLiteral("Resume"), 60000);
    QTest::mouseClick(panel.pauseButton(), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(panel.pauseButton()->text(), QStringLiteral("Pause"), 60000);

    // Stop once the first trial has finished: it stays; the running one is run again later.
    const auto finishedTrials = [&panel] {
        QMap<int, qint64> runs;
        for (const ms::TrialRecord &t : panel.trialModel()->trials())
            if (t.status == QLatin1String("finished"))
                runs.insert(t.number, t.runId);
        return runs;
    };
    QTRY_VERIFY_WITH_TIMEOUT(!finishedTrials().isEmpty() || !panel.isRunning(),
                             kSweepTimeout_ms);
    QVERIFY(panel.isRunning());
    QTest::mouseClick(panel.stopButton(), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!panel.isRunning(), kSweepTimeout_ms);
    QCOMPARE(panel.lastResult()->status, ms::JobStatus::Cancelled);
    QVERIFY(panel.sweepCombo()->currentText().contains(QStringLiteral("cancelled")));
    const QMap<int, qint64> before = finishedTrials();
    QVERIFY(!before.isEmpty());
    QVERIFY(before.size() < 4);

    QVERIFY(panel.resumeButton()->isEnabled());
    QTest::mouseClick(panel.resumeButton(), Qt::LeftButton);
    QVERIFY(panel.isRunning());
    QTRY_VERIFY_WITH_TIMEOUT(!panel.isRunning(), kSweepTimeout_ms);
    QVERIFY2(panel.lastResult()->status == ms::JobStatus::Finished,
             qPrintable(panel.lastResult()->message));
    const QMap<int, qint64> after = finishedTrials();
    QCOMPARE(after.size(), 4);
    for (auto it = before.cbegin(); it != before.cend(); ++it)
        QCOMPARE(after.value(it.key()), it.value());   // not trained again
    QCOMPARE(panel.parallelPlot()->lineCount(), 4);
    QVERIFY(!panel.resumeButton()->isEnabled());
}

void TestOptimizePanel::followsASweepOfTheCommandLine()
{
    const QString workspace = m_dir.filePath(QStringLiteral("ws-cli"));
    QJsonObject file = sweepFile();
    file.insert("name", "from-cli");
    file.insert("parallel", 1);
    QJsonObject train = file.value("train").toObject();
    train.insert("epochs", 2);
    file.insert("train", train);
    ms::JobRunner runner;
    OptimizePanel panel(&runner, workspace);
    QCOMPARE(panel.sweepCombo()->count(), 0);

    QProcess cli;
    cli.start(panel.cliPath(), {QStringLiteral("sweep"), QStringLiteral("--config"),
                                write("cli.json", QJsonDocument(file).toJson()),
                                QStringLiteral("--workspace"), workspace});
    QVERIFY(cli.waitForStarted());
    // Shown again, the panel lists the sweep the other process started, and follows it.
    QTRY_VERIFY_WITH_TIMEOUT((panel.hide(), panel.show(), panel.sweepCombo()->count() == 1),
                             kSweepTimeout_ms);
    QVERIFY(panel.shownSweep() > 0);
    // Seen while it runs (four trials of two epochs, one at a time, take seconds)...
    QVERIFY2(panel.sweepCombo()->currentText().contains(QStringLiteral("running")),
             qPrintable(panel.sweepCombo()->currentText()));
    QTRY_VERIFY_WITH_TIMEOUT(panel.trialModel()->rowCount() >= 1, kSweepTimeout_ms);
    QVERIFY(cli.waitForFinished(kSweepTimeout_ms));
    QCOMPARE(cli.exitCode(), 0);
    // ...and to its end, by re-reading the registry.
    QTRY_COMPARE_WITH_TIMEOUT(panel.parallelPlot()->lineCount(), 4, 60000);
    QCOMPARE(panel.trialModel()->rowCount(), 4);
    QTRY_VERIFY_WITH_TIMEOUT(panel.sweepCombo()->currentText().contains(QStringLiteral("finished")),
                             60000);
    QCOMPARE(runner.runningCount(), 0);   // followed, not run
}

void TestOptimizePanel::showsTheParetoFrontOfSeveralObjectives()
{
    // A finished sweep of two objectives, written to the registry as a sweep process would.
    const QString workspace = m_dir.filePath(QStringLiteral("ws-front"));
    QJsonObject file = sweepFile();
    file.insert("name", "front");
    file.insert("objective", QJsonDocument::fromJson(R"([{"metric": "val_acc", "goal": "max"},
                                                         {"metric": "latency_ms", "goal": "min"}])")
                                 .array());
    file.insert("constraints", QJsonDocument::fromJson(R"([{"metric": "val_acc", "min": 0.5}])")
                                   .array());
    const ms::SweepSpec spec = ms::SweepSpec::fromJson(file);
    {
        ms::Registry registry(workspace);
        const qint64 id = registry.startSweep(spec.name, spec.toJson());
        // Trials 0 and 2 make the front; 1 is dominated by 0; 3 breaks the constraint.
        const char *metrics[] = {R"({"val_acc": 0.80, "latency_ms": 1.0, "feasible": true})",
                                 R"({"val_acc": 0.70, "latency_ms": 2.0, "feasible": true})",
                                 R"({"val_acc": 0.90, "latency_ms": 3.0, "feasible": true})",
                                 R"({"val_acc": 0.40, "latency_ms": 0.5, "feasible": false})"};
        for (int n = 0; n < 4; ++n) {
            ms::TrialRecord t;
            t.number = n;
            t.status = QStringLiteral("finished");
            t.metrics = QJsonDocument::fromJson(metrics[n]).object();
            t.value = t.metrics.value("val_acc").toDouble();
            t.epochs = 1;
            registry.saveTrial(id, t);
        }
        registry.finishSweep(id, QStringLiteral("finished"));
    }
    ms::JobRunner runner;
    OptimizePanel panel(&runner, workspace);
    panel.resize(1200, 800);
    panel.show();
    QTRY_VERIFY(panel.shownSweep() > 0);
    QTRY_COMPARE(panel.paretoPlot()->pointCount(), 4);
    QCOMPARE(panel.paretoPlot()->frontCount(), 2);
    // The tab is there for this sweep, and chosen.
    const QWidget *tab = panel.paretoPlot();
    QVERIFY(tab->isVisible());
}

QTEST_MAIN(TestOptimizePanel)
#include "tst_optimizepanel.moc"
