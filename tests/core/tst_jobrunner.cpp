// JobRunner and JobContext: the stream every front-end watches.

#include "common/Error.h"
#include "jobs/JobContext.h"
#include "jobs/JobRunner.h"

#include <QSemaphore>
#include <QSignalSpy>
#include <QTest>

#include <atomic>

using namespace ms;

namespace {

// A job whose steps the test releases one by one, so pause and cancel are checked exactly,
// without sleeping and hoping.
class SteppedJob final : public Job
{
public:
    explicit SteppedJob(int steps, std::shared_ptr<QSemaphore> gate,
                        std::shared_ptr<std::atomic<int>> done, bool textPerStep = false)
        : m_steps(steps), m_gate(std::move(gate)), m_done(std::move(done))
        , m_textPerStep(textPerStep) {}

    QString kind() const override { return QStringLiteral("test"); }
    QString title() const override { return QStringLiteral("stepped"); }
    QJsonObject spec() const override { return {}; }
    JobResult run(JobContext &context) override
    {
        for (int i = 0; i < m_steps; ++i) {
            m_gate->acquire();
            m_atCheckPoint->fetch_add(1);
            if (!context.checkPoint())
                return {JobStatus::Cancelled, QStringLiteral("cancelled at %1").arg(i), {}};
            context.addMetric(QStringLiteral("x"), i + 1, 1, double(i));
            context.setProgress(double(i + 1) / m_steps,
                                m_textPerStep ? QStringLiteral("step %1").arg(i + 1)
                                              : QString());
            m_done->fetch_add(1);
        }
        if (m_textPerStep)
            context.setProgress(1.0, QStringLiteral("done"));   // right after 100 %: kept
        context.report(QJsonObject{{QStringLiteral("event"), QStringLiteral("end")}});
        return {JobStatus::Finished, QString(), QJsonObject{{QStringLiteral("steps"), m_steps}}};
    }

private:
    int m_steps;
    std::shared_ptr<QSemaphore> m_gate;
    std::shared_ptr<std::atomic<int>> m_done;
    bool m_textPerStep = false;

public:
    // How many steps reached their checkpoint: lets a test wait until the worker is at one.
    std::shared_ptr<std::atomic<int>> m_atCheckPoint = std::make_shared<std::atomic<int>>(0);
};

class ThrowingJob final : public Job
{
public:
    explicit ThrowingJob(bool userError) : m_userError(userError) {}
    QString kind() const override { return QStringLiteral("test"); }
    QString title() const override { return QStringLiteral("throws"); }
    QJsonObject spec() const override { return {}; }
    JobResult run(JobContext &) override
    {
        if (m_userError)
            throw Error(QStringLiteral("The file x.csv is missing."));
        throw std::runtime_error("boom");
    }

private:
    bool m_userError;
};

} // namespace

class TestJobRunner : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyPointArrivesBeforeFinished()
    {
        JobRunner runner;
        auto gate = std::make_shared<QSemaphore>(1000);
        auto done = std::make_shared<std::atomic<int>>(0);
        QSignalSpy finished(&runner, &JobRunner::finished);
        QSignalSpy events(&runner, &JobRunner::event);
        int points = 0;
        bool pointsAfterFinish = false;
        connect(&runner, &JobRunner::metrics, this, [&](JobId, const MetricBatch &batch) {
            pointsAfterFinish = pointsAfterFinish || finished.count() > 0;
            points += batch.size();
        });
        runner.start(std::make_unique<SteppedJob>(500, gate, done));
        QVERIFY(finished.wait(10000));
        QCOMPARE(points, 500);
        QVERIFY(!pointsAfterFinish);
        QCOMPARE(events.count(), 1);
        const auto result = finished.at(0).at(1).value<JobResult>();
        QCOMPARE(result.status, JobStatus::Finished);
        QCOMPARE(result.output.value(QStringLiteral("steps")).toInt(), 500);
        QCOMPARE(runner.runningCount(), 0);
    }

    void metricsTravelInBatches()
    {
        // 500 points in a burst must not become 500 signals: the context batches them.
        JobRunner runner;
        auto gate = std::make_shared<QSemaphore>(1000);
        auto done = std::make_shared<std::atomic<int>>(0);
        QSignalSpy finished(&runner, &JobRunner::finished);
        QSignalSpy batches(&runner, &JobRunner::metrics);
        runner.start(std::make_unique<SteppedJob>(500, gate, done));
        QVERIFY(finished.wait(10000));
        QVERIFY2(batches.count() < 50, qPrintable(QString::number(batches.count())));
    }

    void progressIsThrottled()
    {
        // 20,000 steps of 0.005 % each: only changes of 0.1 % or more are emitted.
        JobRunner runner;
        auto gate = std::make_shared<QSemaphore>(20000);
        auto done = std::make_shared<std::atomic<int>>(0);
        QSignalSpy finished(&runner, &JobRunner::finished);
        QSignalSpy progress(&runner, &JobRunner::progress);
        runner.start(std::make_unique<SteppedJob>(20000, gate, done));
        QVERIFY(finished.wait(20000));
        QVERIFY2(progress.count() <= 1001, qPrintable(QString::number(progress.count())));
        QVERIFY(progress.count() >= 900);
        QCOMPARE(progress.last().at(1).toDouble(), 1.0);
    }

    void progressTextPerStepIsThrottledToo()
    {
        // A trainer's text changes every step ("step 17/422"); that alone must not turn the
        // 0.1 % rule into one signal per step. Text-only changes wait for the flush interval.
        JobRunner runner;
        auto gate = std::make_shared<QSemaphore>(20000);
        auto done = std::make_shared<std::atomic<int>>(0);
        QSignalSpy finished(&runner, &JobRunner::finished);
        QSignalSpy progress(&runner, &JobRunner::progress);
        runner.start(std::make_unique<SteppedJob>(20000, gate, done, true));
        QVERIFY(finished.wait(20000));
        QVERIFY2(progress.count() <= 1100, qPrintable(QString::number(progress.count())));
        QCOMPARE(progress.last().at(1).toDouble(), 1.0);
        QCOMPARE(progress.last().at(2).toString(), QStringLiteral("done"));
    }

    void pauseHoldsTheWorkerAndResumeReleasesIt()
    {
        JobRunner runner;
        auto gate = std::make_shared<QSemaphore>(0);
        auto done = std::make_shared<std::atomic<int>>(0);
        QSignalSpy finished(&runner, &JobRunner::finished);
        QSignalSpy paused(&runner, &JobRunner::pausedChanged);
        auto job = std::make_unique<SteppedJob>(3, gate, done);
        const auto atCheckPoint = job->m_atCheckPoint;
        const JobId id = runner.start(std::move(job));
        gate->release(1);
        QTRY_COMPARE(done->load(), 1);
        runner.pause(id);
        QVERIFY(runner.isPaused(id));
        gate->release(2);   // the worker may take the gate but must stop at the checkpoint
        QTRY_COMPARE(atCheckPoint->load(), 2);
        // It is at the second checkpoint: paused, it must not get past it (a pause that did
        // not hold would have it count step 2 and run on through the third gate).
        QCOMPARE(done->load(), 1);
        QCOMPARE(finished.count(), 0);
        runner.resume(id);
        QVERIFY(finished.wait(5000));
        QCOMPARE(done->load(), 3);
        QTRY_COMPARE(paused.count(), 2);
        QCOMPARE(paused.at(0).at(1).toBool(), true);
        QCOMPARE(paused.at(1).at(1).toBool(), false);
    }

    void cancelWakesAPausedJob()
    {
        JobRunner runner;
        auto gate = std::make_shared<QSemaphore>(0);
        auto done = std::make_shared<std::atomic<int>>(0);
        QSignalSpy finished(&runner, &JobRunner::finished);
        const JobId id = runner.start(std::make_unique<SteppedJob>(5, gate, done));
        runner.pause(id);
        gate->release(5);
        runner.cancel(id);
        QVERIFY(finished.wait(5000));
        const auto result = finished.at(0).at(1).value<JobResult>();
        QCOMPARE(result.status, JobStatus::Cancelled);
        QCOMPARE(done->load(), 0);
    }

    void exceptionsBecomeFailedResults_data()
    {
        QTest::addColumn<bool>("userError");
        QTest::addColumn<QString>("message");
        QTest::newRow("ms::Error keeps its words") << true << "The file x.csv is missing.";
        QTest::newRow("anything else is an internal error") << false << "Internal error: boom";
    }

    void exceptionsBecomeFailedResults()
    {
        QFETCH(bool, userError);
        QFETCH(QString, message);
        JobRunner runner;
        QSignalSpy finished(&runner, &JobRunner::finished);
        runner.start(std::make_unique<ThrowingJob>(userError));
        QVERIFY(finished.wait(5000));
        const auto result = finished.at(0).at(1).value<JobResult>();
        QCOMPARE(result.status, JobStatus::Failed);
        QCOMPARE(result.message, message);
    }

    void destroyingTheRunnerStopsItsJobs()
    {
        auto gate = std::make_shared<QSemaphore>(0);
        auto done = std::make_shared<std::atomic<int>>(0);
        {
            JobRunner runner;
            runner.start(std::make_unique<SteppedJob>(1000000, gate, done));
            gate->release(1000000);
            QTRY_VERIFY(done->load() > 0);
        }   // must cancel and join, not hang or crash
        QVERIFY(done->load() < 1000000);
    }
};

QTEST_GUILESS_MAIN(TestJobRunner)
#include "tst_jobrunner.moc"
