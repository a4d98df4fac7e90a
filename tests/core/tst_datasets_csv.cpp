// CsvReader: header detection, label column by name or index, string labels as class names,
// errors that point at the row, the column and the offending text (quoted short), limits on a
// line and a cell refused before the rest is read, memory of the floats and not the text, and
// a read that stops when asked.
#include "TestSupport.h"
#include "bench/ProcessMemory.h"
#include "common/Cancelled.h"
#include "common/Error.h"
#include "data/CsvReader.h"
#include "data/DatasetRegistry.h"

#include <QFile>
#include <QFileInfo>
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

// A file that counts the bytes read through it: what "refused at once" means, measured.
class CountingFile final : public QFile
{
public:
    using QFile::QFile;
    qint64 bytesRead() const { return m_bytesRead; }

protected:
    qint64 readData(char *data, qint64 maxSize) override
    {
        const qint64 n = QFile::readData(data, maxSize);
        if (n > 0)
            m_bytesRead += n;
        return n;
    }

private:
    qint64 m_bytesRead = 0;
};

// `rows` rows of `features` cells "0.123456" and a label 0..9: 9 bytes of text per float.
QString writeWideCsv(const QTemporaryDir &dir, int rows, int features)
{
    const QString path = dir.filePath(QStringLiteral("wide.csv"));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return QString();
    QByteArray row;
    for (int f = 0; f < features; ++f)
        row += "0.123456,";
    for (int r = 0; r < rows; ++r) {
        if (file.write(row + QByteArray::number(r % 10) + '\n') < 0)
            return QString();
    }
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
        QTest::newRow("label named, first")
            << QByteArray("label,p1,p2\n3,10,20\n1,30,40\n") << QString()
            << std::vector<float>{10, 20, 30, 40} << std::vector<qint64>{3, 1}
            << QStringList{"0", "1", "2", "3"};
        QTest::newRow("target named, any case, in the middle")
            << QByteArray("p1,Target,p2\n10,b,20\n30,a,40\n") << QString()
            << std::vector<float>{10, 20, 30, 40} << std::vector<qint64>{1, 0}
            << QStringList{"a", "b"};
        QTest::newRow("class named")
            << QByteArray("class,x\n0,5\n1,6\n") << QString()
            << std::vector<float>{5, 6} << std::vector<qint64>{0, 1}
            << QStringList{"0", "1"};
        QTest::newRow("label wins over class")
            << QByteArray("class,label,x\n7,0,5\n8,1,6\n") << QString()
            << std::vector<float>{7, 5, 8, 6} << std::vector<qint64>{0, 1}
            << QStringList{"0", "1"};
        QTest::newRow("--label-column wins over a label header")
            << QByteArray("label,x,y\n3,0,5\n4,1,6\n") << QStringLiteral("x")
            << std::vector<float>{3, 5, 4, 6} << std::vector<qint64>{0, 1}
            << QStringList{"0", "1"};
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

    // Labels that are many different fractions are a measurement, not classes: said once.
    void continuousLabelsWarn()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        QByteArray content("a,b,price\n");
        for (int i = 0; i < 40; ++i)
            content += QByteArray::number(i) + ",1," + QByteArray::number(i * 0.37 + 0.01) + '\n';
        DatasetOptions options;
        QStringList warnings;
        options.warn = [&](const QString &message) { warnings << message; };
        const Dataset d = CsvReader().read(writeCsv(tmp, content), options);
        QCOMPARE(d.numClasses(), 40);
        QCOMPARE(warnings.size(), 1);
        QVERIFY2(warnings.first().contains(QStringLiteral("\"price\""))
                     && warnings.first().contains(QStringLiteral("40 different numbers"))
                     && warnings.first().contains(QStringLiteral("--label-column")),
                 qPrintable(warnings.first()));

        // Few classes, or whole numbers, or names: no warning.
        warnings.clear();
        QByteArray classes("a,label\n");
        for (int i = 0; i < 40; ++i)
            classes += QByteArray::number(i) + ',' + QByteArray::number(i % 3) + '\n';
        CsvReader().read(writeCsv(tmp, classes, QStringLiteral("classes.csv")), options);
        QVERIFY2(warnings.isEmpty(), qPrintable(warnings.join(QLatin1Char('\n'))));
    }

    // A 4 MiB cell against a 1 MiB cell limit: refused at its line after reading about the
    // limit (not the whole cell), and quoted in no message.
    void anOverLongCellIsRefusedAtOnce()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QByteArray cell(4 << 20, '7');
        const QString path = writeCsv(tmp, "a,b,label\n1,2,0\n3," + cell + ",1\n4,5,0\n");
        DatasetOptions options;
        options.maxCellBytes = 1 << 20;

        CountingFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QString message =
            errorOf([&] { CsvReader::readDevice(file, QStringLiteral("data.csv"), options); });
        QVERIFY2(message.contains(QStringLiteral("data.csv: line 3"))
                     && message.contains(QStringLiteral("longer than 1.0 MiB")),
                 qPrintable(message.left(300)));
        QVERIFY2(file.bytesRead() < qint64(3) << 20, qPrintable(QString::number(file.bytesRead())));
        QVERIFY2(message.size() < 400, qPrintable(QString::number(message.size())));

        // Without the limit set, the default (64 KiB) refuses it through the path alike.
        const QString viaPath = errorOf([&] { CsvReader().read(path, DatasetOptions()); });
        QVERIFY2(viaPath.contains(QStringLiteral("line 3")) && viaPath.size() < 400,
                 qPrintable(viaPath.left(300)));
    }

    // A line of 3 MiB of short cells against a 1 MiB line limit.
    void anOverLongLineIsRefusedAtOnce()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        QByteArray line;
        while (line.size() < (3 << 20))
            line += "1,";
        const QString path = writeCsv(tmp, "1,2,0\n1,2,1\n" + line + "0\n1,2,0\n");
        DatasetOptions options;
        options.maxLineBytes = 1 << 20;
        CountingFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QString message =
            errorOf([&] { CsvReader::readDevice(file, QStringLiteral("data.csv"), options); });
        QVERIFY2(message.contains(QStringLiteral("data.csv: line 3 is longer than 1.0 MiB")),
                 qPrintable(message.left(300)));
        QVERIFY2(file.bytesRead() < qint64(3) << 20, qPrintable(QString::number(file.bytesRead())));
    }

    // User text in a message is quoted to about 80 characters, with its length.
    void messagesQuoteAnExcerpt()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QByteArray longWord(5000, 'x');
        const QString notNumber = errorOf([&] {
            CsvReader().read(writeCsv(tmp, "1,2,0\n1," + longWord + ",1\n"), DatasetOptions());
        });
        QVERIFY2(notNumber.contains(QStringLiteral("row 2, column 2"))
                     && notNumber.contains(QStringLiteral("(5,000 bytes)"))
                     && notNumber.size() < 400,
                 qPrintable(notNumber));
        QByteArray header;
        for (int i = 0; i < 5000; ++i)
            header += "column" + QByteArray::number(i) + ',';
        QByteArray row;
        for (int i = 0; i < 5000; ++i)
            row += "1,";
        DatasetOptions options;
        options.labelColumn = QString(3000, QLatin1Char('q'));
        const QString noColumn = errorOf([&] {
            CsvReader().read(writeCsv(tmp, header + "label\n" + row + "0\n",
                                      QStringLiteral("many.csv")),
                             options);
        });
        QVERIFY2(noColumn.contains(QStringLiteral("5,001 columns")) && noColumn.size() < 1200,
                 qPrintable(noColumn.left(1500)));
    }

    // Memory is the floats, allocated once, not the text: a 33 MiB file of 16 MiB of floats.
    void memoryIsTheFloatsNotTheText()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const int rows = 20000;
        const int features = 200;
        const QString path = writeWideCsv(tmp, rows, features);
        QVERIFY(!path.isEmpty());
        const qint64 floatBytes = qint64(rows) * features * qint64(sizeof(float));
        QVERIFY(QFileInfo(path).size() > 2 * floatBytes);

        ProcessMemory::releaseFreedMemory();
        QVERIFY(ProcessMemory::resetPeak());
        const qint64 before = ProcessMemory::currentResident_bytes();
        Dataset d = CsvReader().read(path, DatasetOptions());
        const qint64 peak = ProcessMemory::peakResident_bytes();
        QCOMPARE(d.train.count(), qint64(rows));
        QCOMPARE(d.train.features.size(), size_t(rows) * size_t(features));
        // Allocated once for the rows the first pass counted: no growth by doubling.
        QCOMPARE(d.train.features.capacity(), d.train.features.size());
        // Generous: the floats and half again, where holding the text alone would pass it.
        QVERIFY2(peak - before < floatBytes * 3 / 2,
                 qPrintable(QStringLiteral("peak grew by %1 MiB for %2 MiB of floats")
                                .arg((peak - before) >> 20).arg(floatBytes >> 20)));
        QCOMPARE(d.train.features[size_t(features) + 3], 0.123456f);
        QCOMPARE(d.train.labels[7], qint64(7));

        // The split that follows moves rows within the buffer instead of copying the set.
        d = Dataset();
        ProcessMemory::releaseFreedMemory();
        QVERIFY(ProcessMemory::resetPeak());
        const qint64 beforeSplit = ProcessMemory::currentResident_bytes();
        DatasetOptions options;
        options.source = path;
        options.validationFraction = 0.1;
        const Dataset split = DatasetRegistry::instance().load(options);
        const qint64 splitPeak = ProcessMemory::peakResident_bytes();
        QCOMPARE(split.train.count() + split.validation.count(), qint64(rows));
        QVERIFY2(splitPeak - beforeSplit < floatBytes * 3 / 2,
                 qPrintable(QStringLiteral("peak grew by %1 MiB for %2 MiB of floats")
                                .arg((splitPeak - beforeSplit) >> 20).arg(floatBytes >> 20)));
    }

    // Asked between chunks: a read of a 4 MiB file told to stop at its third question stops
    // there, with ms::Cancelled.
    void aReadStopsWhenCancelled()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QString path = writeWideCsv(tmp, 2200, 230);
        QVERIFY(QFileInfo(path).size() > qint64(4) << 20);
        DatasetOptions options;
        int asked = 0;
        options.isCancelled = [&] { return ++asked >= 3; };
        bool cancelled = false;
        try {
            CsvReader().read(path, options);
        } catch (const Cancelled &e) {
            cancelled = e.message().contains(QStringLiteral("wide.csv"));
        }
        QVERIFY(cancelled);
        QCOMPARE(asked, 3);
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
