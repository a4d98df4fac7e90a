#pragma once

#include <QJsonArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>
#include <QVector>

namespace ms {

// Side-by-side rows of benchmark results, one per version, with deltas against the first row:
// what `modelstudio-cli compare` prints and the window's Compare panel shows. Torch-free; it
// reads the JSON BenchmarkJob stores (Registry::benchmarks).
class Comparison
{
public:
    // How a column compares with the first row: accuracy in points, a loss by its difference,
    // the rest by their ratio.
    enum class Delta { None, Points, Ratio, Difference };

    struct Column
    {
        QString key;      // "p50_b1_ms"
        QString header;   // "p50 b1 (ms)"
        Delta delta = Delta::None;
    };

    struct Row
    {
        QString version;
        QJsonObject values;   // key -> number, text, or null when not measured
        QJsonObject deltas;   // key -> {"diff": value - first} plus {"ratio": value / first}
    };

    // `benchmarks`: (version ref, its benchmark result), the first being the baseline.
    static Comparison fromBenchmarks(const QVector<QPair<QString, QJsonObject>> &benchmarks);

    // A classifier's columns (accuracy, latency per batch, ...).
    static QList<Column> columns();
    // A language model's: validation loss and perplexity, generation tokens/s at batch 1 with
    // the key/value cache and the first token's time, then size and memory as columns().
    static QList<Column> languageModelColumns();
    // What this comparison shows: languageModelColumns() when every row is a language model's
    // benchmark (task "lm"), columns() when none is, both (without repeats) when mixed.
    QList<Column> shownColumns() const;
    bool languageModels() const { return m_lmRows > 0 && m_lmRows == m_rows.size(); }
    const QVector<Row> &rows() const { return m_rows; }
    // Things that make the rows less comparable (different thread counts, CPUs, batch sizes).
    QStringList warnings() const { return m_warnings; }

    // [{"version", every column key of both kinds, "delta": {key: {"diff", "ratio"}}}, ...]
    QJsonArray toJson() const;
    // Header then one line per row: every column, then delta_<key> / ratio_<key> columns.
    QString toCsv() const;
    // A standalone HTML page: the table with each delta under its value, and the warnings.
    QString toHtml() const;
    // Cells for a text table: values, with the delta against the first row in parentheses.
    QStringList headers() const;
    QList<QStringList> textRows() const;

private:
    QVector<Row> m_rows;
    QStringList m_warnings;
    qsizetype m_lmRows = 0;   // rows of language models
};

} // namespace ms
