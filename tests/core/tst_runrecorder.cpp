// The run recorder against a busy registry: another connection holds the write lock while a
// short training runs. The training goes on, says it is waiting for the registry, keeps its
// points, and records all of them, and its version, once the lock is released.

#include "common/Error.h"
#include "jobs/JobRunner.h"
#include "registry/Registry.h"
#include "train/TrainJob.h"

#include <QJsonObject>
#include <QSignalSpy>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>

using namespace ms;

class TestRunRecorder : public QObject
{
    Q_OBJECT

private Q_SLOTS:
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

        TrainConfig c;
        c.dataset = QStringLiteral("fashion-mnist");
        c.arch = QStringLiteral("mlp");
        c.epochs = 2;
        c.batchSize = 64;
        c.limit = 600;   // 540 training samples: 9 steps per epoch
        c.threads = 1;
        auto job = std::make_unique<TrainJob>(c, dir.filePath(QStringLiteral("run")));
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
