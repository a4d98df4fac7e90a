// `modelstudio-cli datasets SOURCE`: the Data panel's numbers on the command line. A CSV written
// here is described with its split sizes and samples per class (summing to the split sizes),
// as JSON and as a table; a bad source fails with one line.

#include "app/CliRun.h"

#include <QFile>
#include <QJsonArray>
#include <QTemporaryDir>
#include <QTest>

using ms::test::runCli;

class TestCliDatasets final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        // 20 rows: 5 of "a", 15 of "b".
        QByteArray csv("x,y,label\n");
        for (int i = 0; i < 20; ++i)
            csv += QByteArray::number(i) + ",1," + (i < 5 ? "a" : "b") + '\n';
        m_csv = m_dir.filePath(QStringLiteral("two.csv"));
        QFile file(m_csv);
        QVERIFY(file.open(QIODevice::WriteOnly));
        QCOMPARE(file.write(csv), csv.size());
    }

    void describesSplitsAndClassesAsJson()
    {
        const auto run = runCli({QStringLiteral("datasets"), m_csv, QStringLiteral("--json")});
        QCOMPARE(run.exitCode, 0);
        const QJsonObject json = run.json();
        QCOMPARE(json.value(QStringLiteral("num_classes")).toInt(), 2);
        QCOMPARE(json.value(QStringLiteral("train")).toInt()
                     + json.value(QStringLiteral("validation")).toInt(),
                 20);
        const QJsonObject counts = json.value(QStringLiteral("class_counts")).toObject();
        QCOMPARE(counts.keys(), (QStringList{QStringLiteral("train"),
                                             QStringLiteral("validation")}));
        qint64 perClass[2] = {0, 0};
        for (const QString &split : counts.keys()) {
            const QJsonArray array = counts.value(split).toArray();
            QCOMPARE(array.size(), 2);
            QCOMPARE(array.at(0).toInteger() + array.at(1).toInteger(),
                     json.value(split).toInteger());
            perClass[0] += array.at(0).toInteger();
            perClass[1] += array.at(1).toInteger();
        }
        QCOMPARE(perClass[0], 5);
        QCOMPARE(perClass[1], 15);
    }

    void describesAsATable()
    {
        const auto run = runCli({QStringLiteral("datasets"), m_csv});
        QCOMPARE(run.exitCode, 0);
        QVERIFY2(run.out.startsWith(QStringLiteral("two (csv): samples of 2, 2 classes")),
                 qPrintable(run.out));
        QVERIFY2(run.out.contains(QStringLiteral("VALIDATION")), qPrintable(run.out));
        QVERIFY2(run.out.contains(QStringLiteral("total")), qPrintable(run.out));
    }

    void badSourceFailsWithOneLine()
    {
        const auto run = runCli({QStringLiteral("datasets"), m_dir.filePath(QStringLiteral("no"))});
        QVERIFY(run.exitCode != 0 && run.exitCode != -1);
        QVERIFY2(!run.errorLine().isEmpty(), qPrintable(run.err));
    }

private:
    QTemporaryDir m_dir;
    QString m_csv;
};

QTEST_GUILESS_MAIN(TestCliDatasets)
#include "tst_cli_datasets.moc"
