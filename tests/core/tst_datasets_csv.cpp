// CsvReader: header detection, label column by name or index, string labels as class names,
// and errors that point at the row, the column and the offending text.
#include "TestSupport.h"
#include "common/Error.h"
#include "data/CsvReader.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <functional>

using namespace ms;
using ms::test::errorOf;

namespace {

QString writeCsv(const QTemporaryDir &dir, const QByteArray &content,
                 const QString &name = QStringLiteral("data.csv"))
{
    const QString path = dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size())
        return QString();
    return path;
}

} // namespace

class TestCsvReader final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void read_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("labelColumn");
        QTest::addColumn<std::vector<float>>("features");
        QTest::addColumn<std::vector<qint64>>("labels");
        QTest::addColumn<QStringList>("classNames");

        QTest::newRow("header, last column")
            << QByteArray("a,b,label\n1,2,0\n3.5,-4,2\n") << QString()
            << std::vector<float>{1, 2, 3.5f, -4} << std::vector<qint64>{0, 2}
            << QStringList{"0", "1", "2"};
        QTest::newRow("no header")
            << QByteArray("1,2,1\n3,4,0\n5e-1,+6,1\n") << QString()
            << std::vector<float>{1, 2, 3, 4, 0.5f, 6} << std::vector<qint64>{1, 0, 1}
            << QStringList{"0", "1"};
        QTest::newRow("label by name, strings")
            << QByteArray("species,length,width\nsetosa,1,2\nvirginica,3,4\nsetosa,5,6\n")
            << QStringLiteral("species") << std::vector<float>{1, 2, 3, 4, 5, 6}
            << std::vector<qint64>{0, 1, 0} << QStringList{"setosa", "virginica"};
        QTest::newRow("label by index, no header")
            << QByteArray("7,1,2\n3,3,4\n") << QStringLiteral("0")
            << std::vector<float>{1, 2, 3, 4} << std::vector<qint64>{7, 3}
            << QStringList{"0", "1", "2", "3", "4", "5", "6", "7"};
        QTest::newRow("label by index, header")
            << QByteArray("x,y,z\n1,0,2\n3,1,4\n") << QStringLiteral("1")
            << std::vector<float>{1, 2, 3, 4} << std::vector<qint64>{0, 1}
            << QStringList{"0", "1"};
        QTest::newRow("strings sorted, quoted, CRLF, blank lines")
            << QByteArray("f1,f2,kind\r\n1,2,\"b, c\"\r\n\r\n3,4,a\r\n5,6,\"b, c\"\r\n")
            << QString() << std::vector<float>{1, 2, 3, 4, 5, 6}
            << std::vector<qint64>{1, 0, 1} << QStringList{"a", "b, c"};
        QTest::newRow("signed labels sort by value")
            << QByteArray("1,10\n2,-1\n3,1\n4,10\n") << QString()
            << std::vector<float>{1, 2, 3, 4} << std::vector<qint64>{2, 0, 1, 2}
            << QStringList{"-1", "1", "10"};
        QTest::newRow("semicolons")
            << QByteArray("a;b;c\n1;2;1\n3;4;0\n") << QString()
            << std::vector<float>{1, 2, 3, 4} << std::vector<qint64>{1, 0}
            << QStringList{"0", "1"};
    }

    void read()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, labelColumn);
        QFETCH(std::vector<float>, features);
        QFETCH(std::vector<qint64>, labels);
        QFETCH(QStringList, classNames);
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QString path = writeCsv(tmp, content);
        QVERIFY(!path.isEmpty());

        DatasetOptions options;
        options.labelColumn = labelColumn;
        const Dataset dataset = CsvReader().read(path, options);
        QCOMPARE(dataset.name, QStringLiteral("data"));
        QCOMPARE(dataset.readerName, QStringLiteral("csv"));
        QCOMPARE(dataset.sampleShape,
                 std::vector<qint64>{qint64(features.size() / labels.size())});
        QCOMPARE(dataset.train.features, features);
        QCOMPARE(dataset.train.labels, labels);
        QCOMPARE(dataset.classNames, classNames);
        QCOMPARE(dataset.test.count(), 0);
    }

    void errors_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("labelColumn");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("not a number, header")
            << QByteArray("a,b,petal_width,label\n1,2,3,0\n\n4,5,abc,1\n") << QString()
            << QStringList{"data.csv: row 4, column 3 (\"petal_width\"): \"abc\" is not a "
                           "number. Fix the cell or choose that column as the label with "
                           "--label-column."};
        QTest::newRow("not a number, no header")
            << QByteArray("1,2,0\n3,x y,1\n") << QString()
            << QStringList{"data.csv: row 2, column 2: \"x y\" is not a number"};
        QTest::newRow("empty cell")
            << QByteArray("1,2,0\n,3,1\n") << QString()
            << QStringList{"row 2, column 1", "\"\" is not a number"};
        QTest::newRow("nan")
            << QByteArray("1,2,0\nnan,3,1\n") << QString()
            << QStringList{"row 2, column 1", "\"nan\""};
        QTest::newRow("ragged")
            << QByteArray("a,b,c\n1,2,0\n1,2,3,4\n") << QString()
            << QStringList{"row 3 has 4 columns", "row 1 has 3"};
        QTest::newRow("empty") << QByteArray("\n  \n") << QString()
                               << QStringList{"data.csv is empty"};
        QTest::newRow("header only") << QByteArray("a,b,c\n") << QString()
                                     << QStringList{"no samples"};
        QTest::newRow("single column") << QByteArray("1\n2\n") << QString()
                                       << QStringList{"single column"};
        QTest::newRow("unknown label column")
            << QByteArray("a,b,c\n1,2,0\n") << QStringLiteral("species")
            << QStringList{"\"species\"", "\"a\", \"b\", \"c\"", "0 to 2"};
        QTest::newRow("label index out of range")
            << QByteArray("1,2,0\n") << QStringLiteral("3")
            << QStringList{"\"3\"", "0 to 2"};
        QTest::newRow("empty label")
            << QByteArray("1,2,0\n1,2,\n") << QString()
            << QStringList{"row 2, column 3", "label is empty"};
    }

    void errors()
    {
        QFETCH(QByteArray, content);
        QFETCH(QString, labelColumn);
        QFETCH(QStringList, expected);
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QString path = writeCsv(tmp, content);
        DatasetOptions options;
        options.labelColumn = labelColumn;
        const QString message = errorOf([&] { CsvReader().read(path, options); });
        QVERIFY2(!message.isEmpty(), "no error thrown");
        for (const QString &fragment : expected)
            QVERIFY2(message.contains(fragment), qPrintable(fragment + " not in: " + message));
    }

    void canRead()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const CsvReader reader;
        QVERIFY(reader.canRead(writeCsv(tmp, "1,0\n", QStringLiteral("a.csv"))));
        QVERIFY(reader.canRead(writeCsv(tmp, "1,0\n", QStringLiteral("B.CSV"))));
        QVERIFY(!reader.canRead(writeCsv(tmp, "1,0\n", QStringLiteral("c.txt"))));
        QVERIFY(!reader.canRead(tmp.filePath(QStringLiteral("missing.csv"))));
        QVERIFY(!reader.canRead(tmp.path()));
    }
};

QTEST_GUILESS_MAIN(TestCsvReader)
#include "tst_datasets_csv.moc"
