// GenerationScheduler, the continuous batching of a language model's generations: streams
// submitted together share decode steps, each gets its own text in order and its own count
// (past block_size too, through refills), a cancelled one stops before its next token, and a
// gpt without step_rows is served one row at a time.

#include "TestSupport.h"

#include "data/Tokenizer.h"
#include "models/GenerationScheduler.h"
#include "models/Model.h"

#include <QJsonObject>
#include <QMutex>
#include <QStandardPaths>
#include <QTest>

#include <atomic>
#include <condition_variable>
#include <mutex>

using namespace ms;

namespace {

Model tinyGpt()
{
    const QJsonObject spec{{QStringLiteral("name"), QStringLiteral("tiny-gpt")},
                           {QStringLiteral("family"), QStringLiteral("gpt")},
                           {QStringLiteral("block_size"), 16},
                           {QStringLiteral("n_layer"), 1},
                           {QStringLiteral("n_head"), 2},
                           {QStringLiteral("n_embd"), 16},
                           {QStringLiteral("dropout"), 0.0}};
    return Model::buildLanguageModel(spec, ByteTokenizer().toJson(), 7);
}

// What one generation handed back, gathered from the worker thread.
struct Outcome
{
    std::mutex mutex;
    std::condition_variable doneChanged;
    QByteArray pieces;
    GenerateResult result;
    QString error;
    bool done = false;

    GenerationRequest request(const QByteArray &prompt, int maxTokens, quint64 seed)
    {
        GenerationRequest r;
        r.prompt = prompt;
        r.options.maxTokens = maxTokens;
        r.options.seed = seed;
        r.onText = [this](const QByteArray &text) {
            std::lock_guard<std::mutex> lock(mutex);
            pieces += text;
            return true;
        };
        r.onDone = [this](GenerateResult &&res, const QString &err) {
            std::lock_guard<std::mutex> lock(mutex);
            result = std::move(res);
            error = err;
            done = true;
            doneChanged.notify_all();
        };
        return r;
    }
    bool wait()
    {
        std::unique_lock<std::mutex> lock(mutex);
        return doneChanged.wait_for(lock, std::chrono::seconds(60), [this] { return done; });
    }
};

} // namespace

class TestGenerationScheduler : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void streamsShareSteps()
    {
        std::atomic<int> calls{0};
        std::atomic<int> rows{0};
        GenerationScheduler scheduler(tinyGpt(), QStringLiteral("tiny"), 1, [&](int n) {
            ++calls;
            rows += n;
        });
        QVERIFY(scheduler.batched());
        // Prompts of different lengths (rows at different positions), answers past the
        // 16-token context (refills) and of different lengths (rows leaving the batch).
        const std::vector<std::pair<QByteArray, int>> jobs{
            {"a", 40}, {"hello", 50}, {"four", 10}, {"0123456789", 45}};
        std::vector<std::unique_ptr<Outcome>> outcomes;
        for (size_t i = 0; i < jobs.size(); ++i) {
            outcomes.push_back(std::make_unique<Outcome>());
            QVERIFY(scheduler.submit(
                outcomes.back()->request(jobs[i].first, jobs[i].second, quint64(i))));
        }
        int tokens = 0;
        for (size_t i = 0; i < jobs.size(); ++i) {
            Outcome &o = *outcomes[i];
            QVERIFY(o.wait());
            QVERIFY2(o.error.isEmpty(), qPrintable(o.error));
            QCOMPARE(int(o.result.tokens.size()), jobs[i].second);
            QCOMPARE(o.result.finishReason, QStringLiteral("length"));
            QCOMPARE(o.result.promptTokens, ByteTokenizer().encode(jobs[i].first));
            QCOMPARE(o.result.text, ByteTokenizer().decode(o.result.tokens));
            QCOMPARE(o.pieces, o.result.text);
            QVERIFY(o.result.firstToken_s > 0);
            tokens += jobs[i].second;
        }
        QTRY_COMPARE(scheduler.active(), 0);
        QCOMPARE(rows.load(), tokens);   // every token from exactly one row of one call
        QVERIFY2(scheduler.maxRows() >= 2, qPrintable(QString::number(scheduler.maxRows())));
        QVERIFY(calls.load() < tokens);
    }

    // The same seed and prompt give the same text, alone or beside other streams (sampling
    // draws from each stream's own generator).
    void sameSeedSameText()
    {
        GenerationScheduler scheduler(tinyGpt(), QStringLiteral("tiny"), 1);
        Outcome alone;
        QVERIFY(scheduler.submit(alone.request("seed", 20, 99)));
        QVERIFY(alone.wait());
        // Beside a longer stream that joined first: its rows are padded, its logits equal up
        // to rounding, which moves a draw only if it lands within ~1e-7 of a boundary.
        Outcome neighbour, again;
        QVERIFY(scheduler.submit(neighbour.request("a longer prompt", 30, 1)));
        QVERIFY(scheduler.submit(again.request("seed", 20, 99)));
        QVERIFY(again.wait());
        QVERIFY(neighbour.wait());
        QCOMPARE(again.result.tokens, alone.result.tokens);
    }

    void cancelStopsAtOnce()
    {
        GenerationScheduler scheduler(tinyGpt(), QStringLiteral("tiny"), 1);
        Outcome o;
        GenerationRequest r = o.request("stop me", 100000, 1);
        r.cancelled = std::make_shared<std::atomic<bool>>(false);
        const auto cancelled = r.cancelled;
        std::atomic<int> pieces{0};
        r.onText = [&](const QByteArray &) {
            if (++pieces == 3)
                cancelled->store(true);
            return true;
        };
        QVERIFY(scheduler.submit(std::move(r)));
        QVERIFY(o.wait());
        QCOMPARE(o.result.finishReason, QStringLiteral("cancelled"));
        QVERIFY2(o.result.tokens.size() <= 4, qPrintable(QString::number(o.result.tokens.size())));
        QCOMPARE(scheduler.active(), 0);
    }

    // Stopping cancels what is in progress; each still gets its onDone.
    void stopCancelsEveryStream()
    {
        auto scheduler = std::make_unique<GenerationScheduler>(tinyGpt(), QStringLiteral("t"), 1);
        Outcome a, b;
        QVERIFY(scheduler->submit(a.request("a", 1000000, 1)));
        QVERIFY(scheduler->submit(b.request("b", 1000000, 2)));
        scheduler->stop();
        QVERIFY(a.done && b.done);
        QCOMPARE(a.result.finishReason, QStringLiteral("cancelled"));
        QCOMPARE(b.result.finishReason, QStringLiteral("cancelled"));
        Outcome late;
        QVERIFY(!scheduler->submit(late.request("c", 1, 3)));
    }
};

QTEST_MAIN(TestGenerationScheduler)
#include "tst_generationscheduler.moc"
