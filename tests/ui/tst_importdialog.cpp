// File › Import Model…: the dialog names the model after the file until the user types a name,
// refuses what it can check cheaply (no file, a name with ':' or '@', a shape that is not
// positive integers, a normalisation of token ids) with a line in the dialog, and hands the
// ImportJob the options it shows (the input dtype among them).
#include "shell/ImportDialog.h"

#include "common/Error.h"

#include <QComboBox>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using ms::ui::ImportDialog;

class TestImportDialog final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        m_file = m_dir.filePath(QStringLiteral("resnet@v2.pt"));
        QFile file(m_file);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("the dialog does not load it; the job does\n");
    }

    void namesTheModelAfterTheFile()
    {
        ImportDialog dialog;
        dialog.setPath(m_file);
        const ms::ImportOptions options = dialog.options();
        QCOMPARE(options.path, m_file);
        QCOMPARE(options.modelName, QStringLiteral("resnet-v2"));   // '@' cannot be in a name
        QVERIFY(options.exampleShape.empty());
    }

    void refusesWhatItCanCheck_data()
    {
        QTest::addColumn<bool>("fileExists");
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("shape");
        QTest::addColumn<QString>("expected");
        QTest::newRow("no file") << false << "net" << "" << "There is no file";
        QTest::newRow("name with a colon") << true << "net:2" << "" << "cannot be a model name";
        QTest::newRow("empty name") << true << " " << "" << "needs a name";
        QTest::newRow("shape with a letter") << true << "net" << "1,a" << "\"1,a\"";
        QTest::newRow("zero in the shape") << true << "net" << "1,0,4" << "positive integers";
    }

    void refusesWhatItCanCheck()
    {
        QFETCH(bool, fileExists);
        QFETCH(QString, name);
        QFETCH(QString, shape);
        QFETCH(QString, expected);
        ImportDialog dialog;
        dialog.setPath(fileExists ? m_file : m_dir.filePath(QStringLiteral("missing.pt")));
        const QList<QLineEdit *> fields = dialog.findChildren<QLineEdit *>();
        QCOMPARE(fields.size(), 7);   // file, name, shape, mean, std, classes, notes
        fields[1]->setText(name);
        fields[2]->setText(shape);
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Rejected));   // still open
        QVERIFY2(dialog.errorText().contains(expected), qPrintable(dialog.errorText()));
    }

    // The normalisation and the class names: checked as far as the dialog can (numbers, both
    // or neither, one per channel of the shape), carried to the job as they were typed.
    void refusesABadNormalisation_data()
    {
        QTest::addColumn<QString>("mean");
        QTest::addColumn<QString>("stdev");
        QTest::addColumn<QString>("expected");
        QTest::newRow("mean without std") << "0.5,0.5,0.5" << "" << "Mean and Std together";
        QTest::newRow("a word") << "0.5,grey,0.5" << "1,1,1" << "\"grey\" is not a number";
        QTest::newRow("lengths differ") << "0.5,0.5,0.5" << "1,1" << "Mean has 3 values and Std 2";
        QTest::newRow("not one per channel") << "0.5" << "0.2" << "has 3 channels";
    }

    void refusesABadNormalisation()
    {
        QFETCH(QString, mean);
        QFETCH(QString, stdev);
        QFETCH(QString, expected);
        ImportDialog dialog;
        dialog.setPath(m_file);
        dialog.findChildren<QLineEdit *>()[2]->setText(QStringLiteral("1,3,32,32"));
        dialog.meanEdit()->setText(mean);
        dialog.stdEdit()->setText(stdev);
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Rejected));
        QVERIFY2(dialog.errorText().contains(expected), qPrintable(dialog.errorText()));
    }

    void carriesTheNormalisationAndClasses()
    {
        ImportDialog dialog;
        dialog.setPath(m_file);
        dialog.findChildren<QLineEdit *>()[2]->setText(QStringLiteral("1,3,32,32"));
        dialog.meanEdit()->setText(QStringLiteral("0.485, 0.456, 0.406"));
        dialog.stdEdit()->setText(QStringLiteral("0.229,0.224,0.225"));
        dialog.classesEdit()->setText(QStringLiteral("cat, dog"));
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        const ms::ImportOptions options = dialog.options();
        QCOMPARE(options.mean, (std::vector<float>{0.485f, 0.456f, 0.406f}));
        QCOMPARE(options.stdev, (std::vector<float>{0.229f, 0.224f, 0.225f}));
        QCOMPARE(options.classNames, (QStringList{"cat", "dog"}));
    }

    void acceptsAndCarriesTheShape()
    {
        ImportDialog dialog;
        dialog.setPath(m_file);
        const QList<QLineEdit *> fields = dialog.findChildren<QLineEdit *>();
        fields[1]->setText(QStringLiteral("resnet"));
        fields[2]->setText(QStringLiteral("1, 3, 32, 32"));
        fields[6]->setText(QStringLiteral("from the lab"));
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        const ms::ImportOptions options = dialog.options();
        QCOMPARE(options.modelName, QStringLiteral("resnet"));
        QCOMPARE(options.exampleShape, (std::vector<qint64>{1, 3, 32, 32}));
        QCOMPARE(options.notes, QStringLiteral("from the lab"));
    }

    void carriesTheDtypeOfTokenInputs()
    {
        ImportDialog dialog;
        dialog.setPath(m_file);
        dialog.findChildren<QLineEdit *>()[2]->setText(QStringLiteral("1,16"));
        QCOMPARE(dialog.options().inputDtype, QStringLiteral("float32"));
        dialog.dtypeBox()->setCurrentText(QStringLiteral("int64"));
        // Token ids are not normalised: Mean and Std are refused for them.
        dialog.meanEdit()->setText(QStringLiteral("0.5"));
        dialog.stdEdit()->setText(QStringLiteral("0.25"));
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Rejected));
        QVERIFY2(dialog.errorText().contains(QStringLiteral("not normalised")),
                 qPrintable(dialog.errorText()));
        dialog.meanEdit()->clear();
        dialog.stdEdit()->clear();
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QCOMPARE(dialog.options().inputDtype, QStringLiteral("int64"));
        QCOMPARE(dialog.options().exampleShape, (std::vector<qint64>{1, 16}));
    }

private:
    QTemporaryDir m_dir;
    QString m_file;
};

QTEST_MAIN(TestImportDialog)
#include "tst_importdialog.moc"
