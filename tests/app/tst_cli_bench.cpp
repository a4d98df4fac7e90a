// modelstudio-cli bench and compare, driven as a user would: a trained mlp and its static int8
// variant in a fresh workspace, benchmarked, stored, compared as a table, JSON, CSV and HTML.

#include "CliRun.h"

#include "compress/CompressionMethod.h"
#include "data/DatasetRegistry.h"
#include "jobs/JobContext.h"
#include "models/Model.h"
#include "registry/Registry.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace ms;
using ms::test::CliRun;
using ms::test::runCli;

class tst_CliBench : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void compareRefusesUnbenchmarked();
    void benchJson();
    void compareFormats();
    void badInput();

private:
    QStringList ws(QStringList args) const { return args << "--workspace" << m_dir.path(); }

    QTemporaryDir m_dir;
    QList<QJsonObject> m_results;
};

void tst_CliBench::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
    const CliRun train = runCli(ws({"train", "--arch", "mlp", "--limit", "600", "--epochs", "1",
                                    "--threads", "1", "--json"}));
    QVERIFY2(train.exitCode == 0, qPrintable(train.err));

    // The int8 variant, made through the core and registered as CompressJob would.
    Registry registry(m_dir.path());
    const VersionRecord source = registry.resolve("mlp:1");
    const Model model = Model::load(registry.verifiedArtifactPath(source));
    const auto method = CompressionRegistry::instance().method("quantize-static");
    CompressInput input;
    input.model = model;
    input.source = source;
    for (const CompressParameter &p : method->parameters())
        input.params.insert(p.name, p.defaultValue);
    input.params.insert("engine", "onednn");
    DatasetOptions options;
    options.limit = 600;
    const Dataset data = DatasetRegistry::instance().load(options);
    input.dataset = [&data]() -> const Dataset & { return data; };
    method->check(model, source, input.params);
    JobContext context;
    const CompressOutput out = method->apply(input, context);
    const QString path = m_dir.filePath("int8.pt");
    out.model.save(path);
    NewVersion v;
    v.modelName = "mlp";
    v.kind = out.kind;
    v.artifactPath = path;
    v.recipe = QJsonObject{{"kind", "compress"}, {"source", "mlp:1"},
                           {"data", QJsonObject{{"dataset", "fashion-mnist"}, {"limit", "600"},
                                                {"seed", "0"}}}};
    v.inputs = source.inputs;
    v.outputs = source.outputs;
    v.classNames = source.classNames;
    v.parameterCount = out.model.parameterCount();
    v.parents = {{source.id, "source"}};
    QCOMPARE(registry.addVersion(v).ref(), QStringLiteral("mlp:2"));
}

void tst_CliBench::compareRefusesUnbenchmarked()
{
    const CliRun r = runCli(ws({"compare", "mlp:1", "mlp:2"}));
    QCOMPARE(r.exitCode, 1);
    QVERIFY2(r.errorLine().contains("run modelstudio-cli bench mlp:1 mlp:2"), qPrintable(r.err));
}

void tst_CliBench::benchJson()
{
    const CliRun r = runCli(ws({"bench", "mlp:1", "mlp@latest-does-not-matter", "--json"}));
    QCOMPARE(r.exitCode, 1);   // a bad reference is refused before anything is measured
    QVERIFY(!r.errorLine().isEmpty());
    Registry registry(m_dir.path());
    QVERIFY(registry.benchmarks(registry.resolve("mlp:1").id).isEmpty());

    const CliRun ok = runCli(ws({"bench", "mlp:1", "mlp:2", "--batch-sizes", "1,4,32",
                                 "--warmup", "2", "--repetitions", "15", "--json"}));
    QVERIFY2(ok.exitCode == 0, qPrintable(ok.err));
    m_results = ok.jsonLines();
    QCOMPARE(m_results.size(), 2);
    for (const QJsonObject &b : m_results) {
        const QString ref = b["version"].toString();
        QCOMPARE(b["threads"].toInt(), 1);
        const QJsonArray latency = b["latency"].toArray();
        QCOMPARE(latency.size(), 3);
        QCOMPARE(latency[2].toObject()["batch_size"].toInt(), 32);
        for (const QJsonValue &l : latency) {
            const QJsonObject o = l.toObject();
            QVERIFY(o["p50_ms"].toDouble() > 0);
            QVERIFY(o["p50_ms"].toDouble() <= o["p95_ms"].toDouble());
            QVERIFY(o["p95_ms"].toDouble() <= o["p99_ms"].toDouble());
            QVERIFY(o["min_ms"].toDouble() <= o["p50_ms"].toDouble());
            QVERIFY(o["throughput_per_s"].toDouble() > 0);
        }
        // The confusion matrix covers the test split exactly, and its diagonal is the accuracy.
        const QJsonArray matrix = b["confusion_matrix"].toArray();
        QCOMPARE(matrix.size(), 10);
        qint64 total = 0;
        qint64 diagonal = 0;
        for (int t = 0; t < matrix.size(); ++t) {
            QCOMPARE(matrix[t].toArray().size(), 10);
            for (int p = 0; p < 10; ++p) {
                total += matrix[t].toArray()[p].toInteger();
                if (p == t)
                    diagonal += matrix[t].toArray()[p].toInteger();
            }
        }
        QCOMPARE(total, b["test_count"].toInteger());
        QCOMPARE(total, qint64(600));
        QVERIFY(qAbs(double(diagonal) / double(total) - b["test_acc"].toDouble()) < 1e-12);
        QVERIFY(b["test_acc"].toDouble() > 0.3);   // one short epoch, far above chance (0.1)

        const VersionRecord v = registry.resolve(ref);
        QCOMPARE(b["size_bytes"].toInteger(), v.sizeBytes);
        QVERIFY(b["compressed_size_bytes"].toInteger() > 0);
        QVERIFY(b["compressed_size_bytes"].toInteger() < v.sizeBytes);
        QCOMPARE(b["parameters"].toInteger(), qint64(235146));   // from the spec, int8 or not
        QCOMPARE(b["macs"].toInteger(), qint64(784 * 256 + 256 * 128 + 128 * 10));
        QVERIFY(b["nonzero_parameters"].toInteger() > 200000);
        QVERIFY(b["nonzero_parameters"].toInteger() <= 235146);
        QVERIFY(b["peak_rss_reset"].toBool());
        QVERIFY(b["peak_rss_bytes"].toInteger() >= b["baseline_rss_bytes"].toInteger());
        QVERIFY(b["baseline_rss_bytes"].toInteger() > 0);
        QVERIFY(b["cpu"].toObject()["features"].isArray());
        QVERIFY(!b["cpu"].toObject()["cpu"].toString().isEmpty());
        // Stored in the registry, as printed.
        const QVector<QJsonObject> stored = registry.benchmarks(v.id);
        QCOMPARE(stored.size(), 1);
        QCOMPARE(stored.first(), b);
    }
    QVERIFY(m_results[0]["quantized_engine"].isNull());
    QCOMPARE(m_results[1]["quantized_engine"].toString(), QStringLiteral("onednn"));
    QCOMPARE(m_results[1]["kind"].toString(), QStringLiteral("quantized"));
}

void tst_CliBench::compareFormats()
{
    QCOMPARE(m_results.size(), 2);
    const double size0 = m_results[0]["size_bytes"].toDouble();
    const double size1 = m_results[1]["size_bytes"].toDouble();
    const double acc0 = m_results[0]["test_acc"].toDouble();
    const double acc1 = m_results[1]["test_acc"].toDouble();

    const CliRun json = runCli(ws({"compare", "mlp:1", "mlp:2", "--json"}));
    QVERIFY2(json.exitCode == 0, qPrintable(json.err));
    const QJsonArray rows = json.json()["rows"].toArray();
    QCOMPARE(rows.size(), 2);
    QCOMPARE(rows[0].toObject()["version"].toString(), QStringLiteral("mlp:1"));
    QCOMPARE(rows[1].toObject()["engine"].toString(), QStringLiteral("onednn"));
    const QJsonObject delta = rows[1].toObject()["delta"].toObject();
    QVERIFY(qAbs(delta["size_bytes"].toObject()["ratio"].toDouble() - size1 / size0) < 1e-9);
    QVERIFY(size1 / size0 <= 0.35);
    QVERIFY(qAbs(delta["test_acc"].toObject()["diff"].toDouble() - (acc1 - acc0)) < 1e-12);
    QCOMPARE(rows[0].toObject()["delta"].toObject()["size_bytes"].toObject()["ratio"].toDouble(),
             1.0);
    QCOMPARE(rows[1].toObject()["p50_b32_ms"].toDouble(),
             m_results[1]["latency"].toArray()[2].toObject()["p50_ms"].toDouble());

    const CliRun csv = runCli(ws({"compare", "mlp:1", "mlp:2", "--csv"}));
    QCOMPARE(csv.exitCode, 0);
    const QStringList lines = csv.out.split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.size(), 3);
    const QStringList header = lines[0].split(',');
    QCOMPARE(header.first(), QStringLiteral("version"));
    const int ratioColumn = int(header.indexOf("ratio_size_bytes"));
    QVERIFY(ratioColumn > 0);
    QCOMPARE(lines[1].split(',').size(), header.size());
    QVERIFY(qAbs(lines[2].split(',')[ratioColumn].toDouble() - size1 / size0) < 1e-6);

    const QString htmlPath = m_dir.filePath("compare.html");
    const CliRun html = runCli(ws({"compare", "mlp:1", "mlp:2", "--html", htmlPath}));
    QCOMPARE(html.exitCode, 0);
    QFile file(htmlPath);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QString page = QString::fromUtf8(file.readAll());
    QVERIFY(page.contains("<table>"));
    QCOMPARE(page.count("<tr>"), 3);
    QVERIFY(page.contains("mlp:2"));

    const CliRun text = runCli(ws({"compare", "mlp:1", "mlp:2"}));
    QCOMPARE(text.exitCode, 0);
    QVERIFY(text.out.contains("mlp:2"));
    QVERIFY(text.out.contains("x)"));   // ratios against the first row
}

void tst_CliBench::badInput()
{
    const CliRun sizes = runCli(ws({"bench", "mlp:1", "--batch-sizes", "1,0"}));
    QCOMPARE(sizes.exitCode, 1);
    QVERIFY2(sizes.errorLine().contains("--batch-sizes"), qPrintable(sizes.err));
    const CliRun threads = runCli(ws({"bench", "mlp:1", "--threads", "0"}));
    QVERIFY2(threads.errorLine().contains("--threads"), qPrintable(threads.err));
    const CliRun one = runCli(ws({"compare", "mlp:1"}));
    QCOMPARE(one.exitCode, 2);
    const CliRun both = runCli(ws({"compare", "mlp:1", "mlp:2", "--csv", "--json"}));
    QVERIFY(both.errorLine().contains("one of"));
}

QTEST_GUILESS_MAIN(tst_CliBench)
#include "tst_cli_bench.moc"
