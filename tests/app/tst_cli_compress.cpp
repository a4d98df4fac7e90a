// modelstudio-cli compress as a user and a script see it: the method's flags, progress and the
// registered variant, and the refusals that leave the registry as it was.
//
// The slots run in order on one workspace: each builds on the state the previous ones left.

#include "app/CliRun.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

namespace {

using Run = ms::test::CliRun;

} // namespace

class TestCliCompress : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    Run cli(QStringList args)
    {
        args << QStringLiteral("--workspace") << m_dir.filePath(QStringLiteral("ws"));
        return ms::test::runCli(args);
    }

    int versionCount(const QString &model)
    {
        const Run r = cli({"versions", model, "--json"});
        return r.json().value("versions").toArray().size();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const Run r = cli({"train", "--arch", "mlp", "--limit", "2000", "--epochs", "1",
                           "--threads", "1", "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QCOMPARE(r.jsonLines().last().value("version").toString(), QStringLiteral("mlp:1"));
    }

    void helpListsTheMethodsAndTheirFlags()
    {
        const Run r = cli({"compress", "--help"});
        QCOMPARE(r.exitCode, 0);
        for (const char *text : {"prune-unstructured", "prune-structured", "distill",
                                 "--sparsity", "--finetune-epochs", "--temperature", "--alpha",
                                 "--student-arch", "--criterion"})
            QVERIFY2(r.out.contains(QLatin1String(text)), text);
    }

    void prunesAndPrintsTheNewVersion()
    {
        const Run r = cli({"compress", "mlp:1", "--method", "prune-unstructured", "--sparsity",
                           "0.9", "--finetune-epochs", "1", "--threads", "1", "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QList<QJsonObject> lines = r.jsonLines();
        QCOMPARE(lines.first().value("event").toString(), QStringLiteral("start"));
        QVERIFY(std::any_of(lines.begin(), lines.end(), [](const QJsonObject &o) {
            return o.value("event").toString() == QLatin1String("epoch");
        }));
        const QJsonObject end = lines.last();
        QCOMPARE(end.value("status").toString(), QStringLiteral("finished"));
        QCOMPARE(end.value("version").toString(), QStringLiteral("mlp:2"));
        const QJsonObject metrics = end.value("metrics").toObject();
        const double nonzero = metrics.value("nonzero_parameters").toDouble();
        const double total = metrics.value("parameters").toDouble();
        QVERIFY2(nonzero < 0.12 * total, qPrintable(QString::number(nonzero / total)));

        const Run show = cli({"show", "mlp:2", "--json"});
        QVERIFY2(show.exitCode == 0, qPrintable(show.err));
        QCOMPARE(show.json().value("kind").toString(), QStringLiteral("pruned"));
    }

    void structuredPruningPrintsAOneLineSummary()
    {
        const Run r = cli({"compress", "mlp@latest", "--method", "prune-structured",
                           "--sparsity", "0.5", "--name", "mlp-small", "--threads", "1"});
        // "mlp@latest" is no alias: the refusal names what exists.
        QVERIFY(r.exitCode != 0);
        QVERIFY2(!r.errorLine().isEmpty(), qPrintable(r.err));
        const Run ok = cli({"compress", "mlp:1", "--method", "prune-structured", "--sparsity",
                            "0.5", "--name", "mlp-small", "--threads", "1"});
        QVERIFY2(ok.exitCode == 0, qPrintable(ok.err));
        QVERIFY2(ok.out.contains("registered mlp-small:1"), qPrintable(ok.out));
        QVERIFY2(ok.out.contains("test_acc"), qPrintable(ok.out));
    }

    // Both forms of the student, as a user types them (issue 11: each failed with the other
    // flag's message).
    void distillsWithEitherStudentFlag()
    {
        Run r = cli({"compress", "mlp:1", "--method", "distill", "--student-arch", "mlp",
                     "--epochs", "1", "--name", "mlp-student", "--threads", "1"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("registered mlp-student:1"), qPrintable(r.out));
        r = cli({"compress", "mlp:1", "--method", "distill", "--student", "mlp-student:1",
                 "--epochs", "1", "--name", "mlp-student", "--threads", "1"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("registered mlp-student:2"), qPrintable(r.out));
        r = cli({"compress", "mlp:1", "--method", "distill", "--epochs", "1"});
        QVERIFY(r.exitCode != 0);
        QVERIFY2(r.errorLine().contains("--student-arch") && r.errorLine().contains("neither"),
                 qPrintable(r.err));
        QCOMPARE(versionCount("mlp-student"), 2);
    }

    void refusalsSayWhatIsWrongAndRegisterNothing_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("expected");
        QTest::newRow("flag of another method")
            << QStringList{"--method", "prune-unstructured", "--temperature", "2"}
            << "--temperature is not a parameter of prune-unstructured";
        QTest::newRow("sparsity 1")
            << QStringList{"--method", "prune-unstructured", "--sparsity", "1"}
            << "strictly between 0 and 1";
        QTest::newRow("sparsity -0.2")
            << QStringList{"--method", "prune-structured", "--sparsity", "-0.2"}
            << "must be between 0 and 1";
        QTest::newRow("no method") << QStringList{} << "give --method";
        QTest::newRow("unknown method") << QStringList{"--method", "shrink"}
                                        << "no compression method \"shrink\"";
        QTest::newRow("bad choice")
            << QStringList{"--method", "prune-structured", "--criterion", "l3"}
            << "one of l1, l2";
    }

    void refusalsSayWhatIsWrongAndRegisterNothing()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, expected);
        const int before = versionCount("mlp");
        const Run r = cli(QStringList{"compress", "mlp:1"} + args);
        QVERIFY(r.exitCode != 0);
        QVERIFY2(r.errorLine().contains(expected), qPrintable(r.err));
        QCOMPARE(versionCount("mlp"), before);
    }
};

QTEST_GUILESS_MAIN(TestCliCompress)
#include "tst_cli_compress.moc"
