// The sweep's pure parts: the sweep file's checks, the samplers and early stopping.

#include "common/Error.h"
#include "models/ArchSpec.h"
#include "models/ArchitectureRegistry.h"
#include "optimize/EarlyStop.h"
#include "optimize/Importance.h"
#include "optimize/Sampler.h"
#include "optimize/SweepSpec.h"

#include <QJsonDocument>
#include <QSet>
#include <QTest>

#include <cmath>

using namespace ms;

namespace {

QJsonObject json(const char *text)
{
    return QJsonDocument::fromJson(QByteArray(text)).object();
}

// The issue's example file, as a user would write it.
QJsonObject mlpSearch()
{
    return json(R"({
      "name": "mlp-search",
      "train": {"dataset": "fashion-mnist", "arch": "mlp", "epochs": 4, "limit": 12000},
      "space": {
        "lr":           {"log_uniform": [1e-4, 1e-2]},
        "batch_size":   {"choice": [32, 64, 128]},
        "weight_decay": {"log_uniform": [1e-6, 1e-3]},
        "optimizer":    {"choice": ["adam", "sgd"]},
        "arch.width":   {"int_log_uniform": [32, 512]},
        "arch.dropout": {"uniform": [0.0, 0.5]}
      },
      "objective": {"metric": "val_acc", "goal": "max"},
      "trials": 16, "parallel": 2, "seed": 0,
      "sampler": "model",
      "early_stop": {"rule": "asha", "min_epochs": 1, "reduction": 3}
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

// Every sampled value lies in its domain and has the domain's type.
void checkInDomain(const SweepSpec &spec, const QJsonObject &params)
{
    QCOMPARE(params.size(), qsizetype(spec.space.size()));
    for (const ParamDomain &d : spec.space) {
        const QJsonValue v = params.value(d.path);
        if (d.kind == ParamDomain::Kind::Choice) {
            QVERIFY2(d.choices.contains(v), qPrintable(d.path));
            continue;
        }
        QVERIFY2(v.isDouble(), qPrintable(d.path));
        QVERIFY2(v.toDouble() >= d.low && v.toDouble() <= d.high, qPrintable(d.path));
        if (d.isInteger())
            QCOMPARE(v.toDouble(), std::floor(v.toDouble()));
    }
}

} // namespace

class tst_SweepSpec final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void theIssuesExampleParses()
    {
        const SweepSpec s = SweepSpec::fromJson(mlpSearch());
        QCOMPARE(s.name, QStringLiteral("mlp-search"));
        QCOMPARE(int(s.space.size()), 6);
        QCOMPARE(s.trials, 16);
        QCOMPARE(s.parallel, 2);
        QCOMPARE(s.earlyStop.rule, QStringLiteral("asha"));
        QVERIFY(s.objective.maximize);
        // The file survives a round trip (what the registry stores and resume reads).
        const SweepSpec again = SweepSpec::fromJson(s.toJson());
        QCOMPARE(again.toJson(), s.toJson());
    }

    void aTrialSpecCarriesArchitectureParameters()
    {
        const SweepSpec s = SweepSpec::fromJson(mlpSearch());
        const QJsonObject spec = s.trialSpec(
            json(R"({"lr": 0.003, "arch.width": 64, "arch.dropout": 0.25, "batch_size": 32})"));
        QCOMPARE(spec.value("lr").toDouble(), 0.003);
        QCOMPARE(spec.value("batch_size").toInt(), 32);
        QCOMPARE(spec.value("arch_params").toObject(), json(R"({"width": 64, "dropout": 0.25})"));
        QCOMPARE(spec.value("epochs").toInt(), 4);
        // ... and the architecture they make: 784 -> 64 -> 32 -> dropout -> 10.
        const QJsonObject arch = ArchitectureRegistry::instance().resolve(
            "mlp", {1, 28, 28}, 10, spec.value("arch_params").toObject());
        const ModelSummary summary = ArchSpec::fromJson(arch).summary();
        QCOMPARE(summary.totalParams, qint64(784 * 64 + 64 + 64 * 32 + 32 + 32 * 10 + 10));
        QVERIFY(QJsonDocument(arch).toJson().contains("\"dropout\""));
        // Without parameters the built-ins are what they were.
        const QJsonObject plain = ArchitectureRegistry::instance().resolve("mlp", {1, 28, 28}, 10);
        QCOMPARE(ArchSpec::fromJson(plain).summary().totalParams, qint64(235146));
        QVERIFY(!QJsonDocument(plain).toJson().contains("\"dropout\""));
    }

    void badFilesAreRefusedNamingTheField_data()
    {
        QTest::addColumn<QString>("path");     // a JSON pointer-ish "a.b" to replace
        QTest::addColumn<QString>("value");    // JSON text
        QTest::addColumn<QString>("expected"); // in the message
        QTest::newRow("unknown path") << "space" << R"({"learning_rate": {"uniform": [0, 1]}})"
                                      << "space.learning_rate";
        QTest::newRow("low >= high") << "space" << R"({"lr": {"uniform": [0.1, 0.01]}})"
                                     << "must be below high";
        QTest::newRow("log of 0") << "space" << R"({"lr": {"log_uniform": [0, 0.01]}})"
                                  << "above 0";
        QTest::newRow("empty choice") << "space" << R"({"batch_size": {"choice": []}})"
                                      << "the choice is empty";
        QTest::newRow("unknown distribution") << "space" << R"({"lr": {"normal": [0, 1]}})"
                                              << "unknown distribution";
        QTest::newRow("arch parameter it lacks") << "space"
                                                 << R"({"arch.depth": {"int_uniform": [1, 3]}})"
                                                 << "takes width, dropout";
        QTest::newRow("value out of range") << "space"
                                            << R"({"batch_size": {"choice": [0, 32]}})"
                                            << "space.batch_size";
        QTest::newRow("dropout out of range") << "space"
                                              << R"({"arch.dropout": {"uniform": [0.5, 1.0]}})"
                                              << "dropout";
        QTest::newRow("objective nobody records") << "objective"
                                                  << R"({"metric": "bleu", "goal": "max"})"
                                                  << "no trial records \"bleu\"";
        QTest::newRow("parallel 0") << "parallel" << "0" << "\"parallel\"";
        QTest::newRow("sampler") << "sampler" << "\"tpe\"" << "none of grid, random, model";
        QTest::newRow("early stop") << "early_stop" << R"({"rule": "hyperband"})"
                                    << "early_stop.rule";
        QTest::newRow("train") << "train" << R"({"arch": "mlp", "epochs": 0})"
                               << "\"train\"";
        QTest::newRow("startup below 0") << "startup_trials" << "-1" << "\"startup_trials\"";
        QTest::newRow("reuse not a bool") << "reuse_processes" << "\"yes\""
                                          << "\"reuse_processes\": must be true or false";
    }

    void badFilesAreRefusedNamingTheField()
    {
        QFETCH(QString, path);
        QFETCH(QString, value);
        QFETCH(QString, expected);
        QJsonObject sweep = mlpSearch();
        const QJsonDocument doc = QJsonDocument::fromJson("[" + value.toUtf8() + "]");
        QVERIFY(doc.isArray());
        sweep.insert(path, doc.array().at(0));
        const QString message = refusal(sweep);
        QVERIFY2(message.contains(expected), qPrintable(message));
    }

    void samplersStayInTheirDomains()
    {
        for (const char *kind : {"random", "grid", "model"}) {
            QJsonObject file = mlpSearch();
            file.insert("sampler", QLatin1String(kind));
            const SweepSpec spec = SweepSpec::fromJson(file);
            const auto sampler = makeSampler(spec);
            for (int n = 0; n < 12; ++n) {
                const QJsonObject params = sampler->ask(n);
                checkInDomain(spec, params);
                sampler->tell(n, params, -std::abs(std::log10(params.value("lr").toDouble()) + 3));
            }
        }
    }

    void theRandomSamplerIsSeededPerTrial()
    {
        const SweepSpec spec = SweepSpec::fromJson(mlpSearch());
        QJsonObject file = mlpSearch();
        file.insert("sampler", "random");
        const SweepSpec random = SweepSpec::fromJson(file);
        const auto a = makeSampler(random), b = makeSampler(random);
        // The same trial gets the same parameters whatever order trials are asked in.
        const QJsonObject a3 = a->ask(3), a0 = a->ask(0);
        QCOMPARE(b->ask(0), a0);
        QCOMPARE(b->ask(3), a3);
        QVERIFY(a0 != a3);
        file.insert("seed", 1);
        QVERIFY(makeSampler(SweepSpec::fromJson(file))->ask(0) != a0);
        Q_UNUSED(spec);
    }

    void theGridCoversEveryCombinationOnce()
    {
        const SweepSpec spec = SweepSpec::fromJson(json(R"({
          "name": "g", "train": {"arch": "mlp"}, "sampler": "grid", "grid_points": 3,
          "space": {"lr": {"log_uniform": [1e-4, 1e-2]}, "optimizer": {"choice": ["adam", "sgd"]},
                    "arch.width": {"int_uniform": [32, 33]}}})"));
        QCOMPARE(spec.gridSize(), qint64(3 * 2 * 2));
        const auto grid = makeSampler(spec);
        QSet<QByteArray> seen;
        QSet<double> lrs;
        for (int n = 0; n < 12; ++n) {
            const QJsonObject p = grid->ask(n);
            seen.insert(QJsonDocument(p).toJson(QJsonDocument::Compact));
            lrs.insert(p.value("lr").toDouble());
        }
        QCOMPARE(seen.size(), 12);
        // log-spaced: 1e-4, 1e-3, 1e-2
        QCOMPARE(lrs.size(), 3);
        QVERIFY(lrs.contains(1e-4) && lrs.contains(1e-2));
        for (double lr : lrs)
            QVERIFY(std::abs(std::log10(lr) - std::round(std::log10(lr))) < 1e-9);
    }

    void theModelSamplerFindsTheOptimumOfASmoothFunction()
    {
        // A 2-d bowl with its top at lr = 1e-3, width = 200: dlib's search gets close within
        // 40 trials told out of order two at a time; random search with the same budget is the
        // yardstick (the model must do at least as well on this easy function).
        const QJsonObject file = json(R"({
          "name": "bowl", "train": {"arch": "mlp"}, "sampler": "model", "seed": 3,
          "space": {"lr": {"log_uniform": [1e-5, 1e-1]},
                    "arch.width": {"int_uniform": [16, 512]}}})");
        const auto score = [](const QJsonObject &p) {
            const double a = std::log10(p.value("lr").toDouble()) + 3.0;
            const double b = (p.value("arch.width").toDouble() - 200.0) / 100.0;
            return -(a * a + b * b);
        };
        const auto best = [&](const char *kind) {
            QJsonObject f = file;
            f.insert("sampler", QLatin1String(kind));
            const auto sampler = makeSampler(SweepSpec::fromJson(f));
            double top = -1e300;
            for (int n = 0; n < 40; n += 2) {
                const QJsonObject p0 = sampler->ask(n), p1 = sampler->ask(n + 1);
                sampler->tell(n + 1, p1, score(p1));
                sampler->tell(n, p0, score(p0));
                top = std::max({top, score(p0), score(p1)});
            }
            return top;
        };
        const double model = best("model");
        QVERIFY2(model > -0.05, qPrintable(QString::number(model)));
        QVERIFY(model >= best("random"));
    }

    void startUpTrialsAreRandomThenTheModelTakesOver()
    {
        // The bowl of the test above: 6 random start-up trials (the random sampler's own
        // draws, whatever order they are asked in), then dlib, taught them, still finds the top.
        QJsonObject file = json(R"({
          "name": "bowl", "train": {"arch": "mlp"}, "sampler": "model", "seed": 3,
          "startup_trials": 6,
          "space": {"lr": {"log_uniform": [1e-5, 1e-1]},
                    "arch.width": {"int_uniform": [16, 512]}}})");
        const SweepSpec spec = SweepSpec::fromJson(file);
        QCOMPARE(spec.startupTrials, 6);
        QCOMPARE(SweepSpec::fromJson(spec.toJson()).startupTrials, 6);
        QJsonObject randomFile = file;
        randomFile.remove("startup_trials");
        randomFile.insert("sampler", "random");
        const auto random = makeSampler(SweepSpec::fromJson(randomFile));
        const auto sampler = makeSampler(spec);
        const auto score = [](const QJsonObject &p) {
            const double a = std::log10(p.value("lr").toDouble()) + 3.0;
            const double b = (p.value("arch.width").toDouble() - 200.0) / 100.0;
            return -(a * a + b * b);
        };
        double top = -1e300;
        for (int n = 0; n < 40; n += 2) {
            const QJsonObject p0 = sampler->ask(n), p1 = sampler->ask(n + 1);
            if (n < 6) {
                QCOMPARE(p0, random->ask(n));
                QCOMPARE(p1, random->ask(n + 1));
            }
            sampler->tell(n + 1, p1, score(p1));
            sampler->tell(n, p0, score(p0));
            top = std::max({top, score(p0), score(p1)});
        }
        QVERIFY2(top > -0.05, qPrintable(QString::number(top)));

        // Only the model sampler has start-up trials.
        file.insert("sampler", "random");
        const QString message = refusal(file);
        QVERIFY2(message.contains("startup_trials") && message.contains("model"),
                 qPrintable(message));
    }

    void theModelSamplerResumesFromEarlierTrials()
    {
        QJsonObject file = mlpSearch();
        const SweepSpec spec = SweepSpec::fromJson(file);
        const auto first = makeSampler(spec);
        std::vector<QJsonObject> done;
        for (int n = 0; n < 4; ++n) {
            done.push_back(first->ask(n));
            first->tell(n, done.back(), double(n));
        }
        // A new process is told the finished trials, then asks for more: it proposes valid
        // parameters (and is not starting over from dlib's first point).
        const auto resumed = makeSampler(spec);
        for (int n = 0; n < 4; ++n)
            resumed->tell(n, done[size_t(n)], double(n));
        const QJsonObject next = resumed->ask(4);
        checkInDomain(spec, next);
        QVERIFY(next != done[0]);
    }

    void ashaStopsTheTrialsItShould()
    {
        // 9 epochs, rungs at 1 and 3 (min 1, reduction 3).
        EarlyStopper asha({QStringLiteral("asha"), 1, 3}, 9);
        QCOMPARE(asha.rungs(), (std::vector<int>{1, 3}));
        // Rung 1: the first trial always goes on; with fewer than 3 scores only the best does.
        QVERIFY(!asha.report(0, 1, 0.50));
        QVERIFY(asha.report(1, 1, 0.40));
        QVERIFY(!asha.report(2, 1, 0.60));
        // From 3 scores on, the top third goes on: with {0.5, 0.4, 0.6, 0.55} the best one.
        QVERIFY(asha.report(3, 1, 0.55));
        // Epochs between rungs never stop a trial.
        QVERIFY(!asha.report(0, 2, 0.01));
        // Rung 3 has its own scores.
        QVERIFY(!asha.report(0, 3, 0.70));
        QVERIFY(asha.report(2, 3, 0.65));
        // The last epoch is never a rung.
        QVERIFY(!asha.report(0, 9, 0.0));
        // A diverged trial (NaN) stops.
        QVERIFY(asha.report(4, 1, std::nan("")));
    }

    void theMedianRuleComparesWithFinishedTrials()
    {
        EarlyStopper median({QStringLiteral("median"), 2, 3}, 5);
        for (int t = 0; t < 3; ++t) {
            for (int e = 1; e <= 5; ++e)
                QVERIFY(!median.report(t, e, 0.1 * (t + 1) + 0.01 * e));   // too few finished
            median.finished(t);
        }
        // Finished at epoch 2: 0.12, 0.22, 0.32 -> median 0.22.
        QVERIFY(!median.report(9, 1, 0.0));   // before min_epochs
        QVERIFY(median.report(9, 2, 0.2));
        QVERIFY(!median.report(10, 2, 0.25));
        QVERIFY(!median.report(10, 5, 0.0));  // the last epoch
    }

    // Trials whose objective follows the learning rate strongly and the width a little: the
    // learning rate gets most of the importance, the width some, the four others next to none.
    void importanceFindsTheParametersThatMatter()
    {
        const SweepSpec spec = SweepSpec::fromJson(mlpSearch());
        SweepSpec random = spec;
        random.sampler = QStringLiteral("random");
        const std::unique_ptr<Sampler> sampler = makeSampler(random);
        auto unit = [&spec](const QJsonObject &params, const char *path) {
            for (const ParamDomain &d : spec.space)
                if (d.path == QLatin1String(path))
                    return d.unitOf(params.value(d.path));
            return std::nan("");
        };
        QVector<TrialRecord> trials;
        for (int n = 0; n < 40; ++n) {
            TrialRecord t;
            t.number = n;
            t.params = sampler->ask(n);
            t.status = QStringLiteral("finished");
            t.value = 0.5 + 0.4 * unit(t.params, "lr") + 0.08 * unit(t.params, "arch.width");
            trials.push_back(t);
        }
        // Neither a pruned nor a failed trial is evidence: wild values that would dominate.
        TrialRecord pruned = trials.first();
        pruned.status = QStringLiteral("pruned");
        pruned.value = -100.0;
        trials.push_back(pruned);
        TrialRecord failed = trials.first();
        failed.status = QStringLiteral("failed");
        trials.push_back(failed);

        const std::vector<ParamImportance> shares = parameterImportance(spec, trials);
        QCOMPARE(shares.size(), spec.space.size());
        double sum = 0.0;
        for (size_t k = 0; k < shares.size(); ++k) {
            sum += shares[k].importance;
            QVERIFY(shares[k].importance >= 0.0);
            if (k > 0)
                QVERIFY(shares[k - 1].importance >= shares[k].importance);
        }
        QVERIFY(std::abs(sum - 1.0) < 1e-9);
        QCOMPARE(shares[0].path, QStringLiteral("lr"));
        QVERIFY2(shares[0].importance > 0.6, qPrintable(QString::number(shares[0].importance)));
        QCOMPARE(shares[1].path, QStringLiteral("arch.width"));
        for (size_t k = 2; k < shares.size(); ++k)
            QVERIFY2(shares[k].importance < 0.1, qPrintable(shares[k].path));
        // Seeded: the same trials give the same shares.
        const std::vector<ParamImportance> again = parameterImportance(spec, trials);
        for (size_t k = 0; k < shares.size(); ++k)
            QCOMPARE(again[k].importance, shares[k].importance);
    }

    void importanceNeedsEnoughVariedTrials()
    {
        const SweepSpec spec = SweepSpec::fromJson(mlpSearch());
        QVector<TrialRecord> trials;
        for (int n = 0; n < importanceMinTrials(); ++n) {
            TrialRecord t;
            t.number = n;
            t.params = makeSampler(spec)->ask(n);
            t.status = QStringLiteral("finished");
            t.value = 0.8;
            trials.push_back(t);
        }
        QVERIFY(parameterImportance(spec, trials).empty());   // the objective never moved
        trials.last().value = 0.9;
        QCOMPARE(parameterImportance(spec, trials).size(), spec.space.size());
        trials.removeLast();
        QVERIFY(parameterImportance(spec, trials).empty());   // too few
    }
};

QTEST_GUILESS_MAIN(tst_SweepSpec)
#include "tst_sweepspec.moc"
