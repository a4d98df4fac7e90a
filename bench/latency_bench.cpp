// latency_bench FILE.pt... [--shape 8,3,32,32] [--threads 1] [--rounds 7] [--reps 30]
//
// Forward latency of TorchScript files in the studio's own process, the way serving runs them
// (Model::load, which sets an int8 file's quantized engine, then Model::predict), on one input of
// random values in [0, 1]. The files alternate within every round (a, b, c, a, b, c, ...) so that
// a drift of the machine's speed hits all alike; each round records, per file, the median of
// --reps timed passes after warm-up, both in wall time and in the calling thread's CPU time
// (CLOCK_THREAD_CPUTIME_ID: on a machine others share, time spent waiting for a core is not
// counted, which wall time cannot tell apart). Prints one JSON object: per file, the per-round
// medians. bench/int8_graph_bench.py drives it.

#include "models/Model.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStringList>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <time.h>

using namespace ms;

namespace {

double threadCpu_ms()
{
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) * 1000.0 + double(t.tv_nsec) / 1e6;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QStringList files;
    std::vector<qint64> shape{8, 3, 32, 32};
    int threads = 1, rounds = 7, reps = 30;
    const QStringList args = app.arguments().mid(1);
    for (int i = 0; i < args.size(); ++i) {
        const QString &a = args[i];
        if (a == QLatin1String("--shape") && i + 1 < args.size()) {
            shape.clear();
            for (const QString &d : args[++i].split(QLatin1Char(',')))
                shape.push_back(d.toLongLong());
        } else if (a == QLatin1String("--threads") && i + 1 < args.size()) {
            threads = args[++i].toInt();
        } else if (a == QLatin1String("--rounds") && i + 1 < args.size()) {
            rounds = args[++i].toInt();
        } else if (a == QLatin1String("--reps") && i + 1 < args.size()) {
            reps = args[++i].toInt();
        } else {
            files << a;
        }
    }
    if (files.isEmpty()) {
        std::fprintf(stderr, "usage: latency_bench FILE.pt... [--shape 8,3,32,32] [--threads 1] "
                             "[--rounds 7] [--reps 30]\n");
        return 2;
    }
    Model::setComputeThreads(threads);
    qint64 count = 1;
    for (qint64 d : shape)
        count *= d;
    std::mt19937 gen(0);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(count));
    for (float &v : x)
        v = uniform(gen);

    std::vector<Model> models;
    for (const QString &f : files)
        models.push_back(Model::load(f));
    std::vector<QJsonArray> wall(models.size()), cpu(models.size());
    for (int round = 0; round < rounds; ++round) {
        for (size_t m = 0; m < models.size(); ++m) {
            for (int i = 0; i < reps / 5 + 2; ++i)
                models[m].predict(x, shape);
            std::vector<double> w, c;
            for (int i = 0; i < reps; ++i) {
                const auto start = std::chrono::steady_clock::now();
                const double startCpu = threadCpu_ms();
                models[m].predict(x, shape);
                c.push_back(threadCpu_ms() - startCpu);
                w.push_back(std::chrono::duration<double, std::milli>(
                                std::chrono::steady_clock::now() - start).count());
            }
            wall[m].append(median(w));
            cpu[m].append(median(c));
        }
    }
    QJsonObject out;
    for (size_t m = 0; m < models.size(); ++m)
        out.insert(files[int(m)], QJsonObject{{QStringLiteral("wall_ms"), wall[m]},
                                             {QStringLiteral("cpu_ms"), cpu[m]},
                                             {QStringLiteral("engine"),
                                              models[m].quantizedEngine()}});
    std::printf("%s\n", QJsonDocument(out).toJson(QJsonDocument::Compact).constData());
    return 0;
}
