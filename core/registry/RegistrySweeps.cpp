// The registry's sweeps and their trials (schema versions 2 and 3).

#include "registry/Registry.h"
#include "registry/Schema_p.h"

#include <QCoreApplication>
#include <QSqlDatabase>
#include <QSqlQuery>

#include <cmath>

namespace ms {

using namespace registry;

namespace {

const QString kSweepSelect = QStringLiteral(
    "SELECT id, name, spec, status, started, ended, pid, version_id FROM sweeps ");

SweepRecord readSweep(const QSqlQuery &query)
{
    SweepRecord r;
    r.id = query.value(0).toLongLong();
    r.name = query.value(1).toString();
    r.spec = jsonFrom(query.value(2)).object();
    r.status = query.value(3).toString();
    r.started = timeFrom(query.value(4));
    r.ended = timeFrom(query.value(5));
    r.pid = query.value(6).toLongLong();
    r.versionId = query.value(7).toLongLong();
    return r;
}

[[noreturn]] void throwNoSweep(qint64 sweepId)
{
    throw Error(QStringLiteral("There is no sweep %1 in this workspace; `modelstudio-cli sweeps` "
                               "lists them.").arg(sweepId));
}

} // namespace

QJsonObject TrialRecord::toJson() const
{
    QJsonObject o{{QStringLiteral("trial"), number},
                  {QStringLiteral("params"), params},
                  {QStringLiteral("status"), status},
                  {QStringLiteral("epochs"), epochs},
                  {QStringLiteral("curve"), curve}};
    o.insert(QStringLiteral("value"), std::isnan(value) ? QJsonValue() : QJsonValue(value));
    if (runId != 0)
        o.insert(QStringLiteral("run"), runId);
    if (!message.isEmpty())
        o.insert(QStringLiteral("message"), message);
    if (!metrics.isEmpty())
        o.insert(QStringLiteral("metrics"), metrics);
    return o;
}

QJsonObject SweepRecord::toJson() const
{
    QJsonObject o{{QStringLiteral("id"), id},
                  {QStringLiteral("name"), name},
                  {QStringLiteral("status"), status},
                  {QStringLiteral("started"), started.toString(Qt::ISODate)},
                  {QStringLiteral("spec"), spec}};
    if (ended.isValid())
        o.insert(QStringLiteral("ended"), ended.toString(Qt::ISODate));
    if (versionId != 0)
        o.insert(QStringLiteral("version_id"), versionId);
    if (!trials.isEmpty()) {
        QJsonArray list;
        for (const TrialRecord &t : trials)
            list.append(t.toJson());
        o.insert(QStringLiteral("trials"), list);
    }
    return o;
}

// Sweeps left "running" by a process that is gone (killed, crashed): "interrupted", which
// `sweep --resume ID` continues.
void Registry::markInterruptedSweeps()
{
    QSqlDatabase db = connection(m_connection);
    QSqlQuery query(db);
    query.setForwardOnly(true);
    runSql(query, QStringLiteral("SELECT id, pid FROM sweeps WHERE status = 'running'"));
    QVector<QPair<qint64, qint64>> gone;
    while (query.next()) {
        const qint64 pid = query.value(1).toLongLong();
        if (!processIsAlive(pid, 0))
            gone.append({query.value(0).toLongLong(), pid});
    }
    if (gone.isEmpty())
        return;
    WriteTransaction transaction(db);
    QSqlQuery update(db);
    prepare(update, QStringLiteral("UPDATE sweeps SET status = 'interrupted', ended = ?"
                                   " WHERE id = ? AND status = 'running' AND pid = ?"));
    for (const auto &[id, pid] : gone)
        exec(update, {nowText(), id, pid});
    transaction.commit();
}

qint64 Registry::startSweep(const QString &name, const QJsonObject &spec)
{
    QSqlDatabase db = connection(m_connection);
    QSqlQuery query(db);
    runSql(query,
           QStringLiteral("INSERT INTO sweeps (name, spec, status, started, pid) "
                          "VALUES (?, ?, 'running', ?, ?)"),
           {name, jsonText(spec), nowText(), QCoreApplication::applicationPid()});
    return query.lastInsertId().toLongLong();
}

void Registry::reopenSweep(qint64 sweepId)
{
    QSqlDatabase db = connection(m_connection);
    WriteTransaction transaction(db);
    if (!exists(db, QStringLiteral("SELECT 1 FROM sweeps WHERE id = ?"), sweepId))
        throwNoSweep(sweepId);
    QSqlQuery query(db);
    runSql(query, QStringLiteral("UPDATE sweeps SET status = 'running', ended = NULL, pid = ? "
                                 "WHERE id = ?"),
           {QCoreApplication::applicationPid(), sweepId});
    transaction.commit();
}

void Registry::finishSweep(qint64 sweepId, const QString &status, qint64 versionId)
{
    QSqlDatabase db = connection(m_connection);
    WriteTransaction transaction(db);
    if (!exists(db, QStringLiteral("SELECT 1 FROM sweeps WHERE id = ?"), sweepId))
        throwNoSweep(sweepId);
    if (versionId != 0 && !versionExists(db, versionId))
        throw Error(QStringLiteral("There is no version with id %1.").arg(versionId));
    QSqlQuery query(db);
    runSql(query, QStringLiteral("UPDATE sweeps SET status = ?, ended = ?, "
                                 "version_id = coalesce(?, version_id) WHERE id = ?"),
           {status, nowText(), nullIfZero(versionId), sweepId});
    transaction.commit();
}

void Registry::saveTrial(qint64 sweepId, const TrialRecord &trial)
{
    QSqlDatabase db = connection(m_connection);
    WriteTransaction transaction(db);
    if (!exists(db, QStringLiteral("SELECT 1 FROM sweeps WHERE id = ?"), sweepId))
        throwNoSweep(sweepId);
    // A run the registry no longer has (deleted by gc) is not referenced.
    const qint64 runId = trial.runId != 0 && runExists(db, trial.runId) ? trial.runId : 0;
    QSqlQuery query(db);
    runSql(query,
           QStringLiteral("INSERT OR REPLACE INTO sweep_trials (sweep_id, number, params, status,"
                          " value, epochs, curve, run_id, message, metrics)"
                          " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
           {sweepId, trial.number, jsonText(trial.params), trial.status,
            std::isnan(trial.value) ? QVariant() : QVariant(trial.value), trial.epochs,
            jsonText(trial.curve), nullIfZero(runId),
            trial.message.isEmpty() ? QVariant() : QVariant(trial.message),
            jsonText(trial.metrics)});
    transaction.commit();
}

SweepRecord Registry::sweep(qint64 sweepId) const
{
    QSqlDatabase db = connection(m_connection);
    QSqlQuery query(db);
    runSql(query, kSweepSelect + QStringLiteral("WHERE id = ?"), {sweepId});
    if (!query.next())
        throwNoSweep(sweepId);
    SweepRecord record = readSweep(query);
    QSqlQuery trials(db);
    trials.setForwardOnly(true);
    runSql(trials,
           QStringLiteral("SELECT number, params, status, value, epochs, curve, run_id, message,"
                          " metrics FROM sweep_trials WHERE sweep_id = ? ORDER BY number"),
           {sweepId});
    while (trials.next()) {
        TrialRecord t;
        t.number = trials.value(0).toInt();
        t.params = jsonFrom(trials.value(1)).object();
        t.status = trials.value(2).toString();
        t.value = trials.value(3).isNull() ? std::numeric_limits<double>::quiet_NaN()
                                           : trials.value(3).toDouble();
        t.epochs = trials.value(4).toInt();
        t.curve = jsonFrom(trials.value(5)).array();
        t.runId = trials.value(6).toLongLong();
        t.message = trials.value(7).toString();
        t.metrics = jsonFrom(trials.value(8)).object();
        record.trials << t;
    }
    return record;
}

QVector<SweepRecord> Registry::sweeps() const
{
    QSqlDatabase db = connection(m_connection);
    QSqlQuery query(db);
    query.setForwardOnly(true);
    runSql(query, kSweepSelect + QStringLiteral("ORDER BY id DESC"));
    QVector<SweepRecord> records;
    while (query.next())
        records << readSweep(query);
    return records;
}

} // namespace ms
