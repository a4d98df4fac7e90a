#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace ms {

// Facts about the process the numbers depend on: which BLAS LibTorch really loaded, the CPU and
// its vector features. Benchmarks record them; front-ends warn about a slow BLAS.
namespace Runtime {

// The most compute threads a job may ask for, in every front-end (train, compress, bench,
// serve, the window's settings): far above any core count here, far below the thousands of
// threads that exhaust a machine's process limit (an unchecked `--threads 100000` once started
// 31,921 OpenMP threads).
constexpr int kMaxThreads = 256;
// Throws ms::Error when `threads` is outside [minimum, kMaxThreads]; `what` names the setting
// as the user gave it ("--threads", "Setting \"threads\""). 0 means all cores where allowed.
void checkThreads(int threads, const QString &what, int minimum = 0);

// The BLAS library mapped into this process (path), or empty when none is loaded yet.
QString blasLibrary();
// True when the BLAS in use is Debian's reference BLAS, about 30x slower than OpenBLAS here.
bool isReferenceBlas();
// One line to show a person, empty when the BLAS is fine.
QString blasWarning();
// Makes every thread allocate from glibc's main malloc arena. A job's worker thread otherwise
// gets an arena of its own, made of 64 MiB heaps that glibc shrinks (madvise) whenever a large
// tensor buffer is freed, so each training step page-faults the same megabytes back in. Measured
// on a full cnn epoch (batch 128, one thread): 1,830-2,050 samples/s with 5-9 s in the kernel,
// 2,470 samples/s with 0.4 s after (the Python loop, on its main thread, runs at about 2,400).
// Only threads that first allocate after the call are affected, so JobRunner and
// InferenceService call it before they start a worker. Idempotent.
void tuneAllocatorForTensors();
// Every flag of /proc/cpuinfo's first "flags" line (avx2, fma, avx512f, ...).
QStringList cpuFlags();
// The kernel set OpenBLAS runs ("Haswell", "Zen", "SkylakeX", "Prescott"...), empty when the
// BLAS is not OpenBLAS (looked up at run time: the reference BLAS has no such call).
QString blasCore();
// {"cpu": model name, "cores": n, "features": ["avx2", "avx512f", "avx512_vnni", ...],
//  "blas": path, "blas_core": kernel, "startup": what StartupTuning did (when anything),
//  "omp_wait_policy": OMP_WAIT_POLICY or "unset", "gomp_spincount": GOMP_SPINCOUNT or "unset"}
QJsonObject describe();

} // namespace Runtime
} // namespace ms
