#include "registry/Registry.h"

#include "common/Error.h"
#include "common/Workspace.h"
#include "registry/ArtifactStore.h"
#include "registry/Schema_p.h"

#include <QCoreApplication>
#include <QDir>
#include <QDirIterator>
#include <QFileInfo>
#include <QHash>
#include <QMutex>
#include <QMutexLocker>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>

#include <algorithm>
#include <limits>

namespace ms {

using namespace registry;

namespace {

const QString kInterruptedError =
    QStringLiteral("The process running it stopped (killed or crashed) before it finished.");

const QString kRunSelect = QStringLiteral(
    "SELECT id, kind, status, started, ended, error, spec_json, run_dir, version_id, pid"
    " FROM runs ");

RunRecord readRun(const QSqlQuery &query)
{
    RunRecord record;
    record.id = query.value(0).toLongLong();
    record.kind = query.value(1).toString();
    record.status = runStatusFromName(query.value(2).toString());
    record.started = timeFrom(query.value(3));
    record.ended = timeFrom(query.value(4));
    record.error = query.value(5).toString();
    record.spec = jsonFrom(query.value(6)).object();
    record.runDir = query.value(7).toString();
    record.versionId = query.value(8).toLongLong();
    record.pid = query.value(9).toLongLong();
    return record;
}

// How long anything gc could take must have been left alone: a run folder is made, and a
// temporary copy begins, a moment before a row of the registry names them.
constexpr qint64 kGcGrace_s = 60;

// Removes the folders under `runsDir` that hold no file at all (runs killed or failed before
// they wrote anything), unless a running run names one, one of their folders changed after
// `staleBefore`, or a live process still holds the lock Workspace::newRunDir takes.
int removeEmptyRunFolders(const QString &runsDir, const QSet<QString> &runningDirs,
                          const QDateTime &staleBefore)
{
    int removed = 0;
    const QFileInfoList folders =
        QDir(runsDir).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot | QDir::Hidden);
    for (const QFileInfo &folder : folders) {
        if (folder.isSymLink())
            continue;   // not a folder a run of ours made
        const QString path = QDir::cleanPath(folder.absoluteFilePath());
        if (runningDirs.contains(path))
            continue;
        bool empty = true;
        QDateTime newest = folder.lastModified().toUTC();
        QDirIterator it(path, QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden
                                  | QDir::System,
                        QDirIterator::Subdirectories);
        while (it.hasNext() && empty) {
            it.next();
            const QFileInfo entry = it.fileInfo();
            if (!entry.isDir() || entry.isSymLink())
                empty = false;
            else
                newest = std::max(newest, entry.lastModified().toUTC());
        }
        if (!empty || newest >= staleBefore.toUTC() || Workspace::runDirInUse(path))
            continue;
        if (QDir(path).removeRecursively())   // folders only: checked just above
            ++removed;
    }
    return removed;
}

// What verify() and verifiedArtifactPath() say about one check; empty when intact.
QString problemText(const ArtifactStore::Check &check, qint64 sizeBytes)
{
    switch (check.status) {
    case ArtifactStore::Status::Intact:
        return QString();
    case ArtifactStore::Status::Missing:
        return QStringLiteral("missing");
    case ArtifactStore::Status::Truncated:
        return QStringLiteral("truncated (%1 of %2 bytes)").arg(check.actualBytes).arg(sizeBytes);
    case ArtifactStore::Status::Changed:
        return QStringLiteral("changed (sha256 %1)").arg(check.actualSha256);
    case ArtifactStore::Status::Unreadable:
        return QStringLiteral("unreadable (%1)").arg(check.error);
    }
    return QString();
}

}   // namespace

// --- opening ---

namespace {

// The registry files this process has SQLite connections open on, and how many. Opening such a
// file with QFile and closing it again releases every POSIX lock the process holds on it, those
// of its SQLite connections included: the locks belong to the process, not to a descriptor
// (sqlite.org/howtocorrupt.html, 2.2). Another process closing the registry then finds it
// unused, checkpoints it and deletes the WAL under our connections, and what they commit
// afterwards is lost to everyone else. So the header checks, which read the file with QFile,
// run only while this process has no connection open on it (the file is known to be ours
// then), and the mutex keeps another thread from opening one while they read.
struct OpenFiles
{
    QMutex mutex;
    QHash<QString, int> count;   // by canonical path

    static OpenFiles &instance()
    {
        static OpenFiles files;
        return files;
    }
};

// Opens the connection `name` on the registry of `root` (after the checks of the file when
// this process has none open on it yet); returns its OpenFiles entry.
QString openConnection(const QString &root, const QString &path, const QString &name,
                       int schemaVersion)
{
    OpenFiles &files = OpenFiles::instance();
    const QString key = QFileInfo(root).canonicalFilePath() + QStringLiteral("/registry.db");
    QMutexLocker lock(&files.mutex);
    if (files.count.value(key) == 0) {
        // Both checks read without writing, so a file we refuse is left exactly as it was.
        registry::checkSqliteHeader(path);
        registry::probeSchemaVersion(path, name + QStringLiteral("-probe"), schemaVersion);
    }
    QString failure;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), name);
        db.setDatabaseName(path);
        db.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=10000"));
        if (!db.open())
            failure = db.lastError().text();
    }
    if (!failure.isEmpty()) {
        QSqlDatabase::removeDatabase(name);
        throw Error(QStringLiteral("Cannot open the registry %1: %2. Check that the workspace "
                                   "is writable or choose another --workspace.")
                        .arg(path, failure));
    }
    files.count[key] += 1;
    return key;
}

// Every query and handle must be gone before.
void closeConnection(const QString &name, const QString &key)
{
    {
        QSqlDatabase db = connection(name);
        db.close();
    }
    QSqlDatabase::removeDatabase(name);
    OpenFiles &files = OpenFiles::instance();
    QMutexLocker lock(&files.mutex);
    if (--files.count[key] <= 0)
        files.count.remove(key);
}

}   // namespace

struct Registry::Statements
{
    QSqlQuery insertMetric;   // prepared on first use, reused by every appendMetrics()
    bool insertMetricPrepared = false;
    QString openFile;   // this connection's entry in OpenFiles
};

Registry::Registry(const QString &root)
    : m_root(QDir(root).absolutePath())
    , m_connection(QStringLiteral("ms-registry-%1-%2")
                       .arg(quintptr(this), 0, 16)
                       .arg(quintptr(QThread::currentThreadId()), 0, 16))
    , m_statements(std::make_unique<Statements>())
{
    if (!QSqlDatabase::isDriverAvailable(QStringLiteral("QSQLITE")))
        throw Error(QStringLiteral("The Qt SQLite driver (QSQLITE) is missing; install the Qt "
                                   "6 SQL SQLite plugin (Debian: libqt6sql6-sqlite)."));
    if (!QDir().mkpath(m_root))
        throw Error(QStringLiteral("Cannot create the workspace folder %1: check that its "
                                   "parent exists and is writable, or pass --workspace DIR.")
                        .arg(m_root));
    m_statements->openFile = openConnection(m_root, databasePath(), m_connection,
                                            kSchemaVersion);
    try {
        QSqlDatabase db = connection(m_connection);
        registry::configureConnection(db);
        registry::migrate(db, kSchemaVersion);
        m_statements->insertMetric = QSqlQuery(db);
        markInterruptedRuns();
        markInterruptedSweeps();
    } catch (...) {
        const QString openFile = m_statements->openFile;
        m_statements.reset();
        closeConnection(m_connection, openFile);
        throw;
    }
}

Registry::~Registry()
{
    const QString openFile = m_statements->openFile;
    m_statements.reset();
    closeConnection(m_connection, openFile);
}

QString Registry::databasePath() const
{
    return m_root + QStringLiteral("/registry.db");
}

void Registry::setBusyTimeout(int timeout_ms)
{
    QSqlDatabase db = connection(m_connection);
    QSqlQuery query(db);
    // PRAGMA takes no bound values; the number is formatted from an int.
    runSql(query, QStringLiteral("PRAGMA busy_timeout = %1").arg(qMax(0, timeout_ms)));
}

void Registry::markInterruptedRuns()
{
    QSqlDatabase db = connection(m_connection);
    struct Owner
    {
        qint64 runId = 0;
        qint64 pid = 0;
        qint64 pidStart = 0;
    };
    QVector<Owner> gone;
    {
        QSqlQuery query(db);
        runSql(query, QStringLiteral("SELECT id, pid, pid_start FROM runs WHERE status = ?"),
               {runStatusName(RunStatus::Running)});
        while (query.next()) {
            const Owner owner{query.value(0).toLongLong(), query.value(1).toLongLong(),
                              query.value(2).toLongLong()};
            if (!registry::processIsAlive(owner.pid, owner.pidStart))
                gone << owner;
        }
    }
    if (gone.isEmpty())
        return;
    WriteTransaction transaction(db);
    QSqlQuery update(db);
    // Unchanged under the lock: meanwhile another process may have finished the run, or
    // resumed it under its own pid.
    prepare(update, QStringLiteral("UPDATE runs SET status = ?, ended = ?, error = ?"
                                   " WHERE id = ? AND status = ? AND pid = ? AND pid_start = ?"));
    const QString now = nowText();
    for (const Owner &owner : gone)
        exec(update, {runStatusName(RunStatus::Interrupted), now, kInterruptedError, owner.runId,
                      runStatusName(RunStatus::Running), owner.pid, owner.pidStart});
    transaction.commit();
}

// --- runs and metric series ---

qint64 Registry::startRun(const QString &kind, const QJsonObject &spec, const QString &runDir)
{
    QSqlDatabase db = connection(m_connection);
    const qint64 pid = QCoreApplication::applicationPid();
    QSqlQuery query(db);
    // The start time beside the pid: after a reboot or a long while the pid may be another
    // process's, and only the pair tells the run's process from a stranger.
    runSql(query,
           QStringLiteral("INSERT INTO runs (kind, status, started, spec_json, run_dir, pid,"
                          " pid_start) VALUES (?, ?, ?, ?, ?, ?, ?)"),
           {kind, runStatusName(RunStatus::Running), nowText(), jsonText(spec), runDir, pid,
            processStartTime(pid)});
    return query.lastInsertId().toLongLong();
}

void Registry::appendMetrics(qint64 runId, const MetricBatch &points)
{
    if (points.isEmpty())
        return;
    QSqlDatabase db = connection(m_connection);
    WriteTransaction transaction(db);
    if (!runExists(db, runId))
        throwNoRun(runId);
    QSqlQuery &insert = m_statements->insertMetric;
    if (!m_statements->insertMetricPrepared) {
        // OR REPLACE: a resumed run logs again the steps after its last checkpoint, and the
        // values of the resumed run are the ones that count.
        prepare(insert, QStringLiteral("INSERT OR REPLACE INTO metrics (run_id, key, step, epoch,"
                                       " value, wall_s) VALUES (?, ?, ?, ?, ?, ?)"));
        m_statements->insertMetricPrepared = true;
    }
    for (const MetricPoint &point : points)
        exec(insert, {runId, point.key, point.step, point.epoch, point.value, point.wallTime_s});
    insert.finish();
    transaction.commit();
}

void Registry::finishRun(qint64 runId, RunStatus status, const QString &error, qint64 versionId)
{
    if (status == RunStatus::Running)
        throw Error(QStringLiteral("finishRun needs a final status, not \"running\""));
    QSqlDatabase db = connection(m_connection);
    WriteTransaction transaction(db);
    if (!runExists(db, runId))
        throwNoRun(runId);
    if (versionId != 0
        && !versionExists(db, versionId))
        throwNoVersion(versionId);
    QSqlQuery query(db);
    runSql(query,
           QStringLiteral("UPDATE runs SET status = ?, ended = ?, error = ?,"
                          " version_id = coalesce(?, version_id) WHERE id = ?"),
           {runStatusName(status), nowText(), error, nullIfZero(versionId), runId});
    transaction.commit();
}

void Registry::reopenRun(qint64 runId, qint64 afterStep)
{
    QSqlDatabase db = connection(m_connection);
    const qint64 pid = QCoreApplication::applicationPid();
    WriteTransaction transaction(db);
    if (!runExists(db, runId))
        throwNoRun(runId);
    QSqlQuery query(db);
    runSql(query,
           QStringLiteral("UPDATE runs SET status = ?, ended = NULL, error = '', pid = ?,"
                          " pid_start = ? WHERE id = ?"),
           {runStatusName(RunStatus::Running), pid, processStartTime(pid), runId});
    // Points past the checkpoint belong to the attempt that died; the resumed run logs those
    // steps again, and a curve must not mix the two.
    runSql(query, QStringLiteral("DELETE FROM metrics WHERE run_id = ? AND step > ?"),
           {runId, afterStep});
    transaction.commit();
}

RunRecord Registry::run(qint64 runId) const
{
    QSqlDatabase db = connection(m_connection);
    QSqlQuery query(db);
    runSql(query, kRunSelect + QStringLiteral("WHERE id = ?"), {runId});
    if (!query.next())
        throwNoRun(runId);
    return readRun(query);
}

QVector<RunRecord> Registry::runs() const
{
    QSqlDatabase db = connection(m_connection);
    QSqlQuery query(db);
    query.setForwardOnly(true);
    runSql(query, kRunSelect + QStringLiteral("ORDER BY id DESC"));
    QVector<RunRecord> records;
    while (query.next())
        records << readRun(query);
    return records;
}

QStringList Registry::metricKeys(qint64 runId) const
{
    QSqlDatabase db = connection(m_connection);
    if (!runExists(db, runId))
        throwNoRun(runId);
    QSqlQuery query(db);
    // A skip scan over the primary key: one probe per key instead of reading every point.
    runSql(query,
           QStringLiteral("WITH RECURSIVE k(key) AS ("
                          " SELECT min(key) FROM metrics WHERE run_id = ?"
                          " UNION ALL SELECT (SELECT min(key) FROM metrics"
                          "   WHERE run_id = ? AND key > k.key) FROM k WHERE k.key IS NOT NULL)"
                          " SELECT key FROM k WHERE key IS NOT NULL"),
           {runId, runId});
    QStringList keys;
    while (query.next())
        keys << query.value(0).toString();
    return keys;
}

QVector<MetricSample> Registry::metrics(qint64 runId, const QString &key) const
{
    QSqlDatabase db = connection(m_connection);
    if (!runExists(db, runId))
        throwNoRun(runId);
    QSqlQuery query(db);
    query.setForwardOnly(true);
    runSql(query,
           QStringLiteral("SELECT step, epoch, value, wall_s FROM metrics"
                          " WHERE run_id = ? AND key = ? ORDER BY step"),
           {runId, key});
    QVector<MetricSample> samples;
    while (query.next()) {
        MetricSample sample;
        sample.step = query.value(0).toLongLong();
        sample.epoch = query.value(1).toInt();
        // SQLite stores NaN as NULL; a diverged loss must come back as NaN, not 0.
        const QVariant value = query.value(2);
        sample.value =
            value.isNull() ? std::numeric_limits<double>::quiet_NaN() : value.toDouble();
        sample.wallTime_s = query.value(3).toDouble();
        samples << sample;
    }
    return samples;
}

// --- benchmarks ---

void Registry::addBenchmark(qint64 versionId, const QJsonObject &result)
{
    QSqlDatabase db = connection(m_connection);
    WriteTransaction transaction(db);
    if (!versionExists(db, versionId))
        throwNoVersion(versionId);
    QSqlQuery query(db);
    runSql(query,
           QStringLiteral("INSERT INTO benchmarks (version_id, created, result_json)"
                          " VALUES (?, ?, ?)"),
           {versionId, nowText(), jsonText(result)});
    transaction.commit();
}

QVector<QJsonObject> Registry::benchmarks(qint64 versionId) const
{
    QSqlDatabase db = connection(m_connection);
    QSqlQuery query(db);
    runSql(query,
           QStringLiteral("SELECT result_json FROM benchmarks WHERE version_id = ?"
                          " ORDER BY id"),
           {versionId});
    QVector<QJsonObject> results;
    while (query.next())
        results << jsonFrom(query.value(0)).object();
    return results;
}

// --- artifacts ---

QString Registry::artifactPath(const VersionRecord &version) const
{
    return ArtifactStore(m_root).pathFor(version.sha256);
}

QString Registry::verifiedArtifactPath(const VersionRecord &version) const
{
    const ArtifactStore store(m_root);
    const QString path = store.pathFor(version.sha256);
    const ArtifactStore::Check check = store.check(version.sha256, version.sizeBytes);
    QString problem;
    switch (check.status) {
    case ArtifactStore::Status::Intact:
        return path;
    case ArtifactStore::Status::Missing:
        problem = QStringLiteral("is missing");
        break;
    case ArtifactStore::Status::Truncated:
        problem = QStringLiteral("is truncated (%1 of %2 bytes)")
                      .arg(check.actualBytes)
                      .arg(version.sizeBytes);
        break;
    case ArtifactStore::Status::Changed:
        problem = QStringLiteral("has changed since it was stored (sha256 mismatch)");
        break;
    case ArtifactStore::Status::Unreadable:
        problem = QStringLiteral("cannot be read (%1)").arg(check.error);
        break;
    }
    throw Error(QStringLiteral("%1: the artifact %2 %3; restore it or remove the version")
                    .arg(version.ref(), path, problem));
}

QVector<Registry::Problem> Registry::verify() const
{
    QSqlDatabase db = connection(m_connection);
    QSqlQuery query(db);
    query.setForwardOnly(true);
    runSql(query, QStringLiteral("SELECT m.name, v.number, v.sha256, v.size_bytes"
                                 " FROM versions v JOIN models m ON m.id = v.model_id"
                                 " ORDER BY m.name, v.number"));
    const ArtifactStore store(m_root);
    QHash<QString, QString> problemOf;   // each stored file is hashed once
    QVector<Problem> problems;
    while (query.next()) {
        const QString sha256 = query.value(2).toString();
        const qint64 sizeBytes = query.value(3).toLongLong();
        auto it = problemOf.find(sha256);
        if (it == problemOf.end())
            it = problemOf.insert(sha256, problemText(store.check(sha256, sizeBytes), sizeBytes));
        if (!it->isEmpty())
            problems.push_back(
                {query.value(0).toString() + QLatin1Char(':') + query.value(1).toString(), *it});
    }
    return problems;
}

Registry::GcResult Registry::gc()
{
    QSqlDatabase db = connection(m_connection);
    // What gc may take is what no live process can still be making. Runs of dead processes
    // were marked interrupted when this registry opened, so "running" rows are live; anything
    // written after the newest of them started may be its work, and anything written in the
    // last minute may be a run or a copy that has not recorded itself yet.
    QDateTime staleBefore = QDateTime::currentDateTimeUtc().addSecs(-kGcGrace_s);
    QSet<QString> runningDirs;
    {
        QSqlQuery query(db);
        runSql(query, QStringLiteral("SELECT run_dir, started FROM runs WHERE status = ?"),
               {runStatusName(RunStatus::Running)});
        while (query.next()) {
            if (!query.value(0).toString().isEmpty())
                runningDirs.insert(QDir::cleanPath(query.value(0).toString()));
            const QDateTime started = timeFrom(query.value(1));
            if (started.isValid() && started < staleBefore)
                staleBefore = started;
        }
    }
    GcResult result;
    {
        // Under the write lock that addVersion() holds while it publishes a file and commits
        // the row naming it: what we see unreferenced here stays unreferenced until we are done.
        WriteTransaction transaction(db);
        QSet<QString> referenced;
        QSqlQuery query(db);
        query.setForwardOnly(true);
        runSql(query, QStringLiteral("SELECT DISTINCT sha256 FROM versions"));
        while (query.next())
            referenced.insert(query.value(0).toString());
        const ArtifactStore::Collected collected =
            ArtifactStore(m_root).collect(referenced, staleBefore);
        transaction.commit();
        result.removedFiles = collected.removedFiles;
        result.freedBytes = collected.freedBytes;
    }
    result.removedRunFolders = removeEmptyRunFolders(m_root + QStringLiteral("/runs"),
                                                     runningDirs, staleBefore);
    return result;
}

QStringList Registry::databaseProblems() const
{
    QSqlDatabase db = connection(m_connection);
    QStringList problems;
    // A damaged page can make the check itself fail rather than report: that is a finding too.
    try {
        QSqlQuery query(db);
        runSql(query, QStringLiteral("PRAGMA integrity_check"));
        while (query.next()) {
            const QString line = query.value(0).toString();
            if (line != QLatin1String("ok"))
                problems << QStringLiteral("integrity_check: %1").arg(line);
        }
    } catch (const Error &e) {
        problems << QStringLiteral("integrity_check failed: %1").arg(e.message());
    }
    try {
        QSqlQuery query(db);
        runSql(query, QStringLiteral("PRAGMA foreign_key_check"));
        while (query.next())
            problems << QStringLiteral("foreign_key_check: row %1 of %2 refers to a %3 row "
                                       "that does not exist")
                            .arg(query.value(1).toString(), query.value(0).toString(),
                                 query.value(2).toString());
    } catch (const Error &e) {
        problems << QStringLiteral("foreign_key_check failed: %1").arg(e.message());
    }
    return problems;
}

QString Registry::integrityCheck() const
{
    QSqlDatabase db = connection(m_connection);
    QSqlQuery query(db);
    runSql(query, QStringLiteral("PRAGMA integrity_check"));
    QStringList lines;   // "ok", or one line per problem found
    while (query.next())
        lines << query.value(0).toString();
    return lines.join(QLatin1Char('\n'));
}

}   // namespace ms
