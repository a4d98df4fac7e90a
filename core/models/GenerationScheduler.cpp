#include "models/GenerationScheduler.h"

#include "common/Error.h"
#include "models/Generation_p.h"
#include "models/ModelImpl_p.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/script.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace ms {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point from)
{
    return std::chrono::duration<double>(Clock::now() - from).count();
}

// One generation on the worker.
struct Row
{
    explicit Row(GenerationRequest &&r)
        : request(std::move(r))
        , submitted(Clock::now())
        , text(request.options.stop)
        , gen(at::detail::createCPUGenerator(request.options.seed))
    {}

    GenerationRequest request;
    Clock::time_point submitted;
    std::vector<qint64> ids;        // the prompt, then every token generated
    GenerateResult result;
    generation::TextStream text;
    at::Generator gen;
    int64_t length = 0;             // tokens in its cache
    c10::List<at::Tensor> cache;    // its own cache when the model has no step_rows
    bool done = false;

    bool cancelled() const { return request.cancelled && request.cancelled->load(); }
};

at::Tensor lastTokens(const std::vector<qint64> &ids, size_t count)
{
    return torch::from_blob(const_cast<qint64 *>(ids.data() + ids.size() - count),
                            {1, int64_t(count)}, torch::kLong)
        .clone();
}

} // namespace

struct GenerationScheduler::Private
{
    Private(Model model, const QString &what) : lm(std::move(model), what) {}

    LanguageModel lm;
    int threads = 1;
    std::function<void(int)> onStep;
    bool hasRows = false;

    mutable std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::unique_ptr<Row>> pending;
    bool stopping = false;
    std::atomic<int> activeCount{0};
    std::atomic<int> maxRows{0};
    std::thread worker;

    // Worker state. Batched: rows[i] is row i of every tensor of `cache` (B x H x T x D, the
    // rows left-padded to the longest); unbatched: each row holds its own cache.
    std::vector<std::unique_ptr<Row>> rows;
    c10::List<at::Tensor> cache;

    void run();
    void iterate(std::deque<std::unique_ptr<Row>> &incoming);
    c10::List<at::Tensor> prefill(Row &row, size_t keep);
    void join(std::unique_ptr<Row> row, const c10::List<at::Tensor> &rowCache);
    void decodeRows();
    void decodeEach();
    void refillFull();
    void removeDone();
    bool accept(Row &row, int64_t token);
    void finish(Row &row, const QString &error = QString());
};

GenerationScheduler::GenerationScheduler(Model model, const QString &what, int threads,
                                         std::function<void(int rows)> onStep, bool batch)
    : d(std::make_unique<Private>(std::move(model), what))
{
    d->threads = threads;
    d->onStep = std::move(onStep);
    d->hasRows = batch && d->lm.model().impl()->module.find_method("step_rows").has_value();
    d->worker = std::thread([this] { d->run(); });
}

GenerationScheduler::~GenerationScheduler()
{
    stop();
}

const LanguageModel &GenerationScheduler::languageModel() const
{
    return d->lm;
}

bool GenerationScheduler::batched() const
{
    return d->hasRows;
}

bool GenerationScheduler::submit(GenerationRequest &&request)
{
    std::lock_guard<std::mutex> lock(d->mutex);
    if (d->stopping)
        return false;
    ++d->activeCount;
    d->pending.push_back(std::make_unique<Row>(std::move(request)));
    d->wake.notify_one();
    return true;
}

void GenerationScheduler::stop()
{
    {
        std::lock_guard<std::mutex> lock(d->mutex);
        d->stopping = true;
        d->wake.notify_one();
    }
    if (d->worker.joinable())
        d->worker.join();
}

int GenerationScheduler::active() const
{
    return d->activeCount.load();
}

int GenerationScheduler::maxRows() const
{
    return d->maxRows.load();
}

void GenerationScheduler::Private::run()
{
    Model::setComputeThreads(threads);
    for (;;) {
        std::deque<std::unique_ptr<Row>> incoming;
        bool stop = false;
        {
            std::unique_lock<std::mutex> lock(mutex);
            wake.wait(lock, [this] { return stopping || !pending.empty() || !rows.empty(); });
            incoming.swap(pending);
            stop = stopping;
        }
        if (stop) {
            for (auto *list : {&incoming, &pending}) {
                for (auto &row : *list) {
                    row->result.finishReason = QStringLiteral("cancelled");
                    finish(*row);
                }
            }
            for (auto &row : rows) {
                row->result.finishReason = QStringLiteral("cancelled");
                finish(*row);
            }
            rows.clear();
            return;
        }
        try {
            iterate(incoming);
        } catch (const std::exception &e) {
            const c10::Error *torchError = dynamic_cast<const c10::Error *>(&e);
            const QString text = torchError
                                     ? QString::fromStdString(torchError->what_without_backtrace())
                                     : QString::fromUtf8(e.what());
            const QString message = QStringLiteral("generation failed: %1")
                                        .arg(text.trimmed().section(QLatin1Char('\n'), -1));
            for (auto &row : incoming) {
                if (row && !row->done)
                    finish(*row, message);
            }
            for (auto &row : rows) {
                if (!row->done)
                    finish(*row, message);
            }
            rows.clear();
            cache = c10::List<at::Tensor>();
        }
    }
}

// Admits the newcomers, then runs one decode step of every active row. The model's mutex is
// held for the step only, so another user of the model (a v2 request) waits one step at most.
void GenerationScheduler::Private::iterate(std::deque<std::unique_ptr<Row>> &incoming)
{
    Model::Impl &impl = *lm.model().impl();
    std::lock_guard<std::mutex> lock(impl.predictMutex);
    const bool wasTraining = impl.module.is_training();
    if (wasTraining)
        impl.module.eval();
    c10::InferenceMode inference;
    const size_t block = size_t(lm.blockSize());
    for (auto &row : incoming) {
        row->ids = lm.tokenizer().encode(row->request.prompt);
        row->result.promptTokens = row->ids;
        if (row->cancelled() || row->ids.empty() || row->ids.size() > block) {
            row->result.finishReason = QStringLiteral("cancelled");
            if (row->ids.empty() || row->ids.size() > block)
                finish(*row, QStringLiteral("the prompt is empty or longer than the context"));
            else
                finish(*row);
            continue;
        }
        const c10::List<at::Tensor> rowCache = prefill(*row, row->ids.size());
        if (!row->done)
            join(std::move(row), rowCache);
    }
    incoming.clear();
    // A client gone since the last step leaves before any more work is done for it.
    for (auto &row : rows) {
        if (row->cancelled()) {
            row->result.finishReason = QStringLiteral("cancelled");
            finish(*row);
        }
    }
    removeDone();
    refillFull();
    if (!rows.empty()) {
        if (hasRows)
            decodeRows();
        else
            decodeEach();
        removeDone();
    }
    if (wasTraining)
        impl.module.train();
}

// The row's last `keep` tokens through step() with no cache: the prompt, or a refill.
c10::List<at::Tensor> GenerationScheduler::Private::prefill(Row &row, size_t keep)
{
    torch::jit::Module &module = lm.model().impl()->module;
    const auto out =
        module.get_method("step")({lastTokens(row.ids, keep), c10::List<at::Tensor>()})
            .toTuple();
    row.length = int64_t(keep);
    if (onStep)
        onStep(1);
    accept(row, generation::sample(out->elements()[0].toTensor().select(0, 0), row.request.options,
                                   row.gen));
    return out->elements()[1].toTensorList();
}

void GenerationScheduler::Private::join(std::unique_ptr<Row> row,
                                        const c10::List<at::Tensor> &rowCache)
{
    if (!hasRows) {
        row->cache = rowCache;
        rows.push_back(std::move(row));
        return;
    }
    if (rows.empty()) {
        cache = rowCache;
    } else {
        const int64_t batchLength = cache.get(0).size(2);
        const int64_t padBatch = std::max<int64_t>(0, row->length - batchLength);
        const int64_t padRow = std::max<int64_t>(0, batchLength - row->length);
        c10::List<at::Tensor> joined;
        for (size_t i = 0; i < cache.size(); ++i) {
            // Zeros on the left of dimension 2 (time); the mask keeps every row off them.
            const at::Tensor b = at::constant_pad_nd(cache.get(i), {0, 0, padBatch, 0});
            const at::Tensor r = at::constant_pad_nd(rowCache.get(i), {0, 0, padRow, 0});
            joined.push_back(at::cat({b, r}, 0));
        }
        cache = joined;
    }
    rows.push_back(std::move(row));
}

// One step of every row in one step_rows() call.
void GenerationScheduler::Private::decodeRows()
{
    const int64_t B = int64_t(rows.size());
    const int64_t cached = cache.get(0).size(2);
    std::vector<int64_t> tokens, lengths;
    for (const auto &row : rows) {
        tokens.push_back(row->ids.back());
        lengths.push_back(row->length);
    }
    const at::Tensor idx = torch::tensor(tokens, torch::kLong).view({B, 1});
    const at::Tensor positions = torch::tensor(lengths, torch::kLong);
    // Row r's cache starts at column cached - length_r: the columns before are its padding.
    const at::Tensor keep = at::arange(cached + 1, torch::kLong).unsqueeze(0)
                            >= (cached - positions).unsqueeze(1);
    torch::jit::Module &module = lm.model().impl()->module;
    const auto out = module.get_method("step_rows")({idx, positions, keep, cache}).toTuple();
    cache = out->elements()[1].toTensorList();
    const at::Tensor logits = out->elements()[0].toTensor();
    if (onStep)
        onStep(int(B));
    maxRows.store(std::max(maxRows.load(), int(B)));
    for (int64_t r = 0; r < B; ++r) {
        Row &row = *rows[size_t(r)];
        ++row.length;
        accept(row, generation::sample(logits.select(0, r), row.request.options, row.gen));
    }
}

// The model has no step_rows: each row's step() in turn.
void GenerationScheduler::Private::decodeEach()
{
    torch::jit::Module &module = lm.model().impl()->module;
    torch::jit::Method step = module.get_method("step");
    for (auto &row : rows) {
        const auto out = step({lastTokens(row->ids, 1), row->cache}).toTuple();
        row->cache = out->elements()[1].toTensorList();
        ++row->length;
        if (onStep)
            onStep(1);
        maxRows.store(std::max(maxRows.load(), 1));
        accept(*row, generation::sample(out->elements()[0].toTensor().select(0, 0),
                                        row->request.options, row->gen));
    }
}

// A row whose cache holds block_size tokens continues from its last half-context, alone (as
// LanguageModel::generate does), then rejoins the batch.
void GenerationScheduler::Private::refillFull()
{
    const int64_t block = lm.blockSize();
    std::vector<std::unique_ptr<Row>> full;
    for (auto &row : rows) {
        if (row->length >= block)
            full.push_back(std::move(row));   // leaves a null: removeDone() drops its place
    }
    if (full.empty())
        return;
    removeDone();
    for (auto &row : full) {
        const size_t keep = std::min(row->ids.size(), size_t(block / 2));
        const c10::List<at::Tensor> rowCache = prefill(*row, keep);
        if (!row->done)
            join(std::move(row), rowCache);
    }
}

// Drops the rows that are done (or moved out) from `rows` and from the batch's cache, and the
// cache columns that are now padding for every row left.
void GenerationScheduler::Private::removeDone()
{
    std::vector<int64_t> kept;
    std::vector<std::unique_ptr<Row>> left;
    int64_t longest = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
        if (rows[i] && !rows[i]->done) {
            kept.push_back(int64_t(i));
            longest = std::max(longest, rows[i]->length);
            left.push_back(std::move(rows[i]));
        }
    }
    const bool changed = left.size() != rows.size();
    rows = std::move(left);
    if (!hasRows)
        return;
    if (rows.empty()) {
        cache = c10::List<at::Tensor>();
        return;
    }
    const int64_t cached = cache.get(0).size(2);
    if (!changed && longest == cached)
        return;
    const at::Tensor index = torch::tensor(kept, torch::kLong);
    c10::List<at::Tensor> trimmed;
    for (size_t i = 0; i < cache.size(); ++i) {
        at::Tensor t = changed ? cache.get(i).index_select(0, index) : cache.get(i);
        trimmed.push_back(t.narrow(2, cached - longest, longest));
    }
    cache = trimmed;
}

// A token sampled for `row`: its text handed out, and whether the row goes on.
bool GenerationScheduler::Private::accept(Row &row, int64_t token)
{
    if (row.result.tokens.empty())
        row.result.firstToken_s = secondsSince(row.submitted);
    row.ids.push_back(token);
    row.result.tokens.push_back(token);
    if (row.text.add(lm.tokenizer().decode({token}))) {
        row.result.finishReason = QStringLiteral("stop");
        finish(row);
        return false;
    }
    const QByteArray certain = row.request.onText ? row.text.takeCertain() : QByteArray();
    if (row.cancelled() || (!certain.isEmpty() && !row.request.onText(certain))) {
        row.result.finishReason = QStringLiteral("cancelled");
        finish(row);
        return false;
    }
    if (int(row.result.tokens.size()) >= row.request.options.maxTokens) {
        row.result.finishReason = QStringLiteral("length");
        finish(row);
        return false;
    }
    return true;
}

void GenerationScheduler::Private::finish(Row &row, const QString &error)
{
    if (row.done)
        return;
    row.done = true;
    if (error.isEmpty() && row.result.finishReason != QLatin1String("cancelled")
        && row.request.onText) {
        const QByteArray rest = row.text.takeRest();
        if (!rest.isEmpty())
            row.request.onText(rest);
    }
    row.result.text = row.text.text();
    row.result.total_s = secondsSince(row.submitted);
    --activeCount;   // before onDone: whoever waits for it sees the count already down
    if (row.request.onDone)
        row.request.onDone(error.isEmpty() ? std::move(row.result) : GenerateResult(), error);
}

} // namespace ms
