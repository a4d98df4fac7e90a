// What a model name may be (common/Names.h), the one helper that makes a path from a name, and
// the escaping of control characters on output (common/Printable.h).

#include "TestSupport.h"
#include "common/Error.h"
#include "common/Names.h"
#include "common/Printable.h"
#include "common/Workspace.h"

#include <QDir>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QSet>
#include <QTest>

#include <thread>
#include <vector>

using namespace ms;
using namespace ms::test;

class tst_Names : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void validNames_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("plain") << QStringLiteral("cnn");
        QTest::newRow("dashes and digits") << QStringLiteral("resnet18-finetuned-cifar");
        QTest::newRow("dot and underscore") << QStringLiteral("mlp_v2.small");
        QTest::newRow("leading underscore") << QStringLiteral("_scratch");
        QTest::newRow("dashes at the end") << QStringLiteral("a--b-");
        QTest::newRow("at the limit") << QString(kMaxModelNameLength, QLatin1Char('a'));
    }
    void validNames()
    {
        QFETCH(QString, name);
        QVERIFY2(modelNameProblem(name).isEmpty(), qPrintable(modelNameProblem(name)));
        QVERIFY(errorOf([&] { checkModelName(name); }).isEmpty());
        QVERIFY(errorOf([&] { checkStoredModelName(name); }).isEmpty());
        QCOMPARE(modelNameFrom(name), name);   // a valid name is kept as it is
    }

    void refusedNames_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("problem");
        QTest::newRow("empty") << QString() << "empty";
        QTest::newRow("traversal") << QStringLiteral("../../../escaped") << "starts with '.'";
        QTest::newRow("dot dot") << QStringLiteral("..") << "starts with '.'";
        QTest::newRow("hidden") << QStringLiteral(".cnn") << "starts with '.'";
        QTest::newRow("option-like") << QStringLiteral("-rf") << "starts with '-'";
        QTest::newRow("separator") << QStringLiteral("a/b") << "path separator";
        QTest::newRow("backslash") << QStringLiteral("a\\b") << "path separator";
        QTest::newRow("colon") << QStringLiteral("cnn:2") << "separates a version";
        QTest::newRow("at") << QStringLiteral("cnn@prod") << "separates a version";
        QTest::newRow("space") << QStringLiteral("my model") << "space";
        QTest::newRow("percent") << QStringLiteral("a%2Fb") << "\"%\"";
        QTest::newRow("quote") << QStringLiteral("q\"uote") << "holds";
        QTest::newRow("newline") << QStringLiteral("evil\nline") << "\"\\n\"";
        QTest::newRow("escape") << QStringLiteral("a\x1b[2Jb") << "\"\\e\"";
        QTest::newRow("non-ASCII") << QStringLiteral("modèle") << "\"è\"";
        QTest::newRow("too long") << QString(kMaxModelNameLength + 1, QLatin1Char('a'))
                                  << "101 characters";
    }
    void refusedNames()
    {
        QFETCH(QString, name);
        QFETCH(QString, problem);
        QVERIFY2(modelNameProblem(name).contains(problem), qPrintable(modelNameProblem(name)));
        const QString message = errorOf([&] { checkModelName(name); });
        // One line that says what is wrong and what a name may be.
        QVERIFY2(message.contains(name.isEmpty() ? QStringLiteral("needs a name")
                                                 : QStringLiteral("cannot be a model name")),
                 qPrintable(message));
        QVERIFY2(message.contains(QStringLiteral("letters, digits, '-', '_' or '.'")),
                 qPrintable(message));
        QVERIFY(!hasControlCharacters(message));
        // An old registry's name: refused with the way out.
        const QString stored = errorOf([&] { checkStoredModelName(name); });
        QVERIFY2(stored.contains(QStringLiteral("modelstudio-cli rename ")), qPrintable(stored));
        QVERIFY(!hasControlCharacters(stored));
        // And the name a default is made from becomes a valid one.
        QVERIFY2(isValidModelName(modelNameFrom(name)), qPrintable(modelNameFrom(name)));
    }

    void namesMadeFromText()
    {
        QCOMPARE(modelNameFrom(QStringLiteral("resnet18:1")), QStringLiteral("resnet18-1"));
        QCOMPARE(modelNameFrom(QStringLiteral("my model (2).pt")),
                 QStringLiteral("my-model-2-.pt"));
        QCOMPARE(modelNameFrom(QStringLiteral("../../../escaped")), QStringLiteral("escaped"));
        QCOMPARE(modelNameFrom(QStringLiteral("a%2Fb")), QStringLiteral("a-2Fb"));
        QCOMPARE(modelNameFrom(QStringLiteral("  ")), QStringLiteral("model"));
        QCOMPARE(modelNameFrom(QStringLiteral("…"), QStringLiteral("imported")),
                 QStringLiteral("imported"));
        QCOMPARE(modelNameFrom(QString(300, QLatin1Char('x'))).size(), kMaxModelNameLength);
    }

    void pathsStayInsideTheirFolder_data()
    {
        QTest::addColumn<QString>("fileName");
        QTest::addColumn<bool>("inside");
        QTest::newRow("file") << QStringLiteral("cnn-v3.pt") << true;
        QTest::newRow("hidden staging") << QStringLiteral(".cnn-XXXXXX") << true;
        QTest::newRow("parent") << QStringLiteral("..") << false;
        QTest::newRow("self") << QStringLiteral(".") << false;
        QTest::newRow("empty") << QString() << false;
        QTest::newRow("traversal") << QStringLiteral("../../../escaped-v1.pt") << false;
        QTest::newRow("absolute") << QStringLiteral("/etc/passwd") << false;
        QTest::newRow("subfolder") << QStringLiteral("a/b.pt") << false;
        QTest::newRow("backslash") << QStringLiteral("..\\b.pt") << false;
        QTest::newRow("NUL") << QStringLiteral("a") + QChar(0) + QStringLiteral("b") << false;
    }
    void pathsStayInsideTheirFolder()
    {
        QFETCH(QString, fileName);
        QFETCH(bool, inside);
        const QTemporaryDir dir;
        QString path;
        const QString message = errorOf([&] { path = pathInside(dir.path(), fileName); });
        if (inside) {
            QVERIFY2(message.isEmpty(), qPrintable(message));
            QCOMPARE(QFileInfo(path).absolutePath(), QDir(dir.path()).absolutePath());
            QCOMPARE(QFileInfo(path).fileName(), fileName);
        } else {
            QVERIFY2(message.contains(QStringLiteral("would leave that folder")),
                     qPrintable(message));
            QVERIFY(!hasControlCharacters(message));
        }
    }

    void controlCharactersAreEscaped_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("shown");
        QTest::addColumn<QString>("shownLines");
        QTest::newRow("plain") << "cnn:3 %2 \\ é 模型 🚀" << "cnn:3 %2 \\ é 模型 🚀"
                               << "cnn:3 %2 \\ é 模型 🚀";
        QTest::newRow("newline") << "a\nerror: forged" << "a\\nerror: forged"
                                 << "a\nerror: forged";
        QTest::newRow("terminal sequence") << "x\x1b[2J\x1b]0;title\x07"
                                           << "x\\e[2J\\e]0;title\\x07"
                                           << "x\\e[2J\\e]0;title\\x07";
        QTest::newRow("carriage return") << "ok\roverwritten" << "ok\\roverwritten"
                                         << "ok\\roverwritten";
        QTest::newRow("tab and DEL") << "a\tb\x7f" << "a\\tb\\x7f" << "a\tb\\x7f";
        QTest::newRow("C1 control") << QStringLiteral("a\u009bb") << "a\\x9bb" << "a\\x9bb";
        QTest::newRow("bidi override") << QStringLiteral("abc\u202Efdp.exe")
                                       << "abc\\u{202e}fdp.exe" << "abc\\u{202e}fdp.exe";
        // The zero-width joiner of emoji sequences is text, not a control.
        const QString scientist = QStringLiteral("👩\u200D🔬");
        QTest::newRow("emoji sequence") << scientist << scientist << scientist;
    }
    void controlCharactersAreEscaped()
    {
        QFETCH(QString, text);
        QFETCH(QString, shown);
        QFETCH(QString, shownLines);
        QCOMPARE(printable(text), shown);
        QCOMPARE(printableLines(text), shownLines);
        QCOMPARE(hasControlCharacters(text), shown != text);
        QVERIFY(!hasControlCharacters(printable(text)));
    }

    // A run folder's label is typed text ("--arch resnet18:1"): never a colon, never a path.
    void runFoldersHaveSafeNames()
    {
        const QTemporaryDir dir;
        const Workspace workspace(dir.path());
        const QString runs = QDir(dir.path()).absoluteFilePath(QStringLiteral("runs"));
        const QString colon = workspace.newRunDir(QStringLiteral("resnet18:1"));
        QCOMPARE(QFileInfo(colon).absolutePath(), runs);
        QVERIFY2(QFileInfo(colon).fileName().endsWith(QStringLiteral("-resnet18-1")),
                 qPrintable(colon));
        QVERIFY(!QFileInfo(colon).fileName().contains(QLatin1Char(':')));
        const QString traversal = workspace.newRunDir(QStringLiteral("../../x"));
        QCOMPARE(QFileInfo(traversal).absolutePath(), runs);
        QVERIFY(QFileInfo(traversal).isDir());
        // Two runs of one label in one second get folders of their own.
        QVERIFY(workspace.newRunDir(QStringLiteral("resnet18:1")) != colon);
        // This process holds the folders it just made, so a gc elsewhere leaves them alone.
        QVERIFY(Workspace::runDirInUse(colon));
        QVERIFY(!Workspace::runDirInUse(dir.path()));
    }

    // A sweep starts its trials at once, with one label: each must get a folder of its own
    // (two trials sharing one overwrote each other's checkpoints and one failed).
    void runsStartedAtOnceGetFoldersOfTheirOwn()
    {
        const QTemporaryDir dir;
        const Workspace workspace(dir.path());
        constexpr int kThreads = 8, kEach = 25;
        std::vector<QStringList> made(kThreads);
        std::vector<std::thread> threads;
        for (int t = 0; t < kThreads; ++t)
            threads.emplace_back([&, t] {
                for (int i = 0; i < kEach; ++i)
                    made[size_t(t)] << workspace.newRunDir(QStringLiteral("mlp"));
            });
        for (std::thread &t : threads)
            t.join();
        QSet<QString> distinct;
        for (const QStringList &dirs : made)
            for (const QString &d : dirs)
                distinct.insert(d);
        QCOMPARE(distinct.size(), kThreads * kEach);
    }
};

QTEST_GUILESS_MAIN(tst_Names)
#include "tst_names.moc"
