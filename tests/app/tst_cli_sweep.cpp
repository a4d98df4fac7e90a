// modelstudio-cli sweep as a user runs it: a small real sweep, a sweep killed with SIGKILL and
// resumed, a bad sweep file refused before any trial, and a failing trial that does not stop
// the sweep.

#include "app/CliRun.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

namespace {

using Run = ms::test::CliRun;

// Tiny budgets: mlp on 600 images, 2 epochs per trial.
QJsonObject sweepFile(const QString &name, int trials, int parallel)
{
    const QByteArray text = R"({
      "train": {"dataset": "fashion-mnist", "arch": "mlp", "epochs": 2, "limit": 600},
      "space": {
        "lr": {"log_uniform": [1e-4, 1e-2]},
        "batch_size": {"choice": [32, 64]},
        "arch.width": {"int_log_uniform": [16, 128]},
        "arch.dropout": {"uniform": [0.0, 0.3]}
      },
      "objective": {"metric": "val_acc", "goal": "max"},
      "sampler": "random", "seed": 1,
      "early_stop": {"rule": "none"}
    })";
    QJsonObject o = QJsonDocument::fromJson(text).object();
    o.insert("name", name);
    o.insert("trials", trials);
    o.insert("parallel", parallel);
    o.insert("threads", 1);
    return o;
}

} // namespace

class TestCliSweep : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    QString ws() const { return m_dir.filePath(QStringLiteral("ws")); }
    QString write(const QString &name, const QJsonObject &o) const
    {
        const QString path = m_dir.filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(o).toJson()) < 0)
            qFatal("cannot write %s", qPrintable(path));
        return path;
    }
    Run cli(QStringList args) const
    {
        args << QStringLiteral("--workspace") << ws();
        return ms::test::runCli(args, 600000);
    }
    QJsonObject show(qint64 id) const
    {
        return cli({QStringLiteral("sweep"), QStringLiteral("show"), QString::number(id),
                    QStringLiteral("--json")})
            .json();
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void aSmallSweepRecordsEveryTrialAndRegistersTheBest()
    {
        const Run run = cli({QStringLiteral("sweep"), QStringLiteral("--config"),
                             write("small.json", sweepFile("small", 4, 2)),
                             QStringLiteral("--json")});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        const QList<QJsonObject> lines = run.jsonLines();
        QList<QJsonObject> trials;
        for (const QJsonObject &l : lines)
            if (l.value("event") == QLatin1String("trial"))
                trials << l;
        QCOMPARE(trials.size(), 4);
        QSet<int> numbers;
        for (const QJsonObject &t : trials) {
            numbers.insert(t.value("trial").toInt());
            QVERIFY2(t.value("status").toString() == QLatin1String("finished"),
                     qPrintable(QJsonDocument(t).toJson(QJsonDocument::Compact)));
            QCOMPARE(t.value("epochs").toInt(), 2);
            QVERIFY(t.value("value").toDouble() > 0.1);   // above chance (10 classes)
            QVERIFY(t.value("params").toObject().contains("arch.width"));
            QVERIFY(t.value("run").toInteger() > 0);
        }
        QCOMPARE(numbers, (QSet<int>{0, 1, 2, 3}));
        const QJsonObject end = lines.last();
        QCOMPARE(end.value("event").toString(), QStringLiteral("finished"));
        QCOMPARE(end.value("trial_epochs").toInt(), 8);
        const QJsonObject best = end.value("best").toObject();
        double top = 0.0;
        for (const QJsonObject &t : trials)
            top = std::max(top, t.value("value").toDouble());
        QCOMPARE(best.value("value").toDouble(), top);
        QCOMPARE(best.value("version").toString(), QStringLiteral("small:1"));

        // The registry has the sweep, its trials and the version with the best trial's recipe.
        const QJsonObject sweep = show(end.value("sweep").toInteger());
        QCOMPARE(sweep.value("status").toString(), QStringLiteral("finished"));
        QCOMPARE(sweep.value("trials").toArray().size(), 4);
        // Four finished trials of different values: a share per searched parameter.
        const QJsonArray importance = sweep.value("importance").toArray();
        QCOMPARE(importance.size(), 4);
        double shares = 0.0;
        for (const QJsonValue &p : importance)
            shares += p.toObject().value("importance").toDouble();
        QVERIFY(std::abs(shares - 1.0) < 1e-9);
        const Run text = cli({QStringLiteral("sweep"), QStringLiteral("show"),
                              QString::number(end.value("sweep").toInteger())});
        QVERIFY2(text.out.contains(QStringLiteral("parameter importance: ")), qPrintable(text.out));
        const QJsonObject version = cli({QStringLiteral("show"), QStringLiteral("small:1"),
                                         QStringLiteral("--json")}).json();
        const QJsonObject recipe = version.value("recipe").toObject();
        QCOMPARE(recipe.value("arch_params").toObject().value("width"),
                 best.value("params").toObject().value("arch.width"));
        QVERIFY(QJsonDocument(version).toJson().contains("trial " + QByteArray::number(
                                                             best.value("trial").toInt())));
        // Trials do not register versions of their own.
        const Run versions = cli({QStringLiteral("versions"), QStringLiteral("small"),
                                  QStringLiteral("--json")});
        QCOMPARE(QJsonDocument::fromJson(versions.out.toUtf8()).toJson().count("\"ref\""), 1);
    }

    void aKilledSweepResumesWithoutRepeatingFinishedTrials()
    {
        QProcess sweep;
        sweep.start(ms::test::cliPath(),
                    {QStringLiteral("sweep"), QStringLiteral("--config"),
                     write("killed.json", sweepFile("killed", 5, 1)), QStringLiteral("--json"),
                     QStringLiteral("--workspace"), ws()});
        QVERIFY(sweep.waitForStarted());
        // Wait for two trials to finish, then SIGKILL the sweep (its running trial goes on as
        // an orphan or dies; either way the sweep must not count it twice).
        QByteArray out;
        qint64 id = 0;
        const auto trialsEnded = [&] {
            out += sweep.readAllStandardOutput();
            return out.count("\"event\":\"trial\"");
        };
        QTRY_VERIFY_WITH_TIMEOUT(trialsEnded() >= 2, 300000);
        for (const QByteArray &line : out.split('\n')) {
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            if (o.value("event") == QLatin1String("sweep"))
                id = o.value("sweep").toInteger();
        }
        QVERIFY(id > 0);
        ::kill(pid_t(sweep.processId()), SIGKILL);
        QVERIFY(sweep.waitForFinished());
        // The registry sees the sweep's process gone: interrupted, resumable.
        QCOMPARE(show(id).value("status").toString(), QStringLiteral("interrupted"));
        const QJsonArray before = show(id).value("trials").toArray();
        QMap<int, qint64> finishedRuns;
        for (const QJsonValue &t : before)
            if (t.toObject().value("status") == QLatin1String("finished"))
                finishedRuns.insert(t.toObject().value("trial").toInt(),
                                    t.toObject().value("run").toInteger());
        QVERIFY(finishedRuns.size() >= 2);

        const Run resumed = cli({QStringLiteral("sweep"), QStringLiteral("--resume"),
                                 QString::number(id), QStringLiteral("--json")});
        QVERIFY2(resumed.exitCode == 0, qPrintable(resumed.err));
        int rerun = 0;
        for (const QJsonObject &l : resumed.jsonLines()) {
            if (l.value("event") != QLatin1String("trial"))
                continue;
            ++rerun;
            QVERIFY2(!finishedRuns.contains(l.value("trial").toInt()),
                     "a finished trial ran again");
        }
        QCOMPARE(rerun, 5 - finishedRuns.size());
        const QJsonArray after = show(id).value("trials").toArray();
        QCOMPARE(after.size(), 5);
        QSet<int> numbers;
        for (const QJsonValue &t : after) {
            const QJsonObject o = t.toObject();
            numbers.insert(o.value("trial").toInt());
            QCOMPARE(o.value("status").toString(), QStringLiteral("finished"));
            if (finishedRuns.contains(o.value("trial").toInt()))
                QCOMPARE(o.value("run").toInteger(), finishedRuns.value(o.value("trial").toInt()));
        }
        QCOMPARE(numbers.size(), 5);
        QCOMPARE(show(id).value("status").toString(), QStringLiteral("finished"));
    }

    void aBadSweepFileIsRefusedBeforeAnyTrial_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("expected");
        QTest::newRow("unknown parameter") << "space" << R"({"lrate": {"uniform": [0, 1]}})"
                                           << "space.lrate";
        QTest::newRow("parallel 0") << "parallel" << "0" << "\"parallel\"";
        QTest::newRow("empty choice") << "space" << R"({"batch_size": {"choice": []}})"
                                      << "the choice is empty";
    }

    void aBadSweepFileIsRefusedBeforeAnyTrial()
    {
        QFETCH(QString, key);
        QFETCH(QString, value);
        QFETCH(QString, expected);
        QJsonObject file = sweepFile("bad", 2, 1);
        file.insert(key, QJsonDocument::fromJson("[" + value.toUtf8() + "]").array().at(0));
        const int sweepsBefore = cli({QStringLiteral("sweeps"), QStringLiteral("--json")})
                                     .json().value("sweeps").toArray().size();
        const Run run = cli({QStringLiteral("sweep"), QStringLiteral("--config"),
                             write("bad.json", file)});
        QCOMPARE(run.exitCode, 2);
        QVERIFY2(run.errorLine().contains(expected), qPrintable(run.err));
        QCOMPARE(cli({QStringLiteral("sweeps"), QStringLiteral("--json")})
                     .json().value("sweeps").toArray().size(),
                 sweepsBefore);
    }

    void aFailingTrialIsRecordedAndTheSweepGoesOn()
    {
        // An SGD learning rate of 1e6 diverges; the other choice trains.
        QJsonObject file = sweepFile("diverge", 2, 1);
        file.insert("sampler", "grid");
        file.insert("space", QJsonDocument::fromJson(
                                 R"({"lr": {"choice": [1e6, 0.001]}, "optimizer": {"choice": ["sgd"]}})")
                                 .object());
        const Run run = cli({QStringLiteral("sweep"), QStringLiteral("--config"),
                             write("diverge.json", file), QStringLiteral("--json")});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        QMap<int, QJsonObject> byNumber;
        for (const QJsonObject &l : run.jsonLines())
            if (l.value("event") == QLatin1String("trial"))
                byNumber.insert(l.value("trial").toInt(), l);
        QCOMPARE(byNumber.size(), 2);
        QCOMPARE(byNumber[0].value("status").toString(), QStringLiteral("diverged"));
        QVERIFY(byNumber[0].value("message").toString().contains("diverged"));
        QCOMPARE(byNumber[1].value("status").toString(), QStringLiteral("finished"));
        QCOMPARE(run.jsonLines().last().value("best").toObject().value("trial").toInt(), 1);
    }
};

QTEST_GUILESS_MAIN(TestCliSweep)
#include "tst_cli_sweep.moc"
