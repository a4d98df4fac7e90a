// Text datasets and tokenizers: the fortunes reader (records, classes, the fixed split) on a
// folder made here and on Debian's fortunes against the Python peer's own reading, the folder
// of .txt files per class and the CSV of text, and the byte tokenizer's round trip.

#include "TestSupport.h"

#include "data/DatasetRegistry.h"
#include "data/TextDataset.h"
#include "data/Tokenizer.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

using namespace ms;
using ms::test::errorOf;
using ms::test::writeFile;

namespace {

// A category file and the strfile index beside it that marks the folder as fortune data.
bool writeCategory(const QDir &dir, const QString &name, const QByteArray &text)
{
    return writeFile(dir.filePath(name), text)
           && writeFile(dir.filePath(name + QStringLiteral(".dat")), QByteArray(24, '\0'));
}

// writeFile, making the folders on the way.
bool put(const QString &path, const QByteArray &bytes)
{
    return QDir().mkpath(QFileInfo(path).path()) && writeFile(path, bytes);
}

QString hex(const QByteArray &bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

} // namespace

class TestTextData : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    // 23 records over three categories: "Zed" sorts before "alpha" in byte order.
    QString makeFolder(const QString &name)
    {
        QDir dir(m_dir.filePath(name));
        dir.mkpath(QStringLiteral("."));
        QByteArray alpha;
        for (int i = 0; i < 10; ++i)
            alpha += QStringLiteral("alpha %1\nsecond line\n%\n").arg(i).toUtf8();
        alpha += "   \n%\n";             // blank: dropped
        alpha += "last, unclosed";       // closed by the end of the file
        QByteArray beta;
        for (int i = 0; i < 8; ++i)
            beta += QStringLiteral("beta %1 caf\u00e9\n%\n").arg(i).toUtf8();
        QByteArray zed = "zed 0\n%\nzed 1\n%\nzed 2\n%\nzed 3\n";
        writeCategory(dir, QStringLiteral("alpha"), alpha);
        writeCategory(dir, QStringLiteral("beta"), beta);
        writeCategory(dir, QStringLiteral("Zed"), zed);
        QFile::link(dir.filePath(QStringLiteral("alpha")),
                    dir.filePath(QStringLiteral("alpha.u8")));
        QFile::link(dir.filePath(QStringLiteral("beta")), dir.filePath(QStringLiteral("gamma")));
        return dir.path();
    }

    TextDataset load(const QString &source, qint64 limit = 0)
    {
        DatasetOptions options;
        options.source = source;
        options.limit = limit;
        return TextDatasetRegistry::instance().load(options);
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void readsRecordsClassesAndSplit()
    {
        const QString path = makeFolder(QStringLiteral("small"));
        QVERIFY(TextDatasetRegistry::instance().accepts(path));
        const TextDataset data = load(path);
        // Byte order of the names; the .u8 link and the other link are not categories.
        QCOMPARE(data.classNames,
                 QStringList({QStringLiteral("Zed"), QStringLiteral("alpha"),
                              QStringLiteral("beta")}));
        // Corpus order: Zed 0-3 (records 0-3), alpha 0-9 and "last" (4-14), beta 0-7 (15-22).
        QCOMPARE(data.train.count() + data.validation.count(), qint64(23));
        QCOMPARE(data.validation.count(), qint64(2));   // records 9 and 19
        QCOMPARE(data.validation.records[0], QByteArray("alpha 5\nsecond line"));
        QCOMPARE(data.validation.labels[0], qint64(1));
        QCOMPARE(data.validation.records[1], QByteArray("beta 4 caf\xc3\xa9"));
        QCOMPARE(data.validation.labels[1], qint64(2));
        QCOMPARE(data.train.records[0], QByteArray("zed 0"));
        QCOMPARE(data.train.records[3], QByteArray("zed 3"));
        QCOMPARE(data.train.labels[3], qint64(0));
        QCOMPARE(data.train.records[13], QByteArray("last, unclosed"));
        QCOMPARE(data.train.labels[13], qint64(1));
        QCOMPARE(data.train.corpus().left(16), QByteArray("zed 0\n%\nzed 1\n%\n"));
        QCOMPARE(data.validation.corpus(),
                 QByteArray("alpha 5\nsecond line\n%\nbeta 4 caf\xc3\xa9"));

        const QJsonObject described = data.describe();
        QCOMPARE(described.value(QStringLiteral("kind")).toString(), QStringLiteral("text"));
        QCOMPARE(described.value(QStringLiteral("train")).toInt(), 21);
        QVERIFY(described.value(QStringLiteral("split_rule")).toString().contains(
            QStringLiteral("% 10 == 9")));
        const QJsonArray trainCounts = described.value(QStringLiteral("class_counts"))
                                           .toObject().value(QStringLiteral("train")).toArray();
        QCOMPARE(trainCounts, QJsonArray({4, 10, 7}));
    }

    void limitKeepsASeededSubsetInOrder()
    {
        const QString path = makeFolder(QStringLiteral("limited"));
        const TextDataset a = load(path, 5);
        const TextDataset b = load(path, 5);
        QCOMPARE(a.train.count(), qint64(5));
        QCOMPARE(a.validation.count(), qint64(1));
        QCOMPARE(a.train.records, b.train.records);
        const TextDataset all = load(path);
        // Corpus order kept: each kept record appears in the full split after the previous one.
        qsizetype from = 0;
        for (const QByteArray &r : a.train.records) {
            const auto it = std::find(all.train.records.begin() + from, all.train.records.end(), r);
            QVERIFY(it != all.train.records.end());
            from = qsizetype(it - all.train.records.begin()) + 1;
        }
    }

    void refusesBadFolders()
    {
        QDir empty(m_dir.filePath(QStringLiteral("emptyclass")));
        empty.mkpath(QStringLiteral("."));
        QVERIFY(writeCategory(empty, QStringLiteral("good"), "one\n%\ntwo\n"));
        QVERIFY(writeCategory(empty, QStringLiteral("hollow"), "\n%\n  \n%\n"));
        QString message = errorOf([&] { load(empty.path()); });
        QVERIFY2(message.contains(QStringLiteral("\"hollow\"")) &&
                     message.contains(QStringLiteral("no records")), qPrintable(message));

        QDir latin(m_dir.filePath(QStringLiteral("latin1")));
        latin.mkpath(QStringLiteral("."));
        QVERIFY(writeCategory(latin, QStringLiteral("old"), "fine\n%\ncaf\xe9\n%\n"));
        message = errorOf([&] { load(latin.path()); });
        QVERIFY2(message.contains(QStringLiteral("not UTF-8")) &&
                     message.contains(QStringLiteral("line 3")), qPrintable(message));

        message = errorOf([&] { load(m_dir.filePath(QStringLiteral("nowhere"))); });
        QVERIFY2(message.contains(QStringLiteral("fortunes")), qPrintable(message));

        DatasetOptions options;
        options.source = makeFolder(QStringLiteral("fraction"));
        options.validationFraction = 0.2;
        message = errorOf([&] { TextDatasetRegistry::instance().load(options); });
        QVERIFY2(message.contains(QStringLiteral("fixed split")), qPrintable(message));
    }

    // DIR/<class>/*.txt: classes in byte order, files in byte order within, one record per
    // file (its final line breaks removed), hidden and non-.txt files left out; the fixed split.
    void textFolderReadsClassesAndSplit()
    {
        QDir dir(m_dir.filePath(QStringLiteral("folder")));
        for (int i = 0; i < 7; ++i)
            QVERIFY(put(dir.filePath(QStringLiteral("sports/%1.txt").arg(i)),
                              QStringLiteral("match %1\r\n").arg(i).toUtf8()));
        for (int i = 0; i < 5; ++i)
            QVERIFY(put(dir.filePath(QStringLiteral("Arts/%1.txt").arg(i)),
                              QStringLiteral("caf\u00e9 %1\nline two\n\n").arg(i).toUtf8()));
        QVERIFY(put(dir.filePath(QStringLiteral("Arts/.hidden.txt")), "no"));
        QVERIFY(put(dir.filePath(QStringLiteral("Arts/notes.md")), "no"));
        QVERIFY(TextDatasetRegistry::instance().accepts(dir.path()));
        const TextDataset data = load(dir.path());
        QCOMPARE(data.readerName, QStringLiteral("text-folder"));
        QCOMPARE(data.classNames, QStringList({QStringLiteral("Arts"), QStringLiteral("sports")}));
        QCOMPARE(data.train.count(), qint64(11));
        QCOMPARE(data.validation.count(), qint64(1));
        // Record 9 of Arts 0-4, sports 0-6 is sports' fifth.
        QCOMPARE(data.validation.records[0], QByteArray("match 4"));
        QCOMPARE(data.validation.labels[0], qint64(1));
        QCOMPARE(data.train.records[0], QByteArray("caf\xc3\xa9 0\nline two"));
        QCOMPARE(data.train.labels[0], qint64(0));
    }

    void textFolderRefusesBadInput()
    {
        QDir hollow(m_dir.filePath(QStringLiteral("hollowclass")));
        QVERIFY(put(hollow.filePath(QStringLiteral("a/1.txt")), "one"));
        QVERIFY(hollow.mkpath(QStringLiteral("b")));
        QString message = errorOf([&] { load(hollow.path()); });
        QVERIFY2(message.contains(QStringLiteral("\"b\"")) && message.contains(
                     QStringLiteral("no .txt files")), qPrintable(message));

        QDir blank(m_dir.filePath(QStringLiteral("blankfile")));
        QVERIFY(put(blank.filePath(QStringLiteral("a/1.txt")), "one"));
        QVERIFY(put(blank.filePath(QStringLiteral("b/2.txt")), " \n\n"));
        message = errorOf([&] { load(blank.path()); });
        QVERIFY2(message.contains(QStringLiteral("2.txt")) && message.contains(
                     QStringLiteral("empty")), qPrintable(message));

        QDir latin(m_dir.filePath(QStringLiteral("latinfile")));
        QVERIFY(put(latin.filePath(QStringLiteral("a/1.txt")), "one"));
        QVERIFY(put(latin.filePath(QStringLiteral("b/old.txt")), "fine\ncaf\xe9\n"));
        message = errorOf([&] { load(latin.path()); });
        QVERIFY2(message.contains(QStringLiteral("old.txt")) && message.contains(
                     QStringLiteral("not UTF-8")) && message.contains(QStringLiteral("line 2")),
                 qPrintable(message));
    }

    // RFC 4180 cells (commas, quotes and line breaks inside quotes), the text and label columns
    // found by their names and by content, integer labels in numeric order.
    void textCsvReadsQuotedCells()
    {
        const QString path = m_dir.filePath(QStringLiteral("reviews.csv"));
        QByteArray csv = "id,review,label\n"
                         "1,\"good, really\",10\n"
                         "2,\"two\nlines, \"\"quoted\"\"\",2\n"
                         "3,plain,2\n";
        for (int i = 4; i <= 12; ++i)
            csv += QByteArray::number(i) + ",text " + QByteArray::number(i) + ",10\n";
        QVERIFY(writeFile(path, csv));
        QVERIFY(TextDatasetRegistry::instance().accepts(path));
        const TextDataset data = load(path);
        QCOMPARE(data.readerName, QStringLiteral("text-csv"));
        QCOMPARE(data.classNames, QStringList({QStringLiteral("2"), QStringLiteral("10")}));
        QCOMPARE(data.train.count() + data.validation.count(), qint64(12));
        QCOMPARE(data.train.records[0], QByteArray("good, really"));
        QCOMPARE(data.train.labels[0], qint64(1));
        QCOMPARE(data.train.records[1], QByteArray("two\nlines, \"quoted\""));
        QCOMPARE(data.train.labels[1], qint64(0));
        QCOMPARE(data.validation.records[0], QByteArray("text 10"));

        // A numeric table is CsvReader's, not a text dataset.
        const QString numbers = m_dir.filePath(QStringLiteral("numbers.csv"));
        QVERIFY(writeFile(numbers, "a,b,label\n1,2,cat\n3,4,dog\n"));
        QVERIFY(!TextDatasetRegistry::instance().accepts(numbers));
        // Nor is one whose text label is named, wherever it stands.
        QByteArray table = "species,a,b\n";
        for (int i = 0; i < 10; ++i)
            table += (i % 2 ? "setosa," : "virginica,") + QByteArray::number(i) + ",1\n";
        DatasetOptions named;
        named.source = m_dir.filePath(QStringLiteral("species.csv"));
        named.labelColumn = QStringLiteral("species");
        QVERIFY(writeFile(named.source, table));
        QVERIFY(!TextDatasetRegistry::instance().accepts(named));
        QCOMPARE(DatasetRegistry::instance().load(named).numClasses(), 2);
        // A text CSV where tensors are expected says what it is.
        DatasetOptions options;
        options.source = path;
        const QString message = errorOf([&] { DatasetRegistry::instance().load(options); });
        QVERIFY2(message.contains(QStringLiteral("text-classifier")), qPrintable(message));
    }

    void textCsvRefusesBadInput()
    {
        const QString two = m_dir.filePath(QStringLiteral("two.csv"));
        QVERIFY(writeFile(two, "title,body,topic\nA title,a body,x\nB,c,y\n"));
        QString message = errorOf([&] { load(two); });
        QVERIFY2(message.contains(QStringLiteral("title, body")) && message.contains(
                     QStringLiteral("--text-column")), qPrintable(message));
        DatasetOptions options;
        options.source = two;
        options.textColumn = QStringLiteral("body");
        options.labelColumn = QStringLiteral("topic");
        QCOMPARE(TextDatasetRegistry::instance().load(options).train.records[0],
                 QByteArray("a body"));
        options.textColumn = QStringLiteral("content");
        message = errorOf([&] { TextDatasetRegistry::instance().load(options); });
        QVERIFY2(message.contains(QStringLiteral("no column \"content\"")) && message.contains(
                     QStringLiteral("title, body, topic")), qPrintable(message));

        const QString blank = m_dir.filePath(QStringLiteral("blank.csv"));
        QVERIFY(writeFile(blank, "text,label\n\"multi\nline\",a\n  ,b\n"));
        message = errorOf([&] { load(blank); });
        QVERIFY2(message.contains(QStringLiteral("line 4")) && message.contains(
                     QStringLiteral("empty")), qPrintable(message));

        const QString latin = m_dir.filePath(QStringLiteral("latin.csv"));
        QVERIFY(writeFile(latin, "text,label\nfine,a\ncaf\xe9,b\n"));
        message = errorOf([&] { load(latin); });
        QVERIFY2(message.contains(QStringLiteral("not UTF-8")) && message.contains(
                     QStringLiteral("line 3")), qPrintable(message));

        const QString open = m_dir.filePath(QStringLiteral("open.csv"));
        QVERIFY(writeFile(open, "text,label\nfine,a\n\"never closed,b\n"));
        message = errorOf([&] { load(open); });
        QVERIFY2(message.contains(QStringLiteral("line 3")) && message.contains(
                     QStringLiteral("never closed")), qPrintable(message));
    }

    // A text dataset where tensors are expected: one message saying what takes it.
    void tensorRegistrySaysItIsText()
    {
        DatasetOptions options;
        options.source = QStringLiteral("fortunes");
        const QString message = errorOf([&] { DatasetRegistry::instance().load(options); });
        QVERIFY2(message.contains(QStringLiteral("text dataset"))
                     && message.contains(QStringLiteral("--task lm")),
                 qPrintable(message));
    }

    // Debian's fortunes read here give the very corpus the Python peer reads: same records,
    // same split, same bytes (shared/peers/lm_peer.py's records(), run by Python).
    void fortunesEqualsThePeersCorpus()
    {
        const TextDataset data = load(QStringLiteral("fortunes"));
        QVERIFY(data.numClasses() > 20);
        QVERIFY(data.train.count() > 10000);
        QByteArray out;
        QVERIFY(ms::test::runPython(m_dir.path(), QStringLiteral(R"(
import hashlib, json, os
D = "/usr/share/games/fortunes/"
recs = []
for name in sorted(os.listdir(D)):
    if name.endswith((".dat", ".u8")) or os.path.islink(D + name) or not os.path.isfile(D + name):
        continue
    with open(D + name, encoding="utf-8") as f:
        lines, cur = f.read().split("\n"), []
    if lines[-1] == "":
        lines.pop()
    for line in lines + ["%"]:
        if line == "%":
            if "\n".join(cur).strip():
                recs.append("\n".join(cur))
            cur = []
        else:
            cur.append(line)
train = "\n%\n".join(r for i, r in enumerate(recs) if i % 10 != 9).encode()
val = "\n%\n".join(r for i, r in enumerate(recs) if i % 10 == 9).encode()
print(json.dumps({"records": len(recs), "train": hashlib.sha256(train).hexdigest(),
                  "val": hashlib.sha256(val).hexdigest(), "train_bytes": len(train)}))
)"), {}, &out));
        const QJsonObject peer = QJsonDocument::fromJson(out).object();
        QCOMPARE(data.train.count() + data.validation.count(),
                 qint64(peer.value(QStringLiteral("records")).toInteger()));
        const QByteArray train = data.train.corpus();
        QCOMPARE(qint64(train.size()),
                 qint64(peer.value(QStringLiteral("train_bytes")).toInteger()));
        QCOMPARE(hex(train), peer.value(QStringLiteral("train")).toString());
        QCOMPARE(hex(data.validation.corpus()), peer.value(QStringLiteral("val")).toString());
    }

    void byteTokenizerRoundTrips()
    {
        const std::unique_ptr<Tokenizer> tokenizer =
            Tokenizer::fromJson(QJsonObject{{QStringLiteral("kind"), QStringLiteral("byte")}});
        QCOMPARE(tokenizer->vocabSize(), 256);
        QByteArray every;
        for (int b = 0; b < 256; ++b)
            every.append(char(b));
        const std::vector<qint64> ids = tokenizer->encode(every);
        QCOMPARE(qsizetype(ids.size()), qsizetype(256));
        QCOMPARE(ids[0xe9], qint64(0xe9));
        QCOMPARE(tokenizer->decode(ids), every);

        const QByteArray text = QStringLiteral("Q: caf\u00e9 \u2014 \U0001F600?\n%\n").toUtf8();
        const std::vector<qint64> textIds = tokenizer->encode(text);
        QCOMPARE(qsizetype(textIds.size()), text.size());   // one token per byte
        QCOMPARE(tokenizer->decode(textIds), text);
        QCOMPARE(Tokenizer::fromJson(tokenizer->toJson())->kind(), QStringLiteral("byte"));

        QString message = errorOf([&] { tokenizer->decode({65, 256}); });
        QVERIFY2(message.contains(QStringLiteral("256")), qPrintable(message));
        message = errorOf([&] { tokenizer->decode({-1}); });
        QVERIFY2(message.contains(QStringLiteral("outside")), qPrintable(message));
        message = errorOf([] {
            Tokenizer::fromJson(QJsonObject{{QStringLiteral("kind"), QStringLiteral("bpe9")}});
        });
        QVERIFY2(message.contains(QStringLiteral("byte")), qPrintable(message));
        message = errorOf([] {
            Tokenizer::fromJson(QJsonObject{{QStringLiteral("kind"), QStringLiteral("byte")},
                                            {QStringLiteral("vocab_size"), 512}});
        });
        QVERIFY2(message.contains(QStringLiteral("512")), qPrintable(message));
    }

    // SentencePiece bpe and unigram, trained on a part of fortunes' training split: any text
    // round-trips, whole and token by token (as generation decodes), the model travels in the
    // JSON and training is deterministic for a seed.
    void sentencePieceTokenizersRoundTrip()
    {
        DatasetOptions options;
        options.source = QStringLiteral("fortunes");
        options.limit = 1500;
        const TextDataset data = TextDatasetRegistry::instance().load(options);
        const QByteArray text = data.validation.corpus().left(20000)
                                + QStringLiteral(" caf\u00e9 \u2014 \U0001F600 \u4e2d\n")
                                      .toUtf8();
        for (const QString kind : {QStringLiteral("spm-bpe"), QStringLiteral("spm-unigram")}) {
            const std::unique_ptr<Tokenizer> tokenizer =
                Tokenizer::make(kind, 800, data.train.records, 0);
            QCOMPARE(tokenizer->kind(), kind);
            QCOMPARE(tokenizer->vocabSize(), 800);
            const std::vector<qint64> ids = tokenizer->encode(text);
            QVERIFY2(double(text.size()) / double(ids.size()) > 1.5,
                     qPrintable(QString::number(ids.size())));   // subwords, not bytes
            QCOMPARE(tokenizer->decode(ids), text);
            QByteArray pieceByPiece;
            for (qint64 id : ids)
                pieceByPiece += tokenizer->decode({id});
            QCOMPARE(pieceByPiece, text);

            const std::unique_ptr<Tokenizer> again = Tokenizer::fromJson(tokenizer->toJson());
            QVERIFY(again->encode(text) == ids);
            QCOMPARE(Tokenizer::make(kind, 800, data.train.records, 0)->toJson(),
                     tokenizer->toJson());
            QVERIFY(!tokenizer->describe().contains(QStringLiteral("model")));
            QCOMPARE(tokenizer->describe().value(QStringLiteral("model_sha256")).toString().size(),
                     64);
            const QString message = errorOf([&] { tokenizer->decode({800}); });
            QVERIFY2(message.contains(QStringLiteral("outside")), qPrintable(message));
        }
        const QString named = errorOf([] { Tokenizer::named(QStringLiteral("spm-bpe")); });
        QVERIFY2(named.contains(QStringLiteral("trained")), qPrintable(named));
    }
};

QTEST_GUILESS_MAIN(TestTextData)
#include "tst_textdata.moc"
