// StartupTuning::plan: when the studio restarts itself with other BLAS kernels, and when never.

#include "common/StartupTuning.h"

#include <QTest>

using namespace ms::startup;

namespace {

const QStringList kAvx2 = {QStringLiteral("sse4_2"), QStringLiteral("avx"),
                           QStringLiteral("avx2"), QStringLiteral("fma")};
const QStringList kAvx512 = kAvx2 + QStringList{QStringLiteral("avx512f"),
                                                 QStringLiteral("avx512cd"),
                                                 QStringLiteral("avx512bw"),
                                                 QStringLiteral("avx512dq"),
                                                 QStringLiteral("avx512vl"),
                                                 QStringLiteral("avx512_vnni")};

Facts facts(const QStringList &flags, const QString &core,
            const QHash<QString, QString> &environment = {}, const QString &option = {})
{
    return Facts{flags, core, environment, option};
}

QString planned(const Plan &p)
{
    for (const auto &kv : p.setEnvironment) {
        if (kv.first == QLatin1String("OPENBLAS_CORETYPE"))
            return kv.second;
    }
    return QString();
}

} // namespace

class tst_StartupTuning final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void bestKernelFollowsTheCpuFlags()
    {
        QCOMPARE(bestBlasCore(kAvx2), QStringLiteral("Haswell"));
        QCOMPARE(bestBlasCore(kAvx512), QStringLiteral("SkylakeX"));
        QCOMPARE(bestBlasCore(kAvx512 + QStringList{QStringLiteral("avx512_bf16")}),
                 QStringLiteral("Cooperlake"));
        // AVX2 without FMA, or AVX-512F alone, is not what those kernels need.
        QCOMPARE(bestBlasCore({QStringLiteral("avx"), QStringLiteral("avx2")}), QString());
        QCOMPARE(bestBlasCore(kAvx2 + QStringList{QStringLiteral("avx512f")}),
                 QStringLiteral("Haswell"));
        QCOMPARE(bestBlasCore({QStringLiteral("sse3"), QStringLiteral("sse4_2")}), QString());
    }

    void prescottOnAModernCpuRestartsWithItsKernels_data()
    {
        QTest::addColumn<QStringList>("flags");
        QTest::addColumn<QString>("fallback");
        QTest::addColumn<QString>("expected");
        QTest::newRow("avx-512 xeon, prescott") << kAvx512 << "Prescott" << "SkylakeX";
        QTest::newRow("avx2 desktop, prescott") << kAvx2 << "Prescott" << "Haswell";
        QTest::newRow("avx2, sandybridge") << kAvx2 << "Sandybridge" << "Haswell";
        QTest::newRow("bf16, nehalem")
            << (kAvx512 + QStringList{QStringLiteral("avx512_bf16")}) << "Nehalem" << "Cooperlake";
    }
    void prescottOnAModernCpuRestartsWithItsKernels()
    {
        QFETCH(QStringList, flags);
        QFETCH(QString, fallback);
        QFETCH(QString, expected);
        const Plan p = plan(facts(flags, fallback));
        QVERIFY(p.restart);
        QCOMPARE(planned(p), expected);
        // One line that says what and how to undo it.
        QVERIFY(p.note.contains(expected) && p.note.contains(fallback));
        QVERIFY(p.note.contains(QStringLiteral("--blas-core off")));
        QVERIFY(!p.note.contains(QLatin1Char('\n')));
    }

    void aFittingKernelIsLeftAlone_data()
    {
        QTest::addColumn<QStringList>("flags");
        QTest::addColumn<QString>("core");
        QTest::newRow("zen on avx2") << kAvx2 << "Zen";
        QTest::newRow("haswell on avx2") << kAvx2 << "Haswell";
        QTest::newRow("skylakex on avx-512") << kAvx512 << "SkylakeX";
        // Not a fallback: OpenBLAS knows the CPU and chose an AVX2 kernel on purpose.
        QTest::newRow("haswell on avx-512") << kAvx512 << "Haswell";
        QTest::newRow("prescott on an old cpu")
            << QStringList{QStringLiteral("sse3"), QStringLiteral("ssse3")} << "Prescott";
        QTest::newRow("not openblas") << kAvx512 << "";
        QTest::newRow("an unknown name") << kAvx2 << "SomethingNew";
    }
    void aFittingKernelIsLeftAlone()
    {
        QFETCH(QStringList, flags);
        QFETCH(QString, core);
        const Plan p = plan(facts(flags, core));
        QVERIFY(!p.restart);
        QVERIFY(p.setEnvironment.isEmpty());
        QVERIFY(p.note.isEmpty());
    }

    void theUsersOwnVariableIsNeverOverridden()
    {
        // Even set to the slow kernels, and even set empty: it is theirs.
        for (const QString &value : {QStringLiteral("Prescott"), QString()}) {
            const Plan p = plan(facts(kAvx512, QStringLiteral("Prescott"),
                                      {{QStringLiteral("OPENBLAS_CORETYPE"), value}}));
            QVERIFY(!p.restart);
            QVERIFY(p.setEnvironment.isEmpty());
        }
    }

    void aRestartedProcessNeverRestartsAgain()
    {
        const QString marker =
            QStringLiteral("BLAS kernels: OPENBLAS_CORETYPE=SkylakeX instead of OpenBLAS's "
                           "Prescott");
        // Whatever OpenBLAS reports after the restart (say it ignored the variable), and even
        // when a flag asks for something else: once is the limit.
        for (const QString &option : {QString(), QStringLiteral("Haswell")}) {
            const Plan p = plan(facts(kAvx512, QStringLiteral("Prescott"),
                                      {{QString::fromLatin1(kRestartedVariable), marker}},
                                      option));
            QVERIFY(!p.restart);
            QCOMPARE(p.note, marker);   // and the restarted process still says what was done
        }
    }

    void theFlagOverridesTheChoice()
    {
        // off: nothing, even on a fallback.
        Plan p = plan(facts(kAvx512, QStringLiteral("Prescott"), {}, QStringLiteral("off")));
        QVERIFY(!p.restart);
        QVERIFY(p.note.isEmpty());
        // A kernel: asked for explicitly, so even over the user's variable and a fitting core.
        p = plan(facts(kAvx2, QStringLiteral("Zen"),
                       {{QStringLiteral("OPENBLAS_CORETYPE"), QStringLiteral("Zen")}},
                       QStringLiteral("Prescott")));
        QVERIFY(p.restart);
        QCOMPARE(planned(p), QStringLiteral("Prescott"));
        QVERIFY(p.note.contains(QStringLiteral("--blas-core")));
        // Already running it: no restart.
        p = plan(facts(kAvx2, QStringLiteral("Haswell"), {}, QStringLiteral("haswell")));
        QVERIFY(!p.restart);
        // Not OpenBLAS: said, not done.
        p = plan(facts(kAvx2, QString(), {}, QStringLiteral("Haswell")));
        QVERIFY(!p.restart);
        QVERIFY(p.note.contains(QStringLiteral("not OpenBLAS")));
    }

    void knownKernelsIncludeEveryChoice()
    {
        const QStringList known = knownBlasCores();
        for (const QString &core :
             {QStringLiteral("Haswell"), QStringLiteral("SkylakeX"), QStringLiteral("Cooperlake"),
              QStringLiteral("Prescott")})
            QVERIFY(known.contains(core));
        QVERIFY(isPreAvx2Core(QStringLiteral("prescott")));
        QVERIFY(!isPreAvx2Core(QStringLiteral("Haswell")));
        QVERIFY(!isPreAvx2Core(QStringLiteral("Zen")));
    }
};

QTEST_GUILESS_MAIN(tst_StartupTuning)
#include "tst_startuptuning.moc"
