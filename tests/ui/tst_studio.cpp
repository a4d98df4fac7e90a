// The studio end to end, opened by ms::ui::Studio as app/gui/main.cpp opens it (the same
// panels, the same wiring between them, the same start-up options): a run started by clicking
// the Train panel's Start, its curves on the plots (one loss point per logged step), the new
// version in the Versions and Compare panels at once with its curve from the registry, Re-run
// filling the Train panel from that version's recipe, a second run overlaid on the first, the x
// axis switched between step, epoch and wall time, a plot exported as PNG, SVG and PDF, and
// the Edit menu holding the Versions panel's undo. Offscreen, isolated workspace, a 600-image
// slice of Fashion-MNIST and one epoch.
#include "panels/compare/ComparePanel.h"
#include "panels/compare/CompareSelectionModel.h"
#include "panels/train/TrainCharts.h"
#include "panels/train/TrainForm.h"
#include "panels/train/TrainPanel.h"
#include "panels/versions/VersionDetailPane.h"
#include "panels/versions/VersionTableModel.h"
#include "panels/versions/VersionsPanel.h"
#include "plots/MetricPlot.h"
#include "shell/MainWindow.h"
#include "shell/StartupOptions.h"
#include "shell/Studio.h"

#include "jobs/JobRunner.h"
#include "registry/Registry.h"

#include <QAbstractButton>
#include <QAction>
#include <QComboBox>
#include <QFile>
#include <QMenu>
#include <QMenuBar>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

using ms::ui::MetricPlot;
using ms::ui::TrainPanel;
using ms::ui::VersionsPanel;

namespace {

const QString kLoss = QStringLiteral("loss");
// 600 images, 10 % held out: 540 trained on, batches of 64: 9 steps.
constexpr int kLimit = 600;
constexpr int kBatch = 64;
constexpr int kSteps = 9;

} // namespace

class TestStudio final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void clickTrainSeeVersionRerunOverlay();
    void exportsPlots_data();
    void exportsPlots();
    void editMenuHoldsTheVersionsUndo();
    void cleanupTestCase();

private:
    void fillForm(TrainPanel &panel);

    QTemporaryDir m_workspace;
    ms::ui::Studio *m_studio = nullptr;
    ms::ui::MainWindow *m_window = nullptr;
    TrainPanel *m_train = nullptr;
    VersionsPanel *m_versions = nullptr;
};

void TestStudio::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_workspace.isValid());
    // The command line a user would type: the Train panel first (the Data panel, never shown,
    // reads nothing), at a size of its own.
    QString error;
    const std::optional<ms::ui::StartupOptions> options = ms::ui::StartupOptions::parse(
        {QStringLiteral("modelstudio"), QStringLiteral("--workspace"), m_workspace.path(),
         QStringLiteral("--panel"), QStringLiteral("train"), QStringLiteral("--window-size"),
         QStringLiteral("1280x800")},
        &error);
    QVERIFY2(options, qPrintable(error));
    m_studio = new ms::ui::Studio(*options);
    QVERIFY2(m_studio->open(&error), qPrintable(error));
    m_studio->show();
    m_window = m_studio->window();
    QVERIFY(QTest::qWaitForWindowExposed(m_window));
    QCOMPARE(m_window->workspace(), m_workspace.path());
    QCOMPARE(m_window->size(), QSize(1280, 800));
    QCOMPARE(m_window->panelIds().mid(0, 7),
             QStringList({QStringLiteral("data"), QStringLiteral("train"),
                          QStringLiteral("versions"), QStringLiteral("compare"),
                          QStringLiteral("serve"), QStringLiteral("optimize"),
                          QStringLiteral("try")}));
    m_train = m_window->panel<TrainPanel>();
    m_versions = m_window->panel<VersionsPanel>();
    QVERIFY(m_train && m_versions);
    QCOMPARE(m_window->currentPanel(), m_train);
}

void TestStudio::cleanupTestCase()
{
    delete m_studio;   // the window with it
}

void TestStudio::fillForm(TrainPanel &panel)
{
    ms::ui::TrainForm *form = panel.form();
    form->datasetCombo()->setCurrentText(QStringLiteral("fashion-mnist"));
    const int mlp = form->architectureCombo()->findText(QStringLiteral("mlp"));
    QVERIFY(mlp >= 0);
    form->architectureCombo()->setCurrentIndex(mlp);
    form->epochsSpin()->setValue(1);
    form->limitSpin()->setValue(kLimit);
    form->batchSizeSpin()->setValue(kBatch);
}

void TestStudio::clickTrainSeeVersionRerunOverlay()
{
    m_window->showPanel(m_train->id());
    fillForm(*m_train);
    QCOMPARE(m_versions->tableModel()->rowCount(), 0);

    QSignalSpy finished(m_window->jobRunner(), &ms::JobRunner::finished);
    QTest::mouseClick(m_train->startButton(), Qt::LeftButton);
    QVERIFY2(m_train->isRunning(), qPrintable(m_train->statusText()));
    QVERIFY(finished.wait(120000));
    QVERIFY2(m_train->lastResult()->status == ms::JobStatus::Finished,
             qPrintable(m_train->lastResult()->message));

    // The plot holds one point per step the run logged, as the registry recorded them.
    const ms::Registry registry(m_workspace.path());
    const QVector<ms::RunRecord> runs = registry.runs();
    QCOMPARE(runs.size(), 1);
    const QVector<ms::MetricSample> logged = registry.metrics(runs.first().id, kLoss);
    QCOMPARE(logged.size(), kSteps);
    MetricPlot *loss = m_train->lossPlot();
    QCOMPARE(loss->pointCount(kLoss), int(logged.size()));
    for (int i = 0; i < logged.size(); ++i) {
        QCOMPARE(loss->point(kLoss, i).x(), double(logged.at(i).step));
        QCOMPARE(loss->point(kLoss, i).y(), logged.at(i).value);
    }

    // The finished run is a version in the Versions panel's model at once, with its curve.
    ms::ui::VersionTableModel *model = m_versions->tableModel();
    QCOMPARE(model->rowCount(), 1);
    QCOMPARE(model->record(0).ref(), QStringLiteral("mlp:1"));
    QCOMPARE(model->record(0).kind, ms::VersionKind::Trained);
    QCOMPARE(model->record(0).runId, runs.first().id);
    // And among the Compare panel's choices.
    QVERIFY(m_window->panel<ms::ui::ComparePanel>()->selectionModel()->rowCount() > 0);
    m_window->showPanel(m_versions->id());
    QVERIFY(m_versions->selectRef(QStringLiteral("mlp:1")));
    m_versions->detailPane()->loadCurveNow();
    QCOMPARE(m_versions->detailPane()->curvePlot()->pointCount(QStringLiteral("curve")), kSteps);

    // Re-run: the Train panel shows, filled with the version's recipe.
    m_train->form()->limitSpin()->setValue(1234);
    m_versions->rerunAction()->trigger();
    QCOMPARE(m_window->currentPanel(), m_train);
    QCOMPARE(m_train->form()->limitSpin()->value(), kLimit);
    QVERIFY2(m_train->statusText().contains(QStringLiteral("mlp:1")),
             qPrintable(m_train->statusText()));
    // A recipe this studio cannot read says which setting is wrong and leaves the form alone.
    QVERIFY(!m_train->loadRecipe(QJsonObject{{QStringLiteral("arch"), QStringLiteral("mlp")},
                                             {QStringLiteral("learning_speed"), 3}},
                                 QStringLiteral("odd:1")));
    QVERIFY(m_train->statusIsError());
    QVERIFY2(m_train->statusText().contains(QStringLiteral("learning_speed")),
             qPrintable(m_train->statusText()));
    QCOMPARE(m_train->form()->limitSpin()->value(), kLimit);

    // The x axis: epoch puts step 9 of 9 at 1.0; wall time climbs; step comes back.
    QComboBox *xAxis = m_train->charts()->xAxisCombo();
    xAxis->setCurrentIndex(1);
    QCOMPARE(loss->pointCount(kLoss), kSteps);
    QCOMPARE(loss->point(kLoss, kSteps - 1).x(), 1.0);
    QCOMPARE(loss->point(kLoss, 0).x(), 1.0 / kSteps);
    xAxis->setCurrentIndex(2);
    QVERIFY(loss->point(kLoss, kSteps - 1).x() > loss->point(kLoss, 0).x());
    QVERIFY(loss->point(kLoss, 0).x() > 0.0);
    xAxis->setCurrentIndex(0);
    QCOMPARE(loss->point(kLoss, kSteps - 1).x(), double(kSteps));

    // A second run: the first stays on the plots in its own colour, listed with its best loss.
    const double firstBest = loss->minValue(kLoss);
    QTest::mouseClick(m_train->startButton(), Qt::LeftButton);
    QVERIFY2(m_train->isRunning(), qPrintable(m_train->statusText()));
    QVERIFY(finished.wait(120000));
    ms::ui::TrainCharts *charts = m_train->charts();
    QCOMPARE(charts->pastRunCount(), 1);
    QCOMPARE(loss->pointCount(QStringLiteral("run1/loss")), kSteps);
    QCOMPARE(loss->minValue(QStringLiteral("run1/loss")), firstBest);
    QCOMPARE(loss->pointCount(kLoss), kSteps);
    QCOMPARE(m_train->accuracyPlot()->pointCount(QStringLiteral("run1/val_acc")), 1);
    QTableWidget *runs2 = charts->runTable();
    QCOMPARE(runs2->rowCount(), 2);
    QVERIFY(!runs2->item(1, 1)->text().isEmpty());
    QVERIFY(runs2->item(1, 1)->text() != QStringLiteral("—"));
    QCOMPARE(model->rowCount(), 2);   // mlp:2 listed too

    charts->clearPastRuns();
    QCOMPARE(charts->pastRunCount(), 0);
    QVERIFY(!loss->hasSeries(QStringLiteral("run1/loss")));
    QCOMPARE(runs2->rowCount(), 1);
    QCOMPARE(loss->pointCount(kLoss), kSteps);
}

void TestStudio::exportsPlots_data()
{
    QTest::addColumn<QString>("suffix");
    QTest::addColumn<QByteArray>("magic");
    QTest::newRow("png") << QStringLiteral("png") << QByteArray("\x89PNG");
    QTest::newRow("svg") << QStringLiteral("svg") << QByteArray("<?xml");
    QTest::newRow("pdf") << QStringLiteral("pdf") << QByteArray("%PDF");
}

void TestStudio::exportsPlots()
{
    QFETCH(QString, suffix);
    QFETCH(QByteArray, magic);
    MetricPlot *loss = m_train->lossPlot();
    const QString path = m_workspace.filePath(QStringLiteral("loss.") + suffix);
    QString error;
    QVERIFY2(loss->exportImage(path, &error), qPrintable(error));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QByteArray bytes = file.readAll();
    QVERIFY2(bytes.startsWith(magic), bytes.left(16).constData());
    QVERIFY(bytes.size() > 1000);
    if (suffix == QLatin1String("svg"))
        QVERIFY(bytes.contains("<svg"));
    QVERIFY(!QFile::exists(path + QStringLiteral(".part")));

    // An unknown format is refused by name, and nothing is written.
    const QString bad = m_workspace.filePath(QStringLiteral("loss.bmpx"));
    QVERIFY(!loss->exportImage(bad, &error));
    QVERIFY2(error.contains(QStringLiteral(".png")), qPrintable(error));
    QVERIFY(!QFile::exists(bad));
}

void TestStudio::editMenuHoldsTheVersionsUndo()
{
    // Edit sits between File and View, and holds the Versions panel's undo and redo.
    const QList<QAction *> menus = m_window->menuBar()->actions();
    QVERIFY(menus.size() >= 3);
    QCOMPARE(menus.at(1), m_window->editMenu()->menuAction());
    const QList<QAction *> edits = m_window->editMenu()->actions();
    QVERIFY(edits.contains(m_versions->undoAction()));
    QVERIFY(edits.contains(m_versions->redoAction()));
}

QTEST_MAIN(TestStudio)
#include "tst_studio.moc"
