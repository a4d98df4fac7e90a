#pragma once

#include "jobs/Job.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>

namespace ms {

// What a benchmark measures and how (docs/benchmarking.md). Its JSON is the job's spec.
struct BenchmarkConfig
{
    QStringList versions;                       // NAME:N, NAME@ALIAS or NAME
    QVector<int> batchSizes{1, 8, 32, 128};
    int threads = 1;                            // intra-op threads while timing
    int warmup = 10;                            // untimed forward passes per batch size
    int repetitions = 50;                       // timed forward passes per batch size
    bool accuracy = true;                       // test accuracy and confusion matrix
    QString dataset;                            // overrides the versions' recorded dataset
    // Language models: tokens each timed generation makes (batch 1, key/value cache), as
    // `generate` makes them; the best of kGenerationRounds after an untimed one.
    int generateTokens = 128;
    static constexpr int kGenerationRounds = 2;

    QJsonObject toJson() const;
    // Throws ms::Error naming the key on an unknown key or a value out of range.
    static BenchmarkConfig fromJson(const QJsonObject &json);
    // Throws ms::Error naming the first value that cannot work.
    void validate() const;
    // "1,8,32,128" -> {1, 8, 32, 128}; throws ms::Error saying what a good list looks like.
    static QVector<int> parseBatchSizes(const QString &text);
};

// Benchmarks registry versions one after the other on the job's thread and stores each result
// with Registry::addBenchmark. Per version: latency percentiles and throughput per batch size,
// the peak resident memory while loading and running it, artifact size (raw and zlib), parameters,
// non-zero parameters and MACs, test accuracy with the confusion matrix, the quantized engine, the
// thread count and the CPU. Every reference is resolved before anything is measured. A language
// model (task "lm") has no test accuracy: its validation loss and perplexity on its text (the
// windows training and compress score), and generation tokens/s at batch 1 with the key/value
// cache, timed through LanguageModel::generate as `generate` and the server run it.
// Output: {"results": [result, ...]}; an event {"event": "benchmark", "result": ...} per version.
class BenchmarkJob final : public Job
{
public:
    BenchmarkJob(QString workspaceRoot, BenchmarkConfig config);

    QString kind() const override { return QStringLiteral("bench"); }
    QString title() const override;
    QJsonObject spec() const override { return m_config.toJson(); }
    JobResult run(JobContext &context) override;

private:
    QString m_workspace;
    BenchmarkConfig m_config;
};

// A model file that is no version (a sweep's trial) timed by the code above: seeded inputs in
// the model's recorded input shape at one batch size, `warmup` untimed passes, `repetitions`
// timed ones on `threads` intra-op threads. {"batch_size", "p50_ms", "p95_ms", "p99_ms",
// "min_ms", "mean_ms", "throughput_per_s", "cpu_p50_ms", "size_bytes", "parameters",
// "threads"}; cpu_p50_ms is the median of the calling thread's CPU time per pass, which other
// programs on a busy machine do not inflate (at one thread all the work is on that thread). Throws
// ms::Error when the file does not load or records no input shape.
QJsonObject benchmarkModelFile(const QString &path, int batch, int threads = 1, int warmup = 10,
                               int repetitions = 50);

} // namespace ms
