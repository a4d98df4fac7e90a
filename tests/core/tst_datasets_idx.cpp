// IdxReader: tiny IDX files written here, raw and gzipped, read back exactly; broken files
// give messages that name the file and what is wrong.
#include "TestSupport.h"
#include "bench/ProcessMemory.h"
#include "common/Cancelled.h"
#include "common/Error.h"
#include "data/IdxReader.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>

#include <functional>

using namespace ms;
using ms::test::errorOf;

namespace {

QByteArray bigEndian(quint32 value)
{
    QByteArray bytes(4, '\0');
    for (int i = 0; i < 4; ++i)
        bytes[i] = char((value >> (24 - 8 * i)) & 0xff);
    return bytes;
}

QByteArray idxFile(quint32 magic, const QList<quint32> &dims, const QByteArray &payload)
{
    QByteArray bytes = bigEndian(magic);
    for (const quint32 dim : dims)
        bytes += bigEndian(dim);
    return bytes + payload;
}

quint32 crc32(const QByteArray &data)
{
    quint32 crc = 0xffffffffu;
    for (const char byte : data) {
        crc ^= quint8(byte);
        for (int bit = 0; bit < 8; ++bit)
            crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

// A real gzip member built from qCompress's zlib stream (the test links no zlib of its own):
// drop the 4-byte length and the 2-byte zlib header and the Adler-32 trailer, keep the deflate
// data, and wrap it in a gzip header and CRC-32/size trailer.
QByteArray gzip(const QByteArray &data)
{
    const QByteArray zlibStream = qCompress(data, 9);
    const QByteArray deflate = zlibStream.mid(4 + 2, zlibStream.size() - 4 - 2 - 4);
    QByteArray out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10);
    out += deflate;
    const quint32 crc = crc32(data);
    const quint32 size = quint32(data.size());
    for (int i = 0; i < 4; ++i)
        out += char((crc >> (8 * i)) & 0xff);
    for (int i = 0; i < 4; ++i)
        out += char((size >> (8 * i)) & 0xff);
    return out;
}

void writeFile(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    QVERIFY2(file.open(QIODevice::WriteOnly), qPrintable(path));
    QCOMPARE(file.write(bytes), bytes.size());
}

// Three 2x4 images with every corner value (0, 255) and labels 0, 4, 2.
const QByteArray kPixels("\x00\x01\x02\x03\x04\x05\x06\x07"
                         "\xff\x80\x7f\x10\x20\x30\x40\x50"
                         "\x09\x08\x07\x06\x05\x04\x03\xfe",
                         24);
const QByteArray kLabels("\x00\x04\x02", 3);

QByteArray imagesBytes() { return idxFile(0x803, {3, 2, 4}, kPixels); }
QByteArray labelsBytes() { return idxFile(0x801, {3}, kLabels); }

} // namespace

class TestIdxReader final : public QObject
{
    Q_OBJECT

private:
    // Writes a train pair into `dir` under the given spelling, optionally gzipped.
    void writeTrain(const QString &dir, const QString &style, bool gz)
    {
        const QString suffix = gz ? QStringLiteral(".gz") : QString();
        const QString sep = style == QLatin1String("dotted") ? QStringLiteral(".")
                                                              : QStringLiteral("-");
        writeFile(dir + QStringLiteral("/train-images") + sep + QStringLiteral("idx3-ubyte")
                      + suffix,
                  gz ? gzip(imagesBytes()) : imagesBytes());
        writeFile(dir + QStringLiteral("/train-labels") + sep + QStringLiteral("idx1-ubyte")
                      + suffix,
                  gz ? gzip(labelsBytes()) : labelsBytes());
    }

private Q_SLOTS:
    void readsBack_data()
    {
        QTest::addColumn<QString>("style");
        QTest::addColumn<bool>("gz");
        QTest::addColumn<bool>("withTest");
        QTest::newRow("raw") << QStringLiteral("dashed") << false << false;
        QTest::newRow("gz") << QStringLiteral("dashed") << true << false;
        QTest::newRow("gz+t10k") << QStringLiteral("dashed") << true << true;
        QTest::newRow("dotted raw") << QStringLiteral("dotted") << false << true;
    }

    void readsBack()
    {
        QFETCH(QString, style);
        QFETCH(bool, gz);
        QFETCH(bool, withTest);
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        writeTrain(tmp.path(), style, gz);
        if (withTest) {
            // One test image, label 6: the class count must cover the test split too.
            writeFile(tmp.filePath(QStringLiteral("t10k-images-idx3-ubyte")),
                      idxFile(0x803, {1, 2, 4}, kPixels.left(8)));
            writeFile(tmp.filePath(QStringLiteral("t10k-labels-idx1-ubyte")),
                      idxFile(0x801, {1}, QByteArray(1, '\x06')));
        }

        IdxReader reader;
        QVERIFY(reader.canRead(tmp.path()));
        const Dataset dataset = reader.read(tmp.path(), DatasetOptions());
        QCOMPARE(dataset.readerName, QStringLiteral("idx"));
        QCOMPARE(dataset.sampleShape, (std::vector<qint64>{1, 2, 4}));
        QCOMPARE(dataset.train.count(), 3);
        QCOMPARE(dataset.train.labels, (std::vector<qint64>{0, 4, 2}));
        QCOMPARE(dataset.train.features.size(), size_t(24));
        for (int i = 0; i < kPixels.size(); ++i)
            QCOMPARE(dataset.train.features[size_t(i)], float(quint8(kPixels[i])) / 255.0f);
        QCOMPARE(dataset.train.features[8], 1.0f);
        QCOMPARE(dataset.train.features[0], 0.0f);
        QCOMPARE(dataset.test.count(), withTest ? 1 : 0);
        const int classes = withTest ? 7 : 5;
        QCOMPARE(dataset.numClasses(), classes);
        QCOMPARE(dataset.classNames.constFirst(), QStringLiteral("0"));
        QCOMPARE(dataset.classNames.constLast(), QString::number(classes - 1));
        if (withTest)
            QCOMPARE(dataset.test.features, (std::vector<float>(dataset.train.features.begin(),
                                                                dataset.train.features.begin()
                                                                    + 8)));
    }

    void canRead_data()
    {
        QTest::addColumn<QString>("relative");
        QTest::addColumn<bool>("expected");
        QTest::newRow("folder") << QStringLiteral("set") << true;
        QTest::newRow("images file") << QStringLiteral("set/train-images-idx3-ubyte.gz") << true;
        QTest::newRow("labels file") << QStringLiteral("set/train-labels-idx1-ubyte.gz") << true;
        QTest::newRow("empty folder") << QStringLiteral("empty") << false;
        QTest::newRow("other file") << QStringLiteral("notes.txt") << false;
        QTest::newRow("missing") << QStringLiteral("nowhere") << false;
    }

    void canRead()
    {
        QFETCH(QString, relative);
        QFETCH(bool, expected);
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        QVERIFY(QDir(tmp.path()).mkpath(QStringLiteral("set")));
        QVERIFY(QDir(tmp.path()).mkpath(QStringLiteral("empty")));
        writeTrain(tmp.filePath(QStringLiteral("set")), QStringLiteral("dashed"), true);
        writeFile(tmp.filePath(QStringLiteral("notes.txt")), "hello");
        QCOMPARE(IdxReader().canRead(tmp.filePath(relative)), expected);
    }

    void errors_data()
    {
        QTest::addColumn<QString>("file");  // the file to overwrite
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QStringList>("expected"); // fragments of the message
        const QString images = QStringLiteral("train-images-idx3-ubyte");
        const QString labels = QStringLiteral("train-labels-idx1-ubyte");
        QTest::newRow("images magic")
            << images << idxFile(0x801, {3, 2, 4}, kPixels)
            << QStringList{images, QStringLiteral("magic"), QStringLiteral("0x00000801")};
        QTest::newRow("labels magic")
            << labels << idxFile(0x803, {3}, kLabels)
            << QStringList{labels, QStringLiteral("magic"), QStringLiteral("0x00000803")};
        QTest::newRow("truncated images")
            << images << imagesBytes().left(30)
            << QStringList{images, QStringLiteral("truncated"), QStringLiteral("expected 40"),
                           QStringLiteral("holds 30")};
        QTest::newRow("short header")
            << images << imagesBytes().left(10)
            << QStringList{images, QStringLiteral("expected at least 16"),
                           QStringLiteral("holds 10")};
        QTest::newRow("extra bytes")
            << labels << labelsBytes() + QByteArray(5, 'x')
            << QStringList{labels, QStringLiteral("expected 11"), QStringLiteral("holds 16")};
        QTest::newRow("label count")
            << labels << idxFile(0x801, {2}, kLabels.left(2))
            << QStringList{labels, images, QStringLiteral("2 labels"),
                           QStringLiteral("3 images")};
        QTest::newRow("broken gzip")
            << images + QStringLiteral(".gz") << gzip(imagesBytes()).left(20)
            << QStringList{images + QStringLiteral(".gz"), QStringLiteral("decompress")};
    }

    void errors()
    {
        QFETCH(QString, file);
        QFETCH(QByteArray, bytes);
        QFETCH(QStringList, expected);
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        writeTrain(tmp.path(), QStringLiteral("dashed"), false);
        if (file.endsWith(QStringLiteral(".gz")))
            QVERIFY(QFile::remove(tmp.filePath(file.chopped(3))));
        writeFile(tmp.filePath(file), bytes);

        const QString message = errorOf([&] { IdxReader().read(tmp.path(), {}); });
        QVERIFY2(!message.isEmpty(), "no error thrown");
        for (const QString &fragment : expected)
            QVERIFY2(message.contains(fragment), qPrintable(fragment + " not in: " + message));
    }

    // A 64 KiB .gz whose header declares 1 image of 100000x100000 pixels (a "zip bomb" of
    // 64 MiB of zeros inside): refused from the header, without inflating the payload.
    void aGzipBombIsRefusedFromItsHeader()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        {
            const QByteArray payload(64 << 20, '\0');
            writeFile(tmp.filePath(QStringLiteral("train-images-idx3-ubyte.gz")),
                      gzip(idxFile(0x803, {1, 100000, 100000}, payload)));
        }
        writeFile(tmp.filePath(QStringLiteral("train-labels-idx1-ubyte")),
                  idxFile(0x801, {1}, QByteArray(1, '\0')));
        QVERIFY(QFileInfo(tmp.filePath(QStringLiteral("train-images-idx3-ubyte.gz"))).size()
                < (1 << 20));

        ProcessMemory::releaseFreedMemory();
        QVERIFY(ProcessMemory::resetPeak());
        const qint64 before = ProcessMemory::currentResident_bytes();
        const QString message = errorOf([&] { IdxReader().read(tmp.path(), {}); });
        const qint64 peak = ProcessMemory::peakResident_bytes();
        QVERIFY2(message.contains(QStringLiteral("100000x100000"))
                     && message.contains(QStringLiteral("more than a gzip file")),
                 qPrintable(message));
        // Inflating would have taken the 64 MiB; the header alone takes nothing to speak of.
        QVERIFY2(peak - before < (16 << 20),
                 qPrintable(QStringLiteral("peak grew by %1 MiB").arg((peak - before) >> 20)));
    }

    // A declared size within what the file can hold is still checked against the limit, before
    // the floats are allocated.
    void aDeclaredSizeOverTheLimitIsRefused()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        writeTrain(tmp.path(), QStringLiteral("dashed"), true);
        DatasetOptions options;
        options.maxFeatureBytes = 64;   // 3 images of 2x4 are 96 bytes as floats
        const QString message = errorOf([&] { IdxReader().read(tmp.path(), options); });
        QVERIFY2(message.contains(QStringLiteral("3 images of 2x4 pixels"))
                     && message.contains(QStringLiteral("96 bytes"))
                     && message.contains(QStringLiteral("MODELSTUDIO_MAX_DATASET_BYTES")),
                 qPrintable(message));
        options.maxFeatureBytes = 96;
        QCOMPARE(IdxReader().read(tmp.path(), options).train.count(), qint64(3));
    }

    // A read told to stop stops between chunks, with ms::Cancelled.
    void aReadStopsWhenCancelled()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const int count = 1000;
        QByteArray pixels(count * 50 * 50, '\x40');
        writeFile(tmp.filePath(QStringLiteral("train-images-idx3-ubyte.gz")),
                  gzip(idxFile(0x803, {quint32(count), 50, 50}, pixels)));
        writeFile(tmp.filePath(QStringLiteral("train-labels-idx1-ubyte")),
                  idxFile(0x801, {quint32(count)}, QByteArray(count, '\1')));
        DatasetOptions options;
        int asked = 0;
        options.isCancelled = [&] { return ++asked >= 3; };
        bool cancelled = false;
        try {
            IdxReader().read(tmp.path(), options);
        } catch (const Cancelled &) {
            cancelled = true;
        }
        QVERIFY(cancelled);
        QCOMPARE(asked, 3);
    }

    void missingLabels()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        writeFile(tmp.filePath(QStringLiteral("train-images-idx3-ubyte")), imagesBytes());
        const QString message = errorOf([&] { IdxReader().read(tmp.path(), {}); });
        QVERIFY2(message.contains(QStringLiteral("train-labels-idx1-ubyte")), qPrintable(message));
    }

    void testSplitImageSize()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        writeTrain(tmp.path(), QStringLiteral("dashed"), false);
        writeFile(tmp.filePath(QStringLiteral("t10k-images-idx3-ubyte")),
                  idxFile(0x803, {1, 4, 2}, kPixels.left(8)));
        writeFile(tmp.filePath(QStringLiteral("t10k-labels-idx1-ubyte")),
                  idxFile(0x801, {1}, QByteArray(1, '\x01')));
        const QString message = errorOf([&] { IdxReader().read(tmp.path(), {}); });
        QVERIFY2(message.contains(QStringLiteral("4x2")) && message.contains("2x4"),
                 qPrintable(message));
    }

    // Fashion-MNIST's names come from the folder name, even for a subset without every class.
    void fashionClassNames()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const QString dir = tmp.filePath(QStringLiteral("Fashion-subset"));
        QVERIFY(QDir().mkpath(dir));
        writeTrain(dir, QStringLiteral("dashed"), true);
        const Dataset dataset = IdxReader().read(dir + QStringLiteral("/"), {});
        QCOMPARE(dataset.name, QStringLiteral("Fashion-subset"));
        QCOMPARE(dataset.numClasses(), 10);
        QCOMPARE(dataset.classNames.constFirst(), QStringLiteral("T-shirt/top"));
        QCOMPARE(dataset.classNames.constLast(), QStringLiteral("Ankle boot"));
        // Pointing at one of the files reads its folder.
        const Dataset viaFile =
            IdxReader().read(dir + QStringLiteral("/train-labels-idx1-ubyte.gz"), {});
        QCOMPARE(viaFile.train.labels, dataset.train.labels);
    }
};

QTEST_GUILESS_MAIN(TestIdxReader)
#include "tst_datasets_idx.moc"
