#pragma once

#include "models/Model.h"

#include <QString>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ms {

// What one queued request gets back, on the batcher's worker thread.
struct BatchResult
{
    bool ok = false;
    QString error;               // when !ok
    std::vector<float> logits;   // the request's rows, flat (rows x numOutputs)
    int numOutputs = 0;
    double queue_us = 0.0;       // from submit() to the start of its batch's forward
    int batchSize = 0;           // samples in the batch it ran in
};

// The dynamic batcher of one served model, with its own worker thread: requests queue up; the
// worker wakes on the first, waits up to maxQueueDelay_us for company (or until maxBatchSize
// samples are queued), runs one Model::predict over the concatenated samples, splits the
// logits and hands each request its rows through its `done` callback, called on the worker
// thread (the service posts the reply to the server's thread from there). Requests whose
// per-sample shapes differ never share a batch.
class ModelBatcher final
{
public:
    struct Request
    {
        std::vector<float> data;          // samples, row-major
        std::vector<qint64> shape;        // {N, per-sample dims...}
        std::function<void(BatchResult &&)> done;
        std::chrono::steady_clock::time_point enqueued{};   // set by submit()
    };

    ModelBatcher(Model model, int maxBatchSize, int maxQueueDelay_us, int threads);
    // Drains and joins (stop()).
    ~ModelBatcher();
    ModelBatcher(const ModelBatcher &) = delete;
    ModelBatcher &operator=(const ModelBatcher &) = delete;

    // False, leaving `request` untouched, once stopping: the caller answers 503.
    bool submit(Request &&request);
    // Stops accepting; the worker runs what is queued, then exits. Does not wait.
    void retire();
    // retire(), then joins the worker: every queued request has had its `done` called.
    void stop();
    // True once the worker has exited (after retire() and the drain).
    bool finished() const { return m_finished.load(); }
    int queuedSamples() const;
    const Model &model() const { return m_model; }

private:
    void run();
    void runBatch(std::vector<Request> &batch, std::chrono::steady_clock::time_point start);

    Model m_model;
    const int m_maxBatchSize;
    const std::chrono::microseconds m_maxDelay;
    const int m_threads;

    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    std::deque<Request> m_queue;
    qint64 m_queuedSamples = 0;
    bool m_stopping = false;
    std::atomic<bool> m_finished{false};
    std::thread m_worker;
};

} // namespace ms
