// The registry under the hard cases of issue 3: a training or a compression process killed with
// SIGKILL, and two processes writing to one workspace at once. Driven through the real CLI.

#include "app/CliRun.h"
#include "registry/Registry.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>
#include <QVector>

#include <csignal>

namespace {

using ms::test::cliPath;

int cli(const QStringList &args, QString *err = nullptr)
{
    const ms::test::CliRun run = ms::test::runCli(args);
    if (err)
        *err = run.err;
    return run.exitCode;
}

QStringList trainArgs(const QString &ws, int epochs, int limit)
{
    return {QStringLiteral("train"), QStringLiteral("--arch"), QStringLiteral("mlp"),
            QStringLiteral("--name"), QStringLiteral("fm"), QStringLiteral("--epochs"),
            QString::number(epochs), QStringLiteral("--limit"), QString::number(limit),
            QStringLiteral("--batch-size"), QStringLiteral("32"), QStringLiteral("--threads"),
            QStringLiteral("1"), QStringLiteral("--json"), QStringLiteral("--workspace"), ws};
}

// Reads JSON lines from a running process until `event` arrives; returns that event.
QJsonObject waitForEvent(QProcess &p, const QString &event, QString *runDir)
{
    while (p.waitForReadyRead(120000)) {
        while (p.canReadLine()) {
            const QJsonObject e = QJsonDocument::fromJson(p.readLine()).object();
            if (e.value(QStringLiteral("event")).toString() == QLatin1String("start"))
                *runDir = e.value(QStringLiteral("run_dir")).toString();
            if (e.value(QStringLiteral("event")).toString() == event)
                return e;
        }
    }
    return {};
}

} // namespace

class TestRegistryCrash : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void aKilledTrainingLeavesAConsistentRegistry()
    {
        QTemporaryDir dir;
        const QString ws = dir.path();
        QString err;
        QCOMPARE(cli(trainArgs(ws, 1, 300), &err), 0);   // fm:1, committed before the kill

        QProcess p;
        p.start(cliPath(), trainArgs(ws, 3, 4000));
        QString runDir;
        QVERIFY(!waitForEvent(p, QStringLiteral("epoch"), &runDir).isEmpty());
        QVERIFY(p.state() == QProcess::Running);
        ::kill(pid_t(p.processId()), SIGKILL);
        QVERIFY(p.waitForFinished());

        qint64 killedRun = 0;
        {
            ms::Registry registry(ws);   // opening marks the dead process's run
            QCOMPARE(registry.integrityCheck(), QStringLiteral("ok"));
            const auto versions = registry.versions(QStringLiteral("fm"));
            QCOMPARE(versions.size(), 1);
            QCOMPARE(versions.first().number, 1);
            QVERIFY(registry.verify().isEmpty());   // no half-written artifact referenced
            for (const ms::RunRecord &run : registry.runs()) {
                if (run.runDir == runDir)
                    killedRun = run.id;
            }
            QVERIFY(killedRun > 0);
            QCOMPARE(ms::runStatusName(registry.run(killedRun).status),
                     QStringLiteral("interrupted"));
            // Points up to at least the first epoch's checkpoint were committed.
            QVERIFY(registry.metrics(killedRun, QStringLiteral("val_acc")).size() >= 1);
        }

        QCOMPARE(cli({QStringLiteral("train"), QStringLiteral("--resume"), runDir,
                      QStringLiteral("--json")}, &err), 0);
        ms::Registry registry(ws);
        const ms::RunRecord run = registry.run(killedRun);
        QCOMPARE(ms::runStatusName(run.status), QStringLiteral("finished"));
        const ms::VersionRecord v2 = registry.resolve(QStringLiteral("fm:2"));
        QCOMPARE(v2.runId, killedRun);
        // The resumed run's curve is whole: every step once, none twice.
        // 4000 samples, 10 % validation -> 3600 / 32 = 113 steps per epoch, 3 epochs.
        const auto loss = registry.metrics(killedRun, QStringLiteral("loss"));
        QSet<qint64> steps;
        for (const ms::MetricSample &s : loss)
            steps.insert(s.step);
        QCOMPARE(loss.size(), 339);
        QCOMPARE(steps.size(), 339);
        QCOMPARE(registry.metrics(killedRun, QStringLiteral("val_acc")).size(), 3);
        QCOMPARE(registry.integrityCheck(), QStringLiteral("ok"));
    }

    // A compression's points reach the registry as the job goes (issue 17): killed once the
    // first of them are there, the run keeps every point recorded before the kill.
    void aKilledCompressionKeepsItsRecordedPoints()
    {
        QTemporaryDir dir;
        const QString ws = dir.path();
        QString err;
        QCOMPARE(cli(trainArgs(ws, 1, 2000), &err), 0);   // fm:1, the source

        ms::Registry watcher(ws);
        QProcess p;
        // Long enough (1000 epochs of fine-tuning) to be killed mid-way, never to finish.
        p.start(cliPath(), {QStringLiteral("compress"), QStringLiteral("fm:1"),
                            QStringLiteral("--method"), QStringLiteral("prune-unstructured"),
                            QStringLiteral("--sparsity"), QStringLiteral("0.5"),
                            QStringLiteral("--finetune-epochs"), QStringLiteral("1000"),
                            QStringLiteral("--threads"), QStringLiteral("1"),
                            QStringLiteral("--json"), QStringLiteral("--workspace"), ws});
        QVERIFY(p.waitForStarted());
        qint64 runId = 0;
        QVector<ms::MetricSample> seen;
        // Waits until a flush of the running job is visible to another connection.
        auto recorded = [&] {
            for (const ms::RunRecord &run : watcher.runs()) {
                if (run.kind == QLatin1String("compress"))
                    runId = run.id;
            }
            if (runId != 0)
                seen = watcher.metrics(runId, QStringLiteral("loss"));
            return !seen.isEmpty();
        };
        QTRY_VERIFY_WITH_TIMEOUT(recorded() || p.state() != QProcess::Running, 120000);
        QVERIFY2(p.state() == QProcess::Running, qPrintable(p.readAllStandardError()));
        QVERIFY(!seen.isEmpty());
        ::kill(pid_t(p.processId()), SIGKILL);
        QVERIFY(p.waitForFinished());

        ms::Registry registry(ws);   // opening marks the dead process's run
        QCOMPARE(registry.integrityCheck(), QStringLiteral("ok"));
        QCOMPARE(ms::runStatusName(registry.run(runId).status), QStringLiteral("interrupted"));
        QCOMPARE(registry.run(runId).kind, QStringLiteral("compress"));
        const QVector<ms::MetricSample> kept = registry.metrics(runId, QStringLiteral("loss"));
        QVERIFY2(kept.size() >= seen.size(),
                 qPrintable(QStringLiteral("%1 < %2").arg(kept.size()).arg(seen.size())));
        for (int i = 0; i < seen.size(); ++i) {
            QCOMPARE(kept[i].step, seen[i].step);
            QCOMPARE(kept[i].value, seen[i].value);
        }
        QCOMPARE(registry.versions(QStringLiteral("fm")).size(), 1);   // nothing registered
    }

    // Two registries open in one process (the window's and a job's, a compression's and its
    // recorder's): opening the second must not drop the first one's file locks. Otherwise
    // another process closing the registry finds it unused, checkpoints and deletes the WAL
    // under our connections, and what they commit next vanishes (sqlite.org/howtocorrupt.html,
    // 2.2: any close() of the file releases the process's POSIX locks on it).
    void aSecondRegistryInOneProcessKeepsTheFirstOnesLocks()
    {
        QTemporaryDir dir;
        const QString ws = dir.path();
        const QString artifact = dir.filePath(QStringLiteral("model.pt"));
        {
            QFile file(artifact);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write("not a real model: the registry only stores and hashes it");
        }
        ms::Registry first(ws);
        first.startRun(QStringLiteral("train"), {}, QString());   // the WAL holds a commit
        ms::Registry second(ws);
        QString err;
        // Another process opens the registry and closes it again.
        QCOMPARE(cli({QStringLiteral("models"), QStringLiteral("--workspace"), ws}, &err), 0);
        QVERIFY(QFileInfo::exists(ws + QStringLiteral("/registry.db-wal")));

        ms::NewVersion version;
        version.modelName = QStringLiteral("kept");
        version.artifactPath = artifact;
        first.addVersion(version);
        version.modelName = QStringLiteral("kept-too");
        second.addVersion(version);
        // Another process sees both commits.
        const ms::test::CliRun models = ms::test::runCli(
            {QStringLiteral("models"), QStringLiteral("--json"), QStringLiteral("--workspace"), ws});
        QCOMPARE(models.exitCode, 0);
        QVERIFY2(models.out.contains(QLatin1String("\"kept\"")), qPrintable(models.out));
        QVERIFY2(models.out.contains(QLatin1String("\"kept-too\"")), qPrintable(models.out));
    }

    void trainingAndTaggingShareAWorkspace()
    {
        QTemporaryDir dir;
        const QString ws = dir.path();
        QString err;
        QCOMPARE(cli(trainArgs(ws, 1, 300), &err), 0);

        QProcess training;
        training.start(cliPath(), trainArgs(ws, 2, 6000));
        QString runDir;
        QVERIFY(!waitForEvent(training, QStringLiteral("start"), &runDir).isEmpty());
        int tags = 0;
        // Tag while the other process writes its metric points and checkpoints.
        while (training.state() == QProcess::Running && tags < 40) {
            const int code = cli({QStringLiteral("tag"), QStringLiteral("fm:1"),
                                  QStringLiteral("round=%1").arg(tags), QStringLiteral("--workspace"),
                                  ws}, &err);
            QVERIFY2(code == 0, qPrintable(err));
            ++tags;
        }
        QVERIFY(training.waitForFinished(240000));
        QCOMPARE(training.exitCode(), 0);
        QVERIFY(tags > 0);
        ms::Registry registry(ws);
        QCOMPARE(registry.resolve(QStringLiteral("fm:1")).tags.value(QStringLiteral("round")),
                 QString::number(tags - 1));
        QCOMPARE(registry.versions(QStringLiteral("fm")).size(), 2);
    }
};

QTEST_GUILESS_MAIN(TestRegistryCrash)
#include "tst_registry_crash.moc"
