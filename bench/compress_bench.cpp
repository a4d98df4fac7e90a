// compress_bench WORKSPACE BASELINE VARIANT... [--batch 32] [--threads 1] [--rounds 5]
//
// The compressed variants of a model against their baseline (the first reference): parameters,
// non-zero parameters, test accuracy (as the registry recorded it) and single-batch latency
// measured here, in alternating rounds (the order rotates every round, so a machine that slows
// down mid-run penalises every model alike). Speed-ups are medians of per-round ratios against
// the baseline measured in the same round. Not a test: bench/compress_bench.sh drives it and
// bench/README.md records its output.

#include "common/Error.h"
#include "models/Model.h"
#include "registry/Registry.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QStringList>
#include <QTextStream>

#include <algorithm>
#include <cstdio>
#include <optional>
#include <vector>

namespace {

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Median latency (ms) of `reps` predictions after `warmup` unmeasured ones.
double latency_ms(const ms::Model &model, const std::vector<float> &x,
                  const std::vector<qint64> &shape, int warmup, int reps)
{
    for (int i = 0; i < warmup; ++i)
        model.predict(x, shape);
    std::vector<double> times;
    for (int i = 0; i < reps; ++i) {
        QElapsedTimer clock;
        clock.start();
        model.predict(x, shape);
        times.push_back(double(clock.nsecsElapsed()) / 1e6);
    }
    return median(times);
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QStringList args = app.arguments().mid(1);
    int batch = 32;
    int threads = 1;
    int rounds = 5;
    for (int i = 0; i + 1 < args.size();) {
        if (args[i] == QLatin1String("--batch"))
            batch = args[i + 1].toInt();
        else if (args[i] == QLatin1String("--threads"))
            threads = args[i + 1].toInt();
        else if (args[i] == QLatin1String("--rounds"))
            rounds = args[i + 1].toInt();
        else {
            ++i;
            continue;
        }
        args.remove(i, 2);
    }
    if (args.size() < 2) {
        std::fputs("usage: compress_bench WORKSPACE BASELINE [VARIANT...] [--batch 32] "
                   "[--threads 1] [--rounds 5]\n", stderr);
        return 2;
    }
    try {
        ms::Registry registry(args[0]);
        QVector<ms::VersionRecord> records;
        std::vector<ms::Model> models;
        for (const QString &ref : args.mid(1)) {
            records << registry.resolve(ref);
            models.push_back(ms::Model::load(registry.verifiedArtifactPath(records.last())));
        }
        ms::Model::setComputeThreads(threads);
        std::vector<qint64> sample = models.front().inputShape();
        // An imported model carries no shape of its own: its recorded signature has it.
        if (sample.empty() && !records.front().inputs.isEmpty()) {
            const std::vector<qint64> &signature = records.front().inputs.first().shape;
            sample.assign(signature.begin() + (signature.empty() ? 0 : 1), signature.end());
        }
        std::vector<qint64> shape{batch};
        shape.insert(shape.end(), sample.begin(), sample.end());
        qint64 count = 1;
        for (qint64 d : shape)
            count *= d;
        std::vector<float> x(static_cast<size_t>(count));
        for (size_t i = 0; i < x.size(); ++i)
            x[i] = float((i * 37) % 256) / 255.0f;

        const size_t n = models.size();
        std::vector<std::vector<double>> lat(n);
        std::vector<std::vector<double>> speedup(n);
        for (int r = 0; r < rounds; ++r) {
            std::vector<double> thisRound(n);
            for (size_t k = 0; k < n; ++k) {
                const size_t m = (k + size_t(r)) % n;
                thisRound[m] = latency_ms(models[m], x, shape, 10, 60);
            }
            for (size_t m = 0; m < n; ++m) {
                lat[m].push_back(thisRound[m]);
                speedup[m].push_back(thisRound[0] / thisRound[m]);
            }
        }

        QTextStream out(stdout);
        out << QStringLiteral("batch %1, %2 thread(s), %3 alternating rounds of 60 timed "
                              "predictions\n\n").arg(batch).arg(threads).arg(rounds);
        out << "| version | kind | method | params | params vs base | non-zero | test acc | "
               "acc delta (pt) | latency ms (median) | speed-up (median, range) |\n"
               "|---|---|---|---|---|---|---|---|---|---|\n";
        // An imported base was never evaluated by the studio; a compression job measured it on
        // the same test split and recorded it in its variant's metrics as source_test_acc.
        auto testAcc = [&](size_t m) -> std::optional<double> {
            const QJsonValue own = records[int(m)].metrics.value(QStringLiteral("test_acc"));
            if (!own.isUndefined())
                return own.toDouble();
            for (size_t k = 1; m == 0 && k < n; ++k) {
                const QJsonValue src =
                    records[int(k)].metrics.value(QStringLiteral("source_test_acc"));
                if (!src.isUndefined())
                    return src.toDouble();
            }
            return std::nullopt;
        };
        const std::optional<double> baseAcc = testAcc(0);
        const auto accText = [](std::optional<double> a) {
            return a ? QString::number(*a, 'f', 4) : QStringLiteral("-");
        };
        const double baseParams = double(records[0].parameterCount);
        for (size_t m = 0; m < n; ++m) {
            const ms::VersionRecord &v = records[int(m)];
            const QJsonValue nz = v.metrics.value(QStringLiteral("nonzero_parameters"));
            const std::optional<double> acc = testAcc(m);
            const auto [lo, hi] = std::minmax_element(speedup[m].begin(), speedup[m].end());
            out << QStringLiteral("| %1 | %2 | %3 | %4 | %5 % | %6 | %7 | %8 | %9 | %10x (%11-%12) |\n")
                       .arg(v.ref(), ms::versionKindName(v.kind),
                            v.recipe.value(QStringLiteral("method")).toString(QStringLiteral("-")))
                       .arg(v.parameterCount)
                       .arg(100.0 * double(v.parameterCount) / baseParams, 0, 'f', 1)
                       .arg(nz.isUndefined() ? QStringLiteral("-")
                                             : QString::number(nz.toInteger()))
                       .arg(accText(acc),
                            acc && baseAcc ? QString::number(100.0 * (*acc - *baseAcc), 'f', 2)
                                           : QStringLiteral("-"))
                       .arg(median(lat[m]), 0, 'f', 3)
                       .arg(median(speedup[m]), 0, 'f', 2)
                       .arg(*lo, 0, 'f', 2)
                       .arg(*hi, 0, 'f', 2);
        }
    } catch (const ms::Error &e) {
        std::fprintf(stderr, "error: %s\n", qPrintable(e.message()));
        return 1;
    }
    return 0;
}
