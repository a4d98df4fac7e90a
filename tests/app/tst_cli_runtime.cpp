// The CLI's start-up tuning through the real executable: --blas-core restarts the process with
// those kernels (and the restarted process checks them), a user's OPENBLAS_CORETYPE stands, a
// process restarts at most once, and `version --json` says what runs.

#include "CliRun.h"

#include <QJsonObject>
#include <QProcess>
#include <QTest>

namespace {

struct Result
{
    int exitCode = -1;
    QJsonObject runtime;
    QString err;
};

// `modelstudio-cli ARGS version --json` with `set` added to and `unset` removed from the
// environment. Starts from an environment without OPENBLAS_CORETYPE: the machine may set it.
Result version(const QStringList &args, const QHash<QString, QString> &set = {})
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("OPENBLAS_CORETYPE"));
    env.remove(QStringLiteral("MODELSTUDIO_RESTARTED"));
    for (auto it = set.begin(); it != set.end(); ++it)
        env.insert(it.key(), it.value());
    QProcess p;
    p.setProcessEnvironment(env);
    p.start(ms::test::cliPath(), args + QStringList{QStringLiteral("version"),
                                                    QStringLiteral("--json")});
    Result r;
    if (!p.waitForFinished(60000) || p.exitStatus() != QProcess::NormalExit)
        return r;
    r.exitCode = p.exitCode();
    r.err = QString::fromLocal8Bit(p.readAllStandardError());
    r.runtime = QJsonDocument::fromJson(p.readAllStandardOutput())
                    .object()
                    .value(QStringLiteral("runtime"))
                    .toObject();
    return r;
}

QString core(const Result &r)
{
    return r.runtime.value(QStringLiteral("blas_core")).toString();
}

} // namespace

class tst_CliRuntime final : public QObject
{
    Q_OBJECT

    QString m_native;   // what OpenBLAS picks here by itself
    QString m_forced;   // another kernel every x86-64 CPU runs

private Q_SLOTS:
    void initTestCase()
    {
        const Result native = version({QStringLiteral("--blas-core"), QStringLiteral("off")});
        QCOMPARE(native.exitCode, 0);
        m_native = core(native);
        QVERIFY2(!m_native.isEmpty(), "OpenBLAS is not in use (scripts/setup.sh installs it)");
        QVERIFY(native.runtime.value(QStringLiteral("blas")).toString().contains(
            QStringLiteral("openblas")));
        QVERIFY(!native.runtime.contains(QStringLiteral("startup")));
        m_forced = m_native.compare(QStringLiteral("Prescott"), Qt::CaseInsensitive) == 0
                       ? QStringLiteral("Core2")
                       : QStringLiteral("Prescott");
    }

    void theFlagRestartsWithThoseKernels()
    {
        // The flag may come before the verb or after it.
        for (const QStringList &args :
             {QStringList{QStringLiteral("--blas-core"), m_forced},
              QStringList{QStringLiteral("--blas-core=") + m_forced}}) {
            const Result r = version(args);
            QCOMPARE(r.exitCode, 0);
            QCOMPARE(core(r).toLower(), m_forced.toLower());
            const QString startup = r.runtime.value(QStringLiteral("startup")).toString();
            QVERIFY2(startup.contains(QStringLiteral("OPENBLAS_CORETYPE=") + m_forced),
                     qPrintable(startup));
            // Said in the runtime object, not on a stderr that scripts parse (no terminal here).
            QCOMPARE(r.err, QString());
        }
    }

    void theUsersVariableStands()
    {
        const Result r = version({}, {{QStringLiteral("OPENBLAS_CORETYPE"), m_forced}});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(core(r).toLower(), m_forced.toLower());
        QVERIFY(!r.runtime.contains(QStringLiteral("startup")));   // nothing was done
    }

    void aRestartedProcessDoesNotRestartAgain()
    {
        const QString marker = QStringLiteral("BLAS kernels: an earlier start chose already");
        const Result r = version({QStringLiteral("--blas-core"), m_forced},
                                 {{QStringLiteral("MODELSTUDIO_RESTARTED"), marker}});
        QCOMPARE(r.exitCode, 0);
        QCOMPARE(core(r), m_native);
        QCOMPARE(r.runtime.value(QStringLiteral("startup")).toString(), marker);
    }

    void anUnknownKernelIsRefused()
    {
        const Result r = version({QStringLiteral("--blas-core"), QStringLiteral("Pentium9")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.startsWith(QStringLiteral("error: --blas-core \"Pentium9\"")),
                 qPrintable(r.err));
        QVERIFY(r.err.contains(QStringLiteral("Haswell")));
    }
};

QTEST_GUILESS_MAIN(tst_CliRuntime)
#include "tst_cli_runtime.moc"
