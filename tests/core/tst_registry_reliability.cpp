// Registry reliability: the content-addressed store (one copy per content, verify and load
// refusing changed or truncated files, gc), files the registry must refuse without touching
// them, runs of dead processes becoming interrupted, a process killed while writing, and
// writers in two threads and two processes at once.
//
// The same executable doubles as the "other process": started with --child it opens a
// registry and does one thing (see runChild).
#include "TestSupport.h"
#include "common/Error.h"
#include "common/Workspace.h"
#include "registry/Registry.h"
#include "registry/Schema_p.h"

#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <functional>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

using namespace ms;
using ms::test::errorOf;

namespace {

// Moves a file's or folder's modification time `age_s` into the past.
bool setAge(const QString &path, qint64 age_s)
{
    const qint64 then = QDateTime::currentSecsSinceEpoch() - age_s;
    const struct timespec times[2] = {{time_t(then), 0}, {time_t(then), 0}};
    return ::utimensat(AT_FDCWD, QFile::encodeName(path).constData(), times, 0) == 0;
}

QString writeFile(const QString &path, const QByteArray &content)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size())
        qFatal("cannot write %s", qPrintable(path));
    return path;
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

QByteArray randomBytes(int size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    QRandomGenerator::global()->fillRange(reinterpret_cast<quint32 *>(bytes.data()),
                                          size / int(sizeof(quint32)));
    return bytes;
}

VersionRecord addVersion(Registry &registry, const QString &model, const QString &artifact)
{
    NewVersion version;
    version.modelName = model;
    version.artifactPath = artifact;
    return registry.addVersion(version);
}

// Files in the store, by name.
QStringList storedFiles(const QString &workspace)
{
    QStringList names;
    QDirIterator it(workspace + QStringLiteral("/artifacts"), QDir::Files | QDir::Hidden,
                    QDirIterator::Subdirectories);
    while (it.hasNext())
        names << QFileInfo(it.next()).fileName();
    names.sort();
    return names;
}

// A stored artifact is read-only; the tests below damage one on purpose.
bool overwrite(const QString &path, const QByteArray &content)
{
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(content) == content.size();
}

// A 4-byte big-endian field of the SQLite header (user_version at 60, application_id at 68).
void patchHeader(const QString &dbPath, int offset, quint32 value)
{
    QFile file(dbPath);
    QVERIFY(file.open(QIODevice::ReadWrite));
    QVERIFY(file.seek(offset));
    const char bytes[4] = {char(value >> 24), char(value >> 16), char(value >> 8), char(value)};
    QCOMPARE(file.write(bytes, 4), qint64(4));
}

// --- the other process ---

int runChild(const QStringList &args)
{
    try {
        const QString command = args.value(0);
        Registry registry(args.value(1));
        if (command == QLatin1String("start-run")) {
            registry.startRun(QStringLiteral("train"), {}, QString());
            if (args.value(2) == QLatin1String("kill"))
                std::raise(SIGKILL);
            return 0;   // gone without finishing the run, like a crash that exits
        }
        if (command == QLatin1String("set-tags")) {
            const qint64 versionId = args.value(2).toLongLong();
            std::printf("ready\n");
            std::fflush(stdout);
            for (int i = 0; i < args.value(3).toInt(); ++i)
                registry.setTag(versionId, QStringLiteral("tag-%1").arg(i % 50),
                                QString::number(i));
            return 0;
        }
        if (command == QLatin1String("train-forever")) {
            // What a training run does, until the parent kills it: metric batches and, now
            // and then, a new version with a 256 KiB artifact.
            const QString scratch = args.value(2);
            const qint64 runId = registry.startRun(QStringLiteral("train"), {}, QString());
            std::printf("%lld\n", static_cast<long long>(runId));
            std::fflush(stdout);
            for (qint64 batch = 0;; ++batch) {
                MetricBatch points;
                for (int i = 0; i < 100; ++i)
                    points.append(
                        {QStringLiteral("loss"), batch * 100 + i, 1, 1.0 / (i + 1), 0.0});
                registry.appendMetrics(runId, points);
                if (batch % 5 == 0)
                    addVersion(registry, QStringLiteral("cnn"),
                               writeFile(scratch + QStringLiteral("/a.pt"), randomBytes(1 << 18)));
                // How far it got, so the parent kills it once there is something to lose
                // (it goes on writing after the line: the kill still lands mid-write).
                std::printf("%lld\n", static_cast<long long>(batch + 1));
                std::fflush(stdout);
            }
        }
        std::fprintf(stderr, "unknown child command\n");
        return 2;
    } catch (const Error &error) {
        std::fprintf(stderr, "%s\n", qPrintable(error.message()));
        return 1;
    }
}

}   // namespace

class TestRegistryReliability final : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_dir;

    QString workspace() const { return m_dir->path() + QStringLiteral("/ws"); }
    QString dbPath() const { return workspace() + QStringLiteral("/registry.db"); }
    QString artifact(const QByteArray &content)
    {
        static int counter = 0;
        return writeFile(m_dir->path() + QStringLiteral("/file-%1.pt").arg(++counter), content);
    }

    void startChild(QProcess &process, const QStringList &args)
    {
        process.setProcessChannelMode(QProcess::SeparateChannels);
        process.start(QCoreApplication::applicationFilePath(),
                      QStringList{QStringLiteral("--child")} + args);
        QVERIFY2(process.waitForStarted(), qPrintable(process.errorString()));
    }

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
    }

    void cleanup() { m_dir.reset(); }

    void sameContentIsStoredOnce()
    {
        Registry registry(workspace());
        const QByteArray bytes = randomBytes(4096);
        const VersionRecord one = addVersion(registry, QStringLiteral("cnn"), artifact(bytes));
        const VersionRecord two = addVersion(registry, QStringLiteral("mlp"), artifact(bytes));
        QCOMPARE(one.sha256, two.sha256);
        QCOMPARE(registry.artifactPath(one), registry.artifactPath(two));
        QCOMPARE(storedFiles(workspace()), QStringList{one.sha256 + QStringLiteral(".pt")});
        QCOMPARE(readFile(registry.artifactPath(one)), bytes);
        // Stored bytes are immutable.
        QVERIFY(!(QFileInfo(registry.artifactPath(one)).permissions() & QFileDevice::WriteOwner));
        QCOMPARE(registry.verifiedArtifactPath(two), registry.artifactPath(one));

        // A damaged copy is replaced, not kept, when the same bytes are added again.
        QVERIFY(overwrite(registry.artifactPath(one), randomBytes(4096)));
        const VersionRecord three = addVersion(registry, QStringLiteral("cnn"), artifact(bytes));
        QCOMPARE(three.sha256, one.sha256);
        QCOMPARE(readFile(registry.artifactPath(one)), bytes);
        QVERIFY(registry.verify().isEmpty());
    }

    void verifyAndLoadRefuseChangedOrTruncatedArtifacts()
    {
        Registry registry(workspace());
        const VersionRecord intact =
            addVersion(registry, QStringLiteral("cnn"), artifact(randomBytes(1000)));
        const VersionRecord changed =
            addVersion(registry, QStringLiteral("cnn"), artifact(randomBytes(1000)));
        const VersionRecord truncated =
            addVersion(registry, QStringLiteral("cnn"), artifact(randomBytes(1000)));
        const VersionRecord missing =
            addVersion(registry, QStringLiteral("mlp"), artifact(randomBytes(1000)));
        QVERIFY(registry.verify().isEmpty());

        QByteArray flipped = readFile(registry.artifactPath(changed));
        flipped[500] = char(flipped[500] ^ 0x01);   // one bit, same size
        QVERIFY(overwrite(registry.artifactPath(changed), flipped));
        QVERIFY(overwrite(registry.artifactPath(truncated),
                          readFile(registry.artifactPath(truncated)).left(600)));
        QVERIFY(QFile::remove(registry.artifactPath(missing)));

        const QVector<Registry::Problem> problems = registry.verify();
        QCOMPARE(problems.size(), 3);
        QCOMPARE(problems[0].ref, QStringLiteral("cnn:2"));
        const QString flippedSha = QString::fromLatin1(
            QCryptographicHash::hash(flipped, QCryptographicHash::Sha256).toHex());
        QCOMPARE(problems[0].problem, QStringLiteral("changed (sha256 %1)").arg(flippedSha));
        QCOMPARE(problems[1].ref, QStringLiteral("cnn:3"));
        QCOMPARE(problems[1].problem, QStringLiteral("truncated (600 of 1000 bytes)"));
        QCOMPARE(problems[2].ref, QStringLiteral("mlp:1"));
        QCOMPARE(problems[2].problem, QStringLiteral("missing"));

        QCOMPARE(registry.verifiedArtifactPath(intact), registry.artifactPath(intact));
        QCOMPARE(errorOf([&] { registry.verifiedArtifactPath(changed); }),
                 QStringLiteral("cnn:2: the artifact %1 has changed since it was stored (sha256 "
                                "mismatch); restore it or remove the version")
                     .arg(registry.artifactPath(changed)));
        QCOMPARE(errorOf([&] { registry.verifiedArtifactPath(truncated); }),
                 QStringLiteral("cnn:3: the artifact %1 is truncated (600 of 1000 bytes); "
                                "restore it or remove the version")
                     .arg(registry.artifactPath(truncated)));
        QCOMPARE(errorOf([&] { registry.verifiedArtifactPath(missing); }),
                 QStringLiteral("mlp:1: the artifact %1 is missing; restore it or remove the "
                                "version")
                     .arg(registry.artifactPath(missing)));
    }

    void gcRemovesUnreferencedFiles()
    {
        Registry registry(workspace());
        const VersionRecord kept =
            addVersion(registry, QStringLiteral("cnn"), artifact(randomBytes(300)));
        const VersionRecord dropped =
            addVersion(registry, QStringLiteral("cnn"), artifact(randomBytes(700)));
        registry.removeVersion(dropped.id);
        QVERIFY(QFileInfo::exists(registry.artifactPath(dropped)));   // until gc

        // A temporary file of a copy that died long ago, and one that may still be running.
        const QString store = workspace() + QStringLiteral("/artifacts/sha256/");
        const QString stale =
            writeFile(store + QStringLiteral("staging.pt.tmp-old"), QByteArray(50, 'x'));
        const QString fresh =
            writeFile(store + QStringLiteral("staging.pt.tmp-new"), QByteArray(10, 'y'));
        QFile staleFile(stale);
        QVERIFY(staleFile.open(QIODevice::ReadWrite));
        QVERIFY(staleFile.setFileTime(QDateTime::currentDateTime().addSecs(-7200),
                                      QFileDevice::FileModificationTime));
        staleFile.close();

        const Registry::GcResult result = registry.gc();
        QCOMPARE(result.removedFiles, 2);
        QCOMPARE(result.freedBytes, qint64(700 + 50));
        QVERIFY(!QFileInfo::exists(registry.artifactPath(dropped)));
        QVERIFY(!QFileInfo::exists(stale));
        QVERIFY(QFileInfo::exists(fresh));
        QCOMPARE(registry.verifiedArtifactPath(kept), registry.artifactPath(kept));
        QCOMPARE(registry.gc().removedFiles, 0);
    }

    // gc takes empty run folders and temporary copies that killed runs left, and nothing a
    // live process may still be making: a running run's folder, anything changed after the
    // newest running run started, a folder or a copy a live process holds a lock on.
    void gcLeavesWhatARunningRunMayNeed()
    {
        Registry registry(workspace());
        const QString runs = workspace() + QStringLiteral("/runs/");
        const QString store = workspace() + QStringLiteral("/artifacts/sha256/");
        QVERIFY(QDir().mkpath(store));
        auto emptyFolder = [&](const QString &name, qint64 age_s) {
            const QString path = runs + name;
            if (!QDir().mkpath(path) || !setAge(path, age_s))
                qFatal("cannot make %s", qPrintable(path));
            return path;
        };
        auto tempCopy = [&](const QString &name, qint64 age_s) {
            const QString path = writeFile(store + name, QByteArray());
            if (!setAge(path, age_s))
                qFatal("cannot age %s", qPrintable(path));
            return path;
        };
        const QString liveRun = emptyFolder(QStringLiteral("20240101-000000-live"), 3 * 3600);
        const qint64 runId = registry.startRun(QStringLiteral("train"), {}, liveRun);
        // The run (this process: alive) started two hours ago.
        QByteArray out;
        QVERIFY(ms::test::runPython(m_dir->path(), QStringLiteral(R"(
import datetime, sqlite3, sys
started = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=2)
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE runs SET started = ? WHERE id = ?",
           (started.strftime("%Y-%m-%dT%H:%M:%S.000Z"), int(sys.argv[2])))
db.commit()
)"),
                                    {registry.databasePath(), QString::number(runId)}, &out));
        const QString before = emptyFolder(QStringLiteral("20240101-000000-before"), 3 * 3600);
        const QString after = emptyFolder(QStringLiteral("20240101-000000-after"), 3600);
        const QString oldCopy = tempCopy(QStringLiteral("staging.pt.tmp-before"), 3 * 3600);
        const QString newCopy = tempCopy(QStringLiteral("staging.pt.tmp-after"), 3600);
        // A run folder this process made and still holds, and a copy another holds a lock on.
        const QString held = Workspace(workspace()).newRunDir(QStringLiteral("held"));
        QVERIFY(setAge(held, 3 * 3600));
        const QString lockedCopy = tempCopy(QStringLiteral("staging.pt.tmp-locked"), 3 * 3600);
        const int fd = ::open(QFile::encodeName(lockedCopy).constData(), O_RDONLY);
        QVERIFY(fd >= 0 && ::flock(fd, LOCK_EX) == 0);

        Registry::GcResult result = registry.gc();
        QCOMPARE(result.removedRunFolders, 1);
        QCOMPARE(result.removedFiles, 1);
        QVERIFY(!QFileInfo::exists(before));
        QVERIFY(!QFileInfo::exists(oldCopy));
        for (const QString &kept : {liveRun, after, newCopy, held, lockedCopy})
            QVERIFY2(QFileInfo::exists(kept), qPrintable(kept));

        // Once the run has ended and the lock is gone, what they kept is stale.
        registry.finishRun(runId, RunStatus::Failed, QStringLiteral("killed"));
        ::close(fd);
        result = registry.gc();
        QCOMPARE(result.removedRunFolders, 2);
        QCOMPARE(result.removedFiles, 2);
        for (const QString &gone : {liveRun, after, newCopy, lockedCopy})
            QVERIFY2(!QFileInfo::exists(gone), qPrintable(gone));
        QVERIFY(QFileInfo::exists(held));   // still held by this process
    }

    void failedAddLeavesNothingReferenced()
    {
        Registry registry(workspace());
        NewVersion version;
        version.modelName = QStringLiteral("cnn");
        version.artifactPath = artifact(randomBytes(100));
        version.parents = {{31337, QStringLiteral("source")}};
        QVERIFY(!errorOf([&] { registry.addVersion(version); }).isEmpty());
        QVERIFY(registry.models().isEmpty());          // the model row went with the transaction
        QVERIFY(storedFiles(workspace()).isEmpty());   // and the staged copy with it

        version.parents.clear();
        version.artifactPath = m_dir->path() + QStringLiteral("/absent.pt");
        QVERIFY(errorOf([&] {
                    registry.addVersion(version);
                }).startsWith(QStringLiteral("Cannot read the artifact ")));
        QVERIFY(registry.models().isEmpty());
    }

    void refusesAFileThatIsNotSqlite_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::newRow("text") << QByteArray("models:\n  cnn: 3\n");
        QTest::newRow("short") << QByteArray("SQLite");
        QTest::newRow("binary") << randomBytes(8192);
    }

    void refusesAFileThatIsNotSqlite()
    {
        QFETCH(QByteArray, content);
        QVERIFY(QDir().mkpath(workspace()));
        writeFile(dbPath(), content);
        const QDateTime modified = QFileInfo(dbPath()).lastModified();
        QCOMPARE(errorOf([&] { Registry registry(workspace()); }),
                 QStringLiteral("%1 is not a ModelStudio registry (not an SQLite database). Move "
                                "it away or choose another --workspace.")
                     .arg(dbPath()));
        QCOMPARE(readFile(dbPath()), content);
        QCOMPARE(QFileInfo(dbPath()).lastModified(), modified);
        QCOMPARE(QDir(workspace()).entryList(QDir::Files), QStringList{"registry.db"});
    }

    void refusesANewerSchema()
    {
        {
            Registry registry(workspace());
            addVersion(registry, QStringLiteral("cnn"), artifact("bytes"));
        }
        patchHeader(dbPath(), 60, Registry::kSchemaVersion + 1);
        // An old timestamp, so that any write would show.
        QFile file(dbPath());
        QVERIFY(file.open(QIODevice::ReadWrite));
        QVERIFY(file.setFileTime(QDateTime::currentDateTime().addSecs(-60),
                                 QFileDevice::FileModificationTime));
        file.close();
        const QByteArray before = readFile(dbPath());
        const QDateTime modified = QFileInfo(dbPath()).lastModified();

        QCOMPARE(errorOf([&] { Registry registry(workspace()); }),
                 QStringLiteral("%1 was written by a newer ModelStudio (schema %2, this one reads "
                                "up to %3); upgrade ModelStudio")
                     .arg(dbPath())
                     .arg(Registry::kSchemaVersion + 1)
                     .arg(Registry::kSchemaVersion));
        QCOMPARE(readFile(dbPath()), before);
        QCOMPARE(QFileInfo(dbPath()).lastModified(), modified);
        // Nor a journal or WAL beside it.
        QCOMPARE(QDir(workspace()).entryList(QDir::Files), QStringList{"registry.db"});
    }

    void refusesAnotherProgramsDatabase()
    {
        {
            Registry registry(workspace());
        }
        patchHeader(dbPath(), 68, 0x12345678);   // another application_id
        const QByteArray before = readFile(dbPath());
        QVERIFY(errorOf([&] { Registry registry(workspace()); })
                    .contains(QStringLiteral("is not a ModelStudio registry (an SQLite database "
                                             "of another program)")));
        QCOMPARE(readFile(dbPath()), before);
    }

    void anEmptyFileIsANewRegistry()
    {
        QVERIFY(QDir().mkpath(workspace()));
        writeFile(dbPath(), QByteArray());
        Registry registry(workspace());
        QVERIFY(registry.models().isEmpty());
        QCOMPARE(registry.integrityCheck(), QStringLiteral("ok"));
    }

    void processLiveness()
    {
        const qint64 self = QCoreApplication::applicationPid();
        const qint64 start = registry::processStartTime(self);
        QVERIFY(start > 0);
        QVERIFY(registry::processIsAlive(self, start));
        // Same pid, other start time: a reused pid is not the run's process.
        QVERIFY(!registry::processIsAlive(self, start + 1));
        QCOMPARE(registry::processStartTime(0), qint64(0));
        QVERIFY(!registry::processIsAlive(0, 0));
        // A process that has exited, with or without a start time recorded.
        QProcess child;
        startChild(child, {QStringLiteral("no-such-command"), workspace()});
        const qint64 pid = child.processId();
        const qint64 childStart = registry::processStartTime(pid);
        QVERIFY(child.waitForFinished(30000));
        QVERIFY(!registry::processIsAlive(pid, childStart));
        QVERIFY(!registry::processIsAlive(pid, 0));
    }

    void runsOfDeadProcessesBecomeInterrupted()
    {
        qint64 ours = 0;
        {
            Registry registry(workspace());
            ours = registry.startRun(QStringLiteral("train"), {}, QString());
        }
        // One child is killed, one exits without finishing its run.
        for (const QString &how : {QStringLiteral("kill"), QStringLiteral("exit")}) {
            QProcess child;
            startChild(child, {QStringLiteral("start-run"), workspace(), how});
            QVERIFY(child.waitForFinished(30000));
            QCOMPARE(child.readAllStandardError(), QByteArray());
            QCOMPARE(child.exitStatus(),
                     how == QLatin1String("kill") ? QProcess::CrashExit : QProcess::NormalExit);
        }

        Registry registry(workspace());
        const QVector<RunRecord> runs = registry.runs();
        QCOMPARE(runs.size(), 3);
        for (const RunRecord &run : runs) {
            if (run.id == ours) {
                QCOMPARE(run.status, RunStatus::Running);   // this process is alive
                QVERIFY(!run.ended.isValid());
                continue;
            }
            QCOMPARE(run.status, RunStatus::Interrupted);
            QVERIFY(run.ended.isValid() && run.ended >= run.started);
            QCOMPARE(run.error, QStringLiteral("The process running it stopped (killed or "
                                               "crashed) before it finished."));
            QVERIFY(run.pid != QCoreApplication::applicationPid());
        }
    }

    void killedWhileTrainingLeavesAConsistentRegistry()
    {
        QProcess child;
        startChild(child, {QStringLiteral("train-forever"), workspace(), m_dir->path()});
        QVERIFY(child.waitForReadyRead(30000));
        const qint64 runId = child.readLine().trimmed().toLongLong();
        QVERIFY(runId > 0);
        // A dozen batches and two versions in, then the kill, wherever the child is.
        qint64 batches = 0;
        while (batches < 12) {
            if (!child.canReadLine())
                QVERIFY2(child.waitForReadyRead(30000), "the child stopped writing");
            while (child.canReadLine())
                batches = child.readLine().trimmed().toLongLong();
        }
        child.kill();
        QVERIFY(child.waitForFinished(30000));
        QCOMPARE(child.readAllStandardError(), QByteArray());

        Registry registry(workspace());
        QCOMPARE(registry.integrityCheck(), QStringLiteral("ok"));
        QCOMPARE(registry.run(runId).status, RunStatus::Interrupted);
        const QVector<MetricSample> loss = registry.metrics(runId, QStringLiteral("loss"));
        QVERIFY(loss.size() >= 100);
        QCOMPARE(loss.size() % 100, 0);   // a batch is all or nothing
        QVERIFY(!registry.versions(QStringLiteral("cnn")).isEmpty());
        // No version points at a missing or half-written artifact.
        QCOMPARE(registry.verify().size(), 0);
    }

    void twoThreadsWriteAtOnce()
    {
        const qint64 versionId = [&] {
            Registry registry(workspace());
            return addVersion(registry, QStringLiteral("cnn"), artifact("v")).id;
        }();
        qint64 runId = 0;
        {
            Registry registry(workspace());
            runId = registry.startRun(QStringLiteral("train"), {}, QString());
        }
        constexpr int kRounds = 300;
        QString metricError;
        QString tagError;
        // Each thread makes its own Registry: Qt SQL connections belong to one thread.
        std::unique_ptr<QThread> metrics(QThread::create([&] {
            try {
                Registry registry(workspace());
                for (int round = 0; round < kRounds; ++round) {
                    MetricBatch points;
                    for (int i = 0; i < 50; ++i)
                        points.append({QStringLiteral("loss"), round * 50 + i, 1, 0.5, 0.0});
                    registry.appendMetrics(runId, points);
                }
            } catch (const Error &error) {
                metricError = error.message();
            }
        }));
        std::unique_ptr<QThread> tags(QThread::create([&] {
            try {
                Registry registry(workspace());
                for (int round = 0; round < kRounds; ++round)
                    registry.setTag(versionId, QStringLiteral("t%1").arg(round % 20),
                                    QString::number(round));
            } catch (const Error &error) {
                tagError = error.message();
            }
        }));
        metrics->start();
        tags->start();
        QVERIFY(metrics->wait(120000));
        QVERIFY(tags->wait(120000));
        QCOMPARE(metricError, QString());
        QCOMPARE(tagError, QString());

        Registry registry(workspace());
        QCOMPARE(registry.metrics(runId, QStringLiteral("loss")).size(), kRounds * 50);
        QCOMPARE(registry.version(versionId).tags.size(), 20);
        QCOMPARE(registry.version(versionId).tags.value(QStringLiteral("t19")),
                 QString::number(kRounds - 1));
    }

    void twoProcessesWriteAtOnce()
    {
        Registry registry(workspace());
        const qint64 versionId = addVersion(registry, QStringLiteral("cnn"), artifact("v")).id;
        const qint64 runId = registry.startRun(QStringLiteral("train"), {}, QString());
        QProcess child;
        startChild(child, {QStringLiteral("set-tags"), workspace(), QString::number(versionId),
                           QStringLiteral("1000")});
        QVERIFY(child.waitForReadyRead(30000));   // its registry is open: the race is on
        int batches = 0;
        // Write metrics for as long as the child tags.
        while (child.state() != QProcess::NotRunning) {
            MetricBatch points;
            for (int i = 0; i < 20; ++i)
                points.append({QStringLiteral("acc"), batches * 20 + i, 1, 0.9, 0.0});
            registry.appendMetrics(runId, points);
            ++batches;
            child.waitForFinished(1);
        }
        QVERIFY2(batches >= 10, qPrintable(QString::number(batches)));
        QCOMPARE(child.state(), QProcess::NotRunning);
        QCOMPARE(child.readAllStandardError(), QByteArray());
        QCOMPARE(child.exitStatus(), QProcess::NormalExit);
        QCOMPARE(child.exitCode(), 0);
        QCOMPARE(registry.metrics(runId, QStringLiteral("acc")).size(), batches * 20);
        QCOMPARE(registry.version(versionId).tags.size(), 50);
    }
};

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    if (argc >= 3 && qstrcmp(argv[1], "--child") == 0)
        return runChild(app.arguments().mid(2));
    TestRegistryReliability test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "tst_registry_reliability.moc"
