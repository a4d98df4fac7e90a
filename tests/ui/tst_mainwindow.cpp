// The assembled studio window: the six panels in order with Ctrl+1..6, a .pt dropped onto the
// window becoming a version (and a broken one refused with a message, nothing added), Open
// workspace switching the registry every panel shows (and refusing a folder whose registry is
// not one), the status bar following the running job, and every panel (the Versions panel with
// its details dock) fitting a 1024x640 window. Offscreen, isolated settings.
#include "panels/compare/ComparePanel.h"
#include "panels/compare/CompareSelectionModel.h"
#include "panels/train/TrainForm.h"
#include "panels/train/TrainPanel.h"
#include "panels/versions/VersionDetailPane.h"
#include "panels/versions/VersionTableModel.h"
#include "panels/versions/VersionsPanel.h"
#include "shell/JobStatusWidget.h"
#include "shell/MainWindow.h"
#include "shell/Panel.h"
#include "shell/StudioPanels.h"
#include "shell/StudioSettings.h"
#include "ui/TinyModel.h"

#include "jobs/JobContext.h"
#include "registry/Registry.h"

#include <QAction>
#include <QDropEvent>
#include <QFile>
#include <QLabel>
#include <QMimeData>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStatusBar>
#include <QDockWidget>
#include <QTemporaryDir>
#include <QUrl>
#include <QtTest>

using ms::ui::MainWindow;

namespace {

// Sends the drag-enter and the drop a file manager would; returns whether the window took it.
bool dropUrls(QWidget &target, const QList<QUrl> &urls)
{
    QMimeData mime;
    mime.setUrls(urls);
    QDragEnterEvent enter(QPoint(200, 200), Qt::CopyAction, &mime, Qt::LeftButton,
                          Qt::NoModifier);
    QApplication::sendEvent(&target, &enter);
    if (!enter.isAccepted())
        return false;
    QDropEvent drop(QPointF(200, 200), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&target, &drop);
    return drop.isAccepted();
}

QStringList versionRefs(const QString &workspace)
{
    QStringList refs;
    const ms::Registry registry(workspace);
    for (const ms::ModelRecord &model : registry.models()) {
        for (const ms::VersionRecord &v : registry.versions(model.name))
            refs << v.ref();
    }
    refs.sort();
    return refs;
}

// Runs until cancelled: a job that stays in the status bar as long as the test wants.
class WaitingJob final : public ms::Job
{
public:
    explicit WaitingJob(QString title) : m_title(std::move(title)) {}
    QString kind() const override { return QStringLiteral("wait"); }
    QString title() const override { return m_title; }
    QJsonObject spec() const override { return {}; }
    ms::JobResult run(ms::JobContext &context) override
    {
        context.setProgress(0.25, QStringLiteral("waiting"));
        while (context.checkPoint())
            QThread::msleep(5);
        return {ms::JobStatus::Cancelled, QString(), {}};
    }

private:
    QString m_title;
};

// Says it waits for the registry (as a training run does when another process holds the
// registry's write lock), then that it no longer does, then runs until cancelled.
class NotingJob final : public ms::Job
{
public:
    QString kind() const override { return QStringLiteral("note"); }
    QString title() const override { return QStringLiteral("Train"); }
    QJsonObject spec() const override { return {}; }
    ms::JobResult run(ms::JobContext &context) override
    {
        context.setProgress(0.5, QStringLiteral("step"));
        context.report({{QStringLiteral("event"), QStringLiteral("registry")},
                        {QStringLiteral("status_note"),
                         QStringLiteral("waiting for the registry")}});
        while (!context.isPaused() && !context.isCancelled())
            QThread::msleep(5);
        context.report({{QStringLiteral("event"), QStringLiteral("registry")},
                        {QStringLiteral("status_note"), QString()}});
        while (context.checkPoint())
            QThread::msleep(5);
        return {ms::JobStatus::Cancelled, QString(), {}};
    }
};

} // namespace

class TestMainWindow final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void panelsInOrderWithShortcuts();
    void versionDetailsDockFollowsItsPanel();
    void droppingAPtAddsAVersion();
    void droppingABrokenPtAddsNothing();
    void openWorkspaceSwitchesTheRegistry();
    void openWorkspaceRefusesAForeignRegistry();
    void settingsThreadsReachTheTrainForm();
    void statusBarCountsRunningJobs();
    void statusBarShowsAJobsNote();
    void everyPanelFitsA1024By640Window();

private:
    QTemporaryDir m_dir;
    QString m_model;   // a real TorchScript file that records its input shape
};

void TestMainWindow::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
    m_model = m_dir.filePath(QStringLiteral("tiny.pt"));
    ms::test::tinyImageVersion(QStringLiteral("tiny"), m_model);
    QVERIFY(QFile::exists(m_model));
}

void TestMainWindow::init()
{
    QSettings().clear();   // no layout or workspace carried from one test into the next
}

void TestMainWindow::panelsInOrderWithShortcuts()
{
    QTemporaryDir workspace;
    MainWindow window(workspace.path());
    window.setPanelFactory(&ms::ui::addStudioPanels);
    QCOMPARE(window.panelIds(),
             (QStringList{QStringLiteral("data"), QStringLiteral("train"),
                          QStringLiteral("versions"), QStringLiteral("compare"),
                          QStringLiteral("serve"), QStringLiteral("optimize"),
                          QStringLiteral("try"), QStringLiteral("chat")}));
    window.show();
    QVERIFY(QTest::qWaitForWindowActive(&window));
    QTest::keyClick(&window, Qt::Key_4, Qt::ControlModifier);
    QCOMPARE(window.currentPanel()->id(), QStringLiteral("compare"));
    QTest::keyClick(&window, Qt::Key_6, Qt::ControlModifier);
    QCOMPARE(window.currentPanel()->id(), QStringLiteral("optimize"));
    QTest::keyClick(&window, Qt::Key_2, Qt::ControlModifier);
    QCOMPARE(window.currentPanel()->id(), QStringLiteral("train"));
    QCOMPARE(window.importAction()->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_I));
    QCOMPARE(window.openWorkspaceAction()->shortcut(), QKeySequence(QKeySequence::Open));
}

void TestMainWindow::versionDetailsDockFollowsItsPanel()
{
    QTemporaryDir workspace;
    MainWindow window(workspace.path());
    window.setPanelFactory(&ms::ui::addStudioPanels);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto *versions = window.panel<ms::ui::VersionsPanel>();
    // The Versions panel's detail pane lives in a dock of the window: movable and floatable.
    auto *dock = qobject_cast<QDockWidget *>(versions->detailPane()->parentWidget());
    QVERIFY(dock);
    QCOMPARE(dock->parentWidget(), &window);
    QVERIFY(dock->features().testFlag(QDockWidget::DockWidgetFloatable));
    QVERIFY(dock->features().testFlag(QDockWidget::DockWidgetMovable));
    QVERIFY(!dock->isVisible());   // the window opens on another panel
    QVERIFY(window.showPanel(QStringLiteral("versions")));
    QVERIFY(dock->isVisible());
    QVERIFY(window.showPanel(QStringLiteral("train")));
    QVERIFY(!dock->isVisible());
    // A workspace switch rebuilds the panels: one dock again, holding the new panel's pane.
    QTemporaryDir other;
    // The Data panel reads its dataset when first shown; a switch waits for no running job.
    QTRY_COMPARE_WITH_TIMEOUT(window.jobRunner()->runningCount(), 0, 60000);
    QVERIFY(window.setWorkspace(other.path()));
    QCOMPARE(window.findChildren<QDockWidget *>().size(), 1);
    QCOMPARE(window.findChildren<QDockWidget *>().value(0)->widget(),
             window.panel<ms::ui::VersionsPanel>()->detailPane());
}

void TestMainWindow::droppingAPtAddsAVersion()
{
    QTemporaryDir workspace;
    MainWindow window(workspace.path());
    window.setPanelFactory(&ms::ui::addStudioPanels);
    auto *versions = window.panel<ms::ui::VersionsPanel>();
    QCOMPARE(versions->tableModel()->rowCount(), 0);

    QSignalSpy finished(window.jobRunner(), &ms::JobRunner::finished);
    QSignalSpy changed(&window, &MainWindow::versionsChanged);
    QVERIFY(dropUrls(window, {QUrl::fromLocalFile(m_model)}));
    QVERIFY(finished.wait(30000));
    const auto result = finished.last().at(1).value<ms::JobResult>();
    QVERIFY2(result.status == ms::JobStatus::Finished, qPrintable(result.message));
    QCOMPARE(result.output.value(QStringLiteral("ref")).toString(), QStringLiteral("tiny:1"));

    // In the registry, named after the file, with the shape the file records...
    QCOMPARE(versionRefs(workspace.path()), QStringList{QStringLiteral("tiny:1")});
    const ms::VersionRecord v = ms::Registry(workspace.path()).resolve(QStringLiteral("tiny:1"));
    QCOMPARE(v.kind, ms::VersionKind::Imported);
    QCOMPARE(v.inputs.first().shape, (std::vector<qint64>{-1, 1, 28, 28}));
    QCOMPARE(v.outputs.first().shape, (std::vector<qint64>{-1, 10}));
    // ...and in the panels at once.
    QCOMPARE(changed.count(), 1);
    QCOMPARE(versions->tableModel()->rowCount(), 1);
    QVERIFY(window.panel<ms::ui::ComparePanel>()->selectionModel()->item(
        QStringLiteral("v:%1").arg(v.id)));
    QVERIFY2(window.statusBar()->currentMessage().contains(QStringLiteral("tiny:1")),
             qPrintable(window.statusBar()->currentMessage()));
    QVERIFY2(window.jobStatus()->text().contains(QStringLiteral("Import tiny.pt")),
             qPrintable(window.jobStatus()->text()));

    // Something that is not a .pt is not the window's to take.
    QVERIFY(!dropUrls(window, {QUrl::fromLocalFile(m_dir.filePath(QStringLiteral("a.txt")))}));
}

void TestMainWindow::droppingABrokenPtAddsNothing()
{
    QTemporaryDir workspace;
    MainWindow window(workspace.path());
    window.setPanelFactory(&ms::ui::addStudioPanels);
    const QString broken = m_dir.filePath(QStringLiteral("broken.pt"));
    QFile file(broken);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("not a model\n");
    file.close();

    QSignalSpy finished(window.jobRunner(), &ms::JobRunner::finished);
    QSignalSpy changed(&window, &MainWindow::versionsChanged);
    QVERIFY(dropUrls(window, {QUrl::fromLocalFile(broken)}));
    QVERIFY(finished.wait(30000));
    const auto result = finished.last().at(1).value<ms::JobResult>();
    QCOMPARE(result.status, ms::JobStatus::Failed);
    QVERIFY2(result.message.contains(QStringLiteral("broken.pt")), qPrintable(result.message));
    QVERIFY(window.statusBar()->currentMessage().startsWith(QStringLiteral("Import failed")));
    QCOMPARE(changed.count(), 0);
    QCOMPARE(versionRefs(workspace.path()), QStringList());
}

void TestMainWindow::openWorkspaceSwitchesTheRegistry()
{
    QTemporaryDir first;
    QTemporaryDir second;
    {
        ms::Registry registry(first.path());
        registry.addVersion(ms::test::tinyImageVersion(QStringLiteral("alpha"),
                                                       first.filePath(QStringLiteral("a.pt"))));
        ms::Registry other(second.path());
        for (int i = 0; i < 2; ++i)
            other.addVersion(ms::test::tinyImageVersion(
                QStringLiteral("beta"), second.filePath(QStringLiteral("b.pt"))));
    }
    MainWindow window(first.path());
    window.setPanelFactory(&ms::ui::addStudioPanels);
    window.showPanel(QStringLiteral("versions"));
    QCOMPARE(window.panel<ms::ui::VersionsPanel>()->tableModel()->rowCount(), 1);

    QSignalSpy switched(&window, &MainWindow::workspaceChanged);
    QString error;
    QVERIFY2(window.setWorkspace(second.path(), &error), qPrintable(error));
    QCOMPARE(switched.count(), 1);
    QCOMPARE(window.workspace(), QDir::cleanPath(second.path()));
    // Every panel reads the new registry; the panel shown stays shown.
    QCOMPARE(window.currentPanel()->id(), QStringLiteral("versions"));
    auto *versions = window.panel<ms::ui::VersionsPanel>();
    QCOMPARE(versions->tableModel()->rowCount(), 2);
    QCOMPARE(versions->tableModel()->index(0, ms::ui::VersionTableModel::Model).data()
                 .toString(),
             QStringLiteral("beta"));
    auto *compare = window.panel<ms::ui::ComparePanel>();
    QVERIFY(compare->setChecked(QStringLiteral("beta:2"), true));
    QVERIFY(!compare->setChecked(QStringLiteral("alpha:1"), true));
    bool labelShows = false;
    for (const QLabel *label : window.statusBar()->findChildren<QLabel *>())
        labelShows = labelShows || label->text().contains(
            QDir::toNativeSeparators(QDir::cleanPath(second.path())));
    QVERIFY(labelShows);
    // The next start opens it too.
    QCOMPARE(ms::ui::StudioSettings::workspace(), QDir::cleanPath(second.path()));

    // A dropped model now lands in the new workspace.
    QSignalSpy finished(window.jobRunner(), &ms::JobRunner::finished);
    window.importFile(m_model);
    QVERIFY(finished.wait(30000));
    QVERIFY(versionRefs(second.path()).contains(QStringLiteral("tiny:1")));
    QVERIFY(!versionRefs(first.path()).contains(QStringLiteral("tiny:1")));
}

void TestMainWindow::openWorkspaceRefusesAForeignRegistry()
{
    QTemporaryDir good;
    QTemporaryDir foreign;
    QFile db(foreign.filePath(QStringLiteral("registry.db")));
    QVERIFY(db.open(QIODevice::WriteOnly));
    db.write("this is not SQLite, and it is someone's file\n");
    db.close();

    MainWindow window(good.path());
    window.setPanelFactory(&ms::ui::addStudioPanels);
    QString error;
    QVERIFY(!window.setWorkspace(foreign.path(), &error));
    QVERIFY2(error.contains(QStringLiteral("registry.db")), qPrintable(error));
    QCOMPARE(window.workspace(), good.path());
    QCOMPARE(window.panelIds().size(), 8);
    // The foreign file is untouched.
    QVERIFY(db.open(QIODevice::ReadOnly));
    QVERIFY(db.readAll().startsWith("this is not SQLite"));
}

void TestMainWindow::settingsThreadsReachTheTrainForm()
{
    QTemporaryDir workspace;
    ms::ui::StudioSettings::setComputeThreads(3);
    MainWindow window(workspace.path());
    window.setPanelFactory(&ms::ui::addStudioPanels);
    QSpinBox *threads = window.panel<ms::ui::TrainPanel>()->form()->threadsSpin();
    QCOMPARE(threads->value(), 3);   // a new form starts from the setting
    Q_EMIT window.computeThreadsChanged(1);   // what Settings… sends on OK
    QCOMPARE(threads->value(), 1);
}

void TestMainWindow::statusBarCountsRunningJobs()
{
    QTemporaryDir workspace;
    MainWindow window(workspace.path());
    window.setPanelFactory(&ms::ui::addStudioPanels);
    ms::JobRunner *runner = window.jobRunner();
    QSignalSpy progress(runner, &ms::JobRunner::progress);
    const ms::JobId first = runner->start(std::make_unique<WaitingJob>(QStringLiteral("First")));
    const ms::JobId second =
        runner->start(std::make_unique<WaitingJob>(QStringLiteral("Second")));
    QTRY_VERIFY(progress.count() >= 2);
    ms::ui::JobStatusWidget *status = window.jobStatus();
    // The newest leads, with its progress, and the other is counted.
    QTRY_COMPARE(status->text(), QStringLiteral("Second · 25 % (+1 more)"));
    // A workspace switch waits for them.
    QTemporaryDir other;
    QString error;
    QVERIFY(!window.setWorkspace(other.path(), &error));
    QVERIFY2(error.contains(QStringLiteral("job is running")), qPrintable(error));

    QSignalSpy finished(runner, &ms::JobRunner::finished);
    runner->cancel(second);
    QVERIFY(finished.wait(10000));
    QCOMPARE(status->text(), QStringLiteral("First · 25 %"));
    runner->cancel(first);
    QVERIFY(finished.wait(10000));
    QCOMPARE(status->text(), QStringLiteral("First · cancelled"));
    QCOMPARE(status->runningCount(), 0);
}

void TestMainWindow::statusBarShowsAJobsNote()
{
    QTemporaryDir workspace;
    MainWindow window(workspace.path());
    window.setPanelFactory(&ms::ui::addStudioPanels);
    ms::JobRunner *runner = window.jobRunner();
    const ms::JobId id = runner->start(std::make_unique<NotingJob>());
    ms::ui::JobStatusWidget *status = window.jobStatus();
    QTRY_COMPARE(status->text(), QStringLiteral("Train · 50 % · waiting for the registry"));
    runner->pause(id);   // the job's cue to clear its note
    QTRY_COMPARE(status->text(), QStringLiteral("Train · paused"));
    runner->resume(id);
    QTRY_COMPARE(status->text(), QStringLiteral("Train · 50 %"));
    QSignalSpy finished(runner, &ms::JobRunner::finished);
    runner->cancel(id);
    QVERIFY(finished.wait(10000));
}

void TestMainWindow::everyPanelFitsA1024By640Window()
{
    // The window asked for the largest minimum of all its panels (the Train panel's) plus the
    // Versions details dock: 1275 px wide, wider than the screen it was meant for.
    QTemporaryDir workspace;
    MainWindow window(workspace.path());
    window.setPanelFactory(&ms::ui::addStudioPanels);
    const QSize small(1024, 640);
    window.resize(small);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    for (const QString &id : window.panelIds()) {
        QVERIFY(window.showPanel(id));
        // The window keeps its size through the switch (it grew when the old panel's dock
        // and the new panel were asked for at once): the layout requests the switch posted are
        // handled before looking.
        QCoreApplication::sendPostedEvents();
        QCoreApplication::processEvents();
        QTRY_VERIFY2(window.size() == small,
                     qPrintable(QStringLiteral("%1: %2x%3 (needs %4x%5)").arg(id)
                                    .arg(window.width()).arg(window.height())
                                    .arg(window.minimumSizeHint().width())
                                    .arg(window.minimumSizeHint().height())));
        const QSize needed = window.minimumSizeHint();
        QVERIFY2(needed.width() <= small.width() && needed.height() <= small.height(),
                 qPrintable(QStringLiteral("%1 needs %2x%3").arg(id).arg(needed.width())
                                .arg(needed.height())));
        // And the panel got at least its own minimum: nothing in it squeezed over its neighbour.
        const ms::ui::Panel *panel = window.currentPanel();
        QTRY_VERIFY2(panel->width() >= panel->minimumSizeHint().width(), qPrintable(id));
    }
    QTRY_COMPARE_WITH_TIMEOUT(window.jobRunner()->runningCount(), 0, 60000);
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
