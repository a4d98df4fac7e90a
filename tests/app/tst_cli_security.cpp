// Hostile text through the real modelstudio-cli (issue 16, items 1-3): a model name that was
// code in the generated TorchServe handler, a name that was a path out of the export folder, a
// registry from before the naming rule (its bad names inserted with SQL), control characters
// printed raw to a terminal, and a '%N' in user text that chained QString::arg() rewrote.
// Each slot builds the hostile input the way an attacker or a careless colleague would.

#include "TestSupport.h"
#include "app/CliRun.h"
#include "models/ArchitectureRegistry.h"
#include "models/Model.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

namespace {

using Run = ms::test::CliRun;

// The string of issue 16: a docstring closed, a line of Python, a docstring opened again.
const QString kInjection =
    QStringLiteral("evil\"\"\"\n__import__(\"os\").system(\"touch PWNED\")\n\"\"\"");

// Class names travel inside the .pt (its class_names attribute): text of the same kind, and
// each kind of trouble for one generated file or another.
QStringList hostileClassNames()
{
    QStringList names{kInjection,
                      QStringLiteral("q\"uote'"),
                      QStringLiteral("line\nbreak"),
                      QStringLiteral("a%2Fb"),
                      QStringLiteral("back\\slash"),
                      QStringLiteral("```\n# heading"),
                      QStringLiteral("\x1b[31mred")};
    while (names.size() < 10)
        names << QStringLiteral("plain%1").arg(names.size());
    return names;
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Every file under `dir` called `name`, wherever it landed.
QStringList filesNamed(const QString &dir, const QString &name)
{
    QStringList found;
    QDirIterator it(dir, {name}, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext())
        found << it.next();
    return found;
}

} // namespace

class TestCliSecurity : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_model;   // a 1x28x28 mlp whose class names are hostileClassNames()

    QString ws() const { return m_dir.filePath(QStringLiteral("workspace")); }
    Run reg(QStringList args) const
    {
        args << QStringLiteral("--workspace") << ws();
        return ms::test::runCli(args);
    }
    // Runs SQL on the workspace's registry.db with Python's sqlite3 (another SQLite client, as
    // an older studio or a curious user would), the values bound, not pasted.
    bool sql(const QString &statement, const QStringList &values = {}) const
    {
        const QString script = QStringLiteral(R"(
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute(sys.argv[2], json.loads(sys.argv[3]))
db.commit()
db.close()
)");
        QByteArray out;
        return ms::test::runPython(
            m_dir.path(), script,
            {ws() + QStringLiteral("/registry.db"), statement,
             QString::fromUtf8(QJsonDocument(QJsonArray::fromStringList(values))
                                   .toJson(QJsonDocument::Compact))},
            &out);
    }
    // A model row with `name` (which the studio now refuses) holding a copy of `source`'s
    // first version, as a registry written before the naming rule holds one.
    bool insertOldModel(const QString &name, const QString &source) const
    {
        return sql(QStringLiteral("INSERT INTO models (name, description, created, last_number)"
                                  " VALUES (?, '', '2024-01-01T00:00:00.000Z', 1)"),
                   {name})
               && sql(QStringLiteral(
                          "INSERT INTO versions (model_id, number, kind, created, notes,"
                          " inputs_json, outputs_json, class_names_json, parameter_count,"
                          " size_bytes, sha256, recipe_json, metrics_json)"
                          " SELECT (SELECT id FROM models WHERE name = ?), 1, v.kind, v.created,"
                          " '', v.inputs_json, v.outputs_json, v.class_names_json,"
                          " v.parameter_count, v.size_bytes, v.sha256, '{}', '{}'"
                          " FROM versions v JOIN models m ON m.id = v.model_id"
                          " WHERE m.name = ? AND v.number = 1"),
                      {name, source});
    }
    // Unpacks handler.py, as the issue's reproduction does, and imports it with Debian's Python
    // in that folder. True when the import ran (whatever it did); PWNED is checked by the caller.
    bool importHandler(const QString &mar, const QString &folder) const
    {
        const QString unzip = QStringLiteral(R"(
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extract("handler.py", sys.argv[2])
)");
        QByteArray out;
        if (!ms::test::runPython(m_dir.path(), unzip, {mar, folder}, &out))
            return false;
        QProcess python;
        python.setWorkingDirectory(folder);
        python.start(QStringLiteral("/usr/bin/python3"),
                     {QStringLiteral("-c"), QStringLiteral("import handler")});
        return python.waitForFinished(120000) && python.exitStatus() == QProcess::NormalExit;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY2(QFile::exists(ms::test::cliPath()), qPrintable(ms::test::cliPath()));
        m_model = m_dir.filePath(QStringLiteral("hostile.pt"));
        const ms::Model model = ms::Model::build(
            ms::ArchitectureRegistry::instance().resolve(QStringLiteral("mlp"), {1, 28, 28}, 10),
            ms::ModelDataInfo{{1, 28, 28}, {0.5f}, {0.25f}, hostileClassNames()}, 1);
        model.save(m_model);
        const Run imported = reg({QStringLiteral("import"), m_model, QStringLiteral("--name"),
                                  QStringLiteral("hostile"), QStringLiteral("--json")});
        QVERIFY2(imported.exitCode == 0, qPrintable(imported.err));
        QCOMPARE(imported.json().value(QStringLiteral("class_names")).toArray().size(), 10);
        // A model of a registry written before the naming rule.
        QVERIFY(insertOldModel(QStringLiteral("my model"), QStringLiteral("hostile")));
    }

    // Item 1, the issue's reproduction: the name is refused at the door, so nothing is ever
    // exported under it, and no Python runs it.
    void injectionNameNeverBecomesCode()
    {
        const QString out = m_dir.filePath(QStringLiteral("inject-out"));
        const QString unpacked = m_dir.filePath(QStringLiteral("inject-handler"));
        QVERIFY(QDir().mkpath(out) && QDir().mkpath(unpacked));
        const Run imported = reg({QStringLiteral("import"), m_model, QStringLiteral("--name"),
                                  kInjection});
        const Run exported = reg({QStringLiteral("export"), kInjection, QStringLiteral("--format"),
                                  QStringLiteral("torchserve"), QStringLiteral("--to"),
                                  out + QStringLiteral("/x.mar")});
        if (QFile::exists(out + QStringLiteral("/x.mar")))
            QVERIFY(importHandler(out + QStringLiteral("/x.mar"), unpacked));
        QVERIFY2(filesNamed(m_dir.path(), QStringLiteral("PWNED")).isEmpty(),
                 "the model name ran as Python");
        QCOMPARE(imported.exitCode, 2);
        QVERIFY2(imported.errorLine().contains(QStringLiteral("cannot be a model name")),
                 qPrintable(imported.err));
        QVERIFY(exported.exitCode != 0);
        QVERIFY(!QFile::exists(out + QStringLiteral("/x.mar")));
    }

    // Item 1: the handler is one constant file; the version's text (name, class names) reaches
    // it only as data, read from JSON files in the archive, and comes back exactly.
    void torchServeHandlerReadsTextAsData()
    {
        const QString out = m_dir.filePath(QStringLiteral("ts-out"));
        const Run exported = reg({QStringLiteral("export"), QStringLiteral("hostile:1"),
                                  QStringLiteral("--format"), QStringLiteral("torchserve"),
                                  QStringLiteral("--to"), out + QLatin1Char('/')});
        QVERIFY2(exported.exitCode == 0, qPrintable(exported.err));
        const QString mar = out + QStringLiteral("/hostile.mar");
        const QString unpacked = m_dir.filePath(QStringLiteral("ts-handler"));
        QVERIFY(QDir().mkpath(unpacked));
        QVERIFY(importHandler(mar, unpacked));
        QVERIFY(filesNamed(m_dir.path(), QStringLiteral("PWNED")).isEmpty());
        const QByteArray handler = readAll(unpacked + QStringLiteral("/handler.py"));
        QVERIFY(!handler.isEmpty());
        QVERIFY2(!handler.contains("hostile") && !handler.contains("evil")
                     && !handler.contains("PWNED") && !handler.contains("uote'"),
                 "text of the version was pasted into the handler's code");

        // TorchServe's calls, with a stand-in context: the answer names the classes exactly.
        const QString script = QStringLiteral(R"(
import importlib.util, json, sys, tempfile, types, zipfile, torch
d = tempfile.mkdtemp()
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extractall(d)
    manifest = json.loads(z.read("MAR-INF/MANIFEST.json"))
spec = importlib.util.spec_from_file_location("handler", d + "/handler.py")
handler = importlib.util.module_from_spec(spec)
spec.loader.exec_module(handler)
ctx = types.SimpleNamespace(system_properties={"model_dir": d, "gpu_id": None},
                            manifest=manifest)
handler.handle(None, ctx)
answer = handler.handle([{"body": json.dumps(torch.rand(1, 28, 28).tolist()).encode()}], ctx)
print(json.dumps({"classes": handler.CLASS_NAMES, "keys": list(answer[0].keys()),
                  "shape": handler.INPUT_SHAPE}))
)");
        QByteArray result;
        QVERIFY(ms::test::runPython(m_dir.path(), script, {mar}, &result));
        const QJsonObject r = QJsonDocument::fromJson(result).object();
        QStringList classes;
        for (const QJsonValue &v : r.value(QStringLiteral("classes")).toArray())
            classes << v.toString();
        QCOMPARE(classes, hostileClassNames());
        QCOMPARE(r.value(QStringLiteral("keys")).toArray().size(), 5);
        for (const QJsonValue &key : r.value(QStringLiteral("keys")).toArray())
            QVERIFY2(hostileClassNames().contains(key.toString()), qPrintable(key.toString()));
        QCOMPARE(r.value(QStringLiteral("shape")).toArray(), (QJsonArray{1, 28, 28}));
        QVERIFY(filesNamed(m_dir.path(), QStringLiteral("PWNED")).isEmpty());
    }

    // Item 1: the other generated files keep the text as their language's data.
    void tritonAndPtFilesEscapeText()
    {
        const QString repository = m_dir.filePath(QStringLiteral("triton"));
        const Run triton = reg({QStringLiteral("export"), QStringLiteral("hostile:1"),
                                QStringLiteral("--format"), QStringLiteral("triton"),
                                QStringLiteral("--to"), repository});
        QVERIFY2(triton.exitCode == 0, qPrintable(triton.err));
        // labels.txt: one label per class, in order, a line break inside a name escaped.
        const QStringList labels = QString::fromUtf8(
            readAll(repository + QStringLiteral("/hostile/labels.txt"))).split(QLatin1Char('\n'),
                                                                              Qt::SkipEmptyParts);
        QCOMPARE(labels.size(), 10);
        QCOMPARE(labels.at(2), QStringLiteral("line\\nbreak"));
        QCOMPARE(labels.at(6), QStringLiteral("\\e[31mred"));

        const QString pt = m_dir.filePath(QStringLiteral("pt/hostile.pt"));
        const Run exported = reg({QStringLiteral("export"), QStringLiteral("hostile:1"),
                                  QStringLiteral("--to"), pt});
        QVERIFY2(exported.exitCode == 0, qPrintable(exported.err));
        // The README's snippet runs as written and names the classes exactly.
        const QString readme =
            QString::fromUtf8(readAll(m_dir.filePath(QStringLiteral("pt/hostile.README.md"))));
        const qsizetype start = readme.indexOf(QStringLiteral("```python\n"));
        const qsizetype end = readme.indexOf(QStringLiteral("\n```"), start + 10);
        QVERIFY2(start > 0 && end > start, qPrintable(readme));
        QCOMPARE(readme.count(QStringLiteral("```python")), 1);
        const QString snippet = readme.mid(start + 10, end - start - 10)
                                + QStringLiteral("\nimport json\nprint(json.dumps(class_names))\n");
        QByteArray out;
        QVERIFY(ms::test::runPython(m_dir.path(), snippet, {}, &out,
                                    m_dir.filePath(QStringLiteral("pt"))));
        QStringList printed;
        for (const QJsonValue &v : QJsonDocument::fromJson(out.split('\n').value(1)).array())
            printed << v.toString();
        QCOMPARE(printed, hostileClassNames());
        QVERIFY(filesNamed(m_dir.path(), QStringLiteral("PWNED")).isEmpty());
    }

    // Item 2: a name with "../" is refused; one from an old registry is refused by export with
    // the way out, listed, and renamed; nothing is ever written outside the export folder.
    void traversalNamesNeverBecomePaths()
    {
        const QString traversal = QStringLiteral("../../../escaped");
        const Run imported = reg({QStringLiteral("import"), m_model, QStringLiteral("--name"),
                                  traversal});
        QCOMPARE(imported.exitCode, 2);
        QVERIFY2(imported.errorLine().contains(QStringLiteral("starts with '.'")),
                 qPrintable(imported.err));

        QVERIFY(insertOldModel(traversal, QStringLiteral("hostile")));
        const QString out = m_dir.filePath(QStringLiteral("deep/a/b/c/out"));
        QVERIFY(QDir().mkpath(out));
        for (const char *format : {"pt", "torchserve", "triton"}) {
            const Run exported = reg({QStringLiteral("export"), traversal + QStringLiteral(":1"),
                                      QStringLiteral("--format"), QString::fromLatin1(format),
                                      QStringLiteral("--to"), out + QLatin1Char('/')});
            QCOMPARE(exported.exitCode, 1);
            QVERIFY2(exported.errorLine().contains(QStringLiteral("modelstudio-cli rename")),
                     qPrintable(exported.err));
        }
        QVERIFY(filesNamed(m_dir.path(), QStringLiteral("escaped*")).isEmpty());
        QVERIFY(QDir(out).isEmpty());

        // Listed (escaped where needed), and renamed, after which it exports inside `out`.
        const Run models = reg({QStringLiteral("models"), QStringLiteral("--json")});
        QStringList names;
        for (const QJsonValue &m : models.json().value(QStringLiteral("models")).toArray())
            names << m.toObject().value(QStringLiteral("name")).toString();
        QVERIFY2(names.contains(traversal), qPrintable(models.out));
        QCOMPARE(reg({QStringLiteral("versions"), traversal}).exitCode, 0);
        const Run renamed = reg({QStringLiteral("rename"), traversal, QStringLiteral("escaped")});
        QVERIFY2(renamed.exitCode == 0, qPrintable(renamed.err));
        const Run exported = reg({QStringLiteral("export"), QStringLiteral("escaped:1"),
                                  QStringLiteral("--to"), out + QLatin1Char('/')});
        QVERIFY2(exported.exitCode == 0, qPrintable(exported.err));
        QCOMPARE(filesNamed(m_dir.path(), QStringLiteral("escaped-v1.pt")),
                 QStringList{out + QStringLiteral("/escaped-v1.pt")});
        // The new name keeps to the rule too.
        QCOMPARE(reg({QStringLiteral("rename"), QStringLiteral("escaped"),
                      QStringLiteral("../x")}).exitCode,
                 2);
    }

    // Item 2, the migration: every verb but listing and rename refuses an old bad name, and
    // says how to fix it.
    void oldNamesAreRefusedUntilRenamed_data()
    {
        QTest::addColumn<QStringList>("args");
        const QString ref = QStringLiteral("my model:1");
        QTest::newRow("show") << QStringList{QStringLiteral("show"), ref};
        QTest::newRow("lineage") << QStringList{QStringLiteral("lineage"), ref};
        QTest::newRow("metrics") << QStringList{QStringLiteral("metrics"), ref};
        QTest::newRow("diff") << QStringList{QStringLiteral("diff"), ref,
                                             QStringLiteral("hostile:1")};
        QTest::newRow("tag") << QStringList{QStringLiteral("tag"), ref, QStringLiteral("k=v")};
        QTest::newRow("note") << QStringList{QStringLiteral("note"), ref, QStringLiteral("n")};
        QTest::newRow("alias") << QStringList{QStringLiteral("alias"), QStringLiteral("set"), ref,
                                              QStringLiteral("production")};
        QTest::newRow("rm") << QStringList{QStringLiteral("rm"), ref};
        QTest::newRow("export") << QStringList{QStringLiteral("export"), ref,
                                               QStringLiteral("--to"),
                                               m_dir.filePath(QStringLiteral("x.pt"))};
        QTest::newRow("bare name") << QStringList{QStringLiteral("show"),
                                                  QStringLiteral("my model")};
    }
    void oldNamesAreRefusedUntilRenamed()
    {
        QFETCH(QStringList, args);
        const Run run = reg(args);
        QVERIFY(run.exitCode != 0);
        QVERIFY2(run.errorLine().contains(QStringLiteral("rename it first, e.g. modelstudio-cli "
                                                         "rename 'my model' my-model")),
                 qPrintable(run.err));
        QVERIFY(!QFile::exists(m_dir.filePath(QStringLiteral("x.pt"))));
    }

    // Item 3: names, notes, tags and errors reach the terminal with their control characters
    // escaped; no user text can forge a line or send an escape sequence.
    void controlCharactersAreEscapedOnOutput()
    {
        const QString forged = QStringLiteral("v\x1b[2J\rerror: forged\x07");
        QCOMPARE(reg({QStringLiteral("tag"), QStringLiteral("hostile:1"),
                      QStringLiteral("k=") + forged}).exitCode,
                 0);
        QCOMPARE(reg({QStringLiteral("note"), QStringLiteral("hostile:1"),
                      QStringLiteral("first\x1b]0;title\x07\nerror: second")}).exitCode,
                 0);
        QVERIFY(insertOldModel(QStringLiteral("old\nerror: forged"), QStringLiteral("hostile")));
        for (const QStringList &args :
             {QStringList{QStringLiteral("show"), QStringLiteral("hostile:1")},
              QStringList{QStringLiteral("versions"), QStringLiteral("hostile")},
              QStringList{QStringLiteral("models")},
              QStringList{QStringLiteral("tag"), QStringLiteral("hostile:1"),
                          QStringLiteral("k2=x")}}) {
            const Run run = reg(args);
            QVERIFY2(run.exitCode == 0, qPrintable(run.err));
            for (const char c : {'\x1b', '\r', '\x07'})
                QVERIFY2(!run.out.contains(QLatin1Char(c)), qPrintable(args.join(' ')));
            for (const QString &line : run.out.split(QLatin1Char('\n')))
                QVERIFY2(!line.startsWith(QStringLiteral("error:")), qPrintable(run.out));
        }
        const Run show = reg({QStringLiteral("show"), QStringLiteral("hostile:1")});
        QVERIFY2(show.out.contains(QStringLiteral("k=v\\e[2J\\rerror: forged\\x07")),
                 qPrintable(show.out));
        // Notes keep their line breaks, indented under their field.
        QVERIFY2(show.out.contains(QStringLiteral("first\\e]0;title\\x07\n              error: "
                                                  "second")),
                 qPrintable(show.out));
        QVERIFY2(show.out.contains(QStringLiteral("line\\nbreak")), qPrintable(show.out));
        QVERIFY(reg({QStringLiteral("models")})
                    .out.contains(QStringLiteral("old\\nerror: forged")));

        // An error quoting user text is still one line.
        const Run missing = reg({QStringLiteral("show"),
                                 QStringLiteral("nope\x1b[2J\nerror: forged:1")});
        QCOMPARE(missing.exitCode, 1);
        QVERIFY2(!missing.errorLine().isEmpty(), qPrintable(missing.err));
        QVERIFY(!missing.err.contains(QLatin1Char('\x1b')));
    }

    // Item 3: a '%N' in user text is kept as typed; chained arg() used to replace it with the
    // next argument. The workspace path is user text in the newer-schema refusal.
    void percentInUserTextIsKept()
    {
        const QString odd = m_dir.filePath(QStringLiteral("ws%2Fb%1"));
        QCOMPARE(ms::test::runCli({QStringLiteral("models"), QStringLiteral("--workspace"), odd})
                     .exitCode,
                 0);
        QByteArray out;
        QVERIFY(ms::test::runPython(m_dir.path(), QStringLiteral(R"(
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("PRAGMA user_version = 99")
db.commit()
)"),
                                    {odd + QStringLiteral("/registry.db")}, &out));
        const Run newer =
            ms::test::runCli({QStringLiteral("models"), QStringLiteral("--workspace"), odd});
        QCOMPARE(newer.exitCode, 1);
        QVERIFY2(newer.errorLine().contains(odd + QStringLiteral("/registry.db was written by a "
                                                                 "newer ModelStudio (schema "
                                                                 "99,")),
                 qPrintable(newer.err));
    }
};

QTEST_GUILESS_MAIN(TestCliSecurity)
#include "tst_cli_security.moc"
