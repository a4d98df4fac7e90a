// explain_bench FP32.pt INT8.pt [--threads 1] [--rounds 5] [--reps 20] [--peer PEER.py]
//
// Attribution maps in the studio's process (ms::Explainer, the code `explain` and the server
// run) against bench/peers/explain_peer.py (plain PyTorch, no Captum: the same computation in
// Python's autograd) on the same .pt files and the same input: integrated gradients with 50
// steps on FP32.pt, and occlusion (window 4, stride 2) of INT8.pt. Rounds alternate studio and
// peer so that a drift of the machine's speed hits both; each side reports the median of --reps
// timed runs after warm-up (the peer times inside its process: interpreter start-up is not
// counted). Each round also times the studio's integrated gradients in one pass of 50 steps (as
// the peer runs them) beside its automatic passes. Prints one JSON object with the per-round
// medians and the ratios.
// bench/explain_bench.sh makes the two files and runs it.

#include "explain/Explainer.h"
#include "models/Model.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStringList>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

using namespace ms;

namespace {

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

// Median wall time in ms of `reps` explanations after two unmeasured ones.
double time_ms(const Explainer &explainer, const std::vector<float> &x,
               const ExplainOptions &options, int reps)
{
    const std::vector<qint64> shape{1, 28, 28};
    for (int i = 0; i < 2; ++i)
        explainer.explain(x, shape, options);
    std::vector<double> times;
    for (int i = 0; i < reps; ++i) {
        const auto start = std::chrono::steady_clock::now();
        explainer.explain(x, shape, options);
        times.push_back(std::chrono::duration<double, std::milli>(
                            std::chrono::steady_clock::now() - start).count());
    }
    return median(times);
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments().mid(1);
    if (args.size() < 2) {
        std::fprintf(stderr, "usage: explain_bench FP32.pt INT8.pt [--threads N] [--rounds N] "
                             "[--reps N] [--peer PEER.py]\n");
        return 2;
    }
    int threads = 1, rounds = 5, reps = 20;
    QString peer = QStringLiteral(MS_BENCH_DIR "/peers/explain_peer.py");
    for (int i = 2; i + 1 < args.size(); i += 2) {
        if (args[i] == QLatin1String("--threads"))
            threads = args[i + 1].toInt();
        else if (args[i] == QLatin1String("--rounds"))
            rounds = args[i + 1].toInt();
        else if (args[i] == QLatin1String("--reps"))
            reps = args[i + 1].toInt();
        else if (args[i] == QLatin1String("--peer"))
            peer = args[i + 1];
    }
    Model::setComputeThreads(threads);
    const Explainer fp32(Model::load(args[0]), QStringLiteral("fp32"), {1, 28, 28}, 10);
    const Explainer int8(Model::load(args[1]), QStringLiteral("int8"), {1, 28, 28}, 10);
    std::mt19937 rng(0);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    std::vector<float> x(784);
    for (float &v : x)
        v = uniform(rng);
    ExplainOptions ig;
    ig.steps = 50;
    // The studio's passes as the peer makes them (all 50 steps in one), to show what the
    // automatic split into cache-sized passes (Explainer.cpp, passBatch) gains.
    ExplainOptions igOnePass = ig;
    igOnePass.batchSize = 50;
    ExplainOptions occlusion;
    occlusion.method = ExplainMethod::Occlusion;
    occlusion.window = 4;
    occlusion.stride = 2;

    QJsonArray studioIg, studioOcc, peerIg, peerOcc, ratioIg, ratioOcc, onePassIg, splitGain;
    for (int round = 0; round < rounds; ++round) {
        const double a = time_ms(fp32, x, ig, reps);
        const double one = time_ms(fp32, x, igOnePass, reps);
        const double b = time_ms(int8, x, occlusion, reps);
        QProcess p;
        p.start(QStringLiteral("/usr/bin/python3"),
                {peer, args[0], args[1], QString::number(threads), QString::number(reps)});
        if (!p.waitForFinished(600000) || p.exitCode() != 0) {
            std::fprintf(stderr, "peer failed: %s\n", p.readAllStandardError().constData());
            return 1;
        }
        const QJsonObject o = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
        const double pa = o.value(QStringLiteral("ig_ms")).toDouble();
        const double pb = o.value(QStringLiteral("occlusion_ms")).toDouble();
        studioIg.append(a);
        studioOcc.append(b);
        peerIg.append(pa);
        peerOcc.append(pb);
        ratioIg.append(pa / a);
        ratioOcc.append(pb / b);
        onePassIg.append(one);
        splitGain.append(one / a);
        std::fprintf(stderr, "round %d: ig %.2f ms (one pass %.2f, peer %.2f), occlusion %.2f ms "
                             "(peer %.2f)\n",
                     round + 1, a, one, pa, b, pb);
    }
    const QJsonObject out{{QStringLiteral("threads"), threads},
                          {QStringLiteral("reps"), reps},
                          {QStringLiteral("ig_50_steps_ms"), studioIg},
                          {QStringLiteral("peer_ig_50_steps_ms"), peerIg},
                          {QStringLiteral("ig_speedup_vs_peer"), ratioIg},
                          {QStringLiteral("ig_one_pass_ms"), onePassIg},
                          {QStringLiteral("ig_split_speedup"), splitGain},
                          {QStringLiteral("occlusion_int8_ms"), studioOcc},
                          {QStringLiteral("peer_occlusion_int8_ms"), peerOcc},
                          {QStringLiteral("occlusion_speedup_vs_peer"), ratioOcc}};
    std::printf("%s\n", QJsonDocument(out).toJson(QJsonDocument::Indented).constData());
    return 0;
}
