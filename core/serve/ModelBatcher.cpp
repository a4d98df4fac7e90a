#include "ModelBatcher.h"

#include "common/Error.h"

#include <exception>

namespace ms {

using Clock = std::chrono::steady_clock;

namespace {

std::vector<qint64> sampleShapeOf(const std::vector<qint64> &shape)
{
    return std::vector<qint64>(shape.begin() + (shape.empty() ? 0 : 1), shape.end());
}

} // namespace

ModelBatcher::ModelBatcher(Model model, int maxBatchSize, int maxQueueDelay_us, int threads,
                           int maxQueuedSamples)
    : m_model(std::move(model))
    , m_maxBatchSize(std::max(1, maxBatchSize))
    , m_maxDelay(std::max(0, maxQueueDelay_us))
    , m_threads(threads)
    , m_maxQueued(std::max(1, maxQueuedSamples))
{
    m_worker = std::thread([this] { run(); });
}

ModelBatcher::~ModelBatcher()
{
    stop();
}

ModelBatcher::Submitted ModelBatcher::submit(Request &&request)
{
    const qint64 samples = request.shape.empty() ? 1 : request.shape.front();
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (m_stopping)
            return Submitted::Stopped;
        // One request larger than the whole queue still goes when the queue is empty.
        if (m_queuedSamples > 0 && m_queuedSamples + samples > m_maxQueued) {
            // Requests that timed out while queued take no room.
            for (auto it = m_queue.begin(); it != m_queue.end();) {
                if (it->cancelled && it->cancelled->load()) {
                    m_queuedSamples -= it->shape.empty() ? 1 : it->shape.front();
                    it = m_queue.erase(it);
                } else {
                    ++it;
                }
            }
            if (m_queuedSamples > 0 && m_queuedSamples + samples > m_maxQueued)
                return Submitted::Full;
        }
        request.enqueued = Clock::now();
        m_queuedSamples += samples;
        m_queue.push_back(std::move(request));
    }
    m_wake.notify_one();
    return Submitted::Queued;
}

void ModelBatcher::retire()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stopping = true;
    }
    m_wake.notify_one();
}

void ModelBatcher::stop()
{
    retire();
    if (m_worker.joinable())
        m_worker.join();
}

int ModelBatcher::queuedSamples() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return int(m_queuedSamples);
}

void ModelBatcher::run()
{
    Model::setComputeThreads(m_threads);
    std::unique_lock<std::mutex> lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
        if (m_queue.empty())
            break;   // stopping and drained
        // The first request of the batch waits at most m_maxDelay for company; a stopping
        // batcher drains without waiting.
        const Clock::time_point deadline = m_queue.front().enqueued + m_maxDelay;
        while (!m_stopping && m_queuedSamples < m_maxBatchSize) {
            if (m_wake.wait_until(lock, deadline) == std::cv_status::timeout)
                break;
        }
        // Take requests from the front while they share the first one's sample shape and fit;
        // requests already answered (timed out) are dropped unrun.
        std::vector<Request> batch;
        const std::vector<qint64> shape = sampleShapeOf(m_queue.front().shape);
        const bool serial = m_serial.load();
        qint64 samples = 0;
        while (!m_queue.empty()) {
            Request &next = m_queue.front();
            const qint64 n = next.shape.empty() ? 1 : next.shape.front();
            if (next.cancelled && next.cancelled->load()) {
                m_queuedSamples -= n;
                m_queue.pop_front();
                continue;
            }
            if (!batch.empty()
                && (serial || samples + n > m_maxBatchSize || next.compute
                    || batch.front().compute || sampleShapeOf(next.shape) != shape)) {
                break;
            }
            samples += n;
            m_queuedSamples -= n;
            batch.push_back(std::move(next));
            m_queue.pop_front();
        }
        if (batch.empty())
            continue;
        lock.unlock();
        runBatch(batch, Clock::now());
        // The callbacks (and what they hold) go here, outside the lock.
        batch.clear();
        lock.lock();
    }
    m_finished = true;
}

void ModelBatcher::runBatch(std::vector<Request> &batch, Clock::time_point start)
{
    if (batch.size() == 1 && batch.front().compute) {
        Request &r = batch.front();
        BatchResult result;
        try {
            result = r.compute();
        } catch (const std::exception &e) {
            result.ok = false;
            result.status = 500;
            result.error = errorMessage(e);
        }
        result.queue_us =
            double(std::chrono::duration_cast<std::chrono::nanoseconds>(start - r.enqueued)
                       .count())
            / 1000.0;
        result.batchSize = int(r.shape.empty() ? 1 : r.shape.front());
        if (r.done)
            r.done(std::move(result));
        return;
    }
    qint64 samples = 0;
    size_t values = 0;
    // A served model takes one kind of input, so a batch is all floats or all token ids.
    const bool tokens = !batch.front().tokens.empty();
    for (const Request &r : batch) {
        samples += r.shape.empty() ? 1 : r.shape.front();
        values += tokens ? r.tokens.size() : r.data.size();
    }
    std::vector<qint64> shape = batch.front().shape;
    if (shape.empty())
        shape = {1, qint64(values)};
    shape.front() = samples;

    std::vector<float> logits;
    std::vector<qint64> outputShape;
    QString error;
    try {
        if (tokens) {
            const bool int32 = batch.front().int32Tokens;
            if (batch.size() == 1) {
                logits = m_model.predictTokens(batch.front().tokens, shape, int32, &outputShape);
            } else {
                std::vector<qint64> input;
                input.reserve(values);
                for (const Request &r : batch)
                    input.insert(input.end(), r.tokens.begin(), r.tokens.end());
                logits = m_model.predictTokens(input, shape, int32, &outputShape);
            }
        } else if (batch.size() == 1) {
            logits = m_model.predict(batch.front().data, shape, &outputShape);
        } else {
            std::vector<float> input;
            input.reserve(values);
            for (const Request &r : batch)
                input.insert(input.end(), r.data.begin(), r.data.end());
            logits = m_model.predict(input, shape, &outputShape);
        }
    } catch (const Error &e) {
        error = e.message();
    } catch (const std::exception &e) {
        error = QString::fromLocal8Bit(e.what());
    }

    if (error.isEmpty() && (outputShape.empty() || outputShape.front() != samples)) {
        // Rows cannot be told apart: nobody gets any of them.
        const QString rows = outputShape.empty()
                                 ? QStringLiteral("a scalar")
                                 : QStringLiteral("%1 rows").arg(outputShape.front());
        if (batch.size() > 1 && !m_serial.exchange(true)) {
            qWarning("modelstudio serve: the model's output has %s for a batch of %lld "
                     "samples; serving it one request at a time from now on",
                     qPrintable(rows), static_cast<long long>(samples));
        }
        error = QStringLiteral("the model's output has %1 for a batch of %2 samples, so it "
                               "cannot be split between requests%3")
                    .arg(rows, QString::number(samples),
                         batch.size() > 1 ? QStringLiteral("; the model is served one request "
                                                           "at a time from now on: retry")
                                          : QString());
        for (Request &r : batch) {
            BatchResult result;
            result.status = 500;
            result.error = error;
            result.batchSize = int(samples);
            if (r.done)
                r.done(std::move(result));
        }
        return;
    }

    if (!error.isEmpty() && batch.size() > 1) {
        // One bad request must not fail its neighbours: run each on its own.
        for (Request &r : batch) {
            std::vector<Request> single;
            single.push_back(std::move(r));
            runBatch(single, start);
        }
        return;
    }

    const int numOutputs = samples > 0 ? int(qint64(logits.size()) / samples) : 0;
    size_t offset = 0;
    for (Request &r : batch) {
        BatchResult result;
        result.queue_us =
            double(std::chrono::duration_cast<std::chrono::nanoseconds>(start - r.enqueued)
                       .count())
            / 1000.0;
        result.batchSize = int(samples);
        if (error.isEmpty()) {
            const qint64 rows = r.shape.empty() ? 1 : r.shape.front();
            const size_t count = size_t(rows * numOutputs);
            result.ok = true;
            result.numOutputs = numOutputs;
            result.logits.assign(logits.begin() + qint64(offset),
                                 logits.begin() + qint64(offset + count));
            offset += count;
        } else {
            result.status = 500;
            result.error = QStringLiteral("inference failed: %1").arg(error);
        }
        if (r.done)
            r.done(std::move(result));
    }
}

} // namespace ms
