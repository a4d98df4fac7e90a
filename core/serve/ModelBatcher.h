#pragma once

#include "models/Model.h"

#include <QByteArray>
#include <QString>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace ms {

// What one queued request gets back, on the batcher's worker thread.
struct BatchResult
{
    bool ok = false;
    int status = 200;            // the HTTP status when !ok (500)
    QString error;               // when !ok
    std::vector<float> logits;   // the request's rows, flat (rows x numOutputs)
    int numOutputs = 0;
    double queue_us = 0.0;       // from submit() to the start of its batch's forward
    int batchSize = 0;           // samples in the batch it ran in
    QByteArray body;             // a computed request's reply (Request::compute), when ok
};

// The dynamic batcher of one served model, with its own worker thread: requests queue up; the
// worker wakes on the first, waits up to maxQueueDelay_us for company (or until maxBatchSize
// samples are queued), runs one Model::predict over the concatenated samples, splits the
// logits and hands each request its rows through its `done` callback, called on the worker
// thread (the service posts the reply to the server's thread from there). Requests whose
// per-sample shapes differ never share a batch. The queue is bounded (maxQueuedSamples).
//
// After every forward the output's first dimension must equal the batch's samples: a model
// that mixes samples (an imported module reducing over the batch) would otherwise hand one
// client rows computed from another's data. On a mismatch the batch's requests fail (500) and
// the batcher runs one request at a time from then on.
class ModelBatcher final
{
public:
    struct Request
    {
        std::vector<float> data;          // samples, row-major
        // Instead of `data`, for a model of integer input: token ids, row-major, run as int64
        // (or int32 when `int32Tokens`) through Model::predictTokens.
        std::vector<qint64> tokens;
        bool int32Tokens = false;
        std::vector<qint64> shape;        // {N, per-sample dims...}
        std::function<void(BatchResult &&)> done;
        // When set, the request is work of its own (an explanation: itself a batch of passes):
        // the worker runs it alone, in queue order, instead of a forward over `data`, and
        // hands its result to `done`. It counts `shape`'s samples against the queue bound.
        std::function<BatchResult()> compute;
        // Set (by the server's thread) once the request was answered without its result, a
        // timeout: it is dropped rather than run.
        std::shared_ptr<std::atomic<bool>> cancelled;
        std::chrono::steady_clock::time_point enqueued{};   // set by submit()
    };
    enum class Submitted { Queued, Full, Stopped };

    ModelBatcher(Model model, int maxBatchSize, int maxQueueDelay_us, int threads,
                 int maxQueuedSamples = 1 << 30);
    // Drains and joins (stop()).
    ~ModelBatcher();
    ModelBatcher(const ModelBatcher &) = delete;
    ModelBatcher &operator=(const ModelBatcher &) = delete;

    // Stopped once stopping, Full when the queue would pass maxQueuedSamples; both leave
    // `request` untouched (the caller answers 503).
    Submitted submit(Request &&request);
    // Stops accepting; the worker runs what is queued, then exits. Does not wait.
    void retire();
    // retire(), then joins the worker: every queued request has had its `done` called.
    void stop();
    // True once the worker has exited (after retire() and the drain).
    bool finished() const { return m_finished.load(); }
    int queuedSamples() const;
    const Model &model() const { return m_model; }
    // True once a forward's output did not have one row per sample.
    bool isSerial() const { return m_serial.load(); }

private:
    void run();
    void runBatch(std::vector<Request> &batch, std::chrono::steady_clock::time_point start);

    Model m_model;
    const int m_maxBatchSize;
    const std::chrono::microseconds m_maxDelay;
    const int m_threads;
    const qint64 m_maxQueued;
    std::atomic<bool> m_serial{false};

    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Request> m_queue;
    qint64 m_queuedSamples = 0;
    bool m_stopping = false;
    std::atomic<bool> m_finished{false};
    std::thread m_worker;
};

} // namespace ms
