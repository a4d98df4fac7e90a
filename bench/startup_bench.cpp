// startup_bench [--rounds R]
//
// How long a model takes from nothing to its first answer, in the studio and in Python: for the
// built-in mlp and cnn (batch 128 of 1x28x28), the studio's spec compilation (Model::build:
// TorchScript source compiled by Module::define), then, for the saved file, Model::load + the
// first forward + a second forward, against Python's torch.jit.load + the same two forwards of
// the same file (timed inside Python, so its interpreter start-up is not counted). Rounds
// alternate studio and Python; the ratio printed is the median of the per-round ratios of
// "load + first forward". Was tst_model's timing() (a test that asserted nothing).

#include "models/ArchitectureRegistry.h"
#include "models/Model.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <vector>

using namespace ms;

namespace {

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : v[v.size() / 2];
}

double ms_since(QElapsedTimer &timer)
{
    const double ms = double(timer.nsecsElapsed()) / 1e6;
    timer.restart();
    return ms;
}

const char *const kPeer = R"PY(
import json, sys, time
import torch
torch.set_num_threads(1)
t = time.perf_counter()
m = torch.jit.load(sys.argv[1])
load = time.perf_counter() - t
x = torch.rand(128, 1, 28, 28)
t = time.perf_counter()
with torch.no_grad():
    m(x)
first = time.perf_counter() - t
t = time.perf_counter()
with torch.no_grad():
    m(x)
second = time.perf_counter() - t
print(json.dumps({"load_ms": load * 1e3, "first_ms": first * 1e3, "second_ms": second * 1e3}))
)PY";

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    int rounds = 3;
    const QStringList args = app.arguments();
    const int r = int(args.indexOf(QStringLiteral("--rounds")));
    if (r > 0 && r + 1 < args.size())
        rounds = std::max(1, args.at(r + 1).toInt());

    QTemporaryDir dir;
    QStringList names;
    for (int i = 0; i < 10; ++i)
        names << QStringLiteral("class %1").arg(i);
    const ModelDataInfo info{{1, 28, 28}, {0.2860f}, {0.3530f}, names};
    std::vector<float> x(size_t(128 * 784));
    QRandomGenerator rng(1);
    for (float &v : x)
        v = float(rng.generateDouble());

    std::printf("%-4s %9s | %9s %9s %9s | %9s %9s %9s | %s\n", "arch", "build_ms", "load_ms",
                "first_ms", "next_ms", "py_load", "py_first", "py_next",
                "load+first studio/Python (median, range)");
    for (const char *arch : {"mlp", "cnn"}) {
        const QJsonObject spec =
            ArchitectureRegistry::instance().resolve(QString::fromLatin1(arch), {1, 28, 28}, 10);
        std::vector<double> build, load, first, next, pyLoad, pyFirst, pyNext, ratio;
        for (int round = 0; round < rounds; ++round) {
            QElapsedTimer timer;
            timer.start();
            const Model built = Model::build(spec, info, 0);
            build.push_back(ms_since(timer));
            const QString file = dir.filePath(QString::fromLatin1(arch) + QStringLiteral(".pt"));
            built.save(file);

            timer.restart();
            const Model loaded = Model::load(file);
            load.push_back(ms_since(timer));
            loaded.predict(x, {128, 1, 28, 28});
            first.push_back(ms_since(timer));
            loaded.predict(x, {128, 1, 28, 28});
            next.push_back(ms_since(timer));

            QProcess py;
            py.start(QStringLiteral("/usr/bin/python3"),
                     {QStringLiteral("-c"), QString::fromLatin1(kPeer), file});
            if (!py.waitForFinished(120000) || py.exitCode() != 0) {
                std::fprintf(stderr, "the Python peer failed: %s\n",
                             py.readAllStandardError().constData());
                return 1;
            }
            const QJsonObject p = QJsonDocument::fromJson(py.readAllStandardOutput()).object();
            pyLoad.push_back(p.value(QStringLiteral("load_ms")).toDouble());
            pyFirst.push_back(p.value(QStringLiteral("first_ms")).toDouble());
            pyNext.push_back(p.value(QStringLiteral("second_ms")).toDouble());
            ratio.push_back((load.back() + first.back()) / (pyLoad.back() + pyFirst.back()));
        }
        std::printf("%-4s %9.1f | %9.1f %9.1f %9.1f | %9.1f %9.1f %9.1f | %.2fx (%.2f-%.2f)\n",
                    arch, median(build), median(load), median(first), median(next),
                    median(pyLoad), median(pyFirst), median(pyNext), median(ratio),
                    *std::min_element(ratio.begin(), ratio.end()),
                    *std::max_element(ratio.begin(), ratio.end()));
    }
    return 0;
}
