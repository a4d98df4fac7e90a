#include "registry/Schema_p.h"

#include "common/Error.h"
#include "common/Printable.h"
#include "registry/Registry.h"

#include <QFile>
#include <QFileInfo>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>

#include <cerrno>
#include <vector>

#include <signal.h>

namespace ms::registry {

namespace {

// 'MSRG' in the header's application_id field: tells our file from another program's SQLite
// database that happens to be called registry.db.
constexpr int kApplicationId = 0x4D535247;

// One step of the schema: the statements that take a database from version-1 to version.
// Append steps; never edit a step that has shipped.
struct Migration
{
    int version = 0;
    std::vector<const char *> statements;
};

const std::vector<Migration> &migrations()
{
    static const std::vector<Migration> steps = {
        {1,
         {
             "CREATE TABLE models ("
             " id INTEGER PRIMARY KEY,"
             " name TEXT NOT NULL UNIQUE,"
             " description TEXT NOT NULL DEFAULT '',"
             " created TEXT NOT NULL,"
             // The highest number ever given: a removed version's number is never reused,
             // so "cnn:3" in an old note or script cannot come to mean other bytes.
             " last_number INTEGER NOT NULL DEFAULT 0)",
             // runs.version_id and versions.run_id point at each other; SQLite resolves
             // foreign keys when a statement runs, so the forward reference is fine.
             "CREATE TABLE runs ("
             " id INTEGER PRIMARY KEY,"
             " kind TEXT NOT NULL,"
             " status TEXT NOT NULL,"
             " started TEXT NOT NULL,"
             " ended TEXT,"
             " error TEXT NOT NULL DEFAULT '',"
             " spec_json TEXT NOT NULL DEFAULT '{}',"
             " run_dir TEXT NOT NULL DEFAULT '',"
             " version_id INTEGER REFERENCES versions(id) ON DELETE SET NULL,"
             " pid INTEGER NOT NULL DEFAULT 0,"
             " pid_start INTEGER NOT NULL DEFAULT 0)",
             "CREATE TABLE versions ("
             " id INTEGER PRIMARY KEY,"
             " model_id INTEGER NOT NULL REFERENCES models(id),"
             " number INTEGER NOT NULL,"
             " kind TEXT NOT NULL,"
             " created TEXT NOT NULL,"
             " notes TEXT NOT NULL DEFAULT '',"
             " inputs_json TEXT NOT NULL DEFAULT '[]',"
             " outputs_json TEXT NOT NULL DEFAULT '[]',"
             " class_names_json TEXT NOT NULL DEFAULT '[]',"
             " parameter_count INTEGER NOT NULL DEFAULT 0,"
             " size_bytes INTEGER NOT NULL,"
             " sha256 TEXT NOT NULL,"
             " recipe_json TEXT NOT NULL DEFAULT '{}',"
             " metrics_json TEXT NOT NULL DEFAULT '{}',"
             " run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
             " UNIQUE (model_id, number))",
             // A parent cannot disappear under its children (removeVersion deletes the edges
             // itself when forced); a child's edges go with it.
             "CREATE TABLE lineage ("
             " parent_id INTEGER NOT NULL REFERENCES versions(id),"
             " child_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,"
             " role TEXT NOT NULL,"
             " PRIMARY KEY (parent_id, child_id, role)) WITHOUT ROWID",
             // Clustered by (run, key, step): one curve is one contiguous range of the b-tree,
             // which is what keeps a 100,000-point load fast among millions of points.
             "CREATE TABLE metrics ("
             " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
             " key TEXT NOT NULL,"
             " step INTEGER NOT NULL,"
             " epoch INTEGER NOT NULL DEFAULT 0,"
             " value REAL,"
             " wall_s REAL NOT NULL DEFAULT 0,"
             " PRIMARY KEY (run_id, key, step)) WITHOUT ROWID",
             "CREATE TABLE benchmarks ("
             " id INTEGER PRIMARY KEY,"
             " version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,"
             " created TEXT NOT NULL,"
             " result_json TEXT NOT NULL)",
             "CREATE TABLE tags ("
             " version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,"
             " key TEXT NOT NULL,"
             " value TEXT NOT NULL,"
             " PRIMARY KEY (version_id, key)) WITHOUT ROWID",
             // No cascade on version_id: an alias is never silently dropped.
             "CREATE TABLE aliases ("
             " model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,"
             " alias TEXT NOT NULL,"
             " version_id INTEGER NOT NULL REFERENCES versions(id),"
             " PRIMARY KEY (model_id, alias)) WITHOUT ROWID",
             // Child-side lookups and the foreign keys' own checks on delete.
             "CREATE INDEX lineage_child ON lineage(child_id)",
             "CREATE INDEX versions_sha256 ON versions(sha256)",
             "CREATE INDEX versions_run ON versions(run_id)",
             "CREATE INDEX runs_status ON runs(status)",
             "CREATE INDEX runs_version ON runs(version_id)",
             "CREATE INDEX benchmarks_version ON benchmarks(version_id)",
             "CREATE INDEX aliases_version ON aliases(version_id)",
         }},
        // Sweeps (core/optimize): a search and its trials. A trial's run is an ordinary run;
        // `curve` holds the objective after each epoch (JSON array) so that early stopping and
        // the sampler can resume from it.
        {2,
         {
             "CREATE TABLE sweeps ("
             " id INTEGER PRIMARY KEY,"
             " name TEXT NOT NULL,"
             " spec TEXT NOT NULL,"
             " status TEXT NOT NULL,"
             " started TEXT NOT NULL,"
             " ended TEXT,"
             " pid INTEGER NOT NULL DEFAULT 0,"
             " version_id INTEGER REFERENCES versions(id) ON DELETE SET NULL)",
             "CREATE TABLE sweep_trials ("
             " sweep_id INTEGER NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,"
             " number INTEGER NOT NULL,"
             " params TEXT NOT NULL,"
             " status TEXT NOT NULL,"
             " value REAL,"
             " epochs INTEGER NOT NULL DEFAULT 0,"
             " curve TEXT NOT NULL DEFAULT '[]',"
             " run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
             " message TEXT,"
             " PRIMARY KEY (sweep_id, number)) WITHOUT ROWID",
         }},
        // What a finished trial measured (every metric it reports, the latency and size of its
        // model, a compression's accuracy drop): several objectives and constraints read it.
        {3,
         {
             "ALTER TABLE sweep_trials ADD COLUMN metrics TEXT NOT NULL DEFAULT '{}'",
         }},
    };
    return steps;
}

bool isBusy(const QSqlError &error)
{
    bool ok = false;
    const int code = error.nativeErrorCode().toInt(&ok) & 0xff;
    return ok && (code == 5 || code == 6);   // SQLITE_BUSY, SQLITE_LOCKED
}

QString busyOrDriverText(const QSqlError &error)
{
    // They only reach us after the busy timeout (10 s unless the connection set another).
    if (isBusy(error))
        return QStringLiteral("another process kept it locked past the busy timeout; try "
                              "again");
    return error.text();
}

[[noreturn]] void throwQueryError(const QSqlQuery &query, const QString &sql)
{
    const QString message = QStringLiteral("The registry database reported an error: %1 (in: %2)")
                                .arg(busyOrDriverText(query.lastError()),
                                     sql.left(60).simplified());
    if (isBusy(query.lastError()))
        throw RegistryBusy(message);
    throw Error(message);
}

int pragmaInt(QSqlDatabase &db, const QString &pragma)
{
    QSqlQuery query(db);
    runSql(query, QStringLiteral("PRAGMA ") + pragma);
    return query.next() ? query.value(0).toInt() : 0;
}

}   // namespace

void checkSqliteHeader(const QString &dbPath)
{
    QFile file(dbPath);
    if (!file.exists() || file.size() == 0)
        return;   // a new registry
    if (!file.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("Cannot read %1: %2. Check its permissions or choose "
                                   "another --workspace.")
                        .arg(dbPath, file.errorString()));
    static const QByteArray magic("SQLite format 3\0", 16);
    if (file.read(16) != magic)
        throw Error(QStringLiteral("%1 is not a ModelStudio registry (not an SQLite database). "
                                   "Move it away or choose another --workspace.")
                        .arg(dbPath));
}

namespace {

// What the opening checks need to know about a database file.
struct Facts
{
    int version = 0;   // user_version
    int applicationId = 0;
    bool hasSchema = false;   // any table at all
};

quint32 bigEndian32(const QByteArray &bytes, int offset)
{
    const auto *data = reinterpret_cast<const uchar *>(bytes.constData()) + offset;
    return (quint32(data[0]) << 24) | (quint32(data[1]) << 16) | (quint32(data[2]) << 8)
           | quint32(data[3]);
}

// Asks SQLite itself, read-only. Needed when a WAL file holds commits the main file does not
// have yet; otherwise avoided, because a read-only connection still creates -wal and -shm
// files beside a WAL database.
Facts sqliteFacts(const QString &dbPath, const QString &connection)
{
    Facts facts;
    QString failure;
    {
        QSqlDatabase db = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connection);
        db.setDatabaseName(dbPath);
        db.setConnectOptions(QStringLiteral("QSQLITE_OPEN_READONLY;QSQLITE_BUSY_TIMEOUT=10000"));
        if (!db.open()) {
            failure = db.lastError().text();
        } else {
            try {
                facts.version = pragmaInt(db, QStringLiteral("user_version"));
                facts.applicationId = pragmaInt(db, QStringLiteral("application_id"));
                QSqlQuery query(db);
                runSql(query, QStringLiteral("SELECT count(*) FROM sqlite_master"));
                facts.hasSchema = query.next() && query.value(0).toInt() > 0;
            } catch (const Error &error) {
                failure = error.message();
            }
        }
        db.close();
    }
    QSqlDatabase::removeDatabase(connection);
    if (!failure.isEmpty())
        throw Error(QStringLiteral("%1 cannot be read as a ModelStudio registry (%2). Move it "
                                   "away or choose another --workspace.")
                        .arg(dbPath, failure));
    return facts;
}

[[noreturn]] void throwNewer(const QString &dbPath, int version, int maxVersion)
{
    throw Error(QStringLiteral("%1 was written by a newer ModelStudio (schema %2, this one "
                               "reads up to %3); upgrade ModelStudio")
                    .arg(dbPath, QString::number(version), QString::number(maxVersion)));
}

}   // namespace

int probeSchemaVersion(const QString &dbPath, const QString &connection, int maxVersion)
{
    QFile file(dbPath);
    if (!file.exists() || file.size() == 0)
        return 0;
    if (!file.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("Cannot read %1: %2. Check its permissions or choose "
                                   "another --workspace.")
                        .arg(dbPath, file.errorString()));
    // The 100-byte database header (sqlite.org/fileformat.html): schema cookie at 40,
    // user_version at 60, application_id at 68.
    const QByteArray header = file.read(100);
    file.close();
    if (header.size() < 100)
        throw Error(QStringLiteral("%1 cannot be read as a ModelStudio registry (its SQLite "
                                   "header is cut short). Move it away or choose another "
                                   "--workspace.")
                        .arg(dbPath));
    Facts facts;
    const QFileInfo wal(dbPath + QStringLiteral("-wal"));
    if (wal.exists() && wal.size() > 0) {
        facts = sqliteFacts(dbPath, connection);
    } else {
        facts.hasSchema = bigEndian32(header, 40) != 0;
        facts.version = int(bigEndian32(header, 60));
        facts.applicationId = int(bigEndian32(header, 68));
    }
    const bool foreign = (facts.applicationId != 0 && facts.applicationId != kApplicationId)
                         || (facts.version == 0 && facts.hasSchema);
    if (foreign)
        throw Error(QStringLiteral("%1 is not a ModelStudio registry (an SQLite database of "
                                   "another program). Move it away or choose another "
                                   "--workspace.")
                        .arg(dbPath));
    if (facts.version > maxVersion)
        throwNewer(dbPath, facts.version, maxVersion);
    return facts.version;
}

void configureConnection(QSqlDatabase &db)
{
    QSqlQuery query(db);
    // The timeout first, so that switching to WAL waits for a busy file like everything else.
    runSql(query, QStringLiteral("PRAGMA busy_timeout = 10000"));
    runSql(query, QStringLiteral("PRAGMA foreign_keys = ON"));
    runSql(query, QStringLiteral("PRAGMA journal_mode = WAL"));
    // In WAL mode NORMAL loses at most the last commits on power loss, never consistency.
    runSql(query, QStringLiteral("PRAGMA synchronous = NORMAL"));
}

void migrate(QSqlDatabase &db, int targetVersion)
{
    Q_ASSERT(!migrations().empty() && migrations().back().version == targetVersion);
    const int current = pragmaInt(db, QStringLiteral("user_version"));
    // A newer ModelStudio may have migrated between the probe and this connection.
    if (current > targetVersion)
        throwNewer(db.databaseName(), current, targetVersion);
    if (current == targetVersion)
        return;
    for (const Migration &step : migrations()) {
        WriteTransaction transaction(db);
        // Another process may have migrated since we looked: re-read under the write lock.
        if (pragmaInt(db, QStringLiteral("user_version")) >= step.version)
            continue;
        QSqlQuery query(db);
        for (const char *statement : step.statements)
            runSql(query, QString::fromLatin1(statement));
        // PRAGMA takes no bound values; both numbers are our own constants.
        runSql(query, QStringLiteral("PRAGMA application_id = %1").arg(kApplicationId));
        runSql(query, QStringLiteral("PRAGMA user_version = %1").arg(step.version));
        transaction.commit();
    }
}

qint64 processStartTime(qint64 pid)
{
    if (pid <= 0)
        return 0;
    QFile file(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!file.open(QIODevice::ReadOnly))
        return 0;
    const QByteArray stat = file.readAll();
    // Field 2 is the command name in parentheses and may itself contain ") "; the fields after
    // the last ')' start with field 3, so field 22 is the 20th of them.
    const int close = stat.lastIndexOf(')');
    if (close < 0)
        return 0;
    const QList<QByteArray> fields = stat.mid(close + 1).simplified().split(' ');
    return fields.size() > 19 ? fields.at(19).toLongLong() : 0;
}

bool processIsAlive(qint64 pid, qint64 startTime)
{
    if (pid <= 0)
        return false;
    if (startTime != 0)
        return processStartTime(pid) == startTime;
    // No start time was recorded (no /proc where the run began): the pid alone has to do.
    return ::kill(pid_t(pid), 0) == 0 || errno == EPERM;
}

void prepare(QSqlQuery &query, const QString &sql)
{
    if (!query.prepare(sql))
        throwQueryError(query, sql);
}

void exec(QSqlQuery &query, std::initializer_list<QVariant> values)
{
    int index = 0;
    for (const QVariant &value : values) {
        // A null QString would bind as SQL NULL; text columns hold '' for "no text".
        if (value.typeId() == QMetaType::QString && value.toString().isNull())
            query.bindValue(index++, QStringLiteral(""));
        else
            query.bindValue(index++, value);
    }
    if (!query.exec())
        throwQueryError(query, query.lastQuery());
}

void runSql(QSqlQuery &query, const QString &sql, std::initializer_list<QVariant> values)
{
    prepare(query, sql);
    exec(query, values);
}

WriteTransaction::WriteTransaction(QSqlDatabase &db)
    : m_db(db)
{
    QSqlQuery query(m_db);
    runSql(query, QStringLiteral("BEGIN IMMEDIATE"));
    m_open = true;
}

WriteTransaction::~WriteTransaction()
{
    if (!m_open)
        return;
    QSqlQuery query(m_db);
    query.exec(QStringLiteral("ROLLBACK"));   // nothing to report from a destructor
}

void WriteTransaction::commit()
{
    QSqlQuery query(m_db);
    runSql(query, QStringLiteral("COMMIT"));
    m_open = false;
}

bool exists(QSqlDatabase &db, const QString &sql, qint64 id)
{
    QSqlQuery query(db);
    runSql(query, sql, {id});
    return query.next();
}

bool versionExists(QSqlDatabase &db, qint64 versionId)
{
    return exists(db, QStringLiteral("SELECT 1 FROM versions WHERE id = ?"), versionId);
}

bool runExists(QSqlDatabase &db, qint64 runId)
{
    return exists(db, QStringLiteral("SELECT 1 FROM runs WHERE id = ?"), runId);
}

QSqlDatabase connection(const QString &name)
{
    return QSqlDatabase::database(name, false);
}

QString nowText()
{
    return QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
}

QDateTime timeFrom(const QVariant &value)
{
    return value.isNull() ? QDateTime()
                          : QDateTime::fromString(value.toString(), Qt::ISODateWithMs);
}

QString jsonText(const QJsonObject &object)
{
    return QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact));
}

QString jsonText(const QJsonArray &array)
{
    return QString::fromUtf8(QJsonDocument(array).toJson(QJsonDocument::Compact));
}

QJsonDocument jsonFrom(const QVariant &value)
{
    return QJsonDocument::fromJson(value.toString().toUtf8());
}

QVariant nullIfZero(qint64 id)
{
    return id == 0 ? QVariant(QMetaType::fromType<qint64>()) : QVariant(id);
}

QString quoted(const QString &text)
{
    // Messages end up on terminals and in logs: what the user typed is shown, not obeyed.
    return QLatin1Char('"') + printable(text) + QLatin1Char('"');
}

void throwNoVersion(qint64 id)
{
    throw Error(QStringLiteral("no version with id %1 in the registry").arg(id));
}

void throwNoRun(qint64 id)
{
    throw Error(QStringLiteral("no run with id %1 in the registry").arg(id));
}

}   // namespace ms::registry
