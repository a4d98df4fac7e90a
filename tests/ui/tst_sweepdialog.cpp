// The New sweep form: the space built in a table becomes the sweep file `sweep --config` takes,
// a wrong row is refused with the file check's own message while the form stays open, and the
// Optimize panel's Start runs what the form built.
#include "panels/optimize/OptimizePanel.h"
#include "panels/optimize/SweepDialog.h"

#include "jobs/JobRunner.h"

#include <QAbstractButton>
#include <QCheckBox>
#include <QComboBox>
#include <QJsonArray>
#include <QLineEdit>
#include <QSpinBox>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

using ms::ui::SweepDialog;

class TestSweepDialog final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void theFormMakesTheSweepFile()
    {
        SweepDialog dialog;
        dialog.clearParameters();
        dialog.addParameter("lr", "log_uniform", "1e-4, 1e-2");
        dialog.addParameter("optimizer", "choice", "adam, sgd");
        dialog.addParameter("batch_size", "choice", "32, 64");
        dialog.nameEdit()->setText("from-the-form");
        dialog.trialsBox()->setValue(6);
        const QJsonObject space = dialog.sweepJson().value("space").toObject();
        QCOMPARE(space.value("lr").toObject().value("log_uniform").toArray(),
                 (QJsonArray{1e-4, 1e-2}));
        QCOMPARE(space.value("optimizer").toObject().value("choice").toArray(),
                 (QJsonArray{"adam", "sgd"}));
        QCOMPARE(space.value("batch_size").toObject().value("choice").toArray(),
                 (QJsonArray{32, 64}));
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QVERIFY(dialog.spec());
        QCOMPARE(dialog.spec()->name, QStringLiteral("from-the-form"));
        QCOMPARE(dialog.spec()->trials, 6);
        QCOMPARE(int(dialog.spec()->space.size()), 3);

        // The sampler's start-up trials and the seed, as the file has them; start-up trials
        // belong to the model sampler only, so another one leaves the field out.
        dialog.samplerBox()->setCurrentText("model");
        dialog.startupBox()->setValue(4);
        dialog.seedBox()->setValue(7);
        dialog.accept();
        QVERIFY(dialog.spec());
        QCOMPARE(dialog.spec()->startupTrials, 4);
        QCOMPARE(dialog.spec()->seed, quint64(7));
        dialog.samplerBox()->setCurrentText("random");
        QVERIFY(!dialog.startupBox()->isEnabled());
        QVERIFY(!dialog.sweepJson().contains("startup_trials"));
        dialog.accept();
        QVERIFY(dialog.spec());
        QCOMPARE(dialog.spec()->startupTrials, 0);

        // A slot's trials share a process unless the box is cleared.
        if (qEnvironmentVariableIsSet("MS_GRAB_DIR"))   // a look at the dialog, by hand
            dialog.grab().save(qEnvironmentVariable("MS_GRAB_DIR")
                               + QStringLiteral("/sweep-dialog.png"));
        QVERIFY(dialog.spec()->reuseProcesses);
        QVERIFY(!dialog.sweepJson().contains("reuse_processes"));
        dialog.reuseBox()->setChecked(false);
        QCOMPARE(dialog.sweepJson().value("reuse_processes"), QJsonValue(false));
        dialog.accept();
        QVERIFY(dialog.spec());
        QVERIFY(!dialog.spec()->reuseProcesses);
    }

    void aWrongRowKeepsTheFormOpenWithTheReason()
    {
        SweepDialog dialog;
        dialog.clearParameters();
        dialog.addParameter("lr", "uniform", "0.1, 0.01");
        dialog.accept();
        QVERIFY(dialog.result() != int(QDialog::Accepted));
        QVERIFY(!dialog.spec());
        QVERIFY2(dialog.errorText().contains("space.lr"), qPrintable(dialog.errorText()));
        QVERIFY2(dialog.errorText().contains("below high"), qPrintable(dialog.errorText()));
        // A parameter in two rows (one key of the file) is refused, not silently merged.
        dialog.clearParameters();
        dialog.addParameter("lr", "uniform", "0.001, 0.01");
        dialog.addParameter("lr", "log_uniform", "1e-4, 1e-2");
        dialog.accept();
        QVERIFY(dialog.result() != int(QDialog::Accepted));
        QVERIFY2(dialog.errorText().contains("two rows"), qPrintable(dialog.errorText()));
        // An empty space is refused too, naming the field.
        dialog.clearParameters();
        dialog.accept();
        QVERIFY(dialog.errorText().contains("\"space\""));
        // Mended, it goes through.
        dialog.addParameter("lr", "uniform", "0.001, 0.01");
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QVERIFY(dialog.errorText().isEmpty());
        QVERIFY(dialog.spec());
    }

    void thePanelStartsWhatTheFormBuilt()
    {
        QTemporaryDir dir;
        ms::JobRunner runner;
        ms::ui::OptimizePanel panel(&runner, dir.filePath("ws"));
        QVERIFY(!panel.startButton()->isEnabled());
        QVERIFY(panel.newButton()->isEnabled());
        SweepDialog dialog;
        dialog.accept();
        QVERIFY(dialog.spec());
        panel.useSpec(*dialog.spec());
        QVERIFY(panel.startButton()->isEnabled());
        QVERIFY2(panel.statusText().contains(dialog.spec()->name), qPrintable(panel.statusText()));
    }
};

QTEST_MAIN(TestSweepDialog)
#include "tst_sweepdialog.moc"
