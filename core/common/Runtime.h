#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>

namespace ms {

// Facts about the process the numbers depend on: which BLAS LibTorch really loaded, the CPU and
// its vector features. Benchmarks record them; front-ends warn about a slow BLAS.
namespace Runtime {

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
