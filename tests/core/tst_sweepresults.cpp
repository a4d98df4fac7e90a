// Several objectives, constraints and compression searches: the sweep file's checks for them,
// the command line of a compression trial, and what the sweep makes of ended trials (the best
// feasible trial, the Pareto front).

#include "common/Error.h"
#include "optimize/SweepResults.h"
#include "optimize/SweepSpec.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

#include <cmath>

using namespace ms;

namespace {

QJsonObject json(const char *text)
{
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray(text));
    if (!doc.isObject())
        qFatal("bad test JSON: %s", text);
    return doc.object();
}

// The issue's compression search: the fastest variant within 0.5 points of the source.
QJsonObject compressionSearch()
{
    return json(R"({
      "name": "cnn-compress",
      "compress": {"source": "cnn:3",
                   "method": {"choice": ["prune-structured", "quantize-static",
                                         "prune-structured+quantize-static"]},
                   "finetune-epochs": 1},
      "space": {"compress.sparsity": {"uniform": [0.2, 0.7]},
                "compress.observer": {"choice": ["histogram", "minmax"]}},
      "objective": {"metric": "latency_ms", "goal": "min", "batch": 8},
      "constraints": [{"metric": "test_acc_drop", "max": 0.005}],
      "trials": 20, "sampler": "model"
    })");
}

QJsonObject twoObjectives()
{
    return json(R"({
      "name": "front",
      "train": {"dataset": "fashion-mnist", "arch": "mlp", "epochs": 2},
      "space": {"arch.width": {"int_log_uniform": [16, 512]}},
      "objective": [{"metric": "val_acc", "goal": "max"},
                    {"metric": "latency_ms", "goal": "min", "batch": 1},
                    {"metric": "size_bytes", "goal": "min"}]
    })");
}

QString refusal(const QJsonObject &sweep)
{
    try {
        SweepSpec::fromJson(sweep);
    } catch (const Error &e) {
        return e.message();
    }
    return {};
}

TrialRecord trial(int number, const char *metrics, const char *status = "finished")
{
    TrialRecord t;
    t.number = number;
    t.status = QLatin1String(status);
    t.metrics = json(metrics);
    return t;
}

QList<int> numbers(const QVector<TrialRecord> &trials)
{
    QList<int> n;
    for (const TrialRecord &t : trials)
        n << t.number;
    return n;
}

} // namespace

class tst_SweepResults final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void aCompressionSearchParses()
    {
        const SweepSpec s = SweepSpec::fromJson(compressionSearch());
        QVERIFY(s.isCompression());
        QCOMPARE(s.compress.source, QStringLiteral("cnn:3"));
        QCOMPARE(s.objective.metric, QStringLiteral("latency_ms"));
        QCOMPARE(s.objective.batch, 8);
        QVERIFY(!s.objective.maximize);
        QCOMPARE(int(s.constraints.size()), 1);
        QVERIFY(s.needsLatency());
        // The searched method joined the space, beside the parameters searched there.
        QStringList paths;
        for (const ParamDomain &d : s.space)
            paths << d.path;
        QVERIFY2(paths.contains("compress.method"), qPrintable(paths.join(',')));
        QCOMPARE(int(s.space.size()), 3);
        // Round trip: what the registry stores and resume reads.
        QCOMPARE(SweepSpec::fromJson(s.toJson()).toJson(), s.toJson());
    }

    void aCompressionTrialGetsItsMethodsOwnFlags()
    {
        const SweepSpec s = SweepSpec::fromJson(compressionSearch());
        const QStringList prune = s.compressArguments(json(
            R"({"compress.method": "prune-structured", "compress.sparsity": 0.25,
                "compress.observer": "minmax"})"));
        QCOMPARE(prune.mid(0, 5), (QStringList{"compress", "cnn:3", "--method", "prune-structured",
                                               "--no-register"}));
        QVERIFY(prune.contains("--sparsity"));
        QCOMPARE(prune.at(prune.indexOf("--sparsity") + 1).toDouble(), 0.25);
        QCOMPARE(prune.at(prune.indexOf("--finetune-epochs") + 1), QStringLiteral("1"));
        QVERIFY2(!prune.contains("--observer"), qPrintable(prune.join(' ')));   // not its flag
        const QStringList both = s.compressArguments(json(
            R"({"compress.method": "prune-structured+quantize-static",
                "compress.sparsity": 0.5, "compress.observer": "minmax"})"));
        QVERIFY(both.contains("--sparsity"));
        QCOMPARE(both.at(both.indexOf("--observer") + 1), QStringLiteral("minmax"));
    }

    void severalObjectivesKeepAFrontWithRandomSampling()
    {
        const SweepSpec s = SweepSpec::fromJson(twoObjectives());
        QVERIFY(s.hasSeveralObjectives());
        QCOMPARE(int(s.objectives.size()), 3);
        QCOMPARE(s.objective.metric, QStringLiteral("val_acc"));
        QCOMPARE(s.sampler, QStringLiteral("random"));   // dlib's search models one value
        QCOMPARE(SweepSpec::fromJson(s.toJson()).toJson(), s.toJson());
    }

    void badSearchesAreRefusedNamingTheField_data()
    {
        QTest::addColumn<QByteArray>("sweep");
        QTest::addColumn<QString>("expected");
        QTest::newRow("model sampler, two objectives")
            << QByteArray(R"({"name": "x", "train": {"arch": "mlp"},
                 "space": {"lr": {"uniform": [0.001, 0.01]}}, "sampler": "model",
                 "objective": [{"metric": "val_acc"}, {"metric": "latency_ms", "goal": "min"}]})")
            << "optimises one value";
        QTest::newRow("early stop on a measure taken at the end")
            << QByteArray(R"({"name": "x", "train": {"arch": "mlp"},
                 "space": {"lr": {"uniform": [0.001, 0.01]}},
                 "objective": {"metric": "latency_ms", "goal": "min"},
                 "early_stop": {"rule": "asha"}})")
            << "measured once a trial ends";
        QTest::newRow("constraint nobody records")
            << QByteArray(R"({"name": "x", "train": {"arch": "mlp"},
                 "space": {"lr": {"uniform": [0.001, 0.01]}},
                 "constraints": [{"metric": "bleu", "max": 1}]})")
            << "constraints[0].metric";
        QTest::newRow("constraint without a bound")
            << QByteArray(R"({"name": "x", "train": {"arch": "mlp"},
                 "space": {"lr": {"uniform": [0.001, 0.01]}},
                 "constraints": [{"metric": "val_acc"}]})")
            << "constraints[0]";
        QTest::newRow("same objective twice")
            << QByteArray(R"({"name": "x", "train": {"arch": "mlp"}, "sampler": "random",
                 "space": {"lr": {"uniform": [0.001, 0.01]}},
                 "objective": [{"metric": "val_acc"}, {"metric": "val_acc", "goal": "min"}]})")
            << "objective[1].metric";
        QTest::newRow("train and compress")
            << QByteArray(R"({"name": "x", "train": {"arch": "mlp"},
                 "compress": {"source": "cnn:1", "method": "prune-structured"},
                 "space": {"compress.sparsity": {"uniform": [0.2, 0.6]}}})")
            << "not both";
        QTest::newRow("unknown method")
            << QByteArray(R"({"name": "x", "compress": {"source": "cnn:1",
                 "method": {"choice": ["prune-structured", "prune-everything"]}},
                 "space": {"compress.sparsity": {"uniform": [0.2, 0.6]}}})")
            << "prune-everything";
        QTest::newRow("a parameter no searched method takes")
            << QByteArray(R"({"name": "x", "compress": {"source": "cnn:1",
                 "method": "quantize-dynamic"},
                 "space": {"compress.sparsity": {"uniform": [0.2, 0.6]}}})")
            << "takes --sparsity";
        QTest::newRow("a parameter out of its range")
            << QByteArray(R"({"name": "x", "compress": {"source": "cnn:1",
                 "method": "prune-structured"},
                 "space": {"compress.sparsity": {"uniform": [0.5, 1.5]}}})")
            << "space.compress.sparsity";
        QTest::newRow("a training path in a compression search")
            << QByteArray(R"({"name": "x", "compress": {"source": "cnn:1",
                 "method": "prune-structured"},
                 "space": {"lr": {"uniform": [0.001, 0.01]}}})")
            << "space.lr";
        QTest::newRow("early stopping a compression")
            << QByteArray(R"({"name": "x", "compress": {"source": "cnn:1",
                 "method": "prune-structured"}, "early_stop": {"rule": "median"},
                 "space": {"compress.sparsity": {"uniform": [0.2, 0.6]}}})")
            << "no per-epoch objective";
        QTest::newRow("no source")
            << QByteArray(R"({"name": "x", "compress": {"method": "prune-structured"},
                 "space": {"compress.sparsity": {"uniform": [0.2, 0.6]}}})")
            << "compress.source";
    }

    void badSearchesAreRefusedNamingTheField()
    {
        QFETCH(QByteArray, sweep);
        QFETCH(QString, expected);
        const QJsonDocument doc = QJsonDocument::fromJson(sweep);
        QVERIFY(doc.isObject());
        const QString message = refusal(doc.object());
        QVERIFY2(message.contains(expected), qPrintable(message));
    }

    void theBestTrialKeepsTheConstraints()
    {
        const SweepSpec s = SweepSpec::fromJson(compressionSearch());
        // Trial 1 is the fastest but loses 2 points; trial 3 failed; trial 2 is the answer.
        const QVector<TrialRecord> trials{
            trial(0, R"({"latency_ms": 3.0, "test_acc_drop": 0.001})"),
            trial(1, R"({"latency_ms": 1.0, "test_acc_drop": 0.02})"),
            trial(2, R"({"latency_ms": 2.0, "test_acc_drop": 0.004})"),
            trial(3, R"({})", "failed")};
        QCOMPARE(constraintViolation(s, trials[1].metrics), 3.0);   // (0.02 - 0.005) / 0.005
        QCOMPARE(constraintViolation(s, trials[2].metrics), 0.0);
        QVERIFY(!isCandidate(s, trials[1]));
        const std::optional<TrialRecord> best = bestTrial(s, trials);
        QVERIFY(best);
        QCOMPARE(best->number, 2);
        // None keeps them: no best.
        QVERIFY(!bestTrial(s, {trials[1], trials[3]}));
    }

    void theFrontHoldsTheTrialsNothingDominates()
    {
        const SweepSpec s = SweepSpec::fromJson(twoObjectives());
        const QVector<TrialRecord> trials{
            trial(0, R"({"val_acc": 0.80, "latency_ms": 1.0, "size_bytes": 100})"),
            trial(1, R"({"val_acc": 0.85, "latency_ms": 2.0, "size_bytes": 200})"),
            // Dominated by 1: less accurate, slower, larger.
            trial(2, R"({"val_acc": 0.84, "latency_ms": 2.5, "size_bytes": 300})"),
            // Equal to 0 in two, better in one: dominates 0.
            trial(3, R"({"val_acc": 0.80, "latency_ms": 1.0, "size_bytes": 90})"),
            // The most accurate; it stays whatever it costs.
            trial(4, R"({"val_acc": 0.90, "latency_ms": 9.0, "size_bytes": 900})"),
            // Would dominate everything, but did not finish.
            trial(5, R"({"val_acc": 0.99, "latency_ms": 0.1, "size_bytes": 1})", "pruned"),
            // Missing an objective: not on the front.
            trial(6, R"({"val_acc": 0.95})")};
        QCOMPARE(numbers(paretoFront(s, trials)), (QList<int>{4, 1, 3}));
        // Dropping trial 3 brings trial 0 back.
        QVector<TrialRecord> without3 = trials;
        without3.remove(3);
        QCOMPARE(numbers(paretoFront(s, without3)), (QList<int>{4, 1, 0}));
    }

    void trialsOfAnOlderRegistryStillRank()
    {
        // Recorded before trials kept metrics: their value is the first objective's.
        const SweepSpec s = SweepSpec::fromJson(json(R"({"name": "x",
            "train": {"arch": "mlp"}, "space": {"lr": {"uniform": [0.001, 0.01]}}})"));
        TrialRecord a;
        a.number = 0;
        a.status = QStringLiteral("finished");
        a.value = 0.7;
        TrialRecord b = a;
        b.number = 1;
        b.value = 0.8;
        QCOMPARE(bestTrial(s, {a, b})->number, 1);
    }

    void aTrialStoppedEarlyKeepsItsLastValue()
    {
        // A pruned trial's metrics say only where its time went; `sweep show` ranks it by the
        // objective's value at the epoch it was stopped.
        TrialRecord t;
        t.status = QStringLiteral("pruned");
        t.value = 0.9067;
        t.metrics = QJsonObject{{"wall_s", 231.3}, {"train_s", 194.5}, {"score_s", 34.9}};
        QCOMPARE(metricValue(t, QStringLiteral("val_acc")), 0.9067);
        QCOMPARE(metricValue(t, QStringLiteral("wall_s")), 231.3);
        // A finished trial without the metric has none.
        t.status = QStringLiteral("finished");
        QVERIFY(std::isnan(metricValue(t, QStringLiteral("val_acc"))));
    }
};

QTEST_GUILESS_MAIN(tst_SweepResults)
#include "tst_sweepresults.moc"
