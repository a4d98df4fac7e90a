// modelstudio-cli against big and odd input: thread counts it refuses, SIGTERM ending a run like
// Ctrl-C (exit 143, also while a large CSV loads), a CSV cell of megabytes refused in one short
// line, and a .pt whose contents unpack past the limit refused before it is loaded.

#include "TestSupport.h"
#include "app/CliRun.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

namespace {

using Run = ms::test::CliRun;
using ms::test::cliPath;
using ms::test::runCli;

Run cliWithEnv(const QStringList &args, const QString &name, const QString &value)
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(name, value);
    p.setProcessEnvironment(env);
    p.start(cliPath(), args);
    if (!p.waitForFinished(240000)) {
        p.kill();
        p.waitForFinished();
    }
    return Run{p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
               QString::fromUtf8(p.readAllStandardOutput()),
               QString::fromUtf8(p.readAllStandardError())};
}

// Reads the child's JSON lines until one has "event" == `event`; false when it ends first.
bool waitForEvent(QProcess &p, const QString &event, QList<QJsonObject> *seen)
{
    while (p.waitForReadyRead(120000) || p.canReadLine()) {
        while (p.canReadLine()) {
            const QJsonObject e = QJsonDocument::fromJson(p.readLine()).object();
            seen->append(e);
            if (e.value(QStringLiteral("event")).toString() == event)
                return true;
        }
        if (p.state() != QProcess::Running)
            break;
    }
    return false;
}

} // namespace

class TestCliLimits : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString ws() const { return m_dir.filePath(QStringLiteral("workspace")); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY2(QFile::exists(cliPath()), qPrintable(cliPath()));
    }

    // --threads past 256 is refused with one line, before any work, by every verb that takes
    // it (train once started 31,921 threads for --threads 100000).
    void tooManyThreadsAreRefused_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::newRow("train") << QStringList{"train", "--arch", "mlp", "--limit", "200",
                                              "--threads", "100000"};
        QTest::newRow("compress") << QStringList{"compress", "mlp:1", "--method", "fp16",
                                                 "--threads", "100000"};
        QTest::newRow("bench") << QStringList{"bench", "mlp:1", "--threads", "100000"};
    }

    void tooManyThreadsAreRefused()
    {
        QFETCH(QStringList, args);
        const QString workspace = m_dir.filePath(QStringLiteral("threads-ws"));
        const Run run = runCli(args + QStringList{"--workspace", workspace}, 60000);
        QVERIFY2(run.exitCode != 0 && run.exitCode != -1, qPrintable(run.err));
        QVERIFY2(run.errorLine().contains(QStringLiteral("256"))
                     && run.errorLine().contains(QStringLiteral("100000")),
                 qPrintable(run.err));
        QVERIFY(QDir(workspace + QStringLiteral("/runs")).isEmpty());
    }

    // SIGTERM while a 100 MB CSV loads: the reader notices between chunks and the process
    // ends as cancelled with 143 (128 + SIGTERM), as a shell expects.
    void sigtermWhileLoadingACsvExits143()
    {
        const QString csv = m_dir.filePath(QStringLiteral("big.csv"));
        {
            QFile file(csv);
            QVERIFY(file.open(QIODevice::WriteOnly));
            QByteArray row;
            for (int i = 0; i < 1024; ++i)
                row += "0.5,";
            row += "1\n";
            const QByteArray block = row.repeated(256);
            for (qint64 written = 0; written < (qint64(100) << 20); written += block.size())
                QCOMPARE(file.write(block), block.size());
        }
        QProcess p;
        p.start(cliPath(), {QStringLiteral("train"), QStringLiteral("--dataset"), csv,
                            QStringLiteral("--arch"), QStringLiteral("mlp"),
                            QStringLiteral("--epochs"), QStringLiteral("1"),
                            QStringLiteral("--json"), QStringLiteral("--workspace"), ws()});
        QVERIFY(p.waitForStarted());
        QList<QJsonObject> events;
        QVERIFY(waitForEvent(p, QStringLiteral("loading"), &events));
        QVERIFY(::kill(pid_t(p.processId()), SIGTERM) == 0);
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 143);
        const QString err = QString::fromUtf8(p.readAllStandardError());
        const QStringList lines = err.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 1);
        // Stopped inside the reader, not after it: the dataset never finished loading.
        QVERIFY2(lines.first().startsWith(QStringLiteral("error: Stopped while reading big.csv")),
                 qPrintable(err));
        waitForEvent(p, QStringLiteral("finished"), &events);
        QCOMPARE(events.last().value(QStringLiteral("status")).toString(),
                 QStringLiteral("cancelled"));
        for (const QJsonObject &e : std::as_const(events))
            QVERIFY(e.value(QStringLiteral("event")).toString() != QLatin1String("start"));
    }

    // SIGTERM and Ctrl-C during training: the same stop, the last epoch's checkpoint kept,
    // exit 128 + the signal.
    void aSignalDuringTrainingKeepsTheCheckpoint_data()
    {
        QTest::addColumn<int>("signal");
        QTest::addColumn<int>("exitCode");
        QTest::newRow("SIGTERM") << int(SIGTERM) << 143;
        QTest::newRow("SIGINT") << int(SIGINT) << 130;
    }

    void aSignalDuringTrainingKeepsTheCheckpoint()
    {
        QFETCH(int, signal);
        QFETCH(int, exitCode);
        QProcess p;
        p.start(cliPath(), {QStringLiteral("train"), QStringLiteral("--arch"),
                            QStringLiteral("mlp"), QStringLiteral("--epochs"),
                            QStringLiteral("20"), QStringLiteral("--limit"),
                            QStringLiteral("4000"), QStringLiteral("--batch-size"),
                            QStringLiteral("16"), QStringLiteral("--threads"),
                            QStringLiteral("1"), QStringLiteral("--json"),
                            QStringLiteral("--workspace"), ws()});
        QVERIFY(p.waitForStarted());
        QList<QJsonObject> events;
        QVERIFY(waitForEvent(p, QStringLiteral("epoch"), &events));
        QVERIFY(::kill(pid_t(p.processId()), signal) == 0);
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), exitCode);
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QVERIFY2(err.contains(QStringLiteral("checkpoint is kept; resume with: modelstudio-cli "
                                             "train --resume")),
                 qPrintable(err));
        waitForEvent(p, QStringLiteral("finished"), &events);
        const QJsonObject end = events.last();
        QCOMPARE(end.value(QStringLiteral("status")).toString(), QStringLiteral("cancelled"));
        const QString runDir = end.value(QStringLiteral("run_dir")).toString();
        QVERIFY2(QFile::exists(runDir + QStringLiteral("/checkpoint/state.json")),
                 qPrintable(runDir));
    }

    // A CSV with a 4 MB cell: one short error line, a short JSON end, not the cell twice.
    void aHugeCellIsOneShortLine()
    {
        const QString csv = m_dir.filePath(QStringLiteral("cell.csv"));
        QVERIFY(ms::test::writeFile(csv, "a,b,label\n1," + QByteArray(4 << 20, '9')
                                             + ",0\n2,3,1\n"));
        const Run run = runCli({"train", "--dataset", csv, "--arch", "mlp", "--json",
                                "--workspace", ws()});
        QVERIFY2(run.exitCode == 1, qPrintable(run.err.left(500)));
        QVERIFY2(run.errorLine().contains(QStringLiteral("cell.csv: line 2")),
                 qPrintable(run.err.left(500)));
        QVERIFY2(run.err.size() < 1000, qPrintable(QString::number(run.err.size())));
        QVERIFY2(run.out.size() < 3000, qPrintable(QString::number(run.out.size())));
    }

    // A .pt whose extra entry unpacks to 8 MiB of zeros: refused before loading when the
    // limit is 1 MiB, by flag, environment or workspace setting; imported without a limit.
    void anOverSizedModelIsRefusedBeforeLoading()
    {
        const QString pt = m_dir.filePath(QStringLiteral("padded.pt"));
        QByteArray out;
        QVERIFY(ms::test::runPython(m_dir.path(), QStringLiteral(R"(
import sys, zipfile, torch
class Net(torch.nn.Module):
    def forward(self, x):
        return x.flatten(1)[:, :2]
torch.jit.save(torch.jit.script(Net()), sys.argv[1])
with zipfile.ZipFile(sys.argv[1]) as z:
    prefix = z.namelist()[0].split('/')[0]
with zipfile.ZipFile(sys.argv[1], 'a', compression=zipfile.ZIP_DEFLATED) as z:
    z.writestr(prefix + '/extra/zeros', b'\0' * (8 << 20))
)"), {pt}, &out));
        QVERIFY(QFileInfo(pt).size() < (1 << 20));
        const QStringList import{"import", pt, "--name", "padded", "--input-shape", "1,4"};
        const QString workspace = m_dir.filePath(QStringLiteral("import-ws"));

        auto refused = [](const Run &run) {
            QVERIFY2(run.exitCode != 0 && run.exitCode != -1, qPrintable(run.out));
            QVERIFY2(run.errorLine().contains(QStringLiteral("8.0 MiB once unpacked"))
                         && run.errorLine().contains(QStringLiteral("limit of 1.0 MiB")),
                     qPrintable(run.err));
        };
        refused(runCli(import + QStringList{"--max-model-bytes", "1M", "--workspace", workspace}));
        refused(cliWithEnv(import + QStringList{"--workspace", workspace},
                           QStringLiteral("MODELSTUDIO_MAX_MODEL_BYTES"), QStringLiteral("1M")));
        QVERIFY(QDir().mkpath(workspace));
        QVERIFY(ms::test::writeFile(workspace + QStringLiteral("/settings.json"),
                                    R"({"max_model_bytes": "1M"})"));
        refused(runCli(import + QStringList{"--workspace", workspace}));
        // The flag wins over the workspace; the file itself loads and runs.
        const Run imported =
            runCli(import + QStringList{"--max-model-bytes", "64M", "--workspace", workspace});
        QVERIFY2(imported.exitCode == 0, qPrintable(imported.err));
        QCOMPARE(imported.out.trimmed(), QStringLiteral("padded:1"));
    }
};

QTEST_GUILESS_MAIN(TestCliLimits)
#include "tst_cli_limits.moc"
