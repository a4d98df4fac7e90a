// quantize_bench MODEL.pt [--threads N] [--rounds R] [--reps K] [--calibration-batches N]
//                          [--observer histogram|minmax] [--engine auto|onednn|qnnpack]
//                          [--keep DIR]
//
// The fp32 model (trained on Fashion-MNIST) against its int8 (static and dynamic) and half
// precision variants made by the studio's compression methods, in one process: test accuracy on
// the whole test split, artifact size, and forward latency at batch 1 and 32. Latency rounds
// alternate between the variants (fp32, int8, ..., fp32, int8, ...) so that a drift of the
// machine's speed hits all alike; each round is the median of K timed passes after warm-up, and
// the ratio printed is the median of the per-round ratios with its range.

#include "compress/CompressionMethod.h"
#include "data/DatasetRegistry.h"
#include "jobs/JobContext.h"
#include "models/Model.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <map>

using namespace ms;

namespace {

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

double accuracy(const Model &m, const Dataset &data)
{
    const qint64 n = data.test.count();
    qint64 correct = 0;
    for (qint64 start = 0; start < n; start += 500) {
        const qint64 count = std::min<qint64>(500, n - start);
        const std::vector<float> x(data.test.features.begin() + start * 784,
                                   data.test.features.begin() + (start + count) * 784);
        const std::vector<float> y = m.predict(x, {count, 1, 28, 28});
        for (qint64 i = 0; i < count; ++i) {
            const float *row = &y[size_t(i * 10)];
            const qint64 predicted = std::max_element(row, row + 10) - row;
            correct += predicted == data.test.labels[size_t(start + i)];
        }
    }
    return double(correct) / double(n);
}

// Median latency (ms) of K predict() calls after K/5 + 2 untimed ones.
double latency_ms(const Model &m, const std::vector<float> &x, qint64 batch, int reps)
{
    for (int i = 0; i < reps / 5 + 2; ++i)
        m.predict(x, {batch, 1, 28, 28});
    std::vector<double> t;
    QElapsedTimer clock;
    for (int i = 0; i < reps; ++i) {
        clock.start();
        m.predict(x, {batch, 1, 28, 28});
        t.push_back(double(clock.nsecsElapsed()) / 1e6);
    }
    return median(t);
}

QString arg(const QStringList &args, const QString &flag, const QString &fallback)
{
    const qsizetype i = args.indexOf(flag);
    return i >= 0 && i + 1 < args.size() ? args[i + 1] : fallback;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() < 2 || args[1].startsWith(QLatin1String("--"))) {
        std::fprintf(stderr, "usage: quantize_bench MODEL.pt [--threads N] [--rounds R] "
                             "[--reps K] [--calibration-batches N] [--observer O] [--engine E]\n");
        return 2;
    }
    const int threads = arg(args, "--threads", "1").toInt();
    const int rounds = arg(args, "--rounds", "5").toInt();
    const int reps = arg(args, "--reps", "50").toInt();
    Model::setComputeThreads(threads);

    const Dataset data = DatasetRegistry::instance().load(DatasetOptions());
    const Model fp32 = Model::load(args[1]);
    QTemporaryDir dir;

    struct Variant
    {
        QString label;
        Model model;
        QString path;
        QJsonObject details;
    };
    std::vector<Variant> variants{{"fp32", fp32, args[1], {}}};
    const std::vector<std::pair<QString, QJsonObject>> methods{
        {"quantize-static",
         QJsonObject{{"calibration-batches", arg(args, "--calibration-batches", "10").toInt()},
                     {"observer", arg(args, "--observer", "histogram")},
                     {"engine", arg(args, "--engine", "auto")}}},
        {"quantize-dynamic", QJsonObject{{"engine", arg(args, "--engine", "auto")}}},
        {"fp16", QJsonObject{}},
        {"bf16", QJsonObject{}}};
    for (const auto &[name, given] : methods) {
        const auto method = CompressionRegistry::instance().method(name);
        CompressInput input;
        input.model = fp32;
        for (const CompressParameter &p : method->parameters())
            input.params.insert(p.name, p.defaultValue);
        for (auto it = given.begin(); it != given.end(); ++it)
            input.params.insert(it.key(), it.value());
        input.dataset = [&data]() -> const Dataset & { return data; };
        method->check(fp32, VersionRecord(), input.params);
        JobContext context;
        QElapsedTimer clock;
        clock.start();
        const CompressOutput out = method->apply(input, context);
        // --keep DIR keeps the variants (e.g. to time them in Python as a cross-check).
        const QString keep = arg(args, "--keep", QString());
        const QString path = keep.isEmpty() ? dir.filePath(name + ".pt")
                                            : keep + QLatin1Char('/') + name + ".pt";
        out.model.save(path);
        // Reloaded as serving would load it: Model::load sets the recorded engine.
        variants.push_back({name, Model::load(path), path, out.details});
        std::printf("%s made in %.1f s: %s\n", qPrintable(name), double(clock.elapsed()) / 1000.0,
                    QJsonDocument(out.details).toJson(QJsonDocument::Compact)
                        .left(400).constData());
    }

    std::map<QString, std::vector<double>> b1, b32;
    const std::vector<float> x1(data.test.features.begin(), data.test.features.begin() + 784);
    const std::vector<float> x32(data.test.features.begin(), data.test.features.begin() + 32 * 784);
    for (int r = 0; r < rounds; ++r) {
        for (const Variant &v : variants) {
            b1[v.label].push_back(latency_ms(v.model, x1, 1, reps));
            b32[v.label].push_back(latency_ms(v.model, x32, 32, reps));
        }
    }

    const double acc32 = accuracy(fp32, data);
    const double size32 = double(QFileInfo(args[1]).size());
    std::printf("\n%d thread(s), %d rounds x %d passes, test split %lld images\n\n", threads,
                rounds, reps, static_cast<long long>(data.test.count()));
    std::printf("| variant | engine | test acc | drop (pt) | size (KiB) | size / fp32 | "
                "p50 b1 ms | p50 b32 ms | fp32/variant b32 (median, range) |\n"
                "|---|---|---|---|---|---|---|---|---|\n");
    for (const Variant &v : variants) {
        const double acc = v.label == QLatin1String("fp32") ? acc32 : accuracy(v.model, data);
        const double size = double(QFileInfo(v.path).size());
        std::vector<double> ratios;
        for (int r = 0; r < rounds; ++r)
            ratios.push_back(b32["fp32"][size_t(r)] / b32[v.label][size_t(r)]);
        std::sort(ratios.begin(), ratios.end());
        std::printf("| %s | %s | %.4f | %+.2f | %.1f | %.1f %% | %.3f | %.3f "
                    "| %.2fx (%.2f-%.2f) |\n",
                    qPrintable(v.label),
                    v.model.quantizedEngine().isEmpty() ? "-"
                                                        : qPrintable(v.model.quantizedEngine()),
                    acc, (acc32 - acc) * 100.0, size / 1024.0, 100.0 * size / size32,
                    median(b1[v.label]), median(b32[v.label]), median(ratios), ratios.front(),
                    ratios.back());
    }
    return 0;
}
