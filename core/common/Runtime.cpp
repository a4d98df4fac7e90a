#include "common/Runtime.h"

#include "common/Error.h"
#include "common/StartupTuning.h"

#include <QFile>
#include <QJsonArray>
#include <QRegularExpression>
#include <QThread>

#include <dlfcn.h>
#include <malloc.h>

#include <cstdlib>

#include <mutex>

namespace ms::Runtime {

void checkThreads(int threads, const QString &what, int minimum)
{
    if (threads >= minimum && threads <= kMaxThreads)
        return;
    throw Error(QStringLiteral("%1 must be from %2 to %3%4, not %5: more threads than cores "
                               "only slow a run down.")
                    .arg(what)
                    .arg(minimum)
                    .arg(kMaxThreads)
                    .arg(minimum == 0 ? QStringLiteral(" (0 = all cores)") : QString())
                    .arg(threads));
}

QString blasLibrary()
{
    // The loader, not the package database, says what runs: alternatives can point
    // libblas.so.3 at either implementation.
    QFile maps(QStringLiteral("/proc/self/maps"));
    if (!maps.open(QIODevice::ReadOnly))
        return QString();
    const QList<QByteArray> lines = maps.readAll().split('\n');
    for (const QByteArray &line : lines) {
        const int slash = line.indexOf('/');
        if (slash < 0)
            continue;
        const QString path = QString::fromLocal8Bit(line.mid(slash));
        const QString file = path.section(QLatin1Char('/'), -1);
        if (file.startsWith(QLatin1String("libblas.so")) || file.startsWith(QLatin1String("libopenblas")))
            return path;
    }
    return QString();
}

bool isReferenceBlas()
{
    const QString path = blasLibrary();
    return !path.isEmpty() && !path.contains(QLatin1String("openblas"))
           && !path.contains(QLatin1String("blis")) && !path.contains(QLatin1String("mkl"));
}

QString blasWarning()
{
    if (!isReferenceBlas())
        return QString();
    return QStringLiteral("LibTorch is running on the reference BLAS (%1), about 30x slower than "
                          "OpenBLAS. Install it: sudo apt-get install libopenblas0-openmp")
        .arg(blasLibrary());
}

void tuneAllocatorForTensors()
{
    static std::once_flag once;
    std::call_once(once, [] {
        mallopt(M_ARENA_MAX, 1);
    });
}

QStringList cpuFlags()
{
    QFile cpuinfo(QStringLiteral("/proc/cpuinfo"));
    if (!cpuinfo.open(QIODevice::ReadOnly))
        return {};
    for (const QByteArray &raw : cpuinfo.readAll().split('\n')) {
        if (raw.startsWith("flags")) {
            return QString::fromLatin1(raw.mid(raw.indexOf(':') + 1))
                .split(QLatin1Char(' '), Qt::SkipEmptyParts);
        }
    }
    return {};
}

QString blasCore()
{
    using CoreNameFn = char *(*)();
    const auto corename =
        reinterpret_cast<CoreNameFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    const char *name = corename ? corename() : nullptr;
    return name ? QString::fromLatin1(name).trimmed() : QString();
}

namespace {

QJsonObject measureRuntime()
{
    QString model;
    QFile cpuinfo(QStringLiteral("/proc/cpuinfo"));
    if (cpuinfo.open(QIODevice::ReadOnly)) {
        for (const QByteArray &raw : cpuinfo.readAll().split('\n')) {
            if (raw.startsWith("model name")) {
                model = QString::fromLatin1(raw.mid(raw.indexOf(':') + 1)).trimmed();
                break;
            }
        }
    }
    static const QStringList wanted = {
        QStringLiteral("avx"), QStringLiteral("avx2"), QStringLiteral("fma"),
        QStringLiteral("avx512f"), QStringLiteral("avx512bw"), QStringLiteral("avx512_vnni"),
        QStringLiteral("avx_vnni"), QStringLiteral("avx512_bf16"), QStringLiteral("amx_int8")};
    const QStringList flags = cpuFlags();
    QStringList features;
    for (const QString &f : wanted) {
        if (flags.contains(f))
            features << f;
    }
    const auto env = [](const char *name) {
        const char *value = std::getenv(name);
        return value ? QString::fromLocal8Bit(value) : QStringLiteral("unset");
    };
    QJsonObject out{{QStringLiteral("cpu"), model},
                    {QStringLiteral("cores"), QThread::idealThreadCount()},
                    {QStringLiteral("features"), QJsonArray::fromStringList(features)},
                    {QStringLiteral("blas"), blasLibrary()},
                    {QStringLiteral("blas_core"), blasCore()},
                    {QStringLiteral("omp_wait_policy"), env("OMP_WAIT_POLICY")},
                    {QStringLiteral("gomp_spincount"), env("GOMP_SPINCOUNT")}};
    if (!startup::note().isEmpty())
        out.insert(QStringLiteral("startup"), startup::note());
    return out;
}

} // namespace

// Once per process: none of it changes while the process runs, and finding the BLAS library
// reads /proc/self/maps (1,700 lines in a LibTorch process, 2.5 ms to read): 3-4 ms of every
// training run, and a sweep's trial process runs many.
QJsonObject describe()
{
    static const QJsonObject runtime = measureRuntime();
    return runtime;
}

} // namespace ms::Runtime
