// Data-parallel training when something goes wrong (issue 14): a rank that dies stops the
// other within the timeout with a message naming it, the run marked failed and nothing
// registered; each bad launch gets one message before any training and records no run.

#include "app/DistSupport.h"

#include "registry/Registry.h"

#include <QRegularExpression>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace ms;
using namespace ms::test::dist;

class TestCliDistFailures : public QObject
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
            start(ranks[r], recipe(workspace, 200) + host(r, port, {"--timeout-s", "10",
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

    // SIGTERM to the launcher (a scheduler stopping the job; Ctrl-C is the same stop): every
    // rank stops after the same step and ends cancelled, none reports another stopped
    // answering; rank 0 records the run as cancelled with a checkpoint to resume from.
    void cancelStopsEveryRankAtOneStep()
    {
        const QString workspace = ws("cancel");
        QProcess launcher;
        start(launcher, recipe(workspace, 200) + QStringList{"--nproc-per-node", "2",
                                                             "--timeout-s", "10", "--json"});
        QByteArray seen;
        QVERIFY2(waitForOutput(launcher, "\"event\":\"epoch\"", seen),
                 qPrintable(QString::fromUtf8(launcher.readAllStandardError())));
        ::kill(pid_t(launcher.processId()), SIGTERM);
        QVERIFY(launcher.waitForFinished(60000));   // no rank waits for a timeout
        const Run r = finish(launcher);
        QCOMPARE(r.exitCode, 128 + SIGTERM);
        QVERIFY2(!r.err.contains("stopped answering"), qPrintable(r.err));
        QVERIFY2(QString::fromUtf8(seen + r.out.toUtf8()).contains("\"status\":\"cancelled\""),
                 qPrintable(r.out));
        // One "Stopped during epoch E, after step S." per rank, the same E and S.
        const QRegularExpression stop(QStringLiteral("Stopped during epoch \\d+, after step "
                                                     "\\d+\\."));
        QStringList stops;
        for (auto it = stop.globalMatch(r.err); it.hasNext();)
            stops << it.next().captured(0);
        QCOMPARE(stops.size(), 2);
        QCOMPARE(stops[0], stops[1]);
        Registry registry(workspace);
        const QVector<RunRecord> runs = registry.runs();
        QCOMPARE(runs.size(), 1);
        QCOMPARE(runs.first().status, RunStatus::Cancelled);
        QVERIFY(registry.models().isEmpty());
        QVERIFY(r.err.contains("resume with: modelstudio-cli train --resume"));
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

        refused({"--task", "lm", "--dataset", "fortunes", "--arch", "gpt", "--nproc-per-node",
                 "2"},
                "(--task lm) trains in one process: set Processes to 1 in the Train panel, or "
                "leave out --nproc-per-node/--nnodes");

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

QTEST_GUILESS_MAIN(TestCliDistFailures)
#include "tst_cli_dist_failures.moc"
