// The Registry's models, versions, lineage and edits (opening, runs, metric series and
// artifacts are in Registry.cpp).
#include "registry/Registry.h"

#include "common/Error.h"
#include "common/Names.h"
#include "registry/ArtifactStore.h"
#include "registry/Schema_p.h"

#include <QHash>
#include <QSqlDatabase>
#include <QSqlQuery>

#include <algorithm>

namespace ms {

using namespace registry;

namespace {

// Every version query reads these columns in this order; see VersionReader. The JSON comes
// as BLOB: the UTF-8 bytes as stored, without the driver's round trip through UTF-16.
const QString kVersionSelect = QStringLiteral(
    "SELECT v.id, v.model_id, m.name, v.number, v.kind, v.created, v.notes,"
    " CAST(v.inputs_json AS BLOB), CAST(v.outputs_json AS BLOB),"
    " CAST(v.class_names_json AS BLOB), v.parameter_count, v.size_bytes, v.sha256,"
    " CAST(v.recipe_json AS BLOB), CAST(v.metrics_json AS BLOB), v.run_id FROM versions v"
    " JOIN models m ON m.id = v.model_id ");

// Edges with both ends' references: parent, child, role, parent ref, child ref.
const QString kEdgeSelect = QStringLiteral(
    "SELECT l.parent_id, l.child_id, l.role, pm.name, pv.number, cm.name, cv.number"
    " FROM lineage l"
    " JOIN versions pv ON pv.id = l.parent_id JOIN models pm ON pm.id = pv.model_id"
    " JOIN versions cv ON cv.id = l.child_id JOIN models cm ON cm.id = cv.model_id ");

QString quotedList(const QStringList &items)
{
    QStringList quotedItems;
    for (const QString &item : items)
        quotedItems << quoted(item);
    return quotedItems.join(QStringLiteral(", "));
}

// "1-3, 5, 7-9" for the numbers a model has.
QString numberRanges(QVector<int> numbers)
{
    std::sort(numbers.begin(), numbers.end());
    QStringList parts;
    for (int i = 0; i < numbers.size();) {
        int j = i;
        while (j + 1 < numbers.size() && numbers[j + 1] == numbers[j] + 1)
            ++j;
        parts << (i == j ? QString::number(numbers[i])
                         : QStringLiteral("%1-%2").arg(numbers[i]).arg(numbers[j]));
        i = j + 1;
    }
    return parts.join(QStringLiteral(", "));
}

// Turns rows of kVersionSelect into records. The versions of one model mostly share their
// signatures and class names, so each distinct text is parsed once per listing, not once per
// version: JSON parsing is most of the time of a long listing.
class VersionReader
{
public:
    explicit VersionReader(bool withRecipe = true) : m_withRecipe(withRecipe) {}

    VersionRecord read(const QSqlQuery &query)
    {
        VersionRecord record;
        record.id = query.value(0).toLongLong();
        record.modelId = query.value(1).toLongLong();
        record.modelName = query.value(2).toString();
        record.number = query.value(3).toInt();
        record.kind = versionKindFromName(query.value(4).toString());
        record.created = timeFrom(query.value(5));
        record.notes = query.value(6).toString();
        record.inputs = signature(query.value(7).toByteArray());
        record.outputs = signature(query.value(8).toByteArray());
        const QByteArray names = query.value(9).toByteArray();
        auto it = m_classNames.constFind(names);
        if (it == m_classNames.constEnd()) {
            QStringList parsed;
            for (const QJsonValue &name : QJsonDocument::fromJson(names).array())
                parsed << name.toString();
            it = m_classNames.insert(names, parsed);
        }
        record.classNames = *it;
        record.parameterCount = query.value(10).toLongLong();
        record.sizeBytes = query.value(11).toLongLong();
        record.sha256 = query.value(12).toString();
        if (m_withRecipe)
            record.recipe = QJsonDocument::fromJson(query.value(13).toByteArray()).object();
        record.metrics = QJsonDocument::fromJson(query.value(14).toByteArray()).object();
        record.runId = query.value(15).toLongLong();
        return record;
    }

private:
    Signature signature(const QByteArray &json)
    {
        auto it = m_signatures.constFind(json);
        if (it == m_signatures.constEnd())
            it = m_signatures.insert(json,
                                     signatureFromJson(QJsonDocument::fromJson(json).array()));
        return *it;
    }

    bool m_withRecipe = true;
    QHash<QByteArray, Signature> m_signatures;
    QHash<QByteArray, QStringList> m_classNames;
};

QVector<LineageEdge> readEdges(QSqlQuery &query)
{
    QVector<LineageEdge> edges;
    while (query.next()) {
        LineageEdge edge;
        edge.parentId = query.value(0).toLongLong();
        edge.childId = query.value(1).toLongLong();
        edge.role = query.value(2).toString();
        edge.parentRef = query.value(3).toString() + QLatin1Char(':') + query.value(4).toString();
        edge.childRef = query.value(5).toString() + QLatin1Char(':') + query.value(6).toString();
        edges << edge;
    }
    return edges;
}

// Tags and aliases of `records`: those of one version, or of every version of one model.
void attachTagsAndAliases(QSqlDatabase &db, QVector<VersionRecord> &records, bool wholeModel)
{
    if (records.isEmpty())
        return;
    QHash<qint64, int> indexOf;
    for (int i = 0; i < records.size(); ++i)
        indexOf.insert(records[i].id, i);
    const QVariant key = wholeModel ? records.first().modelId : records.first().id;

    QSqlQuery query(db);
    query.setForwardOnly(true);
    runSql(query,
           wholeModel ? QStringLiteral("SELECT t.version_id, t.key, t.value FROM tags t"
                                       " JOIN versions v ON v.id = t.version_id"
                                       " WHERE v.model_id = ?")
                      : QStringLiteral("SELECT version_id, key, value FROM tags"
                                       " WHERE version_id = ?"),
           {key});
    while (query.next()) {
        const auto it = indexOf.constFind(query.value(0).toLongLong());
        if (it != indexOf.constEnd())
            records[*it].tags.insert(query.value(1).toString(), query.value(2).toString());
    }
    runSql(query,
           wholeModel ? QStringLiteral("SELECT version_id, alias FROM aliases"
                                       " WHERE model_id = ? ORDER BY alias")
                      : QStringLiteral("SELECT version_id, alias FROM aliases"
                                       " WHERE version_id = ? ORDER BY alias"),
           {key});
    while (query.next()) {
        const auto it = indexOf.constFind(query.value(0).toLongLong());
        if (it != indexOf.constEnd())
            records[*it].aliases << query.value(1).toString();
    }
}

QStringList modelNames(QSqlDatabase &db)
{
    QSqlQuery query(db);
    runSql(query, QStringLiteral("SELECT name FROM models ORDER BY name"));
    QStringList names;
    while (query.next())
        names << query.value(0).toString();
    return names;
}

[[noreturn]] void throwNoModel(QSqlDatabase &db, const QString &name)
{
    QStringList names = modelNames(db);
    if (names.isEmpty())
        throw Error(
            QStringLiteral("no model named %1; the registry has no models yet").arg(quoted(name)));
    // A long list helps nobody on one line.
    constexpr int kShown = 20;
    const int more = int(names.size()) - kShown;
    if (more > 0) {
        names = names.mid(0, kShown);
        names << QStringLiteral("and %1 more").arg(more);
    }
    throw Error(QStringLiteral("no model named %1; models: %2")
                    .arg(quoted(name), names.join(QStringLiteral(", "))));
}

qint64 modelIdOf(QSqlDatabase &db, const QString &name)
{
    QSqlQuery query(db);
    runSql(query, QStringLiteral("SELECT id FROM models WHERE name = ?"), {name});
    if (!query.next())
        throwNoModel(db, name);
    return query.value(0).toLongLong();
}

QStringList aliasesOf(QSqlDatabase &db, qint64 modelId)
{
    QSqlQuery query(db);
    runSql(query, QStringLiteral("SELECT alias FROM aliases WHERE model_id = ? ORDER BY alias"),
           {modelId});
    QStringList aliases;
    while (query.next())
        aliases << query.value(0).toString();
    return aliases;
}

// Every model, or the one called `name` when it is not empty.
QVector<ModelRecord> readModels(QSqlDatabase &db, const QString &name)
{
    QSqlQuery query(db);
    const QString sql = QStringLiteral("SELECT m.id, m.name, m.description, m.created,"
                                       " count(v.id), coalesce(max(v.number), 0) FROM models m"
                                       " LEFT JOIN versions v ON v.model_id = m.id %1"
                                       " GROUP BY m.id ORDER BY m.name");
    if (name.isEmpty())
        runSql(query, sql.arg(QString()));
    else
        runSql(query, sql.arg(QStringLiteral("WHERE m.name = ?")), {name});
    QVector<ModelRecord> records;
    while (query.next()) {
        ModelRecord record;
        record.id = query.value(0).toLongLong();
        record.name = query.value(1).toString();
        record.description = query.value(2).toString();
        record.created = timeFrom(query.value(3));
        record.versionCount = query.value(4).toInt();
        record.latestVersion = query.value(5).toInt();
        records << record;
    }
    return records;
}

}   // namespace

// --- models and versions ---

QVector<ModelRecord> Registry::models() const
{
    QSqlDatabase db = connection(m_connection);
    return readModels(db, QString());
}

std::optional<ModelRecord> Registry::model(const QString &name) const
{
    QSqlDatabase db = connection(m_connection);
    const QVector<ModelRecord> records = readModels(db, name);
    if (records.isEmpty())
        return std::nullopt;
    return records.first();
}

VersionRecord Registry::addVersion(const NewVersion &version)
{
    checkModelName(version.modelName);
    for (const auto &parent : version.parents) {
        if (parent.second.trimmed().isEmpty())
            throw Error(QStringLiteral("a lineage edge needs a role (source, teacher, "
                                       "finetuned-from, ...)"));
    }
    QSqlDatabase db = connection(m_connection);
    const ArtifactStore store(m_root);
    // The slow part (copy, hash, fsync) happens before the write lock is taken.
    const ArtifactStore::Staged staged = store.stage(version.artifactPath);
    qint64 versionId = 0;
    try {
        WriteTransaction transaction(db);
        QSqlQuery query(db);
        runSql(query, QStringLiteral("SELECT id FROM models WHERE name = ?"), {version.modelName});
        qint64 modelId = query.next() ? query.value(0).toLongLong() : 0;
        if (modelId == 0) {
            runSql(query,
                   QStringLiteral("INSERT INTO models (name, description, created)"
                                  " VALUES (?, ?, ?)"),
                   {version.modelName, version.modelDescription, nowText()});
            modelId = query.lastInsertId().toLongLong();
        }
        // Numbered under the write lock: two processes adding at once get 4 and 5.
        runSql(query,
               QStringLiteral("SELECT max(m.last_number, coalesce(max(v.number), 0)) + 1"
                              " FROM models m LEFT JOIN versions v ON v.model_id = m.id"
                              " WHERE m.id = ?"),
               {modelId});
        const int number = query.next() ? query.value(0).toInt() : 1;
        runSql(query, QStringLiteral("UPDATE models SET last_number = ? WHERE id = ?"),
               {number, modelId});
        if (version.runId != 0
            && !runExists(db, version.runId))
            throwNoRun(version.runId);
        for (const auto &parent : version.parents) {
            if (!versionExists(db, parent.first))
                throw Error(QStringLiteral("the parent version with id %1 (%2) is not in the "
                                           "registry")
                                .arg(parent.first)
                                .arg(parent.second));
        }
        runSql(query,
               QStringLiteral(
                   "INSERT INTO versions (model_id, number, kind, created, notes, inputs_json,"
                   " outputs_json, class_names_json, parameter_count, size_bytes, sha256,"
                   " recipe_json, metrics_json, run_id)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
               {modelId, number, versionKindName(version.kind), nowText(), version.notes,
                jsonText(signatureToJson(version.inputs)),
                jsonText(signatureToJson(version.outputs)),
                jsonText(QJsonArray::fromStringList(version.classNames)), version.parameterCount,
                staged.sizeBytes, staged.sha256, jsonText(version.recipe),
                jsonText(version.metrics), nullIfZero(version.runId)});
        versionId = query.lastInsertId().toLongLong();
        prepare(query, QStringLiteral("INSERT OR IGNORE INTO lineage (parent_id, child_id, role)"
                                      " VALUES (?, ?, ?)"));
        for (const auto &parent : version.parents)
            exec(query, {parent.first, versionId, parent.second});
        // Last before the commit and under the lock gc() also takes: the file is in place
        // before any row names it, and no collection can remove it in between.
        store.publish(staged);
        transaction.commit();
    } catch (...) {
        store.discard(staged);
        throw;
    }
    return this->version(versionId);
}

QVector<VersionRecord> Registry::versions(const QString &modelName, Detail detail) const
{
    QSqlDatabase db = connection(m_connection);
    const qint64 modelId = modelIdOf(db, modelName);
    QVector<VersionRecord> records;
    {
        QSqlQuery query(db);
        query.setForwardOnly(true);
        runSql(query,
               kVersionSelect + QStringLiteral("WHERE v.model_id = ? ORDER BY v.number DESC"),
               {modelId});
        VersionReader reader(detail == Detail::Full);
        while (query.next())
            records << reader.read(query);
    }
    attachTagsAndAliases(db, records, true);
    return records;
}

VersionRecord Registry::version(qint64 id) const
{
    QSqlDatabase db = connection(m_connection);
    QVector<VersionRecord> records;
    {
        QSqlQuery query(db);
        runSql(query, kVersionSelect + QStringLiteral("WHERE v.id = ?"), {id});
        if (!query.next())
            throwNoVersion(id);
        records << VersionReader().read(query);
    }
    attachTagsAndAliases(db, records, false);
    return records.first();
}

VersionRecord Registry::resolve(const QString &ref) const
{
    QSqlDatabase db = connection(m_connection);
    const int at = int(ref.indexOf(QLatin1Char('@')));
    const int colon = int(ref.lastIndexOf(QLatin1Char(':')));
    const QString name = at >= 0 ? ref.left(at) : colon >= 0 ? ref.left(colon) : ref;
    const qint64 modelId = modelIdOf(db, name);
    // A name from before the naming rule is listed and renamed, never used: it may be a path.
    checkStoredModelName(name);
    QSqlQuery query(db);

    QString alias;
    if (at >= 0) {
        alias = ref.mid(at + 1);
    } else if (colon < 0) {
        // A bare name means the production version when there is one.
        runSql(query, QStringLiteral("SELECT 1 FROM aliases WHERE model_id = ? AND alias = ?"),
               {modelId, QStringLiteral("production")});
        if (query.next())
            alias = QStringLiteral("production");
    }
    if (!alias.isEmpty()) {
        runSql(query,
               QStringLiteral("SELECT version_id FROM aliases WHERE model_id = ?"
                              " AND alias = ?"),
               {modelId, alias});
        if (query.next())
            return version(query.value(0).toLongLong());
        const QStringList aliases = aliasesOf(db, modelId);
        throw Error(QStringLiteral("model %1 has no alias %2 (%3)")
                        .arg(quoted(name), quoted(alias),
                             aliases.isEmpty() ? QStringLiteral("it has no aliases")
                                               : QStringLiteral("aliases: ")
                                                     + aliases.join(QStringLiteral(", "))));
    }

    QVector<int> numbers;
    runSql(query, QStringLiteral("SELECT number FROM versions WHERE model_id = ?"), {modelId});
    while (query.next())
        numbers << query.value(0).toInt();
    if (colon < 0) {
        if (numbers.isEmpty())
            throw Error(QStringLiteral("model %1 has no versions").arg(quoted(name)));
        runSql(query,
               QStringLiteral("SELECT id FROM versions WHERE model_id = ?"
                              " ORDER BY number DESC LIMIT 1"),
               {modelId});
        query.next();
        return version(query.value(0).toLongLong());
    }
    bool ok = false;
    const int number = ref.mid(colon + 1).toInt(&ok);
    if (!ok || number <= 0)
        throw Error(QStringLiteral("%1 is not a version reference: write NAME:NUMBER (cnn:3), "
                                   "NAME@ALIAS (cnn@production) or NAME")
                        .arg(quoted(ref)));
    runSql(query, QStringLiteral("SELECT id FROM versions WHERE model_id = ? AND number = ?"),
           {modelId, number});
    if (query.next())
        return version(query.value(0).toLongLong());
    throw Error(QStringLiteral("model %1 has no version %2 (%3)")
                    .arg(quoted(name), QString::number(number),
                         numbers.isEmpty() ? QStringLiteral("it has no versions")
                                           : QStringLiteral("versions ") + numberRanges(numbers)));
}

QVector<LineageEdge> Registry::lineage(qint64 versionId) const
{
    QSqlDatabase db = connection(m_connection);
    if (!versionExists(db, versionId))
        throwNoVersion(versionId);
    QSqlQuery query(db);
    // UNION, not UNION ALL: a version reached twice (a diamond) is walked once.
    runSql(query,
           QStringLiteral("WITH RECURSIVE"
                          " up(id) AS (SELECT ? UNION SELECT l.parent_id FROM lineage l"
                          "   JOIN up ON l.child_id = up.id),"
                          " down(id) AS (SELECT ? UNION SELECT l.child_id FROM lineage l"
                          "   JOIN down ON l.parent_id = down.id) ")
               + kEdgeSelect
               + QStringLiteral("WHERE l.child_id IN (SELECT id FROM up)"
                                " OR l.parent_id IN (SELECT id FROM down)"
                                " ORDER BY l.child_id, l.role, l.parent_id"),
           {versionId, versionId});
    return readEdges(query);
}

QVector<LineageEdge> Registry::modelLineage(const QString &modelName) const
{
    QSqlDatabase db = connection(m_connection);
    const qint64 modelId = modelIdOf(db, modelName);
    QSqlQuery query(db);
    runSql(query,
           kEdgeSelect
               + QStringLiteral("WHERE cv.model_id = ?"
                                " ORDER BY l.child_id, l.role, l.parent_id"),
           {modelId});
    return readEdges(query);
}

// --- edits ---

void Registry::renameModel(const QString &from, const QString &to)
{
    checkModelName(to);
    QSqlDatabase db = connection(m_connection);
    WriteTransaction transaction(db);
    const qint64 modelId = modelIdOf(db, from);
    if (from == to)
        return;
    QSqlQuery query(db);
    runSql(query, QStringLiteral("SELECT 1 FROM models WHERE name = ?"), {to});
    if (query.next())
        throw Error(QStringLiteral("a model named %1 already exists: choose another name, or "
                                   "rename or remove that one first").arg(quoted(to)));
    // Versions, lineage, aliases, tags and runs refer to the model by id: they all follow.
    runSql(query, QStringLiteral("UPDATE models SET name = ? WHERE id = ?"), {to, modelId});
    transaction.commit();
}

void Registry::setTag(qint64 versionId, const QString &key, const QString &value)
{
    if (key.trimmed().isEmpty())
        throw Error(QStringLiteral("a tag needs a key"));
    QSqlDatabase db = connection(m_connection);
    WriteTransaction transaction(db);
    if (!versionExists(db, versionId))
        throwNoVersion(versionId);
    QSqlQuery query(db);
    runSql(query,
           QStringLiteral("INSERT INTO tags (version_id, key, value) VALUES (?, ?, ?)"
                          " ON CONFLICT (version_id, key) DO UPDATE SET value = excluded.value"),
           {versionId, key, value});
    transaction.commit();
}

void Registry::removeTag(qint64 versionId, const QString &key)
{
    const VersionRecord record = version(versionId);
    QSqlDatabase db = connection(m_connection);
    QSqlQuery query(db);
    runSql(query, QStringLiteral("DELETE FROM tags WHERE version_id = ? AND key = ?"),
           {versionId, key});
    if (query.numRowsAffected() > 0)
        return;
    throw Error(QStringLiteral("%1 has no tag %2 (%3)")
                    .arg(record.ref(), quoted(key),
                         record.tags.isEmpty()
                             ? QStringLiteral("it has no tags")
                             : QStringLiteral("tags: ") + quotedList(record.tags.keys())));
}

void Registry::setAlias(const QString &modelName, const QString &alias, qint64 versionId)
{
    if (alias.trimmed().isEmpty())
        throw Error(QStringLiteral("an alias needs a name (production, candidate, ...)"));
    QSqlDatabase db = connection(m_connection);
    WriteTransaction transaction(db);
    const qint64 modelId = modelIdOf(db, modelName);
    checkStoredModelName(modelName);
    const VersionRecord target = version(versionId);
    if (target.modelId != modelId)
        throw Error(QStringLiteral("%1 is a version of %2, not of %3: an alias points at a "
                                   "version of its own model")
                        .arg(target.ref(), quoted(target.modelName), quoted(modelName)));
    QSqlQuery query(db);
    // The primary key (model, alias) makes this a move when the alias exists.
    runSql(query,
           QStringLiteral("INSERT INTO aliases (model_id, alias, version_id) VALUES (?, ?, ?)"
                          " ON CONFLICT (model_id, alias)"
                          " DO UPDATE SET version_id = excluded.version_id"),
           {modelId, alias, versionId});
    transaction.commit();
}

void Registry::removeAlias(const QString &modelName, const QString &alias)
{
    QSqlDatabase db = connection(m_connection);
    const qint64 modelId = modelIdOf(db, modelName);
    checkStoredModelName(modelName);
    QSqlQuery query(db);
    runSql(query, QStringLiteral("DELETE FROM aliases WHERE model_id = ? AND alias = ?"),
           {modelId, alias});
    if (query.numRowsAffected() > 0)
        return;
    const QStringList aliases = aliasesOf(db, modelId);
    throw Error(QStringLiteral("model %1 has no alias %2 (%3)")
                    .arg(quoted(modelName), quoted(alias),
                         aliases.isEmpty()
                             ? QStringLiteral("it has no aliases")
                             : QStringLiteral("aliases: ") + aliases.join(QStringLiteral(", "))));
}

void Registry::setNotes(qint64 versionId, const QString &notes)
{
    QSqlDatabase db = connection(m_connection);
    QSqlQuery query(db);
    runSql(query, QStringLiteral("UPDATE versions SET notes = ? WHERE id = ?"),
           {notes, versionId});
    if (query.numRowsAffected() == 0)
        throwNoVersion(versionId);
}

void Registry::removeVersion(qint64 versionId, bool force)
{
    QSqlDatabase db = connection(m_connection);
    WriteTransaction transaction(db);
    const VersionRecord record = version(versionId);
    QStringList children;
    {
        QSqlQuery query(db);
        runSql(query,
               kEdgeSelect
                   + QStringLiteral("WHERE l.parent_id = ?"
                                    " ORDER BY cm.name, cv.number, l.role"),
               {versionId});
        for (const LineageEdge &edge : readEdges(query))
            children << QStringLiteral("%1 (%2)").arg(edge.childRef, edge.role);
    }
    if (!force && (!children.isEmpty() || !record.aliases.isEmpty())) {
        QStringList reasons;
        if (!children.isEmpty())
            reasons << QStringLiteral("%1 %2 from it")
                           .arg(children.join(QStringLiteral(", ")),
                                children.size() == 1 ? QStringLiteral("descends")
                                                     : QStringLiteral("descend"));
        if (!record.aliases.isEmpty())
            reasons << QStringLiteral("%1 %2 %3 at it")
                           .arg(record.aliases.size() == 1 ? QStringLiteral("the alias")
                                                           : QStringLiteral("the aliases"),
                                quotedList(record.aliases),
                                record.aliases.size() == 1 ? QStringLiteral("points")
                                                           : QStringLiteral("point"));
        throw Error(QStringLiteral("%1 is still in use: %2. Move or remove those first, or "
                                   "force the removal (its aliases and lineage edges go with "
                                   "it).")
                        .arg(record.ref(), reasons.join(QStringLiteral("; "))));
    }
    QSqlQuery query(db);
    runSql(query, QStringLiteral("DELETE FROM aliases WHERE version_id = ?"), {versionId});
    runSql(query, QStringLiteral("DELETE FROM lineage WHERE parent_id = ?"), {versionId});
    // Its own parent edges, tags and benchmarks cascade; runs forget it (SET NULL).
    runSql(query, QStringLiteral("DELETE FROM versions WHERE id = ?"), {versionId});
    transaction.commit();
}
}   // namespace ms
