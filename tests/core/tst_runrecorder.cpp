// The run recorder, which every job that records a run feeds from its JobContext: the registry
// holds exactly the points observers saw, for a training and a compression; and against a busy
// registry (another connection holds the write lock while a short training runs) the training
// goes on, says it is waiting for the registry, keeps its points, and records all of them, and
// its version, once the lock is released.

#include "common/Error.h"
#include "compress/CompressJob.h"
#include "jobs/JobRunner.h"
#include "registry/Registry.h"
#include "train/TrainJob.h"

#include <QHash>
#include <QJsonObject>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace ms;

namespace {

// What observers of a job (the window's plots, the CLI) receive, point by point.
struct Observed
{
    QHash<QString, MetricBatch> points;   // by key, in the order they came
    JobResult result;
    bool finished = false;
};

Observed runObserved(std::unique_ptr<Job> job)
{
    Observed observed;
    JobRunner runner;
    QObject::connect(&runner, &JobRunner::metrics, &runner, [&](JobId, const MetricBatch &batch) {
        for (const MetricPoint &p : batch)
            observed.points[p.key] << p;
    });
    QSignalSpy finished(&runner, &JobRunner::finished);
    runner.start(std::move(job));
    if (finished.wait(240000)) {
        observed.finished = true;
        observed.result = finished.first().at(1).value<JobResult>();
    }
    return observed;
}

TrainConfig smallConfig()
{
    TrainConfig c;
    c.dataset = QStringLiteral("fashion-mnist");
    c.arch = QStringLiteral("mlp");
    c.epochs = 2;
    c.batchSize = 64;
    c.limit = 600;   // 540 training samples: 9 steps per epoch
    c.threads = 1;
    return c;
}

} // namespace

class TestRunRecorder : public QObject
{
    Q_OBJECT

private:
    // The run of `versionRef` holds every observed point, with its step, epoch, value and
    // wall time, and nothing else.
    void checkRecorded(const QString &ws, const QString &versionRef, const Observed &observed)
    {
        Registry registry(ws);
        const qint64 runId = registry.resolve(versionRef).runId;
        QVERIFY(runId != 0);
        QStringList keys = observed.points.keys();
        keys.sort();
        QCOMPARE(registry.metricKeys(runId), keys);
        for (const QString &key : keys) {
            const MetricBatch &seen = observed.points.value(key);
            const QVector<MetricSample> stored = registry.metrics(runId, key);
            QCOMPARE(stored.size(), seen.size());
            for (int i = 0; i < seen.size(); ++i) {
                QCOMPARE(stored[i].step, seen[i].step);
                QCOMPARE(stored[i].epoch, seen[i].epoch);
                // The same double through SQLite's REAL: stored, not recomputed.
                QCOMPARE(stored[i].value, seen[i].value);
                QCOMPARE(stored[i].wallTime_s, seen[i].wallTime_s);
            }
        }
    }

private Q_SLOTS:
    // One stream feeds the plots and the registry: a training and a compression (fine-tuning)
    // record exactly the points their observers saw.
    void everyObservedPointIsRecorded()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString ws = dir.filePath(QStringLiteral("ws"));

        auto train = std::make_unique<TrainJob>(smallConfig(), dir.filePath(QStringLiteral("run")));
        train->recordIn(ws, QStringLiteral("seen"));
        const Observed trained = runObserved(std::move(train));
        QVERIFY(trained.finished);
        QVERIFY2(trained.result.status == JobStatus::Finished, qPrintable(trained.result.message));
        QCOMPARE(trained.points.value(QStringLiteral("loss")).size(), 18);
        QCOMPARE(trained.points.value(QStringLiteral("val_acc")).size(), 2);
        checkRecorded(ws, QStringLiteral("seen:1"), trained);

        auto compress = std::make_unique<CompressJob>(
            ws, CompressJob::makeSpec(QStringLiteral("seen:1"),
                                      QStringLiteral("prune-unstructured"),
                                      QJsonObject{{QStringLiteral("sparsity"), 0.5},
                                                  {QStringLiteral("finetune-epochs"), 2}},
                                      QString(), QString(), 1));
        const Observed compressed = runObserved(std::move(compress));
        QVERIFY(compressed.finished);
        QVERIFY2(compressed.result.status == JobStatus::Finished,
                 qPrintable(compressed.result.message));
        // 540 samples in batches of 128 (fine-tuning's default): 5 steps per epoch.
        QCOMPARE(compressed.points.value(QStringLiteral("loss")).size(), 10);
        QCOMPARE(compressed.points.value(QStringLiteral("val_acc")).size(), 2);
        checkRecorded(ws, QStringLiteral("seen:2"), compressed);
        QCOMPARE(Registry(ws).run(Registry(ws).resolve(QStringLiteral("seen:2")).runId).kind,
                 QStringLiteral("compress"));
    }

    void aBusyRegistryDoesNotFailTheRun()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString ws = dir.filePath(QStringLiteral("ws"));
        { Registry created(ws); }   // the schema exists before the lock is taken

        // Another connection takes the write lock (BEGIN IMMEDIATE) and keeps it.
        QSqlDatabase locker = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"),
                                                        QStringLiteral("locker"));
        locker.setDatabaseName(ws + QStringLiteral("/registry.db"));
        QVERIFY(locker.open());
        QSqlQuery lock(locker);
        QVERIFY2(lock.exec(QStringLiteral("BEGIN IMMEDIATE")), qPrintable(lock.lastError().text()));

        auto job = std::make_unique<TrainJob>(smallConfig(), dir.filePath(QStringLiteral("run")));
        job->recordIn(ws, QStringLiteral("busy"));

        JobRunner runner;
        QStringList registryStates;
        int epochs = 0;
        QString note;
        connect(&runner, &JobRunner::event, this, [&](JobId, const QJsonObject &event) {
            const QString kind = event.value(QStringLiteral("event")).toString();
            if (kind == QLatin1String("epoch"))
                ++epochs;
            if (kind == QLatin1String("registry")) {
                registryStates << event.value(QStringLiteral("state")).toString();
                note = event.value(QStringLiteral("status_note")).toString();
            }
        });
        QSignalSpy finished(&runner, &JobRunner::finished);
        runner.start(std::move(job));

        // Training goes on while the lock is held: both epochs end, and the job said it waits.
        QTRY_VERIFY_WITH_TIMEOUT(epochs == 2, 120000);
        QVERIFY2(registryStates.startsWith(QStringLiteral("waiting")),
                 qPrintable(registryStates.join(QLatin1Char(','))));
        QCOMPARE(note, QStringLiteral("waiting for the registry"));
        QVERIFY(finished.isEmpty());   // holding on, not failed
        {
            QSqlQuery runs(locker);   // a reader sees nothing written yet
            QVERIFY(runs.exec(QStringLiteral("SELECT COUNT(*) FROM runs")) && runs.next());
            QCOMPARE(runs.value(0).toInt(), 0);
        }

        QVERIFY(lock.exec(QStringLiteral("ROLLBACK")));
        QVERIFY(finished.wait(120000));
        const JobResult result = finished.first().at(1).value<JobResult>();
        QVERIFY2(result.status == JobStatus::Finished, qPrintable(result.message));
        QCOMPARE(registryStates.last(), QStringLiteral("recorded"));

        Registry registry(ws);
        const QVector<RunRecord> runs = registry.runs();
        QCOMPARE(runs.size(), 1);
        QCOMPARE(runs.first().status, RunStatus::Finished);
        QVERIFY(runs.first().versionId != 0);
        QCOMPARE(registry.version(runs.first().versionId).ref(), QStringLiteral("busy:1"));
        // Every point of the run, none lost while the registry was busy.
        QCOMPARE(registry.metrics(runs.first().id, QStringLiteral("loss")).size(), 18);
        QCOMPARE(registry.metrics(runs.first().id, QStringLiteral("lr")).size(), 18);
        QCOMPARE(registry.metrics(runs.first().id, QStringLiteral("val_acc")).size(), 2);

        lock = QSqlQuery();
        locker.close();
        locker = QSqlDatabase();
        QSqlDatabase::removeDatabase(QStringLiteral("locker"));
    }
};

QTEST_GUILESS_MAIN(TestRunRecorder)
#include "tst_runrecorder.moc"
