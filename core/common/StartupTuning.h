#pragma once

#include <QHash>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

namespace ms::startup {

// Debian 12's OpenBLAS (0.3.21) falls back to its Prescott (SSE3) kernels on CPUs it does not
// know (OpenBLAS issue 4267, fixed in 0.3.25): newer Intel desktop parts and cloud VMs that
// report "Intel(R) Xeon(R) Processor". Measured on such a machine (AVX-512 + VNNI): a 512x512
// fp32 matmul at 31 GFLOP/s on Prescott against 142 on SkylakeX, training 2.4x slower. OpenBLAS
// reads OPENBLAS_CORETYPE once, when it is loaded (before main), so the only cure from inside is
// to set it and start the process again: both executables call tuneAtStartup() first thing in
// main. The decision is plan(), a plain function of the facts, so tests can feed it any CPU.

// What the decision is made of: gathered from this machine by gatherFacts(), or built by a test.
struct Facts
{
    QStringList cpuFlags;            // /proc/cpuinfo "flags" (avx2, fma, avx512f, ...)
    QString blasCore;                // openblas_get_corename(); empty: not OpenBLAS
    // The variables plan() reads (OPENBLAS_CORETYPE and kRestartedVariable), as the process
    // received them; a variable that is set but empty is present here with an empty value.
    QHash<QString, QString> environment;
    QString blasCoreOption;          // --blas-core: empty (automatic), "off" or a kernel name
};

struct Plan
{
    QList<QPair<QString, QString>> setEnvironment;   // to set before the restart
    bool restart = false;
    QString note;     // one line for a person: what was done, or empty when nothing was
};

// Set in the environment of the restarted process (so that it never restarts again) to what
// was done, e.g. "OPENBLAS_CORETYPE=Haswell (OpenBLAS chose Prescott)".
inline constexpr char kRestartedVariable[] = "MODELSTUDIO_RESTARTED";

// The OpenBLAS kernel that fits the CPU's flags best ("Cooperlake", "SkylakeX", "Haswell"),
// or empty when the CPU has no AVX2+FMA (then nothing better than OpenBLAS's own pick exists).
QString bestBlasCore(const QStringList &cpuFlags);
// True for the kernels of CPUs without AVX2 (Prescott, Core2, Nehalem, Sandybridge, ...).
bool isPreAvx2Core(const QString &core);
// Kernel names OPENBLAS_CORETYPE accepts on x86-64 (case-insensitive), for --blas-core.
QStringList knownBlasCores();

Plan plan(const Facts &facts);

// The facts of this process and machine.
Facts gatherFacts(const QString &blasCoreOption);

// First thing in main, before QCoreApplication: removes "--blas-core X" ("--blas-core=X") from
// argv, plans, and when the plan says so re-executes /proc/self/exe with the same arguments and
// the planned environment (never returns then). In a restarted process it checks that the
// chosen kernels multiply correctly (a small GEMM against a double-precision reference) and, if
// they do not, starts once more without them. Prints the plan's note on stderr when stderr is a
// terminal; Runtime::describe() reports it in every job's start event either way.
void tuneAtStartup(int &argc, char **argv);

// What tuneAtStartup did in this process (empty when nothing), for About boxes and runtime.
QString note();

} // namespace ms::startup
