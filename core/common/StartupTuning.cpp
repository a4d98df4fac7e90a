#include "common/StartupTuning.h"

#include "common/Runtime.h"

#include <QRandomGenerator>

#include <dlfcn.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace ms::startup {

namespace {

const char *const kCoreVariable = "OPENBLAS_CORETYPE";
const char *const kOption = "--blas-core";

QString &noteStorage()
{
    static QString text;
    return text;
}

bool hasAll(const QStringList &flags, std::initializer_list<const char *> wanted)
{
    for (const char *w : wanted) {
        if (!flags.contains(QLatin1String(w)))
            return false;
    }
    return true;
}

// CBLAS, looked up at run time so that a BLAS without it still links and runs.
using SgemmFn = void (*)(int order, int transA, int transB, int m, int n, int k, float alpha,
                         const float *a, int lda, const float *b, int ldb, float beta, float *c,
                         int ldc);

// A small product through the BLAS in use, against a double-precision loop. Odd sizes reach
// the kernels' edge cases. True when every element agrees to float precision.
bool gemmMatchesReference(QString *detail)
{
    const auto sgemm = reinterpret_cast<SgemmFn>(dlsym(RTLD_DEFAULT, "cblas_sgemm"));
    if (!sgemm)
        return true;   // nothing to check against: not a CBLAS
    const int m = 67, n = 45, k = 131;
    QRandomGenerator rng(20261206);
    std::vector<float> a(size_t(m * k)), b(size_t(k * n)), c(size_t(m * n), 0.0f);
    for (float &x : a)
        x = float(rng.generateDouble() * 2.0 - 1.0);
    for (float &x : b)
        x = float(rng.generateDouble() * 2.0 - 1.0);
    const int rowMajor = 101, noTrans = 111;
    sgemm(rowMajor, noTrans, noTrans, m, n, k, 1.0f, a.data(), k, b.data(), n, 0.0f, c.data(), n);
    double worst = 0.0;
    for (int i = 0; i < m; ++i) {
        for (int j = 0; j < n; ++j) {
            double ref = 0.0, scale = 0.0;
            for (int p = 0; p < k; ++p) {
                ref += double(a[size_t(i * k + p)]) * double(b[size_t(p * n + j)]);
                scale += std::abs(double(a[size_t(i * k + p)]) * double(b[size_t(p * n + j)]));
            }
            const double err = std::abs(double(c[size_t(i * n + j)]) - ref) / std::max(1.0, scale);
            if (!(err <= worst))   // also catches NaN
                worst = std::isnan(err) ? INFINITY : err;
        }
    }
    if (detail)
        *detail = QString::number(worst, 'g', 3);
    return worst < 1e-5;
}

[[noreturn]] void restartWith(char **argv, const QList<QPair<QString, QString>> &set,
                              const QStringList &unset, const QString &marker)
{
    for (const auto &kv : set)
        ::setenv(kv.first.toLatin1().constData(), kv.second.toLatin1().constData(), 1);
    for (const QString &name : unset)
        ::unsetenv(name.toLatin1().constData());
    ::setenv(kRestartedVariable, marker.toUtf8().constData(), 1);
    ::execv("/proc/self/exe", argv);
    // Not reached unless the kernel refused; then go on as we are, saying so.
    std::fprintf(stderr, "modelstudio: could not restart itself (%s); %s\n",
                 std::strerror(errno), marker.toUtf8().constData());
    std::fflush(stderr);
    std::_Exit(1);
}

// Removes "--blas-core X" / "--blas-core=X" from argv (keeping argv[argc] == nullptr) and
// returns X; exits with a usage error on a missing or unknown value.
QString takeOption(int &argc, char **argv)
{
    QString value;
    int out = 1;
    for (int i = 1; i < argc; ++i) {
        const char *arg = argv[i];
        const size_t length = std::strlen(kOption);
        if (std::strcmp(arg, kOption) == 0) {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "error: --blas-core takes off or a kernel name\n");
                std::exit(2);
            }
            value = QString::fromLocal8Bit(argv[++i]);
            continue;
        }
        if (std::strncmp(arg, kOption, length) == 0 && arg[length] == '=') {
            value = QString::fromLocal8Bit(arg + length + 1);
            continue;
        }
        argv[out++] = argv[i];
    }
    argc = out;
    argv[argc] = nullptr;
    if (!value.isEmpty() && value != QLatin1String("off")) {
        bool known = false;
        for (const QString &core : knownBlasCores())
            known = known || core.compare(value, Qt::CaseInsensitive) == 0;
        if (!known) {
            std::fprintf(stderr, "error: --blas-core \"%s\" is not an OpenBLAS kernel; use off "
                                 "or one of: %s\n",
                         value.left(40).toUtf8().constData(),
                         knownBlasCores().join(QStringLiteral(", ")).toUtf8().constData());
            std::exit(2);
        }
    }
    return value;
}

} // namespace

QString bestBlasCore(const QStringList &cpuFlags)
{
    const bool avx512 =
        hasAll(cpuFlags, {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"});
    if (avx512 && cpuFlags.contains(QLatin1String("avx512_bf16")))
        return QStringLiteral("Cooperlake");
    if (avx512)
        return QStringLiteral("SkylakeX");
    if (hasAll(cpuFlags, {"avx2", "fma"}))
        return QStringLiteral("Haswell");
    return QString();
}

bool isPreAvx2Core(const QString &core)
{
    static const QStringList older = {
        QStringLiteral("Prescott"),    QStringLiteral("Core2"),      QStringLiteral("Penryn"),
        QStringLiteral("Dunnington"),  QStringLiteral("Nehalem"),    QStringLiteral("Sandybridge"),
        QStringLiteral("Atom"),        QStringLiteral("Opteron"),    QStringLiteral("Opteron_SSE3"),
        QStringLiteral("Barcelona"),   QStringLiteral("Bobcat"),     QStringLiteral("Bulldozer"),
        QStringLiteral("Piledriver"),  QStringLiteral("Steamroller"), QStringLiteral("Katmai"),
        QStringLiteral("Coppermine"),  QStringLiteral("Northwood"),  QStringLiteral("Banias"),
        QStringLiteral("Athlon"),      QStringLiteral("Nano")};
    for (const QString &name : older) {
        if (core.compare(name, Qt::CaseInsensitive) == 0)
            return true;
    }
    return false;
}

QStringList knownBlasCores()
{
    return {QStringLiteral("Prescott"),  QStringLiteral("Core2"),     QStringLiteral("Penryn"),
            QStringLiteral("Dunnington"), QStringLiteral("Nehalem"),  QStringLiteral("Sandybridge"),
            QStringLiteral("Haswell"),   QStringLiteral("SkylakeX"),  QStringLiteral("Cooperlake"),
            QStringLiteral("Zen"),       QStringLiteral("Atom"),      QStringLiteral("Barcelona"),
            QStringLiteral("Bulldozer"), QStringLiteral("Piledriver"), QStringLiteral("Steamroller"),
            QStringLiteral("Excavator")};
}

Plan plan(const Facts &facts)
{
    Plan p;
    const QString option = facts.blasCoreOption;
    if (option == QLatin1String("off"))
        return p;
    if (facts.environment.contains(QLatin1String(kRestartedVariable))) {
        // Restarted once already (or started by a process that was): never again.
        p.note = facts.environment.value(QLatin1String(kRestartedVariable));
        return p;
    }
    if (facts.blasCore.isEmpty()) {
        if (!option.isEmpty())
            p.note = QStringLiteral("--blas-core %1 ignored: the BLAS in use is not OpenBLAS")
                         .arg(option);
        return p;
    }
    QString target;
    QString why;
    if (!option.isEmpty()) {
        if (option.compare(facts.blasCore, Qt::CaseInsensitive) == 0)
            return p;
        target = option;
    } else {
        // The user's own choice stands, whatever it is.
        if (facts.environment.contains(QLatin1String(kCoreVariable)))
            return p;
        target = bestBlasCore(facts.cpuFlags);
        if (target.isEmpty() || !isPreAvx2Core(facts.blasCore))
            return p;
        why = QStringLiteral("the CPU has %1, OpenBLAS did not recognise it")
                  .arg(target == QLatin1String("Haswell") ? QStringLiteral("AVX2")
                                                          : QStringLiteral("AVX-512"));
    }
    p.setEnvironment << qMakePair(QString::fromLatin1(kCoreVariable), target);
    p.restart = true;
    p.note = option.isEmpty()
                 ? QStringLiteral("BLAS kernels: OPENBLAS_CORETYPE=%1 instead of OpenBLAS's %2 "
                                  "(%3; --blas-core off to keep %2)")
                       .arg(target, facts.blasCore, why)
                 : QStringLiteral("BLAS kernels: OPENBLAS_CORETYPE=%1 instead of OpenBLAS's %2 "
                                  "(--blas-core)")
                       .arg(target, facts.blasCore);
    return p;
}

Facts gatherFacts(const QString &blasCoreOption)
{
    Facts f;
    f.cpuFlags = Runtime::cpuFlags();
    f.blasCore = Runtime::blasCore();
    for (const char *name : {kCoreVariable, static_cast<const char *>(kRestartedVariable)}) {
        if (const char *value = std::getenv(name))
            f.environment.insert(QString::fromLatin1(name), QString::fromUtf8(value));
    }
    f.blasCoreOption = blasCoreOption;
    return f;
}

void tuneAtStartup(int &argc, char **argv)
{
    const QString option = takeOption(argc, argv);
    const Facts facts = gatherFacts(option);
    const QString marker = facts.environment.value(QLatin1String(kRestartedVariable));
    const bool restarted = facts.environment.contains(QLatin1String(kRestartedVariable));
    if (restarted && marker.startsWith(QLatin1String("BLAS kernels: OPENBLAS_CORETYPE="))
        && option != QLatin1String("off")) {
        // This process is the restart: check the kernels it asked for before trusting them.
        QString detail;
        if (!gemmMatchesReference(&detail)) {
            restartWith(argv, {}, {QString::fromLatin1(kCoreVariable)},
                        QStringLiteral("BLAS kernels: OpenBLAS's own choice kept (%1 failed a "
                                       "self-check, relative error %2)")
                            .arg(facts.blasCore, detail));
        }
    }
    const Plan p = plan(facts);
    if (p.restart)
        restartWith(argv, p.setEnvironment, {}, p.note);
    noteStorage() = p.note;
    if (!p.note.isEmpty() && ::isatty(STDERR_FILENO))
        std::fprintf(stderr, "modelstudio: %s\n", p.note.toUtf8().constData());
}

QString note()
{
    return noteStorage();
}

} // namespace ms::startup
