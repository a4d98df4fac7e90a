// The registry's housekeeping through the real modelstudio-cli (issue 16 items 11 and 15, issue
// 15 section 4): verify checks the database too, export --format pt never replaces a file
// unasked, gc takes what killed and failed runs left (and nothing a running one may still
// need), run folders have safe names, counts print whole, accuracy deltas in points, and the
// options every verb takes may come before the verb.

#include "TestSupport.h"
#include "app/CliRun.h"
#include "registry/Registry.h"

#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <fcntl.h>
#include <sys/stat.h>

namespace {

using Run = ms::test::CliRun;

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Moves a file's or folder's modification time `age_s` into the past (QFile cannot open a
// folder to do it).
bool age(const QString &path, qint64 age_s)
{
    const qint64 then = QDateTime::currentSecsSinceEpoch() - age_s;
    const struct timespec times[2] = {{time_t(then), 0}, {time_t(then), 0}};
    return ::utimensat(AT_FDCWD, QFile::encodeName(path).constData(), times, 0) == 0;
}

QStringList runFolders(const QString &ws)
{
    return QDir(ws + QStringLiteral("/runs")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
}

} // namespace

class TestCliHousekeeping : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    QString ws() const { return m_dir.filePath(QStringLiteral("workspace")); }
    Run reg(QStringList args) const
    {
        args << QStringLiteral("--workspace") << ws();
        return ms::test::runCli(args);
    }
    QString artifact(const QByteArray &bytes) const
    {
        static int counter = 0;
        const QString path = m_dir.filePath(QStringLiteral("artifact-%1.pt").arg(++counter));
        return ms::test::writeFile(path, bytes) ? path : QString();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY2(QFile::exists(ms::test::cliPath()), qPrintable(ms::test::cliPath()));
        // Versions as a compression leaves them: counts and an accuracy delta among their
        // metrics. The registry does not load the artifact: any bytes stand in for a model.
        ms::Registry registry(ws());
        ms::NewVersion v;
        v.modelName = QStringLiteral("resnet18");
        v.kind = ms::VersionKind::Pruned;
        v.artifactPath = artifact("first");
        v.parameterCount = 11181642;
        v.metrics = QJsonObject{{QStringLiteral("parameters"), 2206794},
                                {QStringLiteral("nonzero_parameters"), 1103397},
                                {QStringLiteral("test_acc"), 0.9123},
                                {QStringLiteral("test_acc_delta"), -0.0123},
                                {QStringLiteral("val_loss"), 0.31415926}};
        QVERIFY(registry.addVersion(v).number == 1);
        v.artifactPath = artifact("second");
        v.parameterCount = 5590821;
        v.metrics = QJsonObject{{QStringLiteral("parameters"), 1103397},
                                {QStringLiteral("nonzero_parameters"), 551698},
                                {QStringLiteral("test_acc"), 0.9050},
                                {QStringLiteral("test_acc_delta"), -0.0196},
                                {QStringLiteral("val_loss"), 0.35}};
        QVERIFY(registry.addVersion(v).number == 2);
    }

    // Issue 15 §4: counts whole with thousands separators, accuracy deltas in points.
    void countsAndDeltasPrintAsPeopleRead()
    {
        const Run show = reg({QStringLiteral("show"), QStringLiteral("resnet18:1")});
        QVERIFY2(show.exitCode == 0, qPrintable(show.err));
        QVERIFY2(show.out.contains(QStringLiteral("parameters 2,206,794")), qPrintable(show.out));
        QVERIFY2(show.out.contains(QStringLiteral("nonzero_parameters 1,103,397")),
                 qPrintable(show.out));
        QVERIFY2(show.out.contains(QStringLiteral("test_acc_delta -1.23 pp")),
                 qPrintable(show.out));
        QVERIFY2(show.out.contains(QStringLiteral("test_acc 91.23%")), qPrintable(show.out));
        QVERIFY2(show.out.contains(QStringLiteral("val_loss 0.31416")), qPrintable(show.out));
        QVERIFY(!show.out.contains(QStringLiteral("e+0")));

        const Run diff = reg({QStringLiteral("diff"), QStringLiteral("resnet18:1"),
                              QStringLiteral("resnet18:2")});
        QVERIFY2(diff.exitCode == 0, qPrintable(diff.err));
        QVERIFY(!diff.out.contains(QStringLiteral("e+0")));
        auto rowOf = [&diff](const QString &field) {
            for (const QString &line : diff.out.split(QLatin1Char('\n'))) {
                if (line.startsWith(field + QLatin1Char(' ')))
                    return line.simplified();
            }
            return QString();
        };
        QCOMPARE(rowOf(QStringLiteral("metrics.parameters")),
                 QStringLiteral("metrics.parameters 2,206,794 1,103,397 -1,103,397"));
        QCOMPARE(rowOf(QStringLiteral("metrics.test_acc_delta")),
                 QStringLiteral("metrics.test_acc_delta -1.23 pp -1.96 pp -0.73 pp"));
        QCOMPARE(rowOf(QStringLiteral("metrics.test_acc")),
                 QStringLiteral("metrics.test_acc 91.23% 90.50% -0.73 pp"));
        QCOMPARE(rowOf(QStringLiteral("params")),
                 QStringLiteral("params 11,181,642 5,590,821 -5,590,821"));
    }

    // Issue 15 §4: --workspace and --json before the verb.
    void globalOptionsBeforeTheVerb()
    {
        const Run models = ms::test::runCli({QStringLiteral("--workspace"), ws(),
                                             QStringLiteral("models"), QStringLiteral("--json")});
        QVERIFY2(models.exitCode == 0, qPrintable(models.err));
        QCOMPARE(models.json().value(QStringLiteral("models")).toArray().size(), 1);
        const Run versions = ms::test::runCli({QStringLiteral("--json"),
                                               QStringLiteral("--workspace=") + ws(),
                                               QStringLiteral("versions"),
                                               QStringLiteral("resnet18")});
        QVERIFY2(versions.exitCode == 0, qPrintable(versions.err));
        QCOMPARE(versions.json().value(QStringLiteral("versions")).toArray().size(), 2);
        const Run noVerb = ms::test::runCli({QStringLiteral("--workspace"), ws()});
        QCOMPARE(noVerb.exitCode, 2);
        QVERIFY2(noVerb.err.startsWith(QStringLiteral("error: missing the verb after "
                                                      "--workspace")),
                 qPrintable(noVerb.err));
        const Run noFolder = ms::test::runCli({QStringLiteral("--workspace")});
        QCOMPARE(noFolder.exitCode, 2);
        QVERIFY(noFolder.errorLine().contains(QStringLiteral("--workspace needs a folder")));
    }

    // Issue 16 item 15: pt refuses to replace a model or its README unless --force.
    void exportNeverReplacesUnasked()
    {
        const QString out = m_dir.filePath(QStringLiteral("out"));
        const QString pt = out + QStringLiteral("/model.pt");
        const QString readme = out + QStringLiteral("/model.README.md");
        QCOMPARE(reg({QStringLiteral("export"), QStringLiteral("resnet18:1"),
                      QStringLiteral("--to"), pt}).exitCode,
                 0);
        QCOMPARE(readAll(pt), QByteArray("first"));
        QVERIFY(ms::test::writeFile(readme, "my own notes"));

        const Run again = reg({QStringLiteral("export"), QStringLiteral("resnet18:2"),
                               QStringLiteral("--to"), pt});
        QCOMPARE(again.exitCode, 1);
        QVERIFY2(again.errorLine().contains(QStringLiteral("already exist"))
                     && again.errorLine().contains(QStringLiteral("--force")),
                 qPrintable(again.err));
        QCOMPARE(readAll(pt), QByteArray("first"));
        QCOMPARE(readAll(readme), QByteArray("my own notes"));
        // A README alone is worth keeping too.
        QVERIFY(QFile::remove(pt));
        QCOMPARE(reg({QStringLiteral("export"), QStringLiteral("resnet18:2"),
                      QStringLiteral("--to"), pt}).exitCode,
                 1);
        QVERIFY(!QFile::exists(pt));

        const Run forced = reg({QStringLiteral("export"), QStringLiteral("resnet18:2"),
                                QStringLiteral("--to"), pt, QStringLiteral("--force")});
        QVERIFY2(forced.exitCode == 0, qPrintable(forced.err));
        QCOMPARE(readAll(pt), QByteArray("second"));
        QVERIFY(readAll(readme).startsWith("# `resnet18:2`"));

        // torchserve: --force replaces the archive; triton never replaces a model folder.
        const QString mar = out + QStringLiteral("/r.mar");
        QVERIFY(ms::test::writeFile(mar, "not an archive"));
        const Run torchserve = reg({QStringLiteral("export"), QStringLiteral("resnet18:1"),
                                    QStringLiteral("--format"), QStringLiteral("torchserve"),
                                    QStringLiteral("--to"), mar});
        QCOMPARE(torchserve.exitCode, 1);
        QVERIFY2(torchserve.errorLine().contains(QStringLiteral("--force")),
                 qPrintable(torchserve.err));
        QCOMPARE(readAll(mar), QByteArray("not an archive"));
        const Run triton = reg({QStringLiteral("export"), QStringLiteral("resnet18:1"),
                                QStringLiteral("--format"), QStringLiteral("triton"),
                                QStringLiteral("--to"), out, QStringLiteral("--force")});
        QCOMPARE(triton.exitCode, 2);
        QVERIFY(triton.errorLine().contains(QStringLiteral("--force does not apply")));
    }

    // Issue 15 §4 and issue 16 item 15: a run that fails at once leaves no folder with a colon,
    // and gc takes the empty folders and stale temporary copies that killed runs leave, never a
    // folder or a copy that may still be in use.
    void gcTakesWhatDeadRunsLeft()
    {
        const QString csv = m_dir.filePath(QStringLiteral("tiny.csv"));
        QByteArray rows("a,b,label\n");
        for (int i = 0; i < 40; ++i)
            rows += QByteArray::number(i % 7) + ',' + QByteArray::number(i % 5) + ','
                    + QByteArray::number(i % 2) + '\n';
        QVERIFY(ms::test::writeFile(csv, rows));
        const Run train = reg({QStringLiteral("train"), QStringLiteral("--dataset"), csv,
                               QStringLiteral("--arch"), QStringLiteral("resnet18:1"),
                               QStringLiteral("--epochs"), QStringLiteral("1")});
        QCOMPARE(train.exitCode, 1);
        QVERIFY2(train.err.contains(QStringLiteral("error: Unknown architecture")),
                 qPrintable(train.err));
        const QStringList failed = runFolders(ws());
        QCOMPARE(failed.size(), 1);
        QVERIFY2(failed.first().endsWith(QStringLiteral("-resnet18-1")),
                 qPrintable(failed.first()));
        const QString failedDir = ws() + QStringLiteral("/runs/") + failed.first();
        QVERIFY(QDir(failedDir).isEmpty());

        // What runs killed early leave: an empty folder (with an empty checkpoint folder in
        // it) and a 0-byte staging copy, both long untouched; and the same, just made.
        const QString killed = ws() + QStringLiteral("/runs/20240101-000000-mlp");
        QVERIFY(QDir().mkpath(killed + QStringLiteral("/checkpoint")));
        const QString store = ws() + QStringLiteral("/artifacts/sha256");
        const QString staleCopy = store + QStringLiteral("/staging.pt.tmp-AbCdEf");
        const QString freshCopy = store + QStringLiteral("/staging.pt.tmp-GhIjKl");
        QVERIFY(ms::test::writeFile(staleCopy, QByteArray()));
        QVERIFY(ms::test::writeFile(freshCopy, QByteArray()));
        const QString fresh = ws() + QStringLiteral("/runs/20990101-000000-cnn");
        QVERIFY(QDir().mkpath(fresh));
        // A finished run's folder holds files: never taken, however old.
        const QString finished = ws() + QStringLiteral("/runs/20230101-000000-cnn");
        QVERIFY(QDir().mkpath(finished));
        QVERIFY(ms::test::writeFile(finished + QStringLiteral("/config.json"), "{}"));
        for (const QString &path : {failedDir, killed + QStringLiteral("/checkpoint"), killed,
                                    staleCopy, finished, finished + QStringLiteral("/config.json")})
            QVERIFY2(age(path, 7200), qPrintable(path));

        const Run gc = reg({QStringLiteral("gc"), QStringLiteral("--json")});
        QVERIFY2(gc.exitCode == 0, qPrintable(gc.err));
        QCOMPARE(gc.json().value(QStringLiteral("removed_run_folders")).toInt(), 2);
        QCOMPARE(gc.json().value(QStringLiteral("removed_files")).toInt(), 1);
        QVERIFY(!QFileInfo::exists(failedDir));
        QVERIFY(!QFileInfo::exists(killed));
        QVERIFY(!QFileInfo::exists(staleCopy));
        QVERIFY(QFileInfo::exists(freshCopy));
        QVERIFY(QFileInfo::exists(fresh));
        QVERIFY(QFileInfo::exists(finished + QStringLiteral("/config.json")));
        const Run text = reg({QStringLiteral("gc")});
        QVERIFY2(text.out.contains(QStringLiteral("removed 0 empty run folders")),
                 qPrintable(text.out));
    }

    // Issue 16 item 11: verify runs SQLite's integrity_check and foreign_key_check. A page of a
    // real registry.db is damaged on disk, as a failing disk or a careless copy would.
    void verifyChecksTheDatabase()
    {
        const Run ok = reg({QStringLiteral("verify")});
        QVERIFY2(ok.exitCode == 0, qPrintable(ok.err));
        QVERIFY2(ok.out.contains(QStringLiteral("database ok; 2 artifacts verified")),
                 qPrintable(ok.out));

        // The benchmarks table is read by nothing verify's other checks do: only the database
        // checks can notice its root page going bad.
        const QString script = QStringLiteral(R"PY(
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
page_size = db.execute("PRAGMA page_size").fetchone()[0]
root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'benchmarks'").fetchone()[0]
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()
with open(sys.argv[1], "r+b") as f:
    f.seek((root - 1) * page_size)
    f.write(b"\x0d\x00\x00\x00\x07\xff\xff\x00" + b"\xa5" * 64)
print(root)
)PY");
        QByteArray out;
        QVERIFY(ms::test::runPython(m_dir.path(), script,
                                    {ws() + QStringLiteral("/registry.db")}, &out));

        const Run damaged = reg({QStringLiteral("verify")});
        QCOMPARE(damaged.exitCode, 1);
        QVERIFY2(damaged.out.contains(QStringLiteral("database: integrity_check")),
                 qPrintable(damaged.out + damaged.err));
        QVERIFY2(damaged.errorLine().contains(QStringLiteral("is damaged")),
                 qPrintable(damaged.err));
        const Run json = reg({QStringLiteral("verify"), QStringLiteral("--json")});
        QCOMPARE(json.exitCode, 1);
        QCOMPARE(json.json().value(QStringLiteral("database_ok")).toBool(true), false);
        QVERIFY(!json.json().value(QStringLiteral("database_problems")).toArray().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestCliHousekeeping)
#include "tst_cli_housekeeping.moc"
