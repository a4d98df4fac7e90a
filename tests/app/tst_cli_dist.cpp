// Data-parallel training through modelstudio-cli (issue 14): two local workers
// (--nproc-per-node 2), two "hosts" on 127.0.0.1 (--nnodes 2, two commands) and the window's
// job with a local worker train what one process trains; a stopped distributed run resumes
// distributed. Lean: mlp without dropout, 2000 samples, 1 thread per rank. Failures and bad
// input: tst_cli_dist_failures.

#include "app/DistSupport.h"

#include "common/Workspace.h"
#include "data/DatasetRegistry.h"
#include "jobs/JobContext.h"
#include "models/Model.h"
#include "registry/Registry.h"
#include "train/TrainJob.h"

#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace ms;
using namespace ms::test::dist;

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
    // order; only rank 0 records (three jobs, three versions, three runs). Augmented, so that
    // the ranks' shares of each batch's flips and shifts are checked too.
    void matchesSingleProcess()
    {
        const QString workspace = ws("match");
        const auto recipe = [](const QString &workspace) {
            return ms::test::dist::recipe(workspace) + QStringList{"--augment", "hflip,shift:2"};
        };
        const QString single = m_dir.filePath("single.pt"), local = m_dir.filePath("local.pt"),
                      hosts = m_dir.filePath("hosts.pt");
        const Run one = ms::test::runCli(recipe(workspace) + QStringList{"--out", single});
        QVERIFY2(one.exitCode == 0, qPrintable(one.err));
        const Run two = ms::test::runCli(recipe(workspace) + QStringList{
            "--nproc-per-node", "2", "--out", local, "--json"});
        QVERIFY2(two.exitCode == 0, qPrintable(two.err));
        QVERIFY2(!two.err.contains("--out"), qPrintable(two.err));   // rank 1 was not given it
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
        // Every host given --out (as srun gives every rank one command): rank 1 says it
        // writes nothing.
        const QString notWritten = m_dir.filePath("rank1.pt");
        start(rank1, recipe(workspace) + host(1, port, {"--out", notWritten}));
        const Run r1 = finish(rank1), r0 = finish(rank0);
        QVERIFY2(r0.exitCode == 0, qPrintable(r0.err));
        QVERIFY2(r1.exitCode == 0, qPrintable(r1.err));
        QVERIFY2(r1.out.contains("rank 1 of 2 finished"), qPrintable(r1.out));
        QVERIFY2(r1.err.contains("--out is written by rank 0 alone"), qPrintable(r1.err));
        QVERIFY(!QFile::exists(notWritten));

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

    // The window's path (Train panel, Processes 2): the job is rank 0 in this process and
    // starts rank 1 as a modelstudio-cli worker; same model as one process, rank 0 records.
    void windowJobWithLocalWorkers()
    {
        const QString workspace = ws("window");
        TrainConfig config;
        config.dataset = "fashion-mnist";
        config.arch = "mlp";
        config.limit = 2000;
        config.epochs = 1;
        config.threads = 1;
        config.seed = 3;
        config.batchSize = 63;
        config.lr = 0.002;
        config.augment = "hflip,shift:2";   // as matchesSingleProcess's single.pt
        const QString runDir = Workspace(workspace).newRunDir(config.label());
        TrainJob job(config, runDir);
        job.recordIn(workspace);
        job.runLocalWorkers(2, cliPath());
        JobContext context;
        QList<QJsonObject> events;
        QObject::connect(&context, &JobContext::reported, &context,
                         [&](const QJsonObject &e) { events << e; }, Qt::DirectConnection);
        const JobResult result = job.run(context);
        QVERIFY2(result.status == JobStatus::Finished, qPrintable(result.message));
        bool sawWorld = false;
        for (const QJsonObject &e : events)
            sawWorld = sawWorld || (e.value("event") == "start" && e.value("world_size") == 2);
        QVERIFY(sawWorld);
        QVERIFY(QFile::exists(runDir + "/workers/rank-1.log"));

        DatasetOptions options;
        options.limit = 2000;
        options.seed = 3;
        const Dataset data = DatasetRegistry::instance().load(options);
        const double diff = ms::test::maxScaledDiff(
            testLogits(m_dir.filePath("single.pt"), data), testLogits(runDir + "/model.pt", data));
        QVERIFY2(diff < 1e-3, qPrintable(QStringLiteral("max scaled logit difference %1")
                                             .arg(diff)));
        Registry registry(workspace);
        QCOMPARE(registry.versions("mlp").size(), 1);
    }

    // The window's Stop reaches rank 0 alone: the worker stops after the same step, as
    // cancelled, and says so in its log (no "stopped answering").
    void windowStopEndsEveryRank()
    {
        const QString workspace = ws("window-stop");
        TrainConfig config;
        config.dataset = "fashion-mnist";
        config.arch = "mlp";
        config.limit = 2000;
        config.epochs = 200;
        config.threads = 1;
        config.batchSize = 63;
        const QString runDir = Workspace(workspace).newRunDir(config.label());
        TrainJob job(config, runDir);
        job.recordIn(workspace);
        job.runLocalWorkers(2, cliPath());
        JobContext context;
        QObject::connect(&context, &JobContext::reported, &context, [&](const QJsonObject &e) {
            if (e.value("event") == "epoch")
                context.cancel();
        }, Qt::DirectConnection);
        const JobResult result = job.run(context);
        QVERIFY2(result.status == JobStatus::Cancelled, qPrintable(result.message));
        QVERIFY2(result.message.startsWith("Stopped during epoch 2, after step 29."),
                 qPrintable(result.message));
        QFile log(runDir + "/workers/rank-1.log");
        QVERIFY(log.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(log.readAll());
        QVERIFY2(text.contains("Stopped during epoch 2, after step 29."), qPrintable(text));
        QVERIFY2(!text.contains("stopped answering"), qPrintable(text));
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
            start(ranks[r], recipe(workspace, 4) + host(r, port, {"--timeout-s", "6", "--json"}));
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

};

QTEST_GUILESS_MAIN(TestCliDist)
#include "tst_cli_dist.moc"
