#include "bench/Comparison.h"

#include <QSet>

#include <algorithm>
#include <cmath>

namespace ms {

namespace {

// The p50 latency at one batch size, null when the benchmark did not run it.
QJsonValue p50At(const QJsonObject &benchmark, int batch)
{
    for (const QJsonValue &v : benchmark.value(QStringLiteral("latency")).toArray()) {
        const QJsonObject o = v.toObject();
        if (o.value(QStringLiteral("batch_size")).toInt() == batch)
            return o.value(QStringLiteral("p50_ms"));
    }
    return QJsonValue();
}

// The best samples/s over the batch sizes measured, and at which batch size.
QPair<QJsonValue, QJsonValue> bestThroughput(const QJsonObject &benchmark)
{
    double best = -1.0;
    int batch = 0;
    for (const QJsonValue &v : benchmark.value(QStringLiteral("latency")).toArray()) {
        const QJsonObject o = v.toObject();
        const double t = o.value(QStringLiteral("throughput_per_s")).toDouble(-1.0);
        if (t > best) {
            best = t;
            batch = o.value(QStringLiteral("batch_size")).toInt();
        }
    }
    if (best < 0)
        return {QJsonValue(), QJsonValue()};
    return {best, batch};
}

QString number(const QJsonValue &v, const QString &key)
{
    if (v.isNull() || v.isUndefined())
        return QStringLiteral("-");
    if (v.isString())
        return v.toString();
    const double d = v.toDouble();
    if (key == QLatin1String("test_acc") || key == QLatin1String("val_loss"))
        return QString::number(d, 'f', 4);
    if (key == QLatin1String("val_ppl"))
        return QString::number(d, 'f', 3);
    if (key == QLatin1String("gen_tokens_per_s"))
        return QString::number(d, 'f', 1);
    if (key.endsWith(QLatin1String("_ms")))
        return QString::number(d, 'f', 3);
    if (key == QLatin1String("throughput_per_s"))
        return QString::number(d, 'f', 0);
    if (key.endsWith(QLatin1String("_bytes"))) {
        // Binary units, as the CLI's other listings show sizes.
        if (d >= 1024.0 * 1024.0)
            return QStringLiteral("%1 MiB").arg(d / (1024.0 * 1024.0), 0, 'f', 1);
        if (d >= 1024.0)
            return QStringLiteral("%1 KiB").arg(d / 1024.0, 0, 'f', 1);
        return QStringLiteral("%1 B").arg(qint64(d));
    }
    return QString::number(qint64(d));
}

QString deltaText(const QJsonObject &delta, Comparison::Delta kind)
{
    if (delta.isEmpty())
        return QString();
    if (kind == Comparison::Delta::Points) {
        const double points = delta.value(QStringLiteral("diff")).toDouble() * 100.0;
        return QStringLiteral("%1%2 pt").arg(points >= 0 ? QStringLiteral("+") : QString())
            .arg(points, 0, 'f', 2);
    }
    if (kind == Comparison::Delta::Difference) {
        const double diff = delta.value(QStringLiteral("diff")).toDouble();
        return QStringLiteral("%1%2").arg(diff >= 0 ? QStringLiteral("+") : QString())
            .arg(diff, 0, 'f', 4);
    }
    if (!delta.contains(QStringLiteral("ratio")))
        return QString();
    return QStringLiteral("%1x").arg(delta.value(QStringLiteral("ratio")).toDouble(), 0, 'f', 2);
}

QString csvField(const QString &text)
{
    if (text.contains(QLatin1Char(',')) || text.contains(QLatin1Char('"'))
        || text.contains(QLatin1Char('\n')))
        return QLatin1Char('"') + QString(text).replace(QLatin1Char('"'), QStringLiteral("\"\""))
               + QLatin1Char('"');
    return text;
}

QString csvValue(const QJsonValue &v)
{
    if (v.isNull() || v.isUndefined())
        return QString();
    if (v.isString())
        return csvField(v.toString());
    return QString::number(v.toDouble(), 'g', 10);
}

} // namespace

QList<Comparison::Column> Comparison::columns()
{
    return {
        {QStringLiteral("kind"), QStringLiteral("kind"), Delta::None},
        {QStringLiteral("engine"), QStringLiteral("engine"), Delta::None},
        {QStringLiteral("threads"), QStringLiteral("threads"), Delta::None},
        {QStringLiteral("test_acc"), QStringLiteral("accuracy"), Delta::Points},
        {QStringLiteral("p50_b1_ms"), QStringLiteral("p50 b1 ms"), Delta::Ratio},
        {QStringLiteral("p50_b32_ms"), QStringLiteral("p50 b32 ms"), Delta::Ratio},
        {QStringLiteral("throughput_per_s"), QStringLiteral("samples/s"), Delta::Ratio},
        {QStringLiteral("throughput_batch"), QStringLiteral("at batch"), Delta::None},
        {QStringLiteral("size_bytes"), QStringLiteral("size"), Delta::Ratio},
        {QStringLiteral("compressed_size_bytes"), QStringLiteral("zlib"), Delta::Ratio},
        {QStringLiteral("parameters"), QStringLiteral("params"), Delta::Ratio},
        {QStringLiteral("nonzero_parameters"), QStringLiteral("nonzero"), Delta::Ratio},
        {QStringLiteral("peak_rss_bytes"), QStringLiteral("peak RSS"), Delta::Ratio},
        {QStringLiteral("peak_rss_delta_bytes"), QStringLiteral("RSS growth"), Delta::Ratio},
    };
}

QList<Comparison::Column> Comparison::languageModelColumns()
{
    return {
        {QStringLiteral("kind"), QStringLiteral("kind"), Delta::None},
        {QStringLiteral("engine"), QStringLiteral("engine"), Delta::None},
        {QStringLiteral("threads"), QStringLiteral("threads"), Delta::None},
        {QStringLiteral("val_loss"), QStringLiteral("val loss"), Delta::Difference},
        {QStringLiteral("val_ppl"), QStringLiteral("perplexity"), Delta::Ratio},
        {QStringLiteral("gen_tokens_per_s"), QStringLiteral("gen tokens/s"), Delta::Ratio},
        {QStringLiteral("gen_first_token_ms"), QStringLiteral("first token ms"), Delta::Ratio},
        {QStringLiteral("size_bytes"), QStringLiteral("size"), Delta::Ratio},
        {QStringLiteral("compressed_size_bytes"), QStringLiteral("zlib"), Delta::Ratio},
        {QStringLiteral("parameters"), QStringLiteral("params"), Delta::Ratio},
        {QStringLiteral("peak_rss_bytes"), QStringLiteral("peak RSS"), Delta::Ratio},
        {QStringLiteral("peak_rss_delta_bytes"), QStringLiteral("RSS growth"), Delta::Ratio},
    };
}

QList<Comparison::Column> Comparison::shownColumns() const
{
    if (languageModels())
        return languageModelColumns();
    QList<Column> shown = columns();
    if (m_lmRows == 0)
        return shown;
    for (const Column &col : languageModelColumns()) {
        if (std::none_of(shown.cbegin(), shown.cend(),
                         [&](const Column &c) { return c.key == col.key; }))
            shown << col;
    }
    return shown;
}

Comparison Comparison::fromBenchmarks(const QVector<QPair<QString, QJsonObject>> &benchmarks)
{
    Comparison c;
    QSet<int> threads;
    QSet<QString> cpus;
    for (const auto &[ref, b] : benchmarks) {
        Row row;
        row.version = ref;
        QJsonObject &v = row.values;
        v.insert(QStringLiteral("kind"), b.value(QStringLiteral("kind")));
        const QJsonValue engine = b.value(QStringLiteral("quantized_engine"));
        v.insert(QStringLiteral("engine"),
                 engine.isString() ? engine : QJsonValue(QStringLiteral("-")));
        v.insert(QStringLiteral("threads"), b.value(QStringLiteral("threads")));
        v.insert(QStringLiteral("test_acc"), b.value(QStringLiteral("test_acc")).isDouble()
                                                 ? b.value(QStringLiteral("test_acc"))
                                                 : QJsonValue());
        v.insert(QStringLiteral("p50_b1_ms"), p50At(b, 1));
        v.insert(QStringLiteral("p50_b32_ms"), p50At(b, 32));
        const auto [throughput, batch] = bestThroughput(b);
        v.insert(QStringLiteral("throughput_per_s"), throughput);
        v.insert(QStringLiteral("throughput_batch"), batch);
        if (b.value(QStringLiteral("task")).toString() == QLatin1String("lm"))
            ++c.m_lmRows;
        for (const char *key : {"size_bytes", "compressed_size_bytes", "parameters",
                                "nonzero_parameters", "peak_rss_bytes", "peak_rss_delta_bytes",
                                "val_loss", "val_ppl", "gen_tokens_per_s",
                                "gen_first_token_ms"}) {
            const QJsonValue value = b.value(QLatin1String(key));
            v.insert(QLatin1String(key), value.isDouble() ? value : QJsonValue());
        }
        threads.insert(b.value(QStringLiteral("threads")).toInt());
        cpus.insert(
            b.value(QStringLiteral("cpu")).toObject().value(QStringLiteral("cpu")).toString());
        c.m_rows << row;
    }
    if (threads.size() > 1)
        c.m_warnings << QStringLiteral("The benchmarks ran with different thread counts; "
                                       "latencies are not comparable. Run modelstudio-cli bench "
                                       "on them with one --threads.");
    if (cpus.size() > 1)
        c.m_warnings << QStringLiteral("The benchmarks ran on different CPUs.");

    if (c.m_rows.isEmpty())
        return c;
    const QJsonObject first = c.m_rows.first().values;
    for (Row &row : c.m_rows) {
        for (const Column &col : columns() + languageModelColumns()) {
            if (col.delta == Delta::None)
                continue;
            const QJsonValue a = first.value(col.key);
            const QJsonValue b = row.values.value(col.key);
            if (!a.isDouble() || !b.isDouble())
                continue;
            QJsonObject d{{QStringLiteral("diff"), b.toDouble() - a.toDouble()}};
            if (a.toDouble() != 0.0)
                d.insert(QStringLiteral("ratio"), b.toDouble() / a.toDouble());
            row.deltas.insert(col.key, d);
        }
    }
    return c;
}

QJsonArray Comparison::toJson() const
{
    QJsonArray out;
    for (const Row &row : m_rows) {
        QJsonObject o = row.values;
        o.insert(QStringLiteral("version"), row.version);
        o.insert(QStringLiteral("delta"), row.deltas);
        out.append(o);
    }
    return out;
}

QString Comparison::toCsv() const
{
    QStringList header{QStringLiteral("version")};
    QList<Column> deltaColumns;
    const QList<Column> shown = shownColumns();
    for (const Column &col : shown) {
        header << col.key;
        if (col.delta != Delta::None)
            deltaColumns << col;
    }
    for (const Column &col : deltaColumns)
        header << QStringLiteral("delta_") + col.key << QStringLiteral("ratio_") + col.key;
    QString text = header.join(QLatin1Char(',')) + QLatin1Char('\n');
    for (const Row &row : m_rows) {
        QStringList cells{csvField(row.version)};
        for (const Column &col : shown)
            cells << csvValue(row.values.value(col.key));
        for (const Column &col : deltaColumns) {
            const QJsonObject d = row.deltas.value(col.key).toObject();
            cells << csvValue(d.value(QStringLiteral("diff")))
                  << csvValue(d.value(QStringLiteral("ratio")));
        }
        text += cells.join(QLatin1Char(',')) + QLatin1Char('\n');
    }
    return text;
}

QStringList Comparison::headers() const
{
    QStringList h{QStringLiteral("version")};
    for (const Column &col : shownColumns())
        h << col.header;
    return h;
}

QList<QStringList> Comparison::textRows() const
{
    QList<QStringList> rows;
    const QList<Column> shown = shownColumns();
    for (int i = 0; i < m_rows.size(); ++i) {
        const Row &row = m_rows[i];
        QStringList cells{row.version};
        for (const Column &col : shown) {
            QString cell = number(row.values.value(col.key), col.key);
            const QString d = i == 0 ? QString()
                                     : deltaText(row.deltas.value(col.key).toObject(), col.delta);
            if (!d.isEmpty())
                cell += QStringLiteral(" (%1)").arg(d);
            cells << cell;
        }
        rows << cells;
    }
    return rows;
}

QString Comparison::toHtml() const
{
    QString html = QStringLiteral(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>ModelStudio comparison"
        "</title>\n<style>body{font-family:sans-serif}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}.d{color:#666;font-size:smaller}"
        "</style></head><body>\n<h1>Comparison</h1>\n<p>Deltas against %1.</p>\n<table>\n<tr>")
                       .arg(m_rows.isEmpty() ? QString() : m_rows.first().version.toHtmlEscaped());
    for (const QString &h : headers())
        html += QStringLiteral("<th>%1</th>").arg(h.toHtmlEscaped());
    html += QStringLiteral("</tr>\n");
    for (int i = 0; i < m_rows.size(); ++i) {
        const Row &row = m_rows[i];
        html += QStringLiteral("<tr><td>%1</td>").arg(row.version.toHtmlEscaped());
        for (const Column &col : shownColumns()) {
            const QString d = i == 0 ? QString()
                                     : deltaText(row.deltas.value(col.key).toObject(), col.delta);
            html += QStringLiteral("<td>%1%2</td>")
                        .arg(number(row.values.value(col.key), col.key).toHtmlEscaped(),
                             d.isEmpty() ? QString()
                                         : QStringLiteral("<br><span class=\"d\">%1</span>")
                                               .arg(d.toHtmlEscaped()));
        }
        html += QStringLiteral("</tr>\n");
    }
    html += QStringLiteral("</table>\n");
    for (const QString &w : m_warnings)
        html += QStringLiteral("<p><strong>Note:</strong> %1</p>\n").arg(w.toHtmlEscaped());
    html += QStringLiteral("</body></html>\n");
    return html;
}

} // namespace ms
