// The Compare panel's disagreement explorer: two trained versions run over the test split as a
// DisagreementJob on the window's runner, the grid lists exactly the samples `modelstudio-cli
// disagree --json` lists, and activating a cell opens that sample in the Try panel with both
// versions.

#include "TestSupport.h"

#include "explain/DisagreementJob.h"
#include "jobs/JobRunner.h"

#include "panels/compare/ComparePanel.h"
#include "panels/compare/DisagreementModel.h"
#include "panels/compare/DisagreementView.h"
#include "panels/compare/VariantsView.h"
#include "panels/try/TryPanel.h"
#include "shell/MainWindow.h"
#include "shell/StudioPanels.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QListView>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using ms::ui::DisagreementModel;
using ms::ui::DisagreementView;

class TestDisagreementView : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

    QByteArray cli(const QStringList &args)
    {
        QProcess p;
        p.start(QStringLiteral(MS_TEST_BIN_DIR "/modelstudio-cli"),
                args + QStringList{QStringLiteral("--workspace"), m_dir.path()});
        if (!p.waitForFinished(300000) || p.exitCode() != 0) {
            qWarning().noquote() << p.readAllStandardError();
            return {};
        }
        return p.readAllStandardOutput();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        // Two small mlps of different seeds: they disagree on a good share of the test split.
        for (const char *seed : {"1", "2"})
            QVERIFY(!cli({"train", "--arch", "mlp", "--limit", "1000", "--epochs", "1",
                          "--seed", seed, "--threads", "2", "--json"})
                         .isEmpty());
    }

    void gridListsWhatTheCliFindsAndOpensACellInTry()
    {
        const QByteArray printed = cli({"disagree", "mlp:1", "mlp:2", "--json"});
        const QJsonObject expected = QJsonDocument::fromJson(printed).object();
        QVector<qint64> indices;
        for (const QJsonValue &v : expected.value("indices").toArray())
            indices << v.toInteger();
        QVERIFY2(indices.size() >= 5, printed.left(200).constData());

        ms::ui::MainWindow window(m_dir.path());
        window.setPanelFactory(&ms::ui::addStudioPanels);
        window.resize(1280, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        auto *compare = window.panel<ms::ui::ComparePanel>();
        QVERIFY(window.showPanel(compare->id()));
        compare->showTab(ms::ui::ComparePanel::VariantsTab);
        QVERIFY(compare->setChecked(QStringLiteral("mlp:1"), true));
        QVERIFY(compare->setChecked(QStringLiteral("mlp:2"), true));
        DisagreementView *explorer = compare->variants()->disagreements();
        QVERIFY(explorer->choose(QStringLiteral("mlp:1"), QStringLiteral("mlp:2")));
        QSignalSpy found(explorer, &DisagreementView::found);
        QVERIFY(explorer->findNow());
        QVERIFY(explorer->isBusy()); // the work is a job, not done on this thread
        QVERIFY2(found.wait(120000), qPrintable(explorer->summaryText()));
        QCOMPARE(found.first().first().toBool(), true);
        DisagreementModel *model = explorer->model();
        QCOMPARE(model->sampleIndices(), indices);
        // Each cell carries both predictions, and they differ; the picture is there.
        const QJsonArray samples = expected.value("samples").toArray();
        for (int row : {0, int(indices.size()) - 1}) {
            const QModelIndex cell = model->index(row);
            const QJsonObject s = samples.at(row).toObject();
            QCOMPARE(cell.data(DisagreementModel::PredictionARole).toInt(),
                     s.value("a").toObject().value("prediction").toInt());
            QCOMPARE(cell.data(DisagreementModel::PredictionBRole).toInt(),
                     s.value("b").toObject().value("prediction").toInt());
            QCOMPARE(cell.data(DisagreementModel::LabelRole).toInt(), s.value("label").toInt());
            // Pictures of the first DisagreementRequest::maxThumbnails only.
            QCOMPARE(cell.data(Qt::DecorationRole).value<QImage>().isNull(),
                     row >= ms::DisagreementRequest().maxThumbnails);
        }
        qInfo("%d of 10000 test samples differ", int(indices.size()));
        // The class names of fashion-mnist, not bare numbers.
        QVERIFY2(model->index(0).data(Qt::ToolTipRole).toString().contains(
                     model->classText(model->index(0).data(DisagreementModel::LabelRole).toInt())),
                 qPrintable(model->index(0).data(Qt::ToolTipRole).toString()));
        QCOMPARE(model->classText(0), QStringLiteral("0 T-shirt/top"));

        // A double-click on the third cell: the Try panel explains that sample with both.
        auto *tryPanel = window.panel<ms::ui::TryPanel>();
        QSignalSpy explained(tryPanel, &ms::ui::TryPanel::explained);
        QListView *grid = explorer->grid();
        const QModelIndex third = model->index(2);
        grid->scrollTo(third);
        const QPoint at = grid->visualRect(third).center();
        QTest::mouseClick(grid->viewport(), Qt::LeftButton, Qt::NoModifier, at);
        QTest::mouseDClick(grid->viewport(), Qt::LeftButton, Qt::NoModifier, at);
        QVERIFY2(explained.wait(60000), qPrintable(tryPanel->statusText()));
        QCOMPARE(explained.first().first().toBool(), true);
        QCOMPARE(window.currentPanel()->id(), tryPanel->id());
        QCOMPARE(tryPanel->chosenVersions(),
                 (QStringList{QStringLiteral("mlp:1"), QStringLiteral("mlp:2")}));
        QCOMPARE(tryPanel->shownSample(), indices.at(2));
        // The two columns answer as the explorer said: they disagree on it.
        QVERIFY(tryPanel->columnHeadline(0).startsWith(QStringLiteral("mlp:1: ")));
        QVERIFY(tryPanel->columnHeadline(1).startsWith(QStringLiteral("mlp:2: ")));
        QVERIFY(tryPanel->columnHeadline(0).contains(
            model->classText(third.data(DisagreementModel::PredictionARole).toInt())));
        QVERIFY(tryPanel->columnHeadline(1).contains(
            model->classText(third.data(DisagreementModel::PredictionBRole).toInt())));
    }

    // The window words an int8 variant's refusal of a gradient method in its own terms: the
    // method picker, not the CLI's --method.
    void int8RefusalPointsAtTheMethodPicker()
    {
        QVERIFY(!cli({"compress", "mlp:1", "--method", "quantize-dynamic", "--name", "mlp-int8",
                      "--json"})
                     .isEmpty());
        ms::JobRunner runner;
        ms::ui::TryPanel panel(&runner, m_dir.path());
        QSignalSpy explained(&panel, &ms::ui::TryPanel::explained);
        panel.trySample(0, {QStringLiteral("mlp:1"), QStringLiteral("mlp-int8:1")}, QString());
        QVERIFY2(explained.wait(60000), qPrintable(panel.statusText()));
        QVERIFY2(panel.columnHeadline(0).startsWith(QStringLiteral("mlp:1: ")),
                 qPrintable(panel.columnHeadline(0)));
        const QString refused = panel.columnHeadline(1);
        QVERIFY2(refused.contains(QStringLiteral("mlp-int8:1"))
                     && refused.contains(QStringLiteral("Choose Occlusion in the method picker"))
                     && !refused.contains(QStringLiteral("--method")),
                 qPrintable(refused));
    }
};

QTEST_MAIN(TestDisagreementView)
#include "tst_disagreementview.moc"
