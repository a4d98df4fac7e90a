// Comparison: rows and deltas from stored benchmark JSON (what compare and the Compare panel show).

#include "bench/Comparison.h"

#include <QJsonArray>
#include <QTest>

using namespace ms;

namespace {

QJsonObject benchmark(double acc, double p50b1, double p50b32, double size, int threads,
                      const QString &cpu = QStringLiteral("AMD EPYC"))
{
    return QJsonObject{
        {"kind", "trained"},
        {"quantized_engine", QJsonValue()},
        {"threads", threads},
        {"test_acc", acc},
        {"latency", QJsonArray{QJsonObject{{"batch_size", 1}, {"p50_ms", p50b1},
                                           {"throughput_per_s", 1000.0 / p50b1}},
                               QJsonObject{{"batch_size", 32}, {"p50_ms", p50b32},
                                           {"throughput_per_s", 32000.0 / p50b32}}}},
        {"size_bytes", size},
        {"compressed_size_bytes", size * 0.9},
        {"parameters", 1000},
        {"nonzero_parameters", 1000},
        {"peak_rss_bytes", 100e6},
        {"peak_rss_delta_bytes", 1e6},
        {"cpu", QJsonObject{{"cpu", cpu}}}};
}

} // namespace

class tst_Comparison : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void rowsAndDeltas()
    {
        QJsonObject int8 = benchmark(0.895, 0.5, 2.0, 25000, 1);
        int8["kind"] = "quantized";
        int8["quantized_engine"] = "onednn";
        const Comparison c = Comparison::fromBenchmarks(
            {{"cnn:1", benchmark(0.90, 1.0, 8.0, 100000, 1)}, {"cnn:2", int8}});
        QCOMPARE(c.rows().size(), 2);
        QVERIFY(c.warnings().isEmpty());
        const Comparison::Row &row = c.rows()[1];
        QCOMPARE(row.values["engine"].toString(), QStringLiteral("onednn"));
        QCOMPARE(row.values["p50_b32_ms"].toDouble(), 2.0);
        // Best throughput over the batch sizes: batch 32 here.
        QCOMPARE(row.values["throughput_batch"].toInt(), 32);
        QCOMPARE(row.values["throughput_per_s"].toDouble(), 16000.0);
        QCOMPARE(row.deltas["size_bytes"].toObject()["ratio"].toDouble(), 0.25);
        QCOMPARE(row.deltas["p50_b32_ms"].toObject()["ratio"].toDouble(), 0.25);
        QVERIFY(qAbs(row.deltas["test_acc"].toObject()["diff"].toDouble() + 0.005) < 1e-12);
        QVERIFY(!row.deltas.contains("threads"));   // not a compared quantity
        // Text cells: accuracy in points, the rest as ratios.
        const QStringList cells = c.textRows()[1];
        QCOMPARE(cells.size(), c.headers().size());
        QVERIFY2(cells.join('|').contains("(-0.50 pt)"), qPrintable(cells.join('|')));
        QVERIFY(cells.join('|').contains("(0.25x)"));
        QVERIFY(!c.textRows()[0].join('|').contains("x)"));   // the baseline has no deltas
    }

    void missingValuesStayMissing()
    {
        QJsonObject imported = benchmark(0.0, 1.0, 8.0, 1000, 1);
        imported["test_acc"] = QJsonValue();
        imported["latency"] = QJsonArray{QJsonObject{{"batch_size", 8}, {"p50_ms", 3.0},
                                                     {"throughput_per_s", 2666.0}}};
        const Comparison c = Comparison::fromBenchmarks(
            {{"a:1", benchmark(0.9, 1.0, 8.0, 1000, 1)}, {"b:1", imported}});
        const Comparison::Row &row = c.rows()[1];
        QVERIFY(row.values["test_acc"].isNull());
        QVERIFY(row.values["p50_b1_ms"].isNull());
        QVERIFY(!row.deltas.contains("test_acc"));
        QVERIFY(c.textRows()[1].contains("-"));
        // CSV keeps one cell per column, empty where nothing was measured.
        const QStringList lines = c.toCsv().split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines[2].split(',').size(), lines[0].split(',').size());
    }

    void warnsWhenNotComparable()
    {
        const Comparison c = Comparison::fromBenchmarks(
            {{"a:1", benchmark(0.9, 1.0, 8.0, 1000, 1)},
             {"a:2", benchmark(0.9, 1.0, 8.0, 1000, 2, "Intel Xeon")}});
        QCOMPARE(c.warnings().size(), 2);
        QVERIFY(c.warnings()[0].contains("thread counts"));
        QVERIFY(c.toHtml().contains("thread counts"));
    }

    void csvQuotesAndHtmlEscapes()
    {
        const Comparison c = Comparison::fromBenchmarks(
            {{"a,b:1", benchmark(0.9, 1.0, 8.0, 1000, 1)},
             {"<x>:1", benchmark(0.9, 1.0, 8.0, 1000, 1)}});
        QVERIFY(c.toCsv().contains("\"a,b:1\","));
        QVERIFY(c.toHtml().contains("&lt;x&gt;:1"));
        QVERIFY(!c.toHtml().contains("<x>"));
    }
};

QTEST_GUILESS_MAIN(tst_Comparison)
#include "tst_comparison.moc"
