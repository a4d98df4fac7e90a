// CpuShare: the thread count of a run on a machine other programs use.

#include "common/CpuShare.h"

#include <QProcess>
#include <QTest>

#include <atomic>
#include <thread>
#include <vector>

using namespace ms;

namespace {

CpuLoad load(int cores, double others, double pressure = -1.0)
{
    return CpuLoad{cores, others, pressure};
}

} // namespace

class tst_CpuShare final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void theUsersThreadsAreNeverChanged()
    {
        for (const CpuLoad &l : {load(2, 0), load(2, 2, 95), load(8, 7.5, 100)}) {
            QCOMPARE(chooseThreads(3, l, 0), 3);
            QCOMPARE(chooseThreads(3, l, 1), 3);
            QCOMPARE(chooseThreads(1, l, 2), 1);
        }
        ThreadGovernor governor(5);
        QVERIFY(!governor.automatic());
        QCOMPARE(governor.threads(), 5);
        QVERIFY(!governor.update(true));
        QCOMPARE(governor.threads(), 5);
    }

    void theFirstChoiceTakesTheFreeCores_data()
    {
        QTest::addColumn<int>("cores");
        QTest::addColumn<double>("others");
        QTest::addColumn<int>("threads");
        QTest::newRow("quiet 2 cores") << 2 << 0.0 << 2;
        QTest::newRow("two hogs on 2 cores") << 2 << 2.0 << 1;
        QTest::newRow("one hog on 2 cores") << 2 << 1.0 << 1;
        QTest::newRow("six runnable on 2 cores") << 2 << 6.0 << 1;
        QTest::newRow("one hog on 8 cores") << 8 << 1.0 << 7;
        QTest::newRow("half a core busy on 2") << 2 << 0.4 << 2;
        QTest::newRow("one core by affinity") << 1 << 0.0 << 1;
    }
    void theFirstChoiceTakesTheFreeCores()
    {
        QFETCH(int, cores);
        QFETCH(double, others);
        QFETCH(int, threads);
        QCOMPARE(chooseThreads(0, load(cores, others), 0), threads);
    }

    void itChangesOnlyWhenMostOfACoreMoved()
    {
        // Two threads on a quiet 2-core machine; a process that comes and goes does not flip it.
        QCOMPARE(chooseThreads(0, load(2, 0.5), 2), 2);
        QCOMPARE(chooseThreads(0, load(2, 0.8), 2), 1);
        // Back up only when nearly a whole core is free again.
        QCOMPARE(chooseThreads(0, load(2, 0.4), 1), 1);
        QCOMPARE(chooseThreads(0, load(2, 0.2), 1), 2);
        // Large moves go all the way at once.
        QCOMPARE(chooseThreads(0, load(8, 6.0), 8), 2);
        QCOMPARE(chooseThreads(0, load(8, 0.0), 2), 8);
        // Never below one, never above the cores, whatever the reading.
        QCOMPARE(chooseThreads(0, load(2, 40.0), 2), 1);
        QCOMPARE(chooseThreads(0, load(2, -3.0), 1), 2);
        QCOMPARE(chooseThreads(0, load(2, 0.0), 6), 2);
    }

    void contentionIsSaidWhenOthersHoldCores()
    {
        QVERIFY(!isContended(load(2, 0.0, 0.0)));
        QVERIFY(!isContended(load(2, 0.2, 5.0)));
        QVERIFY(!isContended(load(2, 0.6, 10.0)));   // a passing process is not a hog
        QVERIFY(isContended(load(2, 2.0, -1.0)));   // no PSI on this kernel: the run queue
        QVERIFY(isContended(load(2, 0.1, 60.0)));
        const QJsonObject json = contentionJson(load(2, 1.996, 87.5), 1);
        QCOMPARE(json.value(QStringLiteral("cpu_pressure_pct")).toDouble(), 87.5);
        QCOMPARE(json.value(QStringLiteral("others_runnable")).toDouble(), 2.0);
        QCOMPARE(json.value(QStringLiteral("threads")).toInt(), 1);
    }

    // The reading itself, on this machine: other processes' busy loops are counted, this
    // process's own running threads are not. (Other tests may run beside this one, so the
    // checks are bounds that extra load cannot break.)
    void theReadingSeesOtherProcessesNotOurs()
    {
        const int cores = CpuLoadMonitor::readNow().cores;
        QVERIFY(cores >= 1);

        std::atomic<bool> spin{true};
        std::vector<std::thread> ours;
        for (int i = 0; i < 3; ++i) {
            ours.emplace_back([&spin] {
                while (spin.load()) {
                }
            });
        }
        // Three spinning threads and this one: all runnable, all ours.
        QTRY_VERIFY(CpuLoadMonitor::ownRunningThreads() >= 4);

        QProcess hogs[2];
        for (QProcess &hog : hogs) {
            hog.start(QStringLiteral("sh"), {QStringLiteral("-c"),
                                             QStringLiteral("while :; do :; done")});
            QVERIFY(hog.waitForStarted());
        }
        // Both hogs are runnable from now on.
        QTRY_VERIFY_WITH_TIMEOUT(CpuLoadMonitor::readNow().othersRunnable >= 2.0, 10000);
        // A run without --threads leaves them their cores.
        ThreadGovernor governor(0);
        QVERIFY(governor.automatic());
        QVERIFY2(governor.threads() <= std::max(1, cores - 2),
                 qPrintable(QString::number(governor.threads())));
        for (QProcess &hog : hogs) {
            hog.kill();
            hog.waitForFinished();
        }
        spin = false;
        for (std::thread &t : ours)
            t.join();
    }
};

QTEST_GUILESS_MAIN(tst_CpuShare)
#include "tst_cpushare.moc"
