// modelstudio-cli as a user and a script see it: output contracts, exit codes, one-line errors,
// and a run killed with SIGKILL that resumes.

#include "app/CliRun.h"

#include "registry/Registry.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

namespace {

using Run = ms::test::CliRun;
using ms::test::cliPath;

Run cli(const QStringList &args, int timeout_ms = 240000)
{
    return ms::test::runCli(args, timeout_ms);
}

// Reads a `train --json` run's events until its first epoch ends; `runDir` gets the run's
// folder from its start event (empty when the run never started or no epoch ended).
void waitForFirstEpoch(QProcess &p, QString *runDir)
{
    QString dir;
    bool sawEpoch = false;
    QVERIFY(p.waitForStarted());
    while (!sawEpoch && p.waitForReadyRead(120000)) {
        while (p.canReadLine()) {
            const QJsonObject e = QJsonDocument::fromJson(p.readLine()).object();
            if (e.value(QStringLiteral("event")).toString() == QLatin1String("start"))
                dir = e.value(QStringLiteral("run_dir")).toString();
            if (e.value(QStringLiteral("event")).toString() == QLatin1String("epoch"))
                sawEpoch = true;
        }
    }
    if (sawEpoch)
        *runDir = dir;
}

void writeFile(const QString &path, const QByteArray &data)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(data);
}

} // namespace

class TestCli : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString ws() const { return m_dir.filePath(QStringLiteral("workspace")); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY2(QFile::exists(cliPath()), qPrintable(cliPath()));
    }

    void versionAndHelp()
    {
        const Run version = cli({QStringLiteral("--version")});
        QCOMPARE(version.exitCode, 0);
        QVERIFY(version.out.startsWith(QStringLiteral("modelstudio-cli ")));
        const Run help = cli({QStringLiteral("train"), QStringLiteral("--help")});
        QCOMPARE(help.exitCode, 0);
        for (const char *flag : {"--dataset", "--arch", "--epochs", "--batch-size", "--lr",
                                 "--optimizer", "--seed", "--limit", "--threads", "--out",
                                 "--json", "--resume"})
            QVERIFY2(help.out.contains(QLatin1String(flag)), flag);
        QCOMPARE(cli({}).exitCode, 2);
        QCOMPARE(cli({QStringLiteral("frobnicate")}).exitCode, 2);
    }

    void archsListsAndSummarises()
    {
        const Run list = cli({QStringLiteral("archs")});
        QCOMPARE(list.exitCode, 0);
        QVERIFY(list.out.contains(QStringLiteral("mlp")));
        QVERIFY(list.out.contains(QStringLiteral("cnn")));
        const Run cnn = cli({QStringLiteral("archs"), QStringLiteral("cnn"),
                             QStringLiteral("--json")});
        QCOMPARE(cnn.exitCode, 0);
        const QJsonObject summary = cnn.jsonLines().value(0).value(QStringLiteral("summary"))
                                        .toObject();
        QCOMPARE(summary.value(QStringLiteral("total_params")).toInteger(), 83466);
        const Run table = cli({QStringLiteral("archs"), QStringLiteral("mlp")});
        QVERIFY(table.out.contains(QStringLiteral("235,146")));
    }

    void datasetsListsTheBuiltIn()
    {
        const Run run = cli({QStringLiteral("datasets"), QStringLiteral("--json")});
        QCOMPARE(run.exitCode, 0);
        const QJsonArray builtins = run.jsonLines().value(0).value(QStringLiteral("builtin"))
                                        .toArray();
        bool found = false;
        for (const QJsonValue &v : builtins) {
            if (v.toObject().value(QStringLiteral("name")).toString() == "fashion-mnist")
                found = v.toObject().value(QStringLiteral("installed")).toBool();
        }
        QVERIFY(found);
    }

    void trainPrintsJsonLines()
    {
        const QString out = m_dir.filePath(QStringLiteral("model.pt"));
        const Run run = cli({QStringLiteral("train"), QStringLiteral("--dataset"),
                             QStringLiteral("fashion-mnist"), QStringLiteral("--arch"),
                             QStringLiteral("mlp"), QStringLiteral("--epochs"), QStringLiteral("2"),
                             QStringLiteral("--limit"), QStringLiteral("500"),
                             QStringLiteral("--threads"), QStringLiteral("1"),
                             QStringLiteral("--json"), QStringLiteral("--workspace"), ws(),
                             QStringLiteral("--out"), out});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        const QList<QJsonObject> lines = run.jsonLines();
        QCOMPARE(lines.size(), 5);   // loading, start, 2 epochs, finished
        QCOMPARE(lines.first().value(QStringLiteral("event")).toString(),
                 QStringLiteral("loading"));
        QCOMPARE(lines.first().value(QStringLiteral("dataset")).toString(),
                 QStringLiteral("fashion-mnist"));
        QCOMPARE(lines.at(1).value(QStringLiteral("event")).toString(), QStringLiteral("start"));
        for (int i = 1; i <= 2; ++i) {
            const QJsonObject e = lines.at(i + 1);
            QCOMPARE(e.value(QStringLiteral("event")).toString(), QStringLiteral("epoch"));
            QCOMPARE(e.value(QStringLiteral("epoch")).toInt(), i);
            for (const char *key : {"train_loss", "val_loss", "val_acc", "test_acc",
                                    "samples_per_s"})
                QVERIFY2(e.value(QLatin1String(key)).isDouble(), key);
        }
        QCOMPARE(lines.last().value(QStringLiteral("status")).toString(),
                 QStringLiteral("finished"));
        QVERIFY(QFile::exists(out));
        const QString runDir = lines.last().value(QStringLiteral("run_dir")).toString();
        QVERIFY(runDir.startsWith(ws() + QStringLiteral("/runs/")));
    }

    void badInputGetsOneClearLine_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("expected");
        const QString csv = m_dir.filePath(QStringLiteral("bad.csv"));
        writeFile(csv, "a,b,label\n1,2,0\n3,x7,1\n");
        const QString spec = m_dir.filePath(QStringLiteral("bad-spec.json"));
        writeFile(spec, R"({"name": "bad", "layers": [{"type": "flatten"},)"
                        R"({"type": "conv3d", "out": 4}, {"type": "linear", "out": 10}]})");
        const QStringList train{QStringLiteral("train"), QStringLiteral("--limit"),
                                QStringLiteral("200"), QStringLiteral("--epochs"),
                                QStringLiteral("1"), QStringLiteral("--workspace"), ws()};
        QTest::newRow("missing dataset") << (train + QStringList{"--dataset", "/no/such/dir"})
                                         << "/no/such/dir";
        QTest::newRow("unknown arch") << (train + QStringList{"--arch", "nope"}) << "nope";
        QTest::newRow("text for a number") << (train + QStringList{"--epochs", "three"})
                                           << "--epochs";
        QTest::newRow("unknown flag") << (train + QStringList{"--epoch", "3"}) << "epoch";
        QTest::newRow("non-numeric CSV cell") << (train + QStringList{"--dataset", csv})
                                              << "row 3, column 2";
        QTest::newRow("unknown layer") << (train + QStringList{"--arch", spec}) << "conv3d";
        QTest::newRow("unwritable output")
            << (train + QStringList{"--arch", "mlp", "--out", "/proc/nope/m.pt"}) << "/proc/nope";
        QTest::newRow("resume a non-run") << QStringList{"train", "--resume", m_dir.path()}
                                          << "not a training run folder";
    }

    void badInputGetsOneClearLine()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, expected);
        const Run run = cli(args);
        QVERIFY(run.exitCode != 0);
        QVERIFY(run.exitCode != -1);   // an error, not a crash
        const QStringList errLines = run.err.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(errLines.size(), 1);
        QVERIFY2(errLines.first().startsWith(QStringLiteral("error: ")), qPrintable(run.err));
        QVERIFY2(errLines.first().contains(expected), qPrintable(run.err));
    }

    void aKilledRunResumesFromItsCheckpoint()
    {
        QProcess p;
        p.start(cliPath(), {QStringLiteral("train"), QStringLiteral("--arch"), QStringLiteral("mlp"),
                            QStringLiteral("--epochs"), QStringLiteral("3"),
                            QStringLiteral("--limit"), QStringLiteral("4000"),
                            QStringLiteral("--batch-size"), QStringLiteral("32"),
                            QStringLiteral("--threads"), QStringLiteral("1"),
                            QStringLiteral("--json"), QStringLiteral("--workspace"), ws()});
        QString runDir;
        waitForFirstEpoch(p, &runDir);
        QVERIFY(!runDir.isEmpty());
        QVERIFY(p.state() == QProcess::Running);   // killed mid-run, not after
        ::kill(pid_t(p.processId()), SIGKILL);
        QVERIFY(p.waitForFinished());
        QCOMPARE(p.exitStatus(), QProcess::CrashExit);
        QVERIFY(!QFile::exists(runDir + QStringLiteral("/model.pt")));

        const Run resumed = cli({QStringLiteral("train"), QStringLiteral("--resume"), runDir,
                                 QStringLiteral("--json")});
        QVERIFY2(resumed.exitCode == 0, qPrintable(resumed.err));
        const QList<QJsonObject> lines = resumed.jsonLines();
        QVERIFY(lines.at(1).value(QStringLiteral("resumed_after_epoch")).toInt() >= 1);
        QCOMPARE(lines.last().value(QStringLiteral("epochs_done")).toInt(), 3);
        QVERIFY(QFile::exists(runDir + QStringLiteral("/model.pt")));
    }

    // The checkpoint holds the model being fine-tuned: a source removed while the run was
    // down costs the new version its lineage edge, not the epochs already trained.
    void aFineTuneResumesAfterItsSourceIsRemoved()
    {
        const QString w = m_dir.filePath(QStringLiteral("finetune-ws"));
        const QStringList small = {QStringLiteral("--limit"), QStringLiteral("1000"),
                                   QStringLiteral("--batch-size"), QStringLiteral("50"),
                                   QStringLiteral("--threads"), QStringLiteral("1"),
                                   QStringLiteral("--workspace"), w};
        const Run base = cli(QStringList{QStringLiteral("train"), QStringLiteral("--arch"),
                                         QStringLiteral("mlp"), QStringLiteral("--epochs"),
                                         QStringLiteral("1"), QStringLiteral("--name"),
                                         QStringLiteral("base")} + small);
        QVERIFY2(base.exitCode == 0, qPrintable(base.err));

        QProcess p;
        p.start(cliPath(), QStringList{QStringLiteral("train"), QStringLiteral("--from"),
                                       QStringLiteral("base:1"), QStringLiteral("--epochs"),
                                       QStringLiteral("20"), QStringLiteral("--json")} + small);
        QString runDir;
        waitForFirstEpoch(p, &runDir);
        QVERIFY(!runDir.isEmpty());
        QVERIFY(p.state() == QProcess::Running);
        ::kill(pid_t(p.processId()), SIGKILL);
        QVERIFY(p.waitForFinished());

        const Run rm = cli({QStringLiteral("rm"), QStringLiteral("base:1"),
                            QStringLiteral("--workspace"), w});
        QVERIFY2(rm.exitCode == 0, qPrintable(rm.err));
        // The resume finishes the recipe's 20 epochs (1,000 samples each: seconds).
        const Run resumed = cli({QStringLiteral("train"), QStringLiteral("--resume"), runDir});
        QVERIFY2(resumed.exitCode == 0, qPrintable(resumed.err));
        QVERIFY2((resumed.out + resumed.err).contains(QStringLiteral("no longer in the registry")),
                 qPrintable(resumed.out + resumed.err));
        const ms::Registry registry(w);
        const ms::VersionRecord v = registry.resolve(QStringLiteral("base"));
        QCOMPARE(v.kind, ms::VersionKind::Finetuned);
        QVERIFY(registry.lineage(v.id).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
