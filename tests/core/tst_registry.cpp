// Registry: models and versions, numbering, references and their error texts, lineage of a
// distilled student, tags, aliases and notes, removal rules, runs with their metric series,
// benchmarks, and text that must come back exactly as it went in.
#include "TestSupport.h"
#include "common/Error.h"
#include "registry/Registry.h"

#include <QCryptographicHash>
#include <QFile>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <functional>

using namespace ms;
using ms::test::errorOf;

namespace {

// The store does not load torch: any bytes stand in for a TorchScript file.
QString writeArtifact(const QString &dir, const QByteArray &content)
{
    static int counter = 0;
    const QString path = dir + QStringLiteral("/artifact-%1.pt").arg(++counter);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size())
        qFatal("cannot write %s", qPrintable(path));
    return path;
}

QStringList edgeTexts(const QVector<LineageEdge> &edges)
{
    QStringList texts;
    for (const LineageEdge &edge : edges)
        texts << edge.parentRef + QStringLiteral(" -") + edge.role + QStringLiteral("-> ")
                     + edge.childRef;
    texts.sort();
    return texts;
}

}   // namespace

class TestRegistry final : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Registry> m_registry;

    QString workspace() const { return m_dir->path() + QStringLiteral("/ws"); }

    VersionRecord add(const QString &model, const QByteArray &content = QByteArray(),
                      VersionKind kind = VersionKind::Trained,
                      const QVector<QPair<qint64, QString>> &parents = {})
    {
        NewVersion version;
        version.modelName = model;
        version.kind = kind;
        // Distinct bytes unless asked otherwise, so each version has its own artifact.
        version.artifactPath = writeArtifact(
            m_dir->path(), content.isEmpty()
                               ? QByteArray::number(QRandomGenerator::global()->generate64())
                               : content);
        version.parents = parents;
        return m_registry->addVersion(version);
    }

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
        m_registry = std::make_unique<Registry>(workspace());
    }

    void cleanup()
    {
        m_registry.reset();
        m_dir.reset();
    }

    void createsModelsAndVersions()
    {
        const QByteArray bytes("not really torchscript, but bytes to store");
        NewVersion version;
        version.modelName = QStringLiteral("cnn");
        version.modelDescription = QStringLiteral("small convnet");
        version.kind = VersionKind::Imported;
        version.artifactPath = writeArtifact(m_dir->path(), bytes);
        version.recipe = {{QStringLiteral("epochs"), 3}, {QStringLiteral("lr"), 0.01}};
        version.inputs = {{QStringLiteral("x"), QStringLiteral("float32"), {-1, 1, 28, 28}}};
        version.outputs = {{QStringLiteral("logits"), QStringLiteral("float32"), {-1, 10}}};
        version.classNames = {QStringLiteral("shirt"), QStringLiteral("boot")};
        version.parameterCount = 12345;
        version.notes = QStringLiteral("first try");
        version.metrics = {{QStringLiteral("test_acc"), 0.91}};
        const QDateTime before = QDateTime::currentDateTimeUtc().addSecs(-1);
        const VersionRecord stored = m_registry->addVersion(version);

        QCOMPARE(stored.modelName, QStringLiteral("cnn"));
        QCOMPARE(stored.number, 1);
        QCOMPARE(stored.ref(), QStringLiteral("cnn:1"));
        QCOMPARE(stored.kind, VersionKind::Imported);
        QCOMPARE(stored.recipe, version.recipe);
        QCOMPARE(stored.metrics, version.metrics);
        QCOMPARE(stored.classNames, version.classNames);
        QCOMPARE(stored.parameterCount, qint64(12345));
        QCOMPARE(stored.notes, QStringLiteral("first try"));
        QCOMPARE(stored.inputs.size(), 1);
        QCOMPARE(stored.inputs[0].name, QStringLiteral("x"));
        QCOMPARE(stored.inputs[0].shape, (std::vector<qint64>{-1, 1, 28, 28}));
        QCOMPARE(stored.outputs[0].shape, (std::vector<qint64>{-1, 10}));
        QCOMPARE(stored.sizeBytes, qint64(bytes.size()));
        QCOMPARE(stored.sha256,
                 QString::fromLatin1(
                     QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex()));
        QVERIFY(stored.created >= before && stored.created <= QDateTime::currentDateTimeUtc());
        QCOMPARE(stored.runId, qint64(0));

        // The artifact lives in the content-addressed store with the bytes given.
        const QString path = m_registry->artifactPath(stored);
        QVERIFY2(path.endsWith(QStringLiteral("/artifacts/sha256/") + stored.sha256.left(2)
                               + QLatin1Char('/') + stored.sha256 + QStringLiteral(".pt")),
                 qPrintable(path));
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(), bytes);

        // A second model and a second version; the description stays the first one's.
        version.modelDescription = QStringLiteral("ignored: the model exists");
        version.artifactPath = writeArtifact(m_dir->path(), "other bytes");
        m_registry->addVersion(version);
        add(QStringLiteral("mlp"));

        const QVector<ModelRecord> models = m_registry->models();
        QCOMPARE(models.size(), 2);
        QCOMPARE(models[0].name, QStringLiteral("cnn"));
        QCOMPARE(models[0].description, QStringLiteral("small convnet"));
        QCOMPARE(models[0].versionCount, 2);
        QCOMPARE(models[0].latestVersion, 2);
        QCOMPARE(models[1].name, QStringLiteral("mlp"));
        QCOMPARE(models[1].versionCount, 1);
        QVERIFY(m_registry->model(QStringLiteral("cnn")).has_value());
        QVERIFY(!m_registry->model(QStringLiteral("nope")).has_value());

        const QVector<VersionRecord> versions = m_registry->versions(QStringLiteral("cnn"));
        QCOMPARE(versions.size(), 2);
        QCOMPARE(versions[0].number, 2);   // newest first
        QCOMPARE(versions[1].number, 1);
        QCOMPARE(m_registry->version(stored.id).sha256, stored.sha256);

        // A registry opened again sees the same.
        m_registry = std::make_unique<Registry>(workspace());
        QCOMPARE(m_registry->versions(QStringLiteral("cnn")).size(), 2);
        QCOMPARE(m_registry->version(stored.id).recipe, version.recipe);
    }

    void listingLeavesOnlyTheRecipeOut()
    {
        NewVersion version;
        version.modelName = QStringLiteral("cnn");
        version.artifactPath = writeArtifact(m_dir->path(), "listing");
        version.recipe = QJsonObject{{QStringLiteral("epochs"), 3}};
        version.metrics = QJsonObject{{QStringLiteral("test_acc"), 0.9}};
        version.classNames = {QStringLiteral("a"), QStringLiteral("b")};
        const VersionRecord stored = m_registry->addVersion(version);
        m_registry->setTag(stored.id, QStringLiteral("k"), QStringLiteral("v"));
        const VersionRecord full = m_registry->versions(QStringLiteral("cnn")).first();
        const VersionRecord listed =
            m_registry->versions(QStringLiteral("cnn"), Registry::Detail::Listing).first();
        QCOMPARE(full.recipe.value(QStringLiteral("epochs")).toInt(), 3);
        QVERIFY(listed.recipe.isEmpty());
        QJsonObject fullJson = full.toJson();
        fullJson.remove(QStringLiteral("recipe"));
        QJsonObject listedJson = listed.toJson();
        listedJson.remove(QStringLiteral("recipe"));
        QCOMPARE(listedJson, fullJson);   // everything else is the same
    }

    void versionNumbersIncreasePerModel()
    {
        QCOMPARE(add(QStringLiteral("cnn")).number, 1);
        QCOMPARE(add(QStringLiteral("mlp")).number, 1);
        QCOMPARE(add(QStringLiteral("cnn")).number, 2);
        const VersionRecord third = add(QStringLiteral("cnn"));
        QCOMPARE(third.number, 3);
        QCOMPARE(add(QStringLiteral("mlp")).number, 2);
        // A removed number is never given again: cnn:3 keeps meaning the removed bytes.
        m_registry->removeVersion(third.id);
        QCOMPARE(add(QStringLiteral("cnn")).number, 4);
        QCOMPARE(m_registry->model(QStringLiteral("cnn"))->latestVersion, 4);
    }

    void resolve_data()
    {
        QTest::addColumn<QString>("ref");
        QTest::addColumn<QString>("expectedRef");   // empty when an error is expected
        QTest::addColumn<QString>("expectedError");

        // clang-format off
        QTest::newRow("number") << "cnn:2" << "cnn:2" << "";
        QTest::newRow("alias") << "cnn@candidate" << "cnn:1" << "";
        QTest::newRow("name is production") << "cnn" << "cnn:2" << "";
        QTest::newRow("name is newest") << "mlp" << "mlp:2" << "";
        QTest::newRow("no such version") << "cnn:7" << ""
            << "model \"cnn\" has no version 7 (versions 1-3)";
        QTest::newRow("no such alias") << "cnn@prod" << ""
            << "model \"cnn\" has no alias \"prod\" (aliases: candidate, production)";
        QTest::newRow("no alias at all") << "mlp@prod" << ""
            << "model \"mlp\" has no alias \"prod\" (it has no aliases)";
        QTest::newRow("no such model") << "cmn" << ""
            << "no model named \"cmn\"; models: cnn, mlp";
        QTest::newRow("no such model with number") << "cmn:1" << ""
            << "no model named \"cmn\"; models: cnn, mlp";
        QTest::newRow("not a number") << "cnn:two" << ""
            << "\"cnn:two\" is not a version reference: write NAME:NUMBER (cnn:3), NAME@ALIAS "
               "(cnn@production) or NAME";
        QTest::newRow("zero") << "cnn:0" << "" << "\"cnn:0\" is not a version reference";
        // clang-format on
    }

    void resolve()
    {
        QFETCH(QString, ref);
        QFETCH(QString, expectedRef);
        QFETCH(QString, expectedError);
        const VersionRecord one = add(QStringLiteral("cnn"));
        const VersionRecord two = add(QStringLiteral("cnn"));
        add(QStringLiteral("cnn"));
        add(QStringLiteral("mlp"));
        add(QStringLiteral("mlp"));
        m_registry->setAlias(QStringLiteral("cnn"), QStringLiteral("candidate"), one.id);
        m_registry->setAlias(QStringLiteral("cnn"), QStringLiteral("production"), two.id);

        if (!expectedRef.isEmpty()) {
            QCOMPARE(m_registry->resolve(ref).ref(), expectedRef);
            return;
        }
        const QString error = errorOf([&] { m_registry->resolve(ref); });
        QVERIFY2(error.startsWith(expectedError), qPrintable(error));
    }

    void versionRangesInErrors()
    {
        for (int i = 0; i < 5; ++i)
            add(QStringLiteral("cnn"));
        m_registry->removeVersion(m_registry->resolve(QStringLiteral("cnn:3")).id);
        QCOMPARE(errorOf([&] { m_registry->resolve(QStringLiteral("cnn:3")); }),
                 QStringLiteral("model \"cnn\" has no version 3 (versions 1-2, 4-5)"));
        QCOMPARE(
            errorOf([&] {
                Registry(m_dir->path() + QStringLiteral("/empty")).resolve(QStringLiteral("x"));
            }),
            QStringLiteral("no model named \"x\"; the registry has no models yet"));
    }

    void lineageOfADistilledStudent()
    {
        const VersionRecord teacher = add(QStringLiteral("big"));
        const VersionRecord source = add(QStringLiteral("small"));
        const VersionRecord student =
            add(QStringLiteral("small"), QByteArray(), VersionKind::Distilled,
                {{source.id, QStringLiteral("source")}, {teacher.id, QStringLiteral("teacher")}});
        const VersionRecord tuned =
            add(QStringLiteral("small"), QByteArray(), VersionKind::Finetuned,
                {{student.id, QStringLiteral("finetuned-from")}});
        const VersionRecord unrelated = add(QStringLiteral("big"));

        const QStringList all = {QStringLiteral("big:1 -teacher-> small:2"),
                                 QStringLiteral("small:1 -source-> small:2"),
                                 QStringLiteral("small:2 -finetuned-from-> small:3")};
        // From the student: both parents and its child.
        QCOMPARE(edgeTexts(m_registry->lineage(student.id)), all);
        // From the teacher's side: the student and, further down, the student's child.
        QCOMPARE(edgeTexts(m_registry->lineage(teacher.id)), (QStringList{all[0], all[2]}));
        QCOMPARE(edgeTexts(m_registry->lineage(source.id)), (QStringList{all[1], all[2]}));
        // From the grandchild: every ancestor's edges.
        QCOMPARE(edgeTexts(m_registry->lineage(tuned.id)), all);
        QVERIFY(m_registry->lineage(unrelated.id).isEmpty());
        // The ids are carried along with the references.
        for (const LineageEdge &edge : m_registry->lineage(student.id)) {
            QCOMPARE(m_registry->version(edge.parentId).ref(), edge.parentRef);
            QCOMPARE(m_registry->version(edge.childId).ref(), edge.childRef);
        }
        // The model's lineage includes the teacher from another model.
        QCOMPARE(edgeTexts(m_registry->modelLineage(QStringLiteral("small"))), all);
        QVERIFY(m_registry->modelLineage(QStringLiteral("big")).isEmpty());

        QVERIFY(errorOf([&] {
                    add(QStringLiteral("small"), QByteArray(), VersionKind::Distilled,
                        {{424242, QStringLiteral("teacher")}});
                }).contains(QStringLiteral("424242")));
    }

    void tagsAliasesAndNotes()
    {
        const VersionRecord one = add(QStringLiteral("cnn"));
        const VersionRecord two = add(QStringLiteral("cnn"));
        const VersionRecord other = add(QStringLiteral("mlp"));

        m_registry->setTag(one.id, QStringLiteral("dataset"), QStringLiteral("fashion"));
        m_registry->setTag(one.id, QStringLiteral("owner"), QStringLiteral("ana"));
        m_registry->setTag(one.id, QStringLiteral("owner"), QStringLiteral("bo"));   // overwrite
        QCOMPARE(m_registry->version(one.id).tags,
                 (QMap<QString, QString>{{QStringLiteral("dataset"), QStringLiteral("fashion")},
                                         {QStringLiteral("owner"), QStringLiteral("bo")}}));
        m_registry->removeTag(one.id, QStringLiteral("dataset"));
        QCOMPARE(m_registry->version(one.id).tags.keys(), QStringList{QStringLiteral("owner")});
        QCOMPARE(errorOf([&] { m_registry->removeTag(one.id, QStringLiteral("nope")); }),
                 QStringLiteral("cnn:1 has no tag \"nope\" (tags: \"owner\")"));
        QVERIFY(m_registry->version(two.id).tags.isEmpty());

        // An alias points at one version and moves when set again.
        m_registry->setAlias(QStringLiteral("cnn"), QStringLiteral("production"), one.id);
        QCOMPARE(m_registry->version(one.id).aliases, QStringList{QStringLiteral("production")});
        m_registry->setAlias(QStringLiteral("cnn"), QStringLiteral("production"), two.id);
        QVERIFY(m_registry->version(one.id).aliases.isEmpty());
        QCOMPARE(m_registry->version(two.id).aliases, QStringList{QStringLiteral("production")});
        QCOMPARE(m_registry->resolve(QStringLiteral("cnn@production")).id, two.id);
        // Listing carries tags and aliases too.
        const QVector<VersionRecord> listed = m_registry->versions(QStringLiteral("cnn"));
        QCOMPARE(listed[0].aliases, QStringList{QStringLiteral("production")});
        QCOMPARE(listed[1].tags.value(QStringLiteral("owner")), QStringLiteral("bo"));

        QCOMPARE(errorOf([&] {
                     m_registry->setAlias(QStringLiteral("cnn"), QStringLiteral("x"), other.id);
                 }),
                 QStringLiteral("mlp:1 is a version of \"mlp\", not of \"cnn\": an alias points "
                                "at a version of its own model"));
        m_registry->removeAlias(QStringLiteral("cnn"), QStringLiteral("production"));
        QVERIFY(m_registry->version(two.id).aliases.isEmpty());
        QCOMPARE(errorOf([&] {
                     m_registry->removeAlias(QStringLiteral("cnn"), QStringLiteral("production"));
                 }),
                 QStringLiteral("model \"cnn\" has no alias \"production\" (it has no aliases)"));

        m_registry->setNotes(two.id, QStringLiteral("better on boots"));
        QCOMPARE(m_registry->version(two.id).notes, QStringLiteral("better on boots"));
        m_registry->setNotes(two.id, QString());
        QCOMPARE(m_registry->version(two.id).notes, QString());
        QCOMPARE(errorOf([&] { m_registry->setNotes(99999, QStringLiteral("x")); }),
                 QStringLiteral("no version with id 99999 in the registry"));
        QCOMPARE(errorOf([&] { m_registry->setTag(99999, QStringLiteral("k"), QString()); }),
                 QStringLiteral("no version with id 99999 in the registry"));
    }

    void removeVersionRefusesUnlessForced()
    {
        const VersionRecord teacher = add(QStringLiteral("big"));
        const VersionRecord source = add(QStringLiteral("small"));
        const VersionRecord student =
            add(QStringLiteral("small"), QByteArray(), VersionKind::Distilled,
                {{source.id, QStringLiteral("source")}, {teacher.id, QStringLiteral("teacher")}});
        m_registry->setAlias(QStringLiteral("small"), QStringLiteral("production"), source.id);
        m_registry->setAlias(QStringLiteral("small"), QStringLiteral("candidate"), source.id);
        m_registry->setTag(source.id, QStringLiteral("k"), QStringLiteral("v"));

        QCOMPARE(errorOf([&] { m_registry->removeVersion(teacher.id); }),
                 QStringLiteral("big:1 is still in use: small:2 (teacher) descends from it. "
                                "Move or remove those first, or force the removal (its aliases "
                                "and lineage edges go with it)."));
        QCOMPARE(errorOf([&] { m_registry->removeVersion(source.id); }),
                 QStringLiteral("small:1 is still in use: small:2 (source) descends from it; "
                                "the aliases \"candidate\", \"production\" point at it. Move or "
                                "remove those first, or force the removal (its aliases and "
                                "lineage edges go with it)."));
        QCOMPARE(m_registry->versions(QStringLiteral("small")).size(), 2);   // nothing removed

        m_registry->removeVersion(source.id, true);
        QCOMPARE(errorOf([&] { m_registry->version(source.id); }),
                 QString(QStringLiteral("no version with id %1 in the registry").arg(source.id)));
        QCOMPARE(edgeTexts(m_registry->lineage(student.id)),
                 QStringList{QStringLiteral("big:1 -teacher-> small:2")});
        QVERIFY(errorOf([&] {
                    m_registry->resolve(QStringLiteral("small@production"));
                }).contains(QStringLiteral("has no alias")));
        // The student is now a leaf without aliases: no force needed, and its edges go with it.
        m_registry->removeVersion(student.id);
        QVERIFY(m_registry->lineage(teacher.id).isEmpty());
        m_registry->removeVersion(teacher.id);
        QCOMPARE(m_registry->model(QStringLiteral("big"))->versionCount, 0);
        QCOMPARE(errorOf([&] { m_registry->resolve(QStringLiteral("big")); }),
                 QStringLiteral("model \"big\" has no versions"));
    }

    void runsAndMetricsRoundTrip()
    {
        const QJsonObject spec{{QStringLiteral("arch"), QStringLiteral("cnn")}};
        const qint64 runId =
            m_registry->startRun(QStringLiteral("train"), spec, QStringLiteral("/tmp/run-1"));
        RunRecord record = m_registry->run(runId);
        QCOMPARE(record.status, RunStatus::Running);
        QCOMPARE(record.kind, QStringLiteral("train"));
        QCOMPARE(record.spec, spec);
        QCOMPARE(record.runDir, QStringLiteral("/tmp/run-1"));
        QCOMPARE(record.pid, QCoreApplication::applicationPid());
        QVERIFY(record.started.isValid());
        QVERIFY(!record.ended.isValid());

        // 1000 points over three keys, written in shuffled batches: read back by step.
        MetricBatch all;
        for (int step = 0; step < 800; ++step)
            all.append(
                {QStringLiteral("loss"), step, step / 100 + 1, 2.0 / (step + 1), step * 0.01});
        for (int step = 0; step < 190; ++step)
            all.append({QStringLiteral("lr"), step, step / 100 + 1, 0.1 * step, step * 0.01});
        for (int epoch = 1; epoch <= 10; ++epoch)
            all.append(
                {QStringLiteral("val_acc"), epoch * 80, epoch, 0.5 + epoch / 100.0, epoch * 1.5});
        QCOMPARE(all.size(), 1000);
        std::shuffle(all.begin(), all.end(), *QRandomGenerator::global());
        for (int i = 0; i < all.size(); i += 64)
            m_registry->appendMetrics(runId, all.mid(i, 64));

        QCOMPARE(m_registry->metricKeys(runId),
                 (QStringList{QStringLiteral("loss"), QStringLiteral("lr"),
                              QStringLiteral("val_acc")}));
        const QVector<MetricSample> loss = m_registry->metrics(runId, QStringLiteral("loss"));
        QCOMPARE(loss.size(), 800);
        for (int step = 0; step < 800; ++step) {
            QCOMPARE(loss[step].step, qint64(step));
            QCOMPARE(loss[step].epoch, step / 100 + 1);
            QCOMPARE(loss[step].value, 2.0 / (step + 1));   // exact: REAL is a double
            QCOMPARE(loss[step].wallTime_s, step * 0.01);
        }
        const QVector<MetricSample> accuracy =
            m_registry->metrics(runId, QStringLiteral("val_acc"));
        QCOMPARE(accuracy.size(), 10);
        QCOMPARE(accuracy.last().step, qint64(800));
        QCOMPARE(accuracy.last().value, 0.6);
        QCOMPARE(m_registry->metrics(runId, QStringLiteral("lr")).size(), 190);
        QVERIFY(m_registry->metrics(runId, QStringLiteral("nope")).isEmpty());

        // A diverged loss is NaN, and a step logged again (a resumed run) takes the new value.
        m_registry->appendMetrics(runId, {{QStringLiteral("loss"), 800, 9, std::nan(""), 9.0},
                                          {QStringLiteral("loss"), 5, 1, 42.0, 9.5}});
        const QVector<MetricSample> again = m_registry->metrics(runId, QStringLiteral("loss"));
        QCOMPARE(again.size(), 801);
        QVERIFY(std::isnan(again.last().value));
        QCOMPARE(again[5].value, 42.0);

        const VersionRecord produced = add(QStringLiteral("cnn"));
        m_registry->finishRun(runId, RunStatus::Finished, QString(), produced.id);
        record = m_registry->run(runId);
        QCOMPARE(record.status, RunStatus::Finished);
        QCOMPARE(record.versionId, produced.id);
        QVERIFY(record.ended.isValid() && record.ended >= record.started);
        QCOMPARE(record.toJson().value(QStringLiteral("status")).toString(),
                 QStringLiteral("finished"));

        const qint64 second = m_registry->startRun(QStringLiteral("train"), {}, QString());
        m_registry->finishRun(second, RunStatus::Diverged, QStringLiteral("loss is NaN"));
        const QVector<RunRecord> runs = m_registry->runs();
        QCOMPARE(runs.size(), 2);
        QCOMPARE(runs[0].id, second);   // newest first
        QCOMPARE(runs[0].error, QStringLiteral("loss is NaN"));
        QCOMPARE(runs[0].versionId, qint64(0));

        QCOMPARE(errorOf([&] {
                     m_registry->appendMetrics(4242, {{QStringLiteral("x"), 1}});
                 }),
                 QStringLiteral("no run with id 4242 in the registry"));
        QVERIFY(!errorOf([&] { m_registry->finishRun(runId, RunStatus::Running); }).isEmpty());
    }

    void textRoundTrips_data()
    {
        QTest::addColumn<QString>("text");
        QTest::newRow("quotes") << QStringLiteral("it's \"quoted\"; DROP TABLE models; --");
        QTest::newRow("newlines") << QStringLiteral("line one\nline two\r\n\ttabbed");
        QTest::newRow("non-ASCII") << QStringLiteral("Modèle für Ωmega — 模型 🚀");
        QTest::newRow("backslashes and percent") << QStringLiteral("back\\slash %1 %% _ ?");
    }

    void textRoundTrips()
    {
        QFETCH(QString, text);
        // A model name keeps to the naming rule (tst_names); every other text is free.
        NewVersion version;
        version.modelName = QStringLiteral("m");
        version.modelDescription = text;
        version.notes = text;
        version.artifactPath = writeArtifact(m_dir->path(), text.toUtf8());
        version.recipe = {{text, text}};
        version.classNames = {text};
        const VersionRecord stored = m_registry->addVersion(version);
        m_registry->setTag(stored.id, text, text);
        m_registry->setAlias(QStringLiteral("m"), text, stored.id);
        const qint64 runId = m_registry->startRun(text, {{text, text}}, text);
        m_registry->appendMetrics(runId, {{text, 1, 1, 0.5, 0.0}});
        m_registry->finishRun(runId, RunStatus::Failed, text);

        m_registry = std::make_unique<Registry>(workspace());
        const VersionRecord read = m_registry->resolve(QStringLiteral("m@") + text);
        QCOMPARE(read.notes, text);
        QCOMPARE(read.recipe.value(text).toString(), text);
        QCOMPARE(read.classNames, QStringList{text});
        QCOMPARE(read.tags.value(text), text);
        QCOMPARE(read.aliases, QStringList{text});
        QCOMPARE(m_registry->model(QStringLiteral("m"))->description, text);
        const RunRecord run = m_registry->run(runId);
        QCOMPARE(run.kind, text);
        QCOMPARE(run.error, text);
        QCOMPARE(run.runDir, text);
        QCOMPARE(m_registry->metricKeys(runId), QStringList{text});
    }

    void refusesNamesThatBreakReferences_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("empty") << QString();
        QTest::newRow("blank") << QStringLiteral("  ");
        QTest::newRow("colon") << QStringLiteral("cnn:2");
        QTest::newRow("at") << QStringLiteral("cnn@prod");
        QTest::newRow("traversal") << QStringLiteral("../../../escaped");
        QTest::newRow("space") << QStringLiteral("my model");
        QTest::newRow("newline") << QStringLiteral("a\nb");
        QTest::newRow("percent") << QStringLiteral("a%2Fb");
    }

    // A registry written before the naming rule may hold any name: such a model is listed and
    // renamed, and every other use of it is refused with the way out.
    void oldNamesAreListedAndRenamedNeverUsed()
    {
        const VersionRecord kept = add(QStringLiteral("cnn"));
        add(QStringLiteral("other"));
        m_registry.reset();
        // What an older studio stored, written with SQL (Python's sqlite3) as it would have been.
        QByteArray out;
        QVERIFY(ms::test::runPython(m_dir->path(), QStringLiteral(R"(
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE models SET name = ? WHERE name = 'cnn'", ("../my model",))
db.commit()
)"),
                                    {workspace() + QStringLiteral("/registry.db")}, &out));
        m_registry = std::make_unique<Registry>(workspace());
        QCOMPARE(m_registry->models().first().name, QStringLiteral("../my model"));
        QCOMPARE(m_registry->versions(QStringLiteral("../my model")).size(), 1);
        for (const QString &ref : {QStringLiteral("../my model"), QStringLiteral("../my model:1"),
                                   QStringLiteral("../my model@production")}) {
            const QString error = errorOf([&] { m_registry->resolve(ref); });
            QVERIFY2(error.contains(QStringLiteral("rename it first, e.g. modelstudio-cli rename "
                                                   "'../my model' my-model")),
                     qPrintable(error));
        }
        QVERIFY(errorOf([&] {
                    m_registry->setAlias(QStringLiteral("../my model"),
                                         QStringLiteral("production"), kept.id);
                }).contains(QStringLiteral("rename")));

        // Renaming: to a valid name that no other model has.
        QVERIFY(errorOf([&] {
                    m_registry->renameModel(QStringLiteral("../my model"), QStringLiteral("x/y"));
                }).contains(QStringLiteral("cannot be a model name")));
        QVERIFY(errorOf([&] {
                    m_registry->renameModel(QStringLiteral("../my model"),
                                            QStringLiteral("other"));
                }).contains(QStringLiteral("already exists")));
        QVERIFY(errorOf([&] {
                    m_registry->renameModel(QStringLiteral("nope"), QStringLiteral("x"));
                }).startsWith(QStringLiteral("no model named \"nope\"")));
        m_registry->setTag(kept.id, QStringLiteral("k"), QStringLiteral("v"));
        m_registry->renameModel(QStringLiteral("../my model"), QStringLiteral("my-model"));
        const VersionRecord renamed = m_registry->resolve(QStringLiteral("my-model:1"));
        QCOMPARE(renamed.id, kept.id);
        QCOMPARE(renamed.tags.value(QStringLiteral("k")), QStringLiteral("v"));
        QVERIFY(!m_registry->model(QStringLiteral("../my model")));
        // The next version continues the numbering.
        QCOMPARE(add(QStringLiteral("my-model")).number, 2);
    }

    void refusesNamesThatBreakReferences()
    {
        QFETCH(QString, name);
        const QString error = errorOf([&] { add(name); });
        QVERIFY2(error.contains(name.isEmpty() ? QStringLiteral("needs a name")
                                               : QStringLiteral("cannot be a model name")),
                 qPrintable(error));
        QVERIFY(m_registry->models().isEmpty());
    }

    void benchmarksRoundTrip()
    {
        const VersionRecord version = add(QStringLiteral("cnn"));
        const QJsonObject first{{QStringLiteral("latency_ms"), 1.5}};
        const QJsonObject second{{QStringLiteral("latency_ms"), 1.2}};
        m_registry->addBenchmark(version.id, first);
        m_registry->addBenchmark(version.id, second);
        QCOMPARE(m_registry->benchmarks(version.id), (QVector<QJsonObject>{first, second}));
        QVERIFY(!errorOf([&] { m_registry->addBenchmark(777, first); }).isEmpty());
    }

    void namesOfKindsAndStatuses()
    {
        for (VersionKind kind :
             {VersionKind::Trained, VersionKind::Imported, VersionKind::Finetuned,
              VersionKind::Pruned, VersionKind::Quantized, VersionKind::Distilled})
            QCOMPARE(versionKindFromName(versionKindName(kind)), kind);
        QCOMPARE(versionKindName(VersionKind::Distilled), QStringLiteral("distilled"));
        QCOMPARE(errorOf([] { versionKindFromName(QStringLiteral("baked")); }),
                 QStringLiteral("unknown version kind \"baked\"; expected one of: trained, "
                                "imported, finetuned, pruned, quantized, distilled"));
        QCOMPARE(runStatusFromName(QStringLiteral("interrupted")), RunStatus::Interrupted);
        QCOMPARE(runStatusName(RunStatus::Cancelled), QStringLiteral("cancelled"));
    }

    void versionJson()
    {
        const VersionRecord version = add(QStringLiteral("cnn"));
        m_registry->setTag(version.id, QStringLiteral("k"), QStringLiteral("v"));
        const QJsonObject json = m_registry->version(version.id).toJson();
        QCOMPARE(json.value(QStringLiteral("ref")).toString(), QStringLiteral("cnn:1"));
        QCOMPARE(json.value(QStringLiteral("version")).toInt(), 1);
        QCOMPARE(json.value(QStringLiteral("kind")).toString(), QStringLiteral("trained"));
        QCOMPARE(json.value(QStringLiteral("sha256")).toString(), version.sha256);
        QCOMPARE(json.value(QStringLiteral("tags")).toObject().value(QStringLiteral("k")),
                 QJsonValue(QStringLiteral("v")));
        QVERIFY(json.value(QStringLiteral("run_id")).isNull());
    }
};

QTEST_GUILESS_MAIN(TestRegistry)
#include "tst_registry.moc"
