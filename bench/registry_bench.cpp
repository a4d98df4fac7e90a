// Registry at scale: 10,000 versions and 5,000,000 metric points in one workspace.
// Times what the window and the CLI do all day (open the workspace, list a model's versions,
// load one run's 100,000-point loss curve) through ms::Registry, and the same queries through
// Python's sqlite3 module on the same file as the peer, in the same run.
//
// Usage: registry_bench [WORKSPACE]   (default: a fresh temporary folder; an existing
//        workspace filled by an earlier run is reused, which skips the slow fill)

#include "registry/Registry.h"

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace {

// The strict reading of the target: every one of the 10,000 versions in one model, so listing
// "a model's versions" lists all of them.
constexpr int kModels = 1;
constexpr int kVersionsPerModel = 10000;
constexpr int kRuns = 50;
constexpr int kPointsPerRun = 100000;           // 5,000,000 points

const QJsonObject kRecipe{
    {QStringLiteral("dataset"), QStringLiteral("fashion-mnist")}, {QStringLiteral("arch"), QStringLiteral("cnn")},
    {QStringLiteral("epochs"), 3}, {QStringLiteral("batch_size"), 128}, {QStringLiteral("lr"), 0.001},
    {QStringLiteral("optimizer"), QStringLiteral("adam")}, {QStringLiteral("momentum"), 0.9},
    {QStringLiteral("weight_decay"), 0.0}, {QStringLiteral("schedule"), QStringLiteral("constant")},
    {QStringLiteral("step_epochs"), 1}, {QStringLiteral("gamma"), 0.1}, {QStringLiteral("seed"), QStringLiteral("0")},
    {QStringLiteral("limit"), QStringLiteral("0")}, {QStringLiteral("validation_fraction"), 0.1},
    {QStringLiteral("threads"), 0}};

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

template <typename F>
double timeMedian_ms(int reps, F &&f)
{
    std::vector<double> times;
    for (int i = 0; i < reps; ++i) {
        QElapsedTimer clock;
        clock.start();
        f();
        times.push_back(double(clock.nsecsElapsed()) / 1e6);
    }
    return median(times);
}

void fill(const QString &root)
{
    ms::Registry registry(root);
    QTemporaryDir scratch;
    QElapsedTimer clock;
    clock.start();
    for (int r = 0; r < kRuns; ++r) {
        const qint64 run = registry.startRun(QStringLiteral("train"), {}, QString());
        ms::MetricBatch batch;
        batch.reserve(10000);
        for (int step = 1; step <= kPointsPerRun; ++step) {
            batch.append(ms::MetricPoint{QStringLiteral("loss"), step, 1 + step / 1000,
                                         1.0 / step, step * 0.001});
            if (batch.size() == 10000) {
                registry.appendMetrics(run, batch);
                batch.clear();
            }
        }
        registry.finishRun(run, ms::RunStatus::Finished);
    }
    std::printf("filled %d runs x %d points in %.1f s\n", kRuns, kPointsPerRun,
                double(clock.elapsed()) / 1000.0);
    clock.restart();
    for (int m = 0; m < kModels; ++m) {
        for (int v = 0; v < kVersionsPerModel; ++v) {
            // Distinct bytes per version, so each has its own artifact as in real use.
            const QString artifact = scratch.filePath(QStringLiteral("a.pt"));
            QFile file(artifact);
            file.open(QIODevice::WriteOnly);
            file.write(QByteArray::number(m * kVersionsPerModel + v).repeated(64));
            file.close();
            ms::NewVersion nv;
            nv.modelName = QStringLiteral("model-%1").arg(m, 2, 10, QLatin1Char('0'));
            nv.inputs = {ms::TensorSignature{QStringLiteral("input"), QStringLiteral("float32"),
                                             {-1, 1, 28, 28}}};
            nv.outputs = {ms::TensorSignature{QStringLiteral("output"),
                                              QStringLiteral("float32"), {-1, 10}}};
            nv.artifactPath = artifact;
            // A recipe and metrics the size a real training writes.
            nv.recipe = kRecipe;
            nv.metrics = QJsonObject{{QStringLiteral("test_acc"), 0.9},
                                     {QStringLiteral("val_acc"), 0.91},
                                     {QStringLiteral("train_loss"), 0.3},
                                     {QStringLiteral("samples_per_s"), 2400.0}};
            nv.parameterCount = 83466;
            nv.runId = m < kRuns ? m + 1 : 0;
            registry.addVersion(nv);
        }
    }
    std::printf("added %d versions in %.1f s\n", kModels * kVersionsPerModel,
                double(clock.elapsed()) / 1000.0);
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QTemporaryDir tmp;
    const QString root = argc > 1 ? QString::fromLocal8Bit(argv[1]) : tmp.path();
    QDir().mkpath(root);
    if (!QFile::exists(root + QStringLiteral("/registry.db")))
        fill(root);

    const QString model = QStringLiteral("model-00");
    int versionCount = 0;
    qint64 pointCount = 0;
    const double open_ms = timeMedian_ms(5, [&] { ms::Registry r(root); });
    ms::Registry registry(root);
    const double list_ms = timeMedian_ms(5, [&] {
        versionCount = int(registry.versions(model, ms::Registry::Detail::Listing).size());
    });
    const double curve_ms = timeMedian_ms(5, [&] {
        pointCount = registry.metrics(7, QStringLiteral("loss")).size();
    });
    const double models_ms = timeMedian_ms(5, [&] { registry.models(); });

    // The peer: the same three reads with Python's sqlite3 on the same file (schema-level
    // queries, no object mapping), in this run.
    QProcess peer;
    peer.start(QStringLiteral("/usr/bin/python3"),
               {QStringLiteral(MS_BENCH_DIR "/registry_peer.py"), root + "/registry.db", model,
                QStringLiteral("7")});
    peer.waitForFinished(600000);
    const QStringList peerFigures =
        QString::fromUtf8(peer.readAllStandardOutput()).trimmed().split(QLatin1Char(' '));
    auto peerValue = [&](int i) { return peerFigures.value(i).toDouble(); };

    std::printf("\n| operation | studio (ms) | Python sqlite3 (ms) | ratio | target |\n");
    std::printf("|---|---|---|---|---|\n");
    auto row = [&](const char *what, double ours, double theirs, const char *target) {
        std::printf("| %s | %.1f | %.1f | %.2fx | %s |\n", what, ours, theirs,
                    theirs > 0 ? theirs / ours : 0.0, target);
    };
    row("open the workspace", open_ms, peerValue(0), "< 300 ms");
    row(qPrintable(QStringLiteral("list a model's %1 versions").arg(versionCount)), list_ms,
        peerValue(1), "< 50 ms");
    row(qPrintable(QStringLiteral("load a run's %1-point loss curve").arg(pointCount)), curve_ms,
        peerValue(2), "< 200 ms");
    row("list the models", models_ms, peerValue(3), "");
    std::printf("\n(ratio = Python time / studio time; above 1 the studio is faster)\n");
    return 0;
}
