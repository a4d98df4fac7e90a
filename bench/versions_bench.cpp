// The Versions panel at 10,000 versions: how long the window takes to list, sort and filter
// them, against the bare registry listing it is built on (the peer, measured in the same run).
// The difference is what the table model, the proxy and the panel cost on top of SQLite.
//
// Usage: versions_bench [WORKSPACE]   (default: a fresh temporary folder; a workspace filled
//        by an earlier run is reused, which skips the fill). Runs on the offscreen platform.

#include "panels/versions/VersionFilterProxy.h"
#include "panels/versions/VersionTableModel.h"
#include "panels/versions/VersionsPanel.h"

#include "registry/Registry.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QLineEdit>
#include <QTableView>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace {

constexpr int kVersions = 10000;
constexpr int kModels = 4;   // a few models, most versions in the first, as in real use
constexpr int kReps = 5;

template<typename F>
double timeMedian_ms(int reps, F &&f)
{
    std::vector<double> times;
    for (int i = 0; i < reps; ++i) {
        QElapsedTimer clock;
        clock.start();
        f();
        times.push_back(double(clock.nsecsElapsed()) / 1e6);
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

void fill(const QString &root)
{
    ms::Registry registry(root);
    QTemporaryDir scratch;
    QElapsedTimer clock;
    clock.start();
    const QJsonObject recipe{{QStringLiteral("dataset"), QStringLiteral("fashion-mnist")},
                             {QStringLiteral("arch"), QStringLiteral("cnn")},
                             {QStringLiteral("epochs"), 3},
                             {QStringLiteral("batch_size"), 128},
                             {QStringLiteral("lr"), 0.001},
                             {QStringLiteral("optimizer"), QStringLiteral("adam")}};
    qint64 previous = 0;
    for (int v = 0; v < kVersions; ++v) {
        const QString artifact = scratch.filePath(QStringLiteral("a.pt"));
        QFile file(artifact);
        file.open(QIODevice::WriteOnly);
        file.write(QByteArray::number(v).repeated(64));   // its own artifact, as in real use
        file.close();
        ms::NewVersion nv;
        const int model = v % 10 == 0 ? 1 + (v / 10) % (kModels - 1) : 0;
        nv.modelName = QStringLiteral("model-%1").arg(model);
        nv.kind = v % 7 == 0 ? ms::VersionKind::Quantized : ms::VersionKind::Trained;
        nv.artifactPath = artifact;
        nv.recipe = recipe;
        nv.inputs = {ms::TensorSignature{QStringLiteral("input"), QStringLiteral("float32"),
                                         {-1, 1, 28, 28}}};
        nv.outputs = {ms::TensorSignature{QStringLiteral("output"), QStringLiteral("float32"),
                                          {-1, 10}}};
        // Accuracies from 1 % to 99 %: a text sort would get them wrong.
        const double acc = 0.01 + 0.98 * ((v * 37) % 100) / 100.0;
        nv.metrics = QJsonObject{{QStringLiteral("test_acc"), acc},
                                 {QStringLiteral("val_acc"), 0.9}};
        nv.parameterCount = 83466 + v;
        if (nv.kind == ms::VersionKind::Quantized && previous != 0)
            nv.parents = {{previous, QStringLiteral("source")}};
        const ms::VersionRecord added = registry.addVersion(nv);
        if (model == 0)
            previous = added.id;
        if (v % 50 == 0)
            registry.setTag(added.id, QStringLiteral("dataset"), QStringLiteral("v%1").arg(v));
    }
    std::printf("filled %d versions in %.1f s\n", kVersions, double(clock.elapsed()) / 1000.0);
}

} // namespace

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QTemporaryDir tmp;
    const QString root = argc > 1 ? QString::fromLocal8Bit(argv[1]) : tmp.path();
    QDir().mkpath(root);
    if (!QFile::exists(root + QStringLiteral("/registry.db")))
        fill(root);

    // The peer: what the table is made of, straight from the registry.
    int listed = 0;
    const double registry_ms = timeMedian_ms(kReps, [&] {
        const ms::Registry registry(root);
        listed = 0;
        for (const ms::ModelRecord &model : registry.models())
            listed += int(registry.versions(model.name, ms::Registry::Detail::Listing).size());
    });

    ms::ui::VersionTableModel model(root);
    const double model_ms = timeMedian_ms(kReps, [&] { model.reload(); });

    ms::ui::VersionFilterProxy proxy;
    proxy.setSourceModel(&model);
    proxy.setDynamicSortFilter(true);
    int column = 0;
    const double sort_ms = timeMedian_ms(kReps, [&] {
        // Alternating direction, so every rep really reorders.
        proxy.sort(ms::ui::VersionTableModel::Accuracy,
                   column++ % 2 ? Qt::AscendingOrder : Qt::DescendingOrder);
    });
    // Checked, not assumed: ascending by accuracy must be ascending by number on every row.
    proxy.sort(ms::ui::VersionTableModel::Accuracy, Qt::AscendingOrder);
    bool numeric = true;
    for (int r = 1; r < proxy.rowCount(); ++r)
        numeric = numeric
                  && proxy.index(r - 1, ms::ui::VersionTableModel::Accuracy)
                             .data(ms::ui::VersionTableModel::SortRole).toDouble()
                         <= proxy.index(r, ms::ui::VersionTableModel::Accuracy)
                                .data(ms::ui::VersionTableModel::SortRole).toDouble();
    // The first keystroke after a reload formats every row once; later ones only search.
    QElapsedTimer firstClock;
    firstClock.start();
    proxy.setText(QStringLiteral("q"));
    const double firstFilter_ms = double(firstClock.nsecsElapsed()) / 1e6;
    int matched = 0;
    int rep = 0;
    const double filter_ms = timeMedian_ms(kReps, [&] {
        proxy.setText(rep++ % 2 ? QStringLiteral("quantize") : QStringLiteral("quantized"));
        matched = proxy.rowCount();
    });

    // The whole panel: model list, table, lineage of the selected model and detail pane.
    double panel_ms = 0;
    double reload_ms = 0;
    double select_ms = 0;
    {
        QElapsedTimer clock;
        clock.start();
        ms::ui::VersionsPanel panel(root);
        panel.resize(1280, 760);
        panel.show();
        QApplication::processEvents();
        panel_ms = double(clock.nsecsElapsed()) / 1e6;
        reload_ms = timeMedian_ms(kReps, [&] { panel.reload(); });
        int row = 0;
        select_ms = timeMedian_ms(kReps, [&] {
            panel.tableView()->selectRow(1000 + 17 * row++);
            QApplication::processEvents();
        });
    }

    std::printf("\n%d versions listed (%d models), %d match \"quantized\", numeric sort: %s\n",
                listed, kModels, matched, numeric ? "yes" : "NO");
    std::printf("\n| operation | time (ms) | vs the bare registry listing |\n|---|---|---|\n");
    auto row = [&](const char *what, double ms) {
        std::printf("| %s | %.1f | %.2fx |\n", what, ms, ms / registry_ms);
    };
    row("peer: Registry::models + versions(Listing) for each", registry_ms);
    row("VersionTableModel::reload", model_ms);
    row("sort by accuracy (proxy, SortRole)", sort_ms);
    row("filter by text over every column: first key after a reload", firstFilter_ms);
    row("filter by text over every column: next keys", filter_ms);
    row("open the panel (build, list, select, lineage, details, first paint)", panel_ms);
    row("panel reload (keeps the selection)", reload_ms);
    row("select another version (details + lineage)", select_ms);
    return numeric ? 0 : 1;
}
