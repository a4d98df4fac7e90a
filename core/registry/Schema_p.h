#pragma once

// Private to core/registry: opening checks, schema migrations and the small SQL helpers the
// Registry is written with. Declares Qt SQL types only, so a test may include it for the
// process-liveness functions without Qt SQL on its include path.

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>
#include <QVariant>

#include <initializer_list>

class QSqlDatabase;
class QSqlQuery;

namespace ms::registry {

// --- opening ---

// Throws ms::Error, touching nothing, when `dbPath` exists, is not empty and does not start
// with the SQLite header. Reads the 16 header bytes itself: SQLite would never be handed the
// file.
void checkSqliteHeader(const QString &dbPath);

// Opens `dbPath` read-only under `connection` (removed again before returning) and throws
// ms::Error, having written nothing, when it is another application's database or was written
// by a newer schema than `maxVersion`. Returns its schema version (0 for a new file).
int probeSchemaVersion(const QString &dbPath, const QString &connection, int maxVersion);

// WAL, foreign keys, busy timeout, synchronous=NORMAL. Throws ms::Error.
void configureConnection(QSqlDatabase &db);

// Applies every migration newer than the database, one write transaction each, re-reading
// user_version inside it so two processes creating one workspace at once do not collide.
void migrate(QSqlDatabase &db, int targetVersion);

// --- processes (runs record who runs them) ---

// Field 22 of /proc/<pid>/stat (clock ticks after boot), 0 when there is no such process.
// A pid is reused after its process exits; the pair (pid, start time) is not.
qint64 processStartTime(qint64 pid);
// Whether the process that recorded (pid, startTime) still runs; with startTime 0 (unknown),
// whether any process has that pid.
bool processIsAlive(qint64 pid, qint64 startTime);

// --- SQL helpers: every value is bound, every failure becomes an ms::Error ---

// Prepares `sql` on `db`; throws ms::Error naming the database on failure.
void prepare(QSqlQuery &query, const QString &sql);
// Binds `values` positionally and executes; throws ms::Error saying what it was doing.
void exec(QSqlQuery &query, std::initializer_list<QVariant> values = {});
// Prepares and executes in one step.
void runSql(QSqlQuery &query, const QString &sql, std::initializer_list<QVariant> values = {});
// Whether `sql` (one bound id) returns a row.
bool exists(QSqlDatabase &db, const QString &sql, qint64 id);
bool versionExists(QSqlDatabase &db, qint64 versionId);
bool runExists(QSqlDatabase &db, qint64 runId);
// The open connection of a Registry, by name.
QSqlDatabase connection(const QString &name);

// A write transaction taken with BEGIN IMMEDIATE: the write lock is acquired up front, where
// the busy timeout applies, instead of on the first write of a deferred transaction, where
// SQLite answers "database is locked" at once when another connection committed in between.
// Rolls back unless commit() was called.
class WriteTransaction
{
public:
    explicit WriteTransaction(QSqlDatabase &db);
    ~WriteTransaction();
    WriteTransaction(const WriteTransaction &) = delete;
    WriteTransaction &operator=(const WriteTransaction &) = delete;

    void commit();

private:
    QSqlDatabase &m_db;
    bool m_open = false;
};

// --- values as the registry stores them ---

// Timestamps are ISO 8601 UTC text: sortable, and readable in the sqlite3 shell.
QString nowText();
QDateTime timeFrom(const QVariant &value);   // invalid for NULL
QString jsonText(const QJsonObject &object);
QString jsonText(const QJsonArray &array);
QJsonDocument jsonFrom(const QVariant &value);
QVariant nullIfZero(qint64 id);   // ids are 0 in the records, NULL in the tables
QString quoted(const QString &text);

[[noreturn]] void throwNoVersion(qint64 id);
[[noreturn]] void throwNoRun(qint64 id);

}   // namespace ms::registry
