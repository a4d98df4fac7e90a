// The registry verbs of modelstudio-cli as a user and a script see them: importing Python
// TorchScript files, listing, resolving refs and aliases, editing, exporting byte for byte,
// refusing unsafe removals, and catching a corrupted artifact.
//
// The slots run in order on one workspace: each builds on the state the previous ones left.

#include "app/CliRun.h"

#include <QCryptographicHash>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

namespace {

using Run = ms::test::CliRun;
using ms::test::cliPath;

Run cli(const QStringList &args, int timeout_ms = 240000)
{
    return ms::test::runCli(args, timeout_ms);
}

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QJsonObject findField(const QJsonArray &fields, const QString &name)
{
    for (const QJsonValue &v : fields) {
        if (v.toObject().value(QStringLiteral("field")).toString() == name)
            return v.toObject();
    }
    return QJsonObject();
}

// A tiny TorchScript classifier (4 features -> 3 scores), as Python users export them.
const char kMakeModel[] = R"(
import sys
import torch

class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(x)

torch.manual_seed(int(sys.argv[2]))
torch.jit.script(Tiny()).save(sys.argv[1])
)";

} // namespace

class TestCliRegistry : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_modelA;   // Tiny, seed 1
    QString m_modelB;   // Tiny, seed 2: different bytes, so a different artifact
    QString m_usage;    // modelstudio-cli --help

    QString ws() const { return m_dir.filePath(QStringLiteral("workspace")); }
    // Every registry verb runs on the test's workspace.
    Run reg(QStringList args, int timeout_ms = 240000) const
    {
        args << QStringLiteral("--workspace") << ws();
        return cli(args, timeout_ms);
    }
    QStringList artifactFiles() const
    {
        QStringList files;
        QDirIterator it(ws() + QStringLiteral("/artifacts/sha256"), {QStringLiteral("*.pt")},
                        QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext())
            files << it.next();
        return files;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY2(QFile::exists(cliPath()), qPrintable(cliPath()));
        QProcess probe;
        probe.start(QStringLiteral("/usr/bin/python3"),
                    {QStringLiteral("-c"), QStringLiteral("import torch")});
        if (!probe.waitForFinished(120000) || probe.exitStatus() != QProcess::NormalExit
            || probe.exitCode() != 0)
            QFAIL("/usr/bin/python3 cannot import torch: run scripts/setup.sh (it installs "
                  "python3-torch).");
        const QString script = m_dir.filePath(QStringLiteral("make_model.py"));
        QFile f(script);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(kMakeModel);
        f.close();
        m_modelA = m_dir.filePath(QStringLiteral("tiny-a.pt"));
        m_modelB = m_dir.filePath(QStringLiteral("tiny-b.pt"));
        for (const auto &[path, seed] : {qMakePair(m_modelA, 1), qMakePair(m_modelB, 2)}) {
            QProcess python;
            python.start(QStringLiteral("/usr/bin/python3"),
                         {script, path, QString::number(seed)});
            QVERIFY(python.waitForFinished(120000));
            QVERIFY2(python.exitCode() == 0, python.readAllStandardError().constData());
            QVERIFY(QFile::exists(path));
        }
        QVERIFY(readAll(m_modelA) != readAll(m_modelB));
    }

    void everyVerbHasHelp_data()
    {
        m_usage = cli({QStringLiteral("--help")}).out;
        QTest::addColumn<QString>("verb");
        for (const char *verb : {"models", "versions", "show", "lineage", "diff", "metrics", "tag",
                                 "alias", "note", "export", "rm", "verify", "gc", "import"})
            QTest::newRow(verb) << QString::fromLatin1(verb);
    }

    void everyVerbHasHelp()
    {
        QFETCH(QString, verb);
        const Run help = cli({verb, QStringLiteral("--help")});
        QCOMPARE(help.exitCode, 0);
        QVERIFY(help.out.contains(QStringLiteral("--json")));
        QVERIFY(help.out.contains(QStringLiteral("--workspace")));
        QVERIFY2(m_usage.contains(QStringLiteral("\n  ") + verb + QLatin1Char(' ')),
                 "the verb is missing from modelstudio-cli --help");
    }

    void importRegistersVersions()
    {
        const Run first = reg({QStringLiteral("import"), m_modelA, QStringLiteral("--name"),
                               QStringLiteral("tiny"), QStringLiteral("--input-shape"),
                               QStringLiteral("1,4"), QStringLiteral("--description"),
                               QStringLiteral("A linear probe")});
        QVERIFY2(first.exitCode == 0, qPrintable(first.err));
        QCOMPARE(first.out.trimmed(), QStringLiteral("tiny:1"));

        const Run second = reg({QStringLiteral("import"), m_modelB, QStringLiteral("--name"),
                                QStringLiteral("tiny"), QStringLiteral("--input-shape"),
                                QStringLiteral("1,4"), QStringLiteral("--json")});
        QVERIFY2(second.exitCode == 0, qPrintable(second.err));
        const QJsonObject v = second.json();
        QCOMPARE(v.value(QStringLiteral("version")).toInt(), 2);
        QCOMPARE(v.value(QStringLiteral("kind")).toString(), QStringLiteral("imported"));
        QCOMPARE(v.value(QStringLiteral("parameter_count")).toInteger(), 15);
        QCOMPARE(artifactFiles().size(), 2);

        // A Python export records no input shape: without --input-shape there is no example.
        const Run noShape = reg({QStringLiteral("import"), m_modelA, QStringLiteral("--name"),
                                 QStringLiteral("tiny")});
        QVERIFY(noShape.exitCode != 0);
        QVERIFY2(noShape.errorLine().contains(QStringLiteral("--input-shape")),
                 qPrintable(noShape.err));
        // A shape the model cannot take is caught before anything is registered.
        const Run badShape = reg({QStringLiteral("import"), m_modelA, QStringLiteral("--name"),
                                  QStringLiteral("tiny"), QStringLiteral("--input-shape"),
                                  QStringLiteral("1,5")});
        QVERIFY(badShape.exitCode != 0);
        QVERIFY2(badShape.errorLine().contains(QStringLiteral("does not run")),
                 qPrintable(badShape.err));
        QCOMPARE(reg({QStringLiteral("models"), QStringLiteral("--json")})
                     .json().value(QStringLiteral("models")).toArray().first().toObject()
                     .value(QStringLiteral("versions")).toInt(),
                 2);
    }

    void modelsAndVersionsList()
    {
        const Run models = reg({QStringLiteral("models"), QStringLiteral("--json")});
        QCOMPARE(models.exitCode, 0);
        const QJsonArray list = models.json().value(QStringLiteral("models")).toArray();
        QCOMPARE(list.size(), 1);
        const QJsonObject tiny = list.first().toObject();
        QCOMPARE(tiny.value(QStringLiteral("name")).toString(), QStringLiteral("tiny"));
        QCOMPARE(tiny.value(QStringLiteral("latest")).toInt(), 2);
        QCOMPARE(tiny.value(QStringLiteral("description")).toString(),
                 QStringLiteral("A linear probe"));

        const Run table = reg({QStringLiteral("models")});
        QCOMPARE(table.exitCode, 0);
        const QStringList lines = table.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 2);
        QVERIFY(lines.at(0).startsWith(QStringLiteral("NAME")));
        QVERIFY(lines.at(0).contains(QStringLiteral("DESCRIPTION")));
        QVERIFY(lines.at(1).startsWith(QStringLiteral("tiny")));
        QVERIFY(lines.at(1).contains(QStringLiteral("A linear probe")));

        const Run versions = reg({QStringLiteral("versions"), QStringLiteral("tiny"),
                                  QStringLiteral("--json")});
        QCOMPARE(versions.exitCode, 0);
        const QJsonArray vs = versions.json().value(QStringLiteral("versions")).toArray();
        QCOMPARE(vs.size(), 2);
        QCOMPARE(vs.at(0).toObject().value(QStringLiteral("version")).toInt(), 2);   // newest
        QCOMPARE(vs.at(1).toObject().value(QStringLiteral("version")).toInt(), 1);

        const Run versionTable = reg({QStringLiteral("versions"), QStringLiteral("tiny")});
        QCOMPARE(versionTable.exitCode, 0);
        const QStringList rows = versionTable.out.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(rows.size(), 3);
        for (const char *column : {"VERSION", "KIND", "CREATED", "ACCURACY", "PARAMS", "SIZE",
                                   "ALIASES", "TAGS"})
            QVERIFY2(rows.at(0).contains(QLatin1String(column)), column);
        QVERIFY(rows.at(1).contains(QStringLiteral("imported")));
        QVERIFY(rows.at(1).contains(QStringLiteral("KiB")));
        // Aligned: every column starts at the header's offset.
        const qsizetype kindAt = rows.at(0).indexOf(QStringLiteral("KIND"));
        QCOMPARE(rows.at(1).indexOf(QStringLiteral("imported")), kindAt);
        QCOMPARE(rows.at(2).indexOf(QStringLiteral("imported")), kindAt);
    }

    void showResolvesRefs()
    {
        const Run two = reg({QStringLiteral("show"), QStringLiteral("tiny:2"),
                             QStringLiteral("--json")});
        QVERIFY2(two.exitCode == 0, qPrintable(two.err));
        const QJsonObject v = two.json();
        QCOMPARE(v.value(QStringLiteral("version")).toInt(), 2);
        const QJsonArray inputs = v.value(QStringLiteral("inputs")).toArray();
        QCOMPARE(inputs.size(), 1);
        QCOMPARE(inputs.first().toObject().value(QStringLiteral("shape")).toArray(),
                 (QJsonArray{-1, 4}));
        QCOMPARE(v.value(QStringLiteral("outputs")).toArray().first().toObject()
                     .value(QStringLiteral("shape")).toArray(),
                 (QJsonArray{-1, 3}));
        QCOMPARE(v.value(QStringLiteral("sha256")).toString(),
                 QString::fromLatin1(QCryptographicHash::hash(readAll(m_modelB),
                                                              QCryptographicHash::Sha256)
                                         .toHex()));

        const Run newest = reg({QStringLiteral("show"), QStringLiteral("tiny"),
                                QStringLiteral("--json")});
        QCOMPARE(newest.json().value(QStringLiteral("version")).toInt(), 2);

        const Run text = reg({QStringLiteral("show"), QStringLiteral("tiny:1")});
        QCOMPARE(text.exitCode, 0);
        QVERIFY(text.out.startsWith(QStringLiteral("tiny:1\n")));
        for (const char *expected : {"imported", "input float32 [N, 4]",
                                     "output float32 [N, 3]", "sha256", "parameters  15"})
            QVERIFY2(text.out.contains(QLatin1String(expected)), expected);
    }

    void aliasesMoveResolution()
    {
        const Run set = reg({QStringLiteral("alias"), QStringLiteral("set"),
                             QStringLiteral("tiny"), QStringLiteral("production"),
                             QStringLiteral("tiny:1")});
        QVERIFY2(set.exitCode == 0, qPrintable(set.err));
        // A bare name means the production version once there is one.
        QCOMPARE(reg({QStringLiteral("show"), QStringLiteral("tiny"), QStringLiteral("--json")})
                     .json().value(QStringLiteral("version")).toInt(),
                 1);
        QCOMPARE(reg({QStringLiteral("show"), QStringLiteral("tiny@production"),
                      QStringLiteral("--json")})
                     .json().value(QStringLiteral("version")).toInt(),
                 1);
        // The two-argument form takes the model from the ref.
        const Run candidate = reg({QStringLiteral("alias"), QStringLiteral("set"),
                                   QStringLiteral("tiny:2"), QStringLiteral("candidate")});
        QVERIFY2(candidate.exitCode == 0, qPrintable(candidate.err));
        QCOMPARE(reg({QStringLiteral("show"), QStringLiteral("tiny@candidate"),
                      QStringLiteral("--json")})
                     .json().value(QStringLiteral("version")).toInt(),
                 2);
        const Run rm = reg({QStringLiteral("alias"), QStringLiteral("rm"), QStringLiteral("tiny"),
                            QStringLiteral("candidate")});
        QVERIFY2(rm.exitCode == 0, qPrintable(rm.err));
        const Run gone = reg({QStringLiteral("show"), QStringLiteral("tiny@candidate")});
        QVERIFY(gone.exitCode != 0);
        QVERIFY2(!gone.errorLine().isEmpty(), qPrintable(gone.err));
        const Run versions = reg({QStringLiteral("versions"), QStringLiteral("tiny")});
        QVERIFY(versions.out.contains(QStringLiteral("production")));
    }

    void tagsAndNotesRoundTrip()
    {
        const Run tag = reg({QStringLiteral("tag"), QStringLiteral("tiny:1"),
                             QStringLiteral("owner=ana"), QStringLiteral("stage=dev")});
        QVERIFY2(tag.exitCode == 0, qPrintable(tag.err));
        QJsonObject tags = reg({QStringLiteral("show"), QStringLiteral("tiny:1"),
                                QStringLiteral("--json")})
                               .json().value(QStringLiteral("tags")).toObject();
        QCOMPARE(tags.value(QStringLiteral("owner")).toString(), QStringLiteral("ana"));
        QCOMPARE(tags.value(QStringLiteral("stage")).toString(), QStringLiteral("dev"));
        const Run untag = reg({QStringLiteral("tag"), QStringLiteral("tiny:1"),
                               QStringLiteral("--rm"), QStringLiteral("stage")});
        QVERIFY2(untag.exitCode == 0, qPrintable(untag.err));
        tags = reg({QStringLiteral("show"), QStringLiteral("tiny:1"), QStringLiteral("--json")})
                   .json().value(QStringLiteral("tags")).toObject();
        QVERIFY(!tags.contains(QStringLiteral("stage")));
        QVERIFY(reg({QStringLiteral("show"), QStringLiteral("tiny:1")})
                    .out.contains(QStringLiteral("owner=ana")));

        const QString notes =
            QStringLiteral("Réglé à la main: \"lr\" = 0.01;\n'second' line ✓ 日本");
        const Run note = reg({QStringLiteral("note"), QStringLiteral("tiny:1"), notes});
        QVERIFY2(note.exitCode == 0, qPrintable(note.err));
        QCOMPARE(reg({QStringLiteral("show"), QStringLiteral("tiny:1"), QStringLiteral("--json")})
                     .json().value(QStringLiteral("notes")).toString(),
                 notes);
        // --file reads them verbatim.
        const QString file = m_dir.filePath(QStringLiteral("notes.txt"));
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QStringLiteral("from a file\nwith ünïcode").toUtf8());
        f.close();
        const Run fromFile = reg({QStringLiteral("note"), QStringLiteral("tiny:2"),
                                  QStringLiteral("--file"), file, QStringLiteral("--json")});
        QVERIFY2(fromFile.exitCode == 0, qPrintable(fromFile.err));
        QCOMPARE(fromFile.json().value(QStringLiteral("notes")).toString(),
                 QStringLiteral("from a file\nwith ünïcode"));
    }

    void diffComparesSideBySide()
    {
        const Run diff = reg({QStringLiteral("diff"), QStringLiteral("tiny:1"),
                              QStringLiteral("tiny:2"), QStringLiteral("--json")});
        QVERIFY2(diff.exitCode == 0, qPrintable(diff.err));
        const QJsonObject json = diff.json();
        QCOMPARE(json.value(QStringLiteral("a")).toString(), QStringLiteral("tiny:1"));
        QCOMPARE(json.value(QStringLiteral("b")).toString(), QStringLiteral("tiny:2"));
        const QJsonArray fields = json.value(QStringLiteral("fields")).toArray();
        QCOMPARE(findField(fields, QStringLiteral("sha256")).value(QStringLiteral("delta"))
                     .toString(),
                 QStringLiteral("differs"));
        const QJsonObject params = findField(fields, QStringLiteral("params"));
        QCOMPARE(params.value(QStringLiteral("a")).toInteger(), 15);
        QCOMPARE(params.value(QStringLiteral("delta")).toString(), QStringLiteral("0"));
        QCOMPARE(findField(fields, QStringLiteral("inputs")).value(QStringLiteral("delta"))
                     .toString(),
                 QStringLiteral("same"));

        const Run text = reg({QStringLiteral("diff"), QStringLiteral("tiny:1"),
                              QStringLiteral("tiny:2")});
        QCOMPARE(text.exitCode, 0);
        const QString header = text.out.section(QLatin1Char('\n'), 0, 0);
        QVERIFY2(header.contains(QStringLiteral("tiny:1"))
                     && header.contains(QStringLiteral("tiny:2")),
                 qPrintable(text.out));
        QVERIFY(text.out.contains(QStringLiteral("params")));
        QVERIFY(text.out.contains(QStringLiteral("size")));
    }

    void lineageOfAnImportIsEmpty()
    {
        const Run json = reg({QStringLiteral("lineage"), QStringLiteral("tiny:2"),
                              QStringLiteral("--json")});
        QVERIFY2(json.exitCode == 0, qPrintable(json.err));
        QCOMPARE(json.json().value(QStringLiteral("ref")).toString(), QStringLiteral("tiny:2"));
        QVERIFY(json.json().value(QStringLiteral("edges")).toArray().isEmpty());
        const Run text = reg({QStringLiteral("lineage"), QStringLiteral("tiny:2")});
        QVERIFY(text.out.contains(QStringLiteral("no parents")));
    }

    void exportWritesTheSameBytes()
    {
        const QString out = m_dir.filePath(QStringLiteral("exported.pt"));
        const Run run = reg({QStringLiteral("export"), QStringLiteral("tiny:2"),
                             QStringLiteral("--to"), out});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        QCOMPARE(readAll(out), readAll(m_modelB));
        // No temporary file left beside it: the model and its README only.
        QCOMPARE(QDir(m_dir.path()).entryList({QStringLiteral("exported*")}, QDir::Files,
                                              QDir::Name),
                 (QStringList{QStringLiteral("exported.README.md"),
                              QStringLiteral("exported.pt")}));
        const Run noTarget = reg({QStringLiteral("export"), QStringLiteral("tiny:2")});
        QCOMPARE(noTarget.exitCode, 2);
        QVERIFY2(noTarget.errorLine().contains(QStringLiteral("--to")), qPrintable(noTarget.err));
    }

    // The formats go through ExporterRegistry (tests/core/tst_export checks their contents).
    void exportFormats()
    {
        const QString repo = m_dir.filePath(QStringLiteral("triton"));
        const Run triton = reg({QStringLiteral("export"), QStringLiteral("tiny:2"),
                                QStringLiteral("--format"), QStringLiteral("triton"),
                                QStringLiteral("--max-batch-size"), QStringLiteral("8"),
                                QStringLiteral("--to"), repo, QStringLiteral("--json")});
        QVERIFY2(triton.exitCode == 0, qPrintable(triton.err));
        const QString modelDir = QDir(repo).filePath(QStringLiteral("tiny"));
        QCOMPARE(triton.json().value(QStringLiteral("path")).toString(), modelDir);
        QCOMPARE(triton.json().value(QStringLiteral("format")).toString(),
                 QStringLiteral("triton"));
        const QByteArray config = readAll(modelDir + QStringLiteral("/config.pbtxt"));
        QVERIFY2(config.contains("max_batch_size: 8\n"), config.constData());
        QVERIFY2(config.contains("dims: [ 4 ]\n"), config.constData());   // --input-shape 1,4
        QCOMPARE(readAll(modelDir + QStringLiteral("/2/model.pt")), readAll(m_modelB));

        // Again into the same repository: the model folder is taken, nothing changes.
        const Run again = reg({QStringLiteral("export"), QStringLiteral("tiny:2"),
                               QStringLiteral("--format"), QStringLiteral("triton"),
                               QStringLiteral("--to"), repo});
        QCOMPARE(again.exitCode, 1);
        QVERIFY2(again.errorLine().contains(QStringLiteral("not empty")), qPrintable(again.err));
        QCOMPARE(readAll(modelDir + QStringLiteral("/config.pbtxt")), config);

        const Run mar = reg({QStringLiteral("export"), QStringLiteral("tiny:2"),
                             QStringLiteral("--format"), QStringLiteral("torchserve"),
                             QStringLiteral("--to"), m_dir.path()});
        QVERIFY2(mar.exitCode == 0, qPrintable(mar.err));
        QVERIFY(readAll(m_dir.filePath(QStringLiteral("tiny.mar"))).startsWith("PK"));

        const Run batchForPt = reg({QStringLiteral("export"), QStringLiteral("tiny:2"),
                                    QStringLiteral("--max-batch-size"), QStringLiteral("8"),
                                    QStringLiteral("--to"), m_dir.filePath("x.pt")});
        QCOMPARE(batchForPt.exitCode, 2);
        QVERIFY2(batchForPt.errorLine().contains(QStringLiteral("triton")),
                 qPrintable(batchForPt.err));
        QVERIFY(!QFile::exists(m_dir.filePath("x.pt")));
    }

    void rmRefusesAnAliasedVersionUnlessForced()
    {
        const Run refused = reg({QStringLiteral("rm"), QStringLiteral("tiny:1")});
        QVERIFY(refused.exitCode != 0);
        QVERIFY(refused.exitCode != -1);
        QVERIFY2(refused.errorLine().contains(QStringLiteral("production")),
                 qPrintable(refused.err));
        QCOMPARE(reg({QStringLiteral("versions"), QStringLiteral("tiny"),
                      QStringLiteral("--json")})
                     .json().value(QStringLiteral("versions")).toArray().size(),
                 2);

        const Run forced = reg({QStringLiteral("rm"), QStringLiteral("tiny:1"),
                                QStringLiteral("--force")});
        QVERIFY2(forced.exitCode == 0, qPrintable(forced.err));
        const QJsonArray left = reg({QStringLiteral("versions"), QStringLiteral("tiny"),
                                     QStringLiteral("--json")})
                                    .json().value(QStringLiteral("versions")).toArray();
        QCOMPARE(left.size(), 1);
        QCOMPARE(left.first().toObject().value(QStringLiteral("version")).toInt(), 2);
        QVERIFY(reg({QStringLiteral("show"), QStringLiteral("tiny:1")}).exitCode != 0);
    }

    void gcRemovesTheOrphan()
    {
        QCOMPARE(artifactFiles().size(), 2);   // rm leaves the file to gc
        const Run gc = reg({QStringLiteral("gc"), QStringLiteral("--json")});
        QVERIFY2(gc.exitCode == 0, qPrintable(gc.err));
        QCOMPARE(gc.json().value(QStringLiteral("removed_files")).toInt(), 1);
        QCOMPARE(gc.json().value(QStringLiteral("freed_bytes")).toInteger(),
                 QFileInfo(m_modelA).size());
        QCOMPARE(artifactFiles().size(), 1);
        const Run again = reg({QStringLiteral("gc")});
        QCOMPARE(again.exitCode, 0);
        QVERIFY2(again.out.contains(QStringLiteral("removed 0")), qPrintable(again.out));
    }

    void verifyCatchesACorruptedArtifact()
    {
        const Run ok = reg({QStringLiteral("verify")});
        QVERIFY2(ok.exitCode == 0, qPrintable(ok.err));
        QVERIFY2(ok.out.contains(QStringLiteral("1 artifacts verified")), qPrintable(ok.out));

        const QStringList files = artifactFiles();
        QCOMPARE(files.size(), 1);
        QFile artifact(files.first());
        QVERIFY(artifact.setPermissions(artifact.permissions() | QFileDevice::WriteOwner));
        QVERIFY(artifact.open(QIODevice::ReadWrite));
        QByteArray bytes = artifact.readAll();
        bytes[bytes.size() / 2] = char(bytes[bytes.size() / 2] ^ 0x5a);
        QVERIFY(artifact.seek(0));
        QCOMPARE(artifact.write(bytes), bytes.size());
        artifact.close();

        const Run bad = reg({QStringLiteral("verify")});
        QCOMPARE(bad.exitCode, 1);
        QVERIFY2(bad.out.contains(QStringLiteral("tiny:2")), qPrintable(bad.out));
        QVERIFY2(!bad.errorLine().isEmpty(), qPrintable(bad.err));
        const Run badJson = reg({QStringLiteral("verify"), QStringLiteral("--json")});
        QCOMPARE(badJson.exitCode, 1);
        QCOMPARE(badJson.json().value(QStringLiteral("problems")).toArray().first().toObject()
                     .value(QStringLiteral("ref")).toString(),
                 QStringLiteral("tiny:2"));

        const QString out = m_dir.filePath(QStringLiteral("refused.pt"));
        const Run refused = reg({QStringLiteral("export"), QStringLiteral("tiny:2"),
                                 QStringLiteral("--to"), out});
        QVERIFY(refused.exitCode != 0);
        QVERIFY2(refused.errorLine().contains(QStringLiteral("tiny:2")), qPrintable(refused.err));
        QVERIFY(!QFile::exists(out));
    }

    void badInputGetsOneClearLine_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("expected");
        const QString text = m_dir.filePath(QStringLiteral("not-a-model.pt"));
        QFile f(text);
        if (f.open(QIODevice::WriteOnly))
            f.write("just some text\n");
        f.close();
        QTest::newRow("import a text file")
            << QStringList{"import", text, "--name", "x", "--input-shape", "1,4"}
            << "not a TorchScript file";
        QTest::newRow("import a missing file")
            << QStringList{"import", "/no/such/model.pt", "--name", "x", "--input-shape", "1,4"}
            << "/no/such/model.pt";
        QTest::newRow("import without a name") << QStringList{"import", text} << "--name";
        QTest::newRow("bad input shape")
            << QStringList{"import", text, "--name", "x", "--input-shape", "1,a"} << "1,a";
        // Checked before the file is even read (a text file here).
        QTest::newRow("import with an unknown parent")
            << QStringList{"import", text, "--name", "x", "--input-shape", "1,4", "--parent",
                           "tiny:99"}
            << "no version 99";
        QTest::newRow("import with an unknown kind")
            << QStringList{"import", text, "--name", "x", "--input-shape", "1,4", "--kind",
                           "sideways"}
            << "sideways";
        QTest::newRow("import with a role but no parent")
            << QStringList{"import", text, "--name", "x", "--role", "teacher"} << "--parent";
        QTest::newRow("show an unknown model") << QStringList{"show", "nope:1"} << "tiny";
        QTest::newRow("versions of an unknown model") << QStringList{"versions", "nope"}
                                                      << "tiny";
        QTest::newRow("unknown alias") << QStringList{"alias", "rm", "tiny", "staging"}
                                       << "staging";
        QTest::newRow("alias across models")
            << QStringList{"alias", "set", "other", "production", "tiny:2"} << "tiny:2";
        QTest::newRow("tag without a value") << QStringList{"tag", "tiny:2", "owner"} << "owner";
        QTest::newRow("metrics of an import") << QStringList{"metrics", "tiny:2"}
                                              << "no metric series";
        QTest::newRow("missing ref") << QStringList{"show"} << "Usage";
        QTest::newRow("unknown export format")
            << QStringList{"export", "tiny:2", "--format", "onnx", "--to", m_dir.path()}
            << "torchserve";
    }

    void badInputGetsOneClearLine()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, expected);
        const Run run = reg(args);
        QVERIFY(run.exitCode != 0);
        QVERIFY(run.exitCode != -1);   // an error, not a crash
        QVERIFY2(!run.errorLine().isEmpty(), qPrintable(run.err));
        QVERIFY2(run.errorLine().contains(expected), qPrintable(run.err));
    }

    void metricsOfATrainedVersion()
    {
        const Run train = reg({QStringLiteral("train"), QStringLiteral("--arch"),
                               QStringLiteral("mlp"), QStringLiteral("--epochs"),
                               QStringLiteral("1"), QStringLiteral("--limit"),
                               QStringLiteral("300"), QStringLiteral("--batch-size"),
                               QStringLiteral("100"), QStringLiteral("--threads"),
                               QStringLiteral("1"), QStringLiteral("--name"),
                               QStringLiteral("fm"), QStringLiteral("--json")});
        QVERIFY2(train.exitCode == 0, qPrintable(train.err));

        const Run keys = reg({QStringLiteral("metrics"), QStringLiteral("fm:1"),
                              QStringLiteral("--json")});
        QVERIFY2(keys.exitCode == 0, qPrintable(keys.err));
        QStringList names;
        for (const QJsonValue &v : keys.json().value(QStringLiteral("keys")).toArray())
            names << v.toObject().value(QStringLiteral("key")).toString();
        QVERIFY2(names.contains(QStringLiteral("loss")), qPrintable(names.join(',')));
        QVERIFY2(names.contains(QStringLiteral("val_acc")), qPrintable(names.join(',')));
        const Run table = reg({QStringLiteral("metrics"), QStringLiteral("fm:1")});
        QVERIFY(table.out.startsWith(QStringLiteral("KEY")));
        QVERIFY(table.out.contains(QStringLiteral("val_acc")));

        // 270 training samples (300 less a tenth held out) in batches of 100: 3 steps.
        const Run loss = reg({QStringLiteral("metrics"), QStringLiteral("fm:1"),
                              QStringLiteral("--key"), QStringLiteral("loss"),
                              QStringLiteral("--json")});
        QVERIFY2(loss.exitCode == 0, qPrintable(loss.err));
        const QJsonArray points = loss.json().value(QStringLiteral("points")).toArray();
        QCOMPARE(points.size(), 3);
        for (int i = 0; i < points.size(); ++i) {
            const QJsonObject p = points.at(i).toObject();
            QCOMPARE(p.value(QStringLiteral("step")).toInteger(), i + 1);
            QCOMPARE(p.value(QStringLiteral("epoch")).toInt(), 1);
            QVERIFY(p.value(QStringLiteral("value")).toDouble() > 0.0);
            QVERIFY(p.value(QStringLiteral("wall_s")).isDouble());
        }
        const Run unknown = reg({QStringLiteral("metrics"), QStringLiteral("fm:1"),
                                 QStringLiteral("--key"), QStringLiteral("nope")});
        QVERIFY(unknown.exitCode != 0);
        QVERIFY2(unknown.errorLine().contains(QStringLiteral("loss")), qPrintable(unknown.err));
        const Run show = reg({QStringLiteral("show"), QStringLiteral("fm:1")});
        QVERIFY(show.out.contains(QStringLiteral("trained")));
        QVERIFY(show.out.contains(QStringLiteral("finished")));
    }

    // Last: it adds a model the earlier tests do not expect.
    void importKeepsLineage()
    {
        const Run derived = reg({QStringLiteral("import"), m_modelB, QStringLiteral("--name"),
                                 QStringLiteral("tiny-pruned"), QStringLiteral("--input-shape"),
                                 QStringLiteral("1,4"), QStringLiteral("--kind"),
                                 QStringLiteral("pruned"), QStringLiteral("--parent"),
                                 QStringLiteral("tiny:2"), QStringLiteral("--json")});
        QVERIFY2(derived.exitCode == 0, qPrintable(derived.err));
        QCOMPARE(derived.json().value(QStringLiteral("kind")).toString(),
                 QStringLiteral("pruned"));
        const Run lineage = reg({QStringLiteral("lineage"), QStringLiteral("tiny-pruned:1"),
                                 QStringLiteral("--json")});
        QVERIFY2(lineage.exitCode == 0, qPrintable(lineage.err));
        const QJsonArray edges = lineage.json().value(QStringLiteral("edges")).toArray();
        QCOMPARE(edges.size(), 1);
        QCOMPARE(edges.first().toObject().value(QStringLiteral("parent")).toString(),
                 QStringLiteral("tiny:2"));
        QCOMPARE(edges.first().toObject().value(QStringLiteral("role")).toString(),
                 QStringLiteral("source"));
    }
};

QTEST_GUILESS_MAIN(TestCliRegistry)
#include "tst_cli_registry.moc"
