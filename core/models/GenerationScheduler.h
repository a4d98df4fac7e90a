#pragma once

#include "models/LanguageModel.h"

#include <QByteArray>
#include <QString>

#include <atomic>
#include <functional>
#include <memory>

namespace ms {

// One generation handed to a GenerationScheduler. The callbacks run on the scheduler's worker
// thread, in order: onText any number of times, then onDone exactly once.
struct GenerationRequest
{
    QByteArray prompt;          // UTF-8, checked with LanguageModel::check() before submit()
    GenerateOptions options;    // useCache and cropPrompt are ignored (always cached, no crop)
    // The text as it becomes certain (GenerateOptions' stop-text rule). False stops the
    // generation (finishReason "cancelled").
    std::function<bool(const QByteArray &)> onText;
    // The result (promptTokens, tokens, text, finishReason, firstToken_s counted from
    // submit()), or an error message with an empty result.
    std::function<void(GenerateResult &&result, const QString &error)> onDone;
    // Set from any thread to stop it before its next token (a client that went away).
    std::shared_ptr<std::atomic<bool>> cancelled;
};

// Continuous batching of the generations of one language model (docs/architecture.md,
// "Serving language models"). A worker thread owns every active generation: a new one is
// prefilled alone (its prompt through step()), samples its first token, then joins the batch;
// each decode step runs the next token of every active generation in one call of the model's
// step_rows() method, whose rows sit at different positions (caches left-padded to one length,
// padding masked out). A generation leaves the batch as soon as it is done, cancelled or its
// client gone; one whose cache reaches block_size is refilled alone with its last half-context
// (as LanguageModel::generate does) and rejoins.
//
// A model without step_rows (a gpt saved before it existed, a foreign module with only
// step()) is served by the same loop one row at a time: its generations interleave token by
// token on the worker, they are not batched (batched() is false).
class GenerationScheduler final
{
public:
    // `threads`: intra-op threads of the worker. `onStep`, when set, is called on the worker
    // after every decode step with the number of rows it ran (for metrics). `batch` false
    // serves even a model with step_rows one row at a time (the peer of the serving bench).
    GenerationScheduler(Model model, const QString &what, int threads,
                        std::function<void(int rows)> onStep = {}, bool batch = true);
    // Cancels what is active or waiting (each gets its onDone) and joins the worker.
    ~GenerationScheduler();
    GenerationScheduler(const GenerationScheduler &) = delete;
    GenerationScheduler &operator=(const GenerationScheduler &) = delete;

    const LanguageModel &languageModel() const;
    bool batched() const;
    // False once stopping: the request is left untouched.
    bool submit(GenerationRequest &&request);
    // Cancels every generation (their onDone is called with finishReason "cancelled") and
    // joins the worker. Idempotent.
    void stop();
    // Generations submitted and not done yet (waiting or in the batch).
    int active() const;
    // The largest number of rows one decode step has run so far.
    int maxRows() const;

    struct Private;

private:
    std::unique_ptr<Private> d;
};

} // namespace ms
