// The Compress dialog and the Versions panel's "Compress…": the form made from each method's
// parameters, the spec the fields produce, a real compression of a tiny trained version driven
// through the dialog (new pruned version, lineage edge, selected), and refusals shown in the
// dialog or the panel with nothing registered. Offscreen, isolated workspace.
#include "panels/versions/CompressDialog.h"
#include "panels/versions/VersionTableModel.h"
#include "panels/versions/VersionsPanel.h"
#include "ui/TinyModel.h"

#include "common/Error.h"
#include "compress/CompressionMethod.h"
#include "jobs/JobContext.h"
#include "jobs/JobRunner.h"
#include "registry/Registry.h"
#include "train/TrainConfig.h"
#include "train/TrainJob.h"

#include <QAction>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QAbstractButton>
#include <QDoubleSpinBox>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using ms::CompressParameter;
using ms::ui::CompressDialog;
using ms::ui::VersionsPanel;

namespace {

QString fieldValueText(QWidget *field)
{
    if (auto *spin = qobject_cast<QDoubleSpinBox *>(field))
        return QString::number(spin->value());
    if (auto *combo = qobject_cast<QComboBox *>(field))
        return combo->currentText();
    return QString();
}

} // namespace

class TestCompressDialog final : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_ws;
    QString m_trained;    // "tiny:1", a trained mlp with a recipe (its data)
    QString m_imported;   // "imported:1", no recipe (a student to offer)

    int versionCount() const
    {
        ms::Registry registry(m_ws);
        return int(registry.versions(QStringLiteral("tiny")).size()
                   + registry.versions(QStringLiteral("imported")).size());
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        m_ws = m_dir.filePath(QStringLiteral("ws"));
        ms::TrainConfig c;
        c.arch = QStringLiteral("mlp");
        c.epochs = 1;
        c.limit = 300;
        c.threads = 1;
        c.seed = 5;
        ms::TrainJob job(c, m_dir.filePath(QStringLiteral("run-tiny")));
        job.recordIn(m_ws, QStringLiteral("tiny"));
        ms::JobContext context;
        const ms::JobResult r = job.run(context);
        QCOMPARE(r.status, ms::JobStatus::Finished);
        m_trained = r.output.value(QStringLiteral("version")).toString();
        QCOMPARE(m_trained, QStringLiteral("tiny:1"));
        m_imported = ms::Registry(m_ws)
                         .addVersion(ms::test::tinyImageVersion(
                             QStringLiteral("imported"), m_dir.filePath(QStringLiteral("i.pt"))))
                         .ref();
    }

    // Every registered method's parameters become fields of the matching kind, defaults in.
    void fieldsFollowParameters_data()
    {
        QTest::addColumn<QString>("method");
        for (const QString &name : ms::CompressionRegistry::instance().methods().names())
            QTest::newRow(qPrintable(name)) << name;
    }
    void fieldsFollowParameters()
    {
        QFETCH(QString, method);
        CompressDialog dialog(m_ws, m_trained, QStringLiteral("tiny"), {m_trained});
        QVERIFY(dialog.setMethod(method));
        QCOMPARE(dialog.methodName(), method);
        const auto parameters =
            ms::CompressionRegistry::instance().method(method)->parameters();
        QStringList names;
        for (const CompressParameter &p : parameters) {
            names << p.name;
            QWidget *field = dialog.field(p.name);
            QVERIFY2(field, qPrintable(p.name));
            QCOMPARE(field->toolTip(), p.help);
            switch (p.type) {
            case CompressParameter::Type::Double: {
                auto *spin = qobject_cast<QDoubleSpinBox *>(field);
                QVERIFY2(spin, qPrintable(p.name));
                QCOMPARE(spin->minimum(), p.minimum);
                QCOMPARE(spin->maximum(), p.maximum);
                QVERIFY(qFuzzyCompare(spin->value(), p.defaultValue.toDouble()));
                // A range from 0 to 10 or more (a weight decay) takes small values: two
                // decimals made 1e-4 a 0. Its arrows step from 0 to a millionth of the top.
                if (p.minimum == 0.0 && p.maximum >= 10.0) {
                    const double old = spin->value();
                    spin->setValue(1e-4);
                    QVERIFY2(qFuzzyCompare(spin->value(), 1e-4), qPrintable(p.name));
                    spin->setValue(0.0);
                    spin->stepBy(1);
                    QVERIFY2(qFuzzyCompare(spin->value(), p.maximum * 1e-6), qPrintable(p.name));
                    spin->stepBy(-1);
                    QCOMPARE(spin->value(), 0.0);
                    spin->setValue(old);
                }
                break;
            }
            case CompressParameter::Type::Int: {
                auto *spin = qobject_cast<QSpinBox *>(field);
                QVERIFY2(spin, qPrintable(p.name));
                QCOMPARE(spin->value(), p.defaultValue.toInt());
                QCOMPARE(double(spin->minimum()), p.minimum);
                break;
            }
            case CompressParameter::Type::Choice: {
                auto *combo = qobject_cast<QComboBox *>(field);
                QVERIFY2(combo && !combo->isEditable(), qPrintable(p.name));
                QCOMPARE(combo->count(), int(p.choices.size()));
                QCOMPARE(combo->currentText(), p.defaultValue.toString());
                break;
            }
            case CompressParameter::Type::Version: {
                auto *combo = qobject_cast<QComboBox *>(field);
                QVERIFY2(combo && combo->isEditable(), qPrintable(p.name));
                QVERIFY(combo->findText(m_trained) >= 0);
                break;
            }
            case CompressParameter::Type::Text:
                QVERIFY2(qobject_cast<QLineEdit *>(field), qPrintable(p.name));
                break;
            }
        }
        QCOMPARE(dialog.fieldNames(), names);
    }

    void pruneAndQuantizeFields()
    {
        CompressDialog dialog(m_ws, m_trained, QStringLiteral("tiny"), {});
        QVERIFY(dialog.setMethod(QStringLiteral("prune-unstructured")));
        auto *sparsity = qobject_cast<QDoubleSpinBox *>(dialog.field(QStringLiteral("sparsity")));
        QVERIFY(sparsity);
        QCOMPARE(sparsity->minimum(), 0.0);
        QCOMPARE(sparsity->maximum(), 1.0);
        QCOMPARE(sparsity->value(), 0.5);
        QVERIFY(!dialog.field(QStringLiteral("engine")));

        QVERIFY(dialog.setMethod(QStringLiteral("quantize-static")));
        QVERIFY(!dialog.field(QStringLiteral("sparsity")));   // the old form is gone
        auto *batches =
            qobject_cast<QSpinBox *>(dialog.field(QStringLiteral("calibration-batches")));
        QVERIFY(batches);
        QCOMPARE(batches->minimum(), 1);
        QCOMPARE(batches->value(), 10);
        auto *engine = qobject_cast<QComboBox *>(dialog.field(QStringLiteral("engine")));
        QVERIFY(engine);
        QVERIFY(engine->findText(QStringLiteral("onednn")) >= 0);
        QVERIFY(engine->findText(QStringLiteral("qnnpack")) >= 0);
        auto *percentile =
            qobject_cast<QDoubleSpinBox *>(dialog.field(QStringLiteral("percentile")));
        QVERIFY(percentile);
        QCOMPARE(percentile->value(), 99.99);   // enough decimals for the default
        QVERIFY(!dialog.setMethod(QStringLiteral("no-such-method")));
    }

    void specFromFields()
    {
        CompressDialog dialog(m_ws, m_trained, QStringLiteral("tiny"), {});
        QVERIFY(dialog.setMethod(QStringLiteral("prune-unstructured")));
        qobject_cast<QDoubleSpinBox *>(dialog.field(QStringLiteral("sparsity")))->setValue(0.75);
        qobject_cast<QComboBox *>(dialog.field(QStringLiteral("scope")))
            ->setCurrentText(QStringLiteral("global"));
        qobject_cast<QSpinBox *>(dialog.field(QStringLiteral("finetune-epochs")))->setValue(2);
        dialog.nameEdit()->setText(QStringLiteral("tiny-sparse"));
        const QJsonObject spec = dialog.spec();
        QCOMPARE(spec.value(QStringLiteral("source")).toString(), m_trained);
        QCOMPARE(spec.value(QStringLiteral("method")).toString(),
                 QStringLiteral("prune-unstructured"));
        QCOMPARE(spec.value(QStringLiteral("name")).toString(), QStringLiteral("tiny-sparse"));
        QVERIFY(!spec.contains(QStringLiteral("dataset")));   // empty: the source's data
        const QJsonObject params = spec.value(QStringLiteral("params")).toObject();
        QCOMPARE(params.value(QStringLiteral("sparsity")).toDouble(), 0.75);
        QCOMPARE(params.value(QStringLiteral("scope")).toString(), QStringLiteral("global"));
        QCOMPARE(params.value(QStringLiteral("schedule")).toString(),
                 QStringLiteral("one-shot"));
        QCOMPARE(params.value(QStringLiteral("finetune-epochs")).toInt(), 2);
        QVERIFY(qFuzzyCompare(params.value(QStringLiteral("lr")).toDouble(), 1e-3));

        // Distill: the empty student fields are left out (the method wants one or the other),
        // a chosen student version goes in, and the dataset override is carried.
        QVERIFY(dialog.setMethod(QStringLiteral("distill")));
        dialog.datasetEdit()->setText(QStringLiteral("  some/data.csv "));
        QJsonObject distill = dialog.params();
        QVERIFY(!distill.contains(QStringLiteral("student")));
        QVERIFY(!distill.contains(QStringLiteral("student-arch")));
        qobject_cast<QComboBox *>(dialog.field(QStringLiteral("student")))
            ->setCurrentText(m_imported);
        distill = dialog.spec().value(QStringLiteral("params")).toObject();
        QCOMPARE(distill.value(QStringLiteral("student")).toString(), m_imported);
        QCOMPARE(dialog.spec().value(QStringLiteral("dataset")).toString(),
                 QStringLiteral("some/data.csv"));
    }

    // The whole path: the panel's action, the dialog's fields, the job, the new version.
    void compressThroughPanel()
    {
        ms::JobRunner runner;
        VersionsPanel panel(m_ws);
        panel.resize(1200, 700);
        QVERIFY(panel.selectRef(m_trained));
        QVERIFY(!panel.compressAction()->isEnabled());   // no runner yet
        QVERIFY(!panel.compressSelected());
        panel.setJobRunner(&runner);
        QVERIFY(panel.compressAction()->isEnabled());
        const ms::VersionRecord source = ms::Registry(m_ws).resolve(m_trained);

        QSignalSpy started(&runner, &ms::JobRunner::started);
        QSignalSpy done(&panel, &VersionsPanel::compressFinished);
        // The toolbar's button opens it (the context menu holds the same action).
        QAbstractButton *button = nullptr;
        for (QAbstractButton *b : panel.findChildren<QAbstractButton *>())
            if (b->text() == panel.compressAction()->text())
                button = b;
        QVERIFY(button);
        QVERIFY(button->isEnabled());
        button->click();
        auto *dialog = panel.findChild<CompressDialog *>();
        QVERIFY(dialog);
        QVERIFY(dialog->isVisible());
        QVERIFY(dialog->windowTitle().contains(m_trained));
        QVERIFY(dialog->setMethod(QStringLiteral("prune-unstructured")));
        qobject_cast<QDoubleSpinBox *>(dialog->field(QStringLiteral("sparsity")))->setValue(0.5);
        if (qEnvironmentVariableIsSet("MS_GRAB_DIR"))   // a look at the dialog, by hand
            dialog->grab().save(qEnvironmentVariable("MS_GRAB_DIR")
                                + QStringLiteral("/compress-dialog.png"));
        dialog->buttons()->button(QDialogButtonBox::Ok)->click();
        QVERIFY(panel.isCompressing());
        QVERIFY(!panel.compressAction()->isEnabled());   // one at a time
        QVERIFY(!button->isEnabled());
        QVERIFY2(panel.statusText().contains(QStringLiteral("prune-unstructured")),
                 qPrintable(panel.statusText()));   // the panel's progress line
        QVERIFY(done.wait(120000));
        QCOMPARE(done.first().at(0).toBool(), true);
        QCOMPARE(started.size(), 1);   // through the runner (the status bar lists it)
        const QString ref = done.first().at(1).toString();
        QCOMPARE(ref, QStringLiteral("tiny:2"));
        QVERIFY(!panel.isCompressing());
        QVERIFY(panel.compressAction()->isEnabled());
        QVERIFY(!panel.statusIsError());
        QVERIFY(panel.statusText().contains(ref));

        // Selected in the reloaded table, listed as pruned, its lineage edge to the source.
        QCOMPARE(panel.selectedRef(), ref);
        const int row = panel.tableModel()->rowOf(ms::Registry(m_ws).resolve(ref).id);
        QVERIFY(row >= 0);
        const ms::VersionRecord variant = panel.tableModel()->record(row);
        QCOMPARE(variant.kind, ms::VersionKind::Pruned);
        bool edge = false;
        for (const ms::LineageEdge &e : ms::Registry(m_ws).lineage(variant.id))
            edge = edge || (e.parentId == source.id && e.childId == variant.id
                            && e.role == QLatin1String("source"));
        QVERIFY(edge);
        const QJsonObject recipe = ms::Registry(m_ws).version(variant.id).recipe;
        QCOMPARE(recipe.value(QStringLiteral("params")).toObject()
                     .value(QStringLiteral("sparsity")).toDouble(), 0.5);
    }

    // Distillation from the dialog: a student architecture typed in, the other student field
    // left blank (issue 11: the blank field came back as "" and the job refused it).
    void distillThroughPanel()
    {
        ms::JobRunner runner;
        VersionsPanel panel(m_ws);
        panel.setJobRunner(&runner);
        QVERIFY(panel.selectRef(m_trained));
        QSignalSpy done(&panel, &VersionsPanel::compressFinished);
        CompressDialog *dialog = panel.compressSelected();
        QVERIFY(dialog);
        QVERIFY(dialog->setMethod(QStringLiteral("distill")));
        auto *arch = qobject_cast<QLineEdit *>(dialog->field(QStringLiteral("student-arch")));
        QVERIFY(arch);
        arch->setText(QStringLiteral("mlp"));
        qobject_cast<QSpinBox *>(dialog->field(QStringLiteral("epochs")))->setValue(1);
        dialog->nameEdit()->setText(QStringLiteral("tiny-student"));
        dialog->buttons()->button(QDialogButtonBox::Ok)->click();
        QVERIFY2(dialog->errorText().isEmpty(), qPrintable(dialog->errorText()));
        QVERIFY(done.wait(120000));
        QVERIFY2(done.first().at(0).toBool(), qPrintable(done.first().at(1).toString()));
        const QString ref = done.first().at(1).toString();
        QCOMPARE(ref, QStringLiteral("tiny-student:1"));
        ms::Registry registry(m_ws);
        const ms::VersionRecord student = registry.resolve(ref);
        QCOMPARE(student.kind, ms::VersionKind::Distilled);
        bool teacher = false;
        for (const ms::LineageEdge &e : registry.lineage(student.id))
            teacher = teacher || (e.parentRef == m_trained && e.role == QLatin1String("teacher"));
        QVERIFY(teacher);
        QVERIFY(!student.recipe.value(QStringLiteral("params")).toObject().contains(
            QStringLiteral("student")));
    }

    // Values the fields accept but the method's check() refuses: the dialog says why, stays
    // open, and nothing runs or is registered.
    void refusedInDialog_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("message");
        QTest::newRow("sparsity 1") << QStringLiteral("sparsity") << QStringLiteral("1")
                                    << QStringLiteral("strictly between 0 and 1");
        QTest::newRow("gradual without fine-tuning")
            << QStringLiteral("schedule") << QStringLiteral("gradual")
            << QStringLiteral("give --finetune-epochs 1 or more");
    }
    void refusedInDialog()
    {
        QFETCH(QString, field);
        QFETCH(QString, value);
        QFETCH(QString, message);
        ms::JobRunner runner;
        VersionsPanel panel(m_ws);
        panel.setJobRunner(&runner);
        QVERIFY(panel.selectRef(m_trained));
        const int before = versionCount();
        QSignalSpy started(&runner, &ms::JobRunner::started);
        CompressDialog *dialog = panel.compressSelected();
        QVERIFY(dialog);
        QVERIFY(dialog->setMethod(QStringLiteral("prune-unstructured")));
        if (auto *spin = qobject_cast<QDoubleSpinBox *>(dialog->field(field)))
            spin->setValue(value.toDouble());
        else
            qobject_cast<QComboBox *>(dialog->field(field))->setCurrentText(value);
        QCOMPARE(fieldValueText(dialog->field(field)), value);   // the field took it
        QVERIFY(dialog->errorText().isEmpty());
        dialog->buttons()->button(QDialogButtonBox::Ok)->click();
        QVERIFY(dialog->isVisible());
        QVERIFY2(dialog->errorText().contains(message), qPrintable(dialog->errorText()));
        QVERIFY(dialog->acceptedSpec().isEmpty());
        QCoreApplication::processEvents();   // a queued start would have arrived
        QCOMPARE(started.size(), 0);
        QVERIFY(!panel.isCompressing());
        QCOMPARE(versionCount(), before);
        // Changing the method clears the stale message.
        QVERIFY(dialog->setMethod(QStringLiteral("fp16")));
        QVERIFY(dialog->errorText().isEmpty());
    }

    // A spec the job itself refuses (no dialog in between): the panel shows the job's message.
    void jobFailureShown()
    {
        ms::JobRunner runner;
        VersionsPanel panel(m_ws);
        panel.setJobRunner(&runner);
        QVERIFY(panel.selectRef(m_trained));
        const int before = versionCount();
        QSignalSpy done(&panel, &VersionsPanel::compressFinished);
        QVERIFY(panel.startCompress(QJsonObject{
            {QStringLiteral("source"), m_trained},
            {QStringLiteral("method"), QStringLiteral("prune-unstructured")},
            {QStringLiteral("params"), QJsonObject{{QStringLiteral("sparsity"), 1.0}}}}));
        QVERIFY(done.wait(60000));
        QCOMPARE(done.first().at(0).toBool(), false);
        QVERIFY(done.first().at(1).toString().contains(QStringLiteral("strictly between")));
        QVERIFY(panel.statusIsError());
        QVERIFY(panel.statusText().contains(QStringLiteral("strictly between")));
        QCOMPARE(versionCount(), before);
        QCOMPARE(panel.selectedRef(), m_trained);
    }
};

QTEST_MAIN(TestCompressDialog)
#include "tst_compressdialog.moc"
