// Data-parallel training through modelstudio-cli (issue 14): two local workers
// (--nproc-per-node 2) and two "hosts" on 127.0.0.1 (--nnodes 2, two commands) train what one
// process trains; a rank that dies stops the other with a message naming it; bad launch input
// gets one message each. Lean: mlp without dropout, 2000 samples, 1 thread per rank.

#include "app/CliRun.h"
#include "TestSupport.h"

#include "data/DatasetRegistry.h"
#include "models/Model.h"
#include "registry/Registry.h"

#include <QDir>
#include <QHostAddress>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace ms;

namespace {

using Run = ms::test::CliRun;
using ms::test::cliPath;

int freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

QStringList recipe(const QString &workspace, int epochs = 1)
{
    return {"train", "--workspace", workspace, "--dataset", "fashion-mnist", "--arch", "mlp",
            "--limit", "2000", "--epochs", QString::number(epochs), "--threads", "1",
            "--seed", "3",
            // 1800 training rows in batches of 63: shards of 32 and 31, a last batch of 36.
            "--batch-size", "63", "--lr", "0.002"};
}

QStringList host(int nodeRank, int port, const QStringList &more = {})
{
    return QStringList{"--nnodes", "2", "--node-rank", QString::number(nodeRank),
                       "--master-addr", "127.0.0.1", "--master-port", QString::number(port)}
           + more;
}

void start(QProcess &p, const QStringList &args)
{
    p.start(cliPath(), args);
    QVERIFY2(p.waitForStarted(), qPrintable(p.errorString()));
}

Run finish(QProcess &p, int timeout_ms = 240000)
{
    if (!p.waitForFinished(timeout_ms)) {
        p.kill();
        p.waitForFinished();
    }
    return Run{p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
               QString::fromUtf8(p.readAllStandardOutput()),
               QString::fromUtf8(p.readAllStandardError())};
}

// Waits until `p` has printed a line containing `text` on stdout (or ended); keeps what it read.
bool waitForOutput(QProcess &p, const QString &text, QByteArray &seen, int timeout_ms = 120000)
{
    QElapsedTimer clock;
    clock.start();
    while (!seen.contains(text.toUtf8())) {
        if (p.state() == QProcess::NotRunning || clock.elapsed() > timeout_ms)
            return false;
        p.waitForReadyRead(1000);
        seen += p.readAllStandardOutput();
    }
    return true;
}

std::vector<float> testLogits(const QString &modelPath, const Dataset &data)
{
    const Model model = Model::load(modelPath);
    std::vector<qint64> shape{data.test.count()};
    shape.insert(shape.end(), data.sampleShape.begin(), data.sampleShape.end());
    return model.predict(data.test.features, shape);
}

} // namespace

class TestCliDist : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString ws(const char *name) const { return m_dir.filePath(QLatin1String(name)); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY2(QFile::exists(cliPath()), qPrintable(cliPath()));
    }

    // One process, two local workers and two hosts train the same model up to float summation
    // order; only rank 0 records (three jobs, three versions, three runs).
    void matchesSingleProcess()
    {
        const QString workspace = ws("match");
        const QString single = m_dir.filePath("single.pt"), local = m_dir.filePath("local.pt"),
                      hosts = m_dir.filePath("hosts.pt");
        const Run one = ms::test::runCli(recipe(workspace) + QStringList{"--out", single});
        QVERIFY2(one.exitCode == 0, qPrintable(one.err));
        const Run two = ms::test::runCli(recipe(workspace) + QStringList{
            "--nproc-per-node", "2", "--out", local, "--json"});
        QVERIFY2(two.exitCode == 0, qPrintable(two.err));
        const QList<QJsonObject> lines = two.jsonLines();
        QVERIFY(!lines.isEmpty());
        bool sawStart = false;
        for (const QJsonObject &e : lines) {
            if (e.value("event") == "start") {
                sawStart = true;
                QCOMPARE(e.value("world_size").toInt(), 2);
            }
        }
        QVERIFY(sawStart);   // rank 0's lines only: one start

        const int port = freePort();
        QVERIFY(port > 0);
        QProcess rank0, rank1;
        start(rank0, recipe(workspace) + host(0, port, {"--out", hosts}));
        start(rank1, recipe(workspace) + host(1, port));
        const Run r1 = finish(rank1), r0 = finish(rank0);
        QVERIFY2(r0.exitCode == 0, qPrintable(r0.err));
        QVERIFY2(r1.exitCode == 0, qPrintable(r1.err));
        QVERIFY2(r1.out.contains("rank 1 of 2 finished"), qPrintable(r1.out));

        DatasetOptions options;
        options.limit = 2000;
        options.seed = 3;
        const Dataset data = DatasetRegistry::instance().load(options);
        QVERIFY(data.test.count() > 0);
        const std::vector<float> a = testLogits(single, data);
        for (const QString &path : {local, hosts}) {
            const std::vector<float> b = testLogits(path, data);
            QCOMPARE(b.size(), a.size());
            const double diff = ms::test::maxScaledDiff(a, b);
            QVERIFY2(diff < 1e-3, qPrintable(QStringLiteral("%1: max scaled logit difference "
                                                            "%2").arg(path).arg(diff)));
        }
        // Trained at all: the logits moved away from a fresh model's.
        Registry registry(workspace);
        QCOMPARE(registry.versions("mlp").size(), 3);
        QCOMPARE(registry.runs().size(), 3);
    }

    // A rank killed mid-run makes the other stop within the timeout, naming it; the run is
    // marked failed and nothing is registered. Both ways: the host of the store dies, or not.
    void deadRankStopsTheOther_data()
    {
        QTest::addColumn<int>("killed");
        QTest::newRow("rank 1 dies") << 1;
        QTest::newRow("rank 0 dies") << 0;
    }
    void deadRankStopsTheOther()
    {
        QFETCH(int, killed);
        const QString workspace = ws(killed == 0 ? "dead0" : "dead1");
        const int port = freePort();
        QProcess ranks[2];
        for (int r = 0; r < 2; ++r)
            start(ranks[r], recipe(workspace, 200) + host(r, port, {"--timeout-s", "4",
                                                                    "--json"}));
        QByteArray seen;
        QVERIFY2(waitForOutput(ranks[1 - killed], "\"event\":\"epoch\"", seen),
                 qPrintable(QString::fromUtf8(ranks[1 - killed].readAllStandardError())));
        ::kill(pid_t(ranks[killed].processId()), SIGKILL);
        finish(ranks[killed]);
        // Gloo notices a closed peer within seconds; the timeout bounds a silent one.
        const Run survivor = finish(ranks[1 - killed], 60000);
        QVERIFY2(survivor.exitCode == 1, qPrintable(survivor.err));
        QVERIFY2(survivor.err.contains(QStringLiteral("Rank %1 of 2 stopped answering")
                                           .arg(killed)),
                 qPrintable(survivor.err));
        Registry registry(workspace);
        QVERIFY(registry.models().isEmpty());   // nothing registered
        const QVector<RunRecord> runs = registry.runs();
        QCOMPARE(runs.size(), 1);
        // Rank 0 marks it failed; killed, it is "running" until the registry is next opened
        // by someone who sees its process gone (marked interrupted then).
        if (killed == 1)
            QCOMPARE(runs.first().status, RunStatus::Failed);
        else
            QVERIFY(runs.first().status != RunStatus::Finished);
    }

    // A distributed run stopped mid-way resumes distributed (rank 0 wrote the checkpoint, both
    // ranks read it) and ends where one uninterrupted process ends.
    void resumesDistributed()
    {
        const QString workspace = ws("resume");
        const QString single = m_dir.filePath("resume-single.pt"),
                      resumed = m_dir.filePath("resumed.pt");
        const Run one = ms::test::runCli(recipe(workspace, 4) + QStringList{"--out", single});
        QVERIFY2(one.exitCode == 0, qPrintable(one.err));

        const int port = freePort();
        QProcess ranks[2];
        for (int r = 0; r < 2; ++r)
            start(ranks[r], recipe(workspace, 4) + host(r, port, {"--timeout-s", "3", "--json"}));
        QByteArray seen;
        QVERIFY(waitForOutput(ranks[0], "\"event\":\"epoch\"", seen));
        // Rank 1 stops answering (SIGSTOP: a hung host): rank 0 gives up after the timeout.
        ::kill(pid_t(ranks[1].processId()), SIGSTOP);
        const Run r0 = finish(ranks[0], 60000);
        ::kill(pid_t(ranks[1].processId()), SIGKILL);
        finish(ranks[1]);
        QVERIFY2(r0.exitCode == 1 && r0.err.contains("Rank 1 of 2 stopped answering"),
                 qPrintable(r0.err));
        QString runDir;
        for (const QString &line : QString::fromUtf8(seen).split('\n', Qt::SkipEmptyParts)) {
            const QJsonObject e = QJsonDocument::fromJson(line.toUtf8()).object();
            if (e.value("event") == "start")
                runDir = e.value("run_dir").toString();
        }
        QVERIFY2(QFile::exists(runDir + "/checkpoint/state.json"), qPrintable(runDir));

        const Run again = ms::test::runCli({"train", "--resume", runDir, "--nproc-per-node", "2",
                                            "--out", resumed, "--json"});
        QVERIFY2(again.exitCode == 0, qPrintable(again.err));
        int resumedAfter = -1;
        for (const QJsonObject &e : again.jsonLines()) {
            if (e.value("event") == "start")
                resumedAfter = e.value("resumed_after_epoch").toInt();
        }
        QVERIFY2(resumedAfter >= 1 && resumedAfter < 4, qPrintable(again.out));

        DatasetOptions options;
        options.limit = 2000;
        options.seed = 3;
        const Dataset data = DatasetRegistry::instance().load(options);
        const double diff =
            ms::test::maxScaledDiff(testLogits(single, data), testLogits(resumed, data));
        QVERIFY2(diff < 1e-3, qPrintable(QStringLiteral("max scaled logit difference %1")
                                             .arg(diff)));
        QCOMPARE(Registry(workspace).versions("mlp").size(), 2);
    }

    // Each bad launch gets one message before any training, and no run is recorded.
    void badInput()
    {
        const QString workspace = ws("bad");
        const int port = freePort();
        auto refused = [&](const QStringList &extra, const QString &expected,
                           const QProcessEnvironment &env = QProcessEnvironment()) {
            QProcess p;
            if (!env.isEmpty())
                p.setProcessEnvironment(env);
            p.start(cliPath(), recipe(workspace) + extra);
            const Run r = finish(p, 60000);
            QVERIFY2(r.exitCode != 0, qPrintable(r.out));
            QVERIFY2(r.err.contains(expected), qPrintable(r.err));
            QVERIFY2(!r.errorLine().isEmpty(), qPrintable(r.err));   // one error line
        };
        refused(host(2, port), "--node-rank 2 is out of range for --nnodes 2");
        refused({"--nnodes", "0"}, "--nnodes 0 makes a world of no processes");
        refused({"--nnodes", "2"}, "--nnodes 2 needs --master-port");
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("WORLD_SIZE", "0");
        refused({}, "world size is 0", env);
        env.insert("WORLD_SIZE", "2");
        env.insert("RANK", "2");
        refused({}, "Rank 2 is out of range for a world of 2", env);

        QTcpServer taken;
        QVERIFY(taken.listen(QHostAddress::Any, 0));
        const QString takenText = QStringLiteral("Port %1 is in use").arg(taken.serverPort());
        refused(host(0, taken.serverPort()), takenText);
        refused({"--nproc-per-node", "2", "--master-port", QString::number(taken.serverPort())},
                takenText);
        refused(host(1, port, {"--timeout-s", "2"}), "Cannot reach the master 127.0.0.1:");
        refused(host(0, port, {"--timeout-s", "2"}), "Rank 1 of 2 did not arrive within 2 s");

        // Ranks started with different recipes: both stop, with the same message.
        QProcess rank0, rank1;
        start(rank0, recipe(workspace) + host(0, port, {"--timeout-s", "20"}));
        start(rank1, recipe(workspace) + host(1, port, {"--timeout-s", "20", "--lr", "0.1"}));
        for (QProcess *p : {&rank0, &rank1}) {
            const Run r = finish(*p, 60000);
            QCOMPARE(r.exitCode, 1);
            QVERIFY2(r.errorLine().contains("Rank 1 started with a different recipe than rank "
                                            "0"),
                     qPrintable(r.err));
        }
        QVERIFY(Registry(workspace).runs().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestCliDist)
#include "tst_cli_dist.moc"
