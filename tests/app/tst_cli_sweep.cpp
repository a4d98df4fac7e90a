// modelstudio-cli sweep as a user runs it: a small real sweep, a sweep killed with SIGKILL and
// resumed, a bad sweep file refused before any trial, and a failing trial that does not stop
// the sweep.

#include "app/CliRun.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>
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

// The processes whose parent is `parent` (each /proc/PID/stat's fourth field; the name in
// parentheses before it may hold spaces).
QList<pid_t> childrenOf(qint64 parent)
{
    QList<pid_t> children;
    const QStringList entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs);
    for (const QString &entry : entries) {
        bool number = false;
        const int pid = entry.toInt(&number);
        if (!number)
            continue;
        QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
        if (!stat.open(QIODevice::ReadOnly))
            continue;
        const QByteArray text = stat.readAll();
        const QList<QByteArray> fields = text.mid(text.lastIndexOf(')') + 2).split(' ');
        if (fields.size() > 1 && fields.at(1).toLongLong() == parent)
            children << pid_t(pid);
    }
    return children;
}

// The sweep's id, from the "sweep" event a `sweep --json` prints before any trial ends; 0 when
// it is not in `out`.
qint64 sweepIdIn(const QByteArray &out)
{
    for (const QByteArray &line : out.split('\n')) {
        const QJsonObject o = QJsonDocument::fromJson(line).object();
        if (o.value("event") == QLatin1String("sweep"))
            return o.value("sweep").toInteger();
    }
    return 0;
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
        int firstOfProcess = 0;
        for (const QJsonObject &t : trials) {
            numbers.insert(t.value("trial").toInt());
            QVERIFY2(t.value("status").toString() == QLatin1String("finished"),
                     qPrintable(QJsonDocument(t).toJson(QJsonDocument::Compact)));
            QCOMPARE(t.value("epochs").toInt(), 2);
            QVERIFY(t.value("value").toDouble() > 0.1);   // above chance (10 classes)
            QVERIFY(t.value("params").toObject().contains("arch.width"));
            QVERIFY(t.value("run").toInteger() > 0);
            // Where the trial's time went: its process's life holds its epochs' training and
            // scoring, and the rest (start, data, writes) is what bench/sweep_bench.py reports.
            const QJsonObject m = t.value("metrics").toObject();
            QVERIFY2(m.value("train_s").toDouble() > 0.0 && m.value("score_s").toDouble() > 0.0,
                     qPrintable(QJsonDocument(m).toJson(QJsonDocument::Compact)));
            QVERIFY(m.value("wall_s").toDouble()
                    > m.value("train_s").toDouble() + m.value("score_s").toDouble());
            // A process per slot: the trials after the first two run in a process that has
            // started already and read the data of the sweep's spec.
            const int nth = m.value("process_trial").toInt();
            QVERIFY2(nth >= 1, qPrintable(QJsonDocument(m).toJson(QJsonDocument::Compact)));
            if (nth == 1)
                ++firstOfProcess;
            else
                QVERIFY2(m.value("warm_start").toBool() && m.value("data_read_ahead").toBool(),
                         qPrintable(QJsonDocument(m).toJson(QJsonDocument::Compact)));
        }
        QCOMPARE(numbers, (QSet<int>{0, 1, 2, 3}));
        QCOMPARE(firstOfProcess, 2);
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
        // A trial scores the test split once, after its last epoch (the objective is on
        // validation), and its version keeps that figure.
        const auto points = [&](const char *key) {
            return cli({QStringLiteral("metrics"), QStringLiteral("small:1"), QStringLiteral("--key"),
                        QLatin1String(key), QStringLiteral("--json")})
                .json().value("points").toArray();
        };
        QCOMPARE(points("val_acc").size(), 2);
        const QJsonArray test = points("test_acc");
        QCOMPARE(test.size(), 1);
        QCOMPARE(test.at(0).toObject().value("epoch").toInt(), 2);
        QVERIFY(version.value("metrics").toObject().value("test_acc").toDouble() > 0.1);
        // Trials do not register versions of their own.
        const Run versions = cli({QStringLiteral("versions"), QStringLiteral("small"),
                                  QStringLiteral("--json")});
        QCOMPARE(QJsonDocument::fromJson(versions.out.toUtf8()).toJson().count("\"ref\""), 1);
    }

    // A sweep's trial process (`--spare`, SweepJob) runs the command lines it is given one after
    // another, saying when each is done; the data it read ahead is used only when the run reads
    // the same, and without a command line it ends quietly.
    void aTrialProcessUsesItsDataOnlyWhenItFits_data()
    {
        QTest::addColumn<int>("preloadLimit");
        QTest::addColumn<bool>("readAhead");
        QTest::newRow("same data") << 600 << true;
        QTest::newRow("another limit") << 500 << false;
    }
    void aTrialProcessUsesItsDataOnlyWhenItFits()
    {
        QFETCH(int, preloadLimit);
        QFETCH(bool, readAhead);
        const QJsonObject train{{"dataset", "fashion-mnist"}, {"arch", "mlp"}, {"epochs", 1},
                                {"limit", 600}};
        QJsonObject preload = train;
        preload.insert("limit", preloadLimit);
        const QStringList command{"train", "--config", write("warm-trial.json", train),
                                  "--no-register", "--json", "--threads", "1",
                                  "--workspace", ws()};
        QProcess spare;
        spare.start(ms::test::cliPath(), {"--spare", "--workspace", ws(), "--preload",
                                          write("warm-preload.json", preload)});
        QVERIFY(spare.waitForStarted());
        const QByteArray line = QJsonDocument(QJsonArray::fromStringList(command)).toJson(
                                    QJsonDocument::Compact) + '\n';
        spare.write(line + line);   // two trials
        spare.closeWriteChannel();
        QVERIFY(spare.waitForFinished(240000));
        const Run run{spare.exitCode(), QString::fromUtf8(spare.readAllStandardOutput()),
                      QString::fromUtf8(spare.readAllStandardError())};
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        const QList<QJsonObject> lines = run.jsonLines();
        QCOMPARE(lines.first().value("event").toString(), QStringLiteral("ready"));
        int started = 0;
        int done = 0;
        QString lastBeforeDone;
        for (const QJsonObject &l : lines) {
            const QString event = l.value("event").toString();
            if (event == QLatin1String("start")) {
                ++started;
                QCOMPARE(l.value("data_read_ahead").toBool(), readAhead);
                // The run has the samples it asked for, not the preload's: 600 less a tenth.
                QCOMPARE(l.value("dataset").toObject().value("train").toInt(), 540);
            } else if (event == QLatin1String("command_done")) {
                ++done;
                QCOMPARE(l.value("code").toInt(), 0);
                QCOMPARE(lastBeforeDone, QStringLiteral("finished"));
            }
            lastBeforeDone = event;
        }
        QCOMPARE(started, 2);
        QCOMPARE(done, 2);
        QCOMPARE(lines.last().value("event").toString(), QStringLiteral("command_done"));
        // Each command's stderr ends with a record separator, so the sweep can tell whose it is.
        QCOMPARE(run.err.count(QStringLiteral("\x1e\n")), 2);

        QProcess garbled;   // a line that is not a command line: one message, no verb run
        garbled.start(ms::test::cliPath(), {"--spare", "--workspace", ws()});
        QVERIFY(garbled.waitForStarted());
        garbled.write("train --config x.json\n");
        garbled.closeWriteChannel();
        QVERIFY(garbled.waitForFinished(60000));
        const Run bad{garbled.exitCode(), QString::fromUtf8(garbled.readAllStandardOutput()),
                      QString::fromUtf8(garbled.readAllStandardError())};
        QVERIFY(bad.exitCode != 0);
        QVERIFY2(bad.errorLine().contains("JSON array of strings"), qPrintable(bad.err));

        QProcess unused;   // the sweep ended before it needed this one
        unused.start(ms::test::cliPath(), {"--spare", "--workspace", ws()});
        QVERIFY(unused.waitForStarted());
        const qint64 unusedPid = unused.processId();
        unused.closeWriteChannel();
        QVERIFY(unused.waitForFinished(60000));
        QCOMPARE(unused.exitStatus(), QProcess::NormalExit);
        QCOMPARE(unused.exitCode(), 0);
        const QJsonObject ready = QJsonDocument::fromJson(unused.readAllStandardOutput()).object();
        QCOMPARE(ready.value("event").toString(), QStringLiteral("ready"));
        QCOMPARE(ready.value("pid").toInteger(), unusedPid);
    }

    // A process runs a slot's trials one after another: a trial must come out as it would in a
    // fresh process (seeds, threads, the data copy), so the same recipe three times gives the
    // same curve in its process's first, second and third trial, and in fresh processes.
    void aReusedTrialProcessTrainsAsAFreshOneWould()
    {
        double first = 0.0;
        for (const bool reuse : {true, false}) {
            QJsonObject file = sweepFile(reuse ? "same" : "same-fresh", 3, 1);
            file.insert("sampler", "grid");
            file.insert("space", QJsonDocument::fromJson(
                                     R"({"arch.dropout": {"choice": [0.3, 0.3, 0.3]}})").object());
            file.insert("objective", QJsonDocument::fromJson(
                                         R"({"metric": "val_loss", "goal": "min"})").object());
            file.insert("reuse_processes", reuse);
            const Run run = cli({QStringLiteral("sweep"), QStringLiteral("--config"),
                                 write("same.json", file), QStringLiteral("--json"),
                                 QStringLiteral("--no-register")});
            QVERIFY2(run.exitCode == 0, qPrintable(run.err));
            QList<int> nth;
            for (const QJsonObject &l : run.jsonLines()) {
                if (l.value("event") != QLatin1String("trial"))
                    continue;
                const double loss = l.value("value").toDouble();
                QVERIFY(loss > 0.0);
                if (first == 0.0)
                    first = loss;
                // One build, one kernel, one thread: only state left behind could move it.
                QVERIFY2(std::abs(loss - first) <= 1e-6 * first,
                         qPrintable(QStringLiteral("%1 against %2").arg(loss).arg(first)));
                nth << l.value("metrics").toObject().value("process_trial").toInt();
            }
            std::sort(nth.begin(), nth.end());
            QCOMPARE(nth, reuse ? (QList<int>{1, 2, 3}) : (QList<int>{1, 1, 1}));
        }
    }

    // A trial stopped early is sent SIGTERM; here every trial's only epoch is its last, so
    // the stop comes as the trial ends (with other timing, after it has, while its process
    // waits for the next). The process must take it and run the slot's next trials: none
    // fails, and all four run in the one process.
    void aStopThatComesLateCostsNoTrial()
    {
        QJsonObject file = sweepFile("late-stop", 4, 1);
        file.insert("sampler", "grid");
        file.insert("space", QJsonDocument::fromJson(
                                 R"({"epochs": {"choice": [1]},
                                     "lr": {"choice": [0.01, 1e-5, 1e-5, 1e-5]}})").object());
        file.insert("early_stop", QJsonDocument::fromJson(
                                      R"({"rule": "asha", "min_epochs": 1, "reduction": 3})")
                                      .object());
        const Run run = cli({QStringLiteral("sweep"), QStringLiteral("--config"),
                             write("late-stop.json", file), QStringLiteral("--json"),
                             QStringLiteral("--no-register")});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        QList<int> nth;
        int pruned = 0;
        for (const QJsonObject &l : run.jsonLines()) {
            if (l.value("event") != QLatin1String("trial"))
                continue;
            QVERIFY2(l.value("status") != QLatin1String("failed"),
                     qPrintable(QJsonDocument(l).toJson(QJsonDocument::Compact)));
            pruned += l.value("status") == QLatin1String("pruned") ? 1 : 0;
            nth << l.value("metrics").toObject().value("process_trial").toInt();
        }
        QVERIFY(pruned >= 1);
        std::sort(nth.begin(), nth.end());
        QCOMPARE(nth, (QList<int>{1, 2, 3, 4}));
    }

    // A trial process killed while it trains ends that trial (failed, with a message) and only
    // it: the sweep goes on with a new process.
    void aKilledTrialProcessEndsItsTrialOnly()
    {
        QJsonObject file = sweepFile("crash", 3, 1);
        file.insert("sampler", "grid");
        // The middle trial trains long enough to be killed while it does.
        file.insert("space", QJsonDocument::fromJson(
                                 R"({"epochs": {"choice": [1, 400, 1]}})").object());
        QProcess sweep;
        sweep.start(ms::test::cliPath(),
                    {QStringLiteral("sweep"), QStringLiteral("--config"), write("crash.json", file),
                     QStringLiteral("--json"), QStringLiteral("--no-register"),
                     QStringLiteral("--workspace"), ws()});
        QVERIFY(sweep.waitForStarted());
        QByteArray out;
        QTRY_VERIFY_WITH_TIMEOUT((out += sweep.readAllStandardOutput()).contains("\"event\":\"trial\""),
                                 240000);
        const qint64 id = sweepIdIn(out);
        QVERIFY(id > 0);
        // Trial 1 trains once the registry has its run (recorded after its first epoch).
        const auto secondRuns = [&] {
            const QJsonArray trials = show(id).value("trials").toArray();
            for (const QJsonValue &t : trials)
                if (t.toObject().value("trial").toInt() == 1)
                    return t.toObject().value("status").toString() == QLatin1String("running")
                           && t.toObject().value("run").toInteger() > 0;
            return false;
        };
        QTRY_VERIFY_WITH_TIMEOUT(secondRuns(), 120000);
        const QList<pid_t> children = childrenOf(sweep.processId());
        QCOMPARE(children.size(), 1);   // one slot, one process
        ::kill(children.first(), SIGKILL);
        QVERIFY(sweep.waitForFinished(240000));
        out += sweep.readAllStandardOutput();
        QCOMPARE(sweep.exitCode(), 0);
        QMap<int, QJsonObject> byNumber;
        for (const QByteArray &line : out.split('\n')) {
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            if (o.value("event") == QLatin1String("trial"))
                byNumber.insert(o.value("trial").toInt(), o);
        }
        QCOMPARE(byNumber.keys(), (QList<int>{0, 1, 2}));
        QCOMPARE(byNumber[1].value("status").toString(), QStringLiteral("failed"));
        QVERIFY2(byNumber[1].value("message").toString().contains("killed or crashed"),
                 qPrintable(byNumber[1].value("message").toString()));
        QCOMPARE(byNumber[2].value("status").toString(), QStringLiteral("finished"));
        QCOMPARE(byNumber[2].value("metrics").toObject().value("process_trial").toInt(), 1);
    }

    // A process killed before it said a word about the trial it was handed (here: while it
    // still starts) did not run it: the trial runs again in a new process, and finishes.
    void aTrialWhoseProcessDiesBeforeItStartsRunsAgain()
    {
        QJsonObject file = sweepFile("restart", 2, 1);
        QProcess sweep;
        sweep.start(ms::test::cliPath(),
                    {QStringLiteral("sweep"), QStringLiteral("--config"),
                     write("restart.json", file), QStringLiteral("--json"),
                     QStringLiteral("--no-register"), QStringLiteral("--workspace"), ws()});
        QVERIFY(sweep.waitForStarted());
        QList<pid_t> children;
        QTRY_VERIFY_WITH_TIMEOUT(!(children = childrenOf(sweep.processId())).isEmpty(), 120000);
        ::kill(children.first(), SIGKILL);
        QVERIFY(sweep.waitForFinished(240000));
        const Run run{sweep.exitCode(), QString::fromUtf8(sweep.readAllStandardOutput()),
                      QString::fromUtf8(sweep.readAllStandardError())};
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        int trials = 0;
        for (const QJsonObject &l : run.jsonLines()) {
            if (l.value("event") != QLatin1String("trial"))
                continue;
            ++trials;
            QVERIFY2(l.value("status") == QLatin1String("finished"),
                     qPrintable(QJsonDocument(l).toJson(QJsonDocument::Compact)));
        }
        QCOMPARE(trials, 2);
        QCOMPARE(run.jsonLines().last().value("processes").toInt(), 2);
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
        const auto trialsEnded = [&] {
            out += sweep.readAllStandardOutput();
            return out.count("\"event\":\"trial\"");
        };
        QTRY_VERIFY_WITH_TIMEOUT(trialsEnded() >= 2, 300000);
        const qint64 id = sweepIdIn(out);
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

    void aCompressionSearchFindsTheFastestVariantThatKeepsItsAccuracy()
    {
        // The source: a small cnn (one epoch on 1,000 images).
        const Run trained = cli({QStringLiteral("train"), QStringLiteral("--arch"),
                                 QStringLiteral("cnn"), QStringLiteral("--dataset"),
                                 QStringLiteral("fashion-mnist"), QStringLiteral("--epochs"),
                                 QStringLiteral("1"), QStringLiteral("--limit"),
                                 QStringLiteral("1000"), QStringLiteral("--threads"),
                                 QStringLiteral("1"), QStringLiteral("--name"),
                                 QStringLiteral("squeezed")});
        QVERIFY2(trained.exitCode == 0, qPrintable(trained.err));
        const QJsonObject file = QJsonDocument::fromJson(R"({
          "name": "squeeze",
          "compress": {"source": "squeezed:1",
                       "method": {"choice": ["prune-structured", "quantize-static",
                                             "prune-structured+quantize-static"]}},
          "space": {"compress.sparsity": {"choice": [0.5]}},
          "objective": {"metric": "latency_ms", "goal": "min", "batch": 8},
          "constraints": [{"metric": "test_acc_drop", "max": 0.05}],
          "sampler": "grid", "trials": 3, "parallel": 1, "threads": 1
        })").object();
        const Run run = cli({QStringLiteral("sweep"), QStringLiteral("--config"),
                             write("squeeze.json", file), QStringLiteral("--json")});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err + run.out));
        QMap<QString, QJsonObject> byMethod;
        for (const QJsonObject &l : run.jsonLines()) {
            if (l.value("event") != QLatin1String("trial"))
                continue;
            const QJsonObject m = l.value("metrics").toObject();
            QVERIFY2(l.value("status") == QLatin1String("finished"),
                     qPrintable(QJsonDocument(l).toJson(QJsonDocument::Compact)));
            QVERIFY(m.value("latency_ms").toDouble() > 0.0);
            QVERIFY(m.value("size_bytes").toInteger() > 0);
            QVERIFY(m.value("test_acc_drop").isDouble());
            QVERIFY(m.value("feasible").isBool());
            QCOMPARE(l.value("value").toDouble(), m.value("latency_ms").toDouble());
            byMethod.insert(m.value("method").toString(), l);
        }
        QCOMPARE(byMethod.size(), 3);
        // The best: the fastest of those within 5 points of the source.
        double fastest = 1e300;
        int expected = -1;
        QString expectedMethod;
        for (auto it = byMethod.begin(); it != byMethod.end(); ++it) {
            const QJsonObject m = it.value().value("metrics").toObject();
            if (m.value("feasible").toBool() && m.value("latency_ms").toDouble() < fastest) {
                fastest = m.value("latency_ms").toDouble();
                expected = it.value().value("trial").toInt();
                expectedMethod = it.key();
            }
        }
        QVERIFY2(expected >= 0, "no trial kept the source's accuracy within 5 points");
        const QJsonObject best = run.jsonLines().last().value("best").toObject();
        QCOMPARE(best.value("trial").toInt(), expected);
        // Registered as a variant of the source's model, with its recipe and lineage.
        QCOMPARE(best.value("version").toString(), QStringLiteral("squeezed:2"));
        const QJsonObject version = cli({QStringLiteral("show"), QStringLiteral("squeezed:2"),
                                         QStringLiteral("--json")}).json();
        const QJsonObject recipe = version.value("recipe").toObject();
        QCOMPARE(recipe.value("kind").toString(), QStringLiteral("compress"));
        QCOMPARE(recipe.value("source").toString(), QStringLiteral("squeezed:1"));
        QCOMPARE(recipe.value("method").toString(), expectedMethod);
        QVERIFY(QJsonDocument(version).toJson().contains("\"latency_ms\""));
        // The int8 variants are smaller files than the pruned-only one.
        QVERIFY(byMethod["prune-structured+quantize-static"].value("metrics").toObject()
                    .value("size_bytes").toInteger()
                < byMethod["prune-structured"].value("metrics").toObject()
                      .value("size_bytes").toInteger());
    }

    void severalObjectivesEndWithTheParetoFront()
    {
        QJsonObject file = sweepFile("front", 3, 1);
        file.insert("sampler", "grid");
        file.insert("space", QJsonDocument::fromJson(
                                 R"({"arch.width": {"choice": [8, 32, 128]}})").object());
        file.insert("objective", QJsonDocument::fromJson(
                                     R"([{"metric": "val_acc", "goal": "max"},
                                         {"metric": "size_bytes", "goal": "min"}])").array());
        const Run run = cli({QStringLiteral("sweep"), QStringLiteral("--config"),
                             write("front.json", file), QStringLiteral("--json")});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        QMap<int, QJsonObject> metrics;
        for (const QJsonObject &l : run.jsonLines())
            if (l.value("event") == QLatin1String("trial"))
                metrics.insert(l.value("trial").toInt(), l.value("metrics").toObject());
        QCOMPARE(metrics.size(), 3);
        // Wider is larger: the sizes order the trials.
        QVERIFY(metrics[0].value("size_bytes").toInteger()
                < metrics[1].value("size_bytes").toInteger());
        QVERIFY(metrics[1].value("size_bytes").toInteger()
                < metrics[2].value("size_bytes").toInteger());
        // The front: every trial no other beats in both (computed here from what they measured).
        QList<int> expected;
        for (int a = 0; a < 3; ++a) {
            bool dominated = false;
            for (int b = 0; b < 3; ++b)
                dominated = dominated
                            || (b != a
                                && metrics[b].value("val_acc").toDouble()
                                       >= metrics[a].value("val_acc").toDouble()
                                && metrics[b].value("size_bytes").toInteger()
                                       <= metrics[a].value("size_bytes").toInteger());
            if (!dominated)
                expected << a;
        }
        const QJsonObject end = run.jsonLines().last();
        QVERIFY(!end.contains("best"));
        QList<int> front;
        for (const QJsonValue &p : end.value("pareto").toArray())
            front << p.toObject().value("trial").toInt();
        std::sort(front.begin(), front.end());
        QCOMPARE(front, expected);
        QVERIFY(front.contains(0));   // the smallest is always on it
        // No trial is "the best": register asks which one.
        const qint64 id = end.value("sweep").toInteger();
        const Run refused = cli({QStringLiteral("sweep"), QStringLiteral("register"),
                                 QString::number(id)});
        QVERIFY(refused.exitCode != 0);
        QVERIFY2(refused.errorLine().contains("--trial N"), qPrintable(refused.err));
        const Run chosen = cli({QStringLiteral("sweep"), QStringLiteral("register"),
                                QString::number(id), QStringLiteral("--trial"),
                                QString::number(front.first()), QStringLiteral("--json")});
        QVERIFY2(chosen.exitCode == 0, qPrintable(chosen.err));
        QCOMPARE(chosen.json().value("version").toString(), QStringLiteral("front:1"));
        const Run table = cli({QStringLiteral("sweep"), QStringLiteral("show"),
                               QString::number(id)});
        QVERIFY2(table.out.contains("front") && table.out.contains("size_bytes"),
                 qPrintable(table.out));
    }
};

QTEST_GUILESS_MAIN(TestCliSweep)
#include "tst_cli_sweep.moc"
