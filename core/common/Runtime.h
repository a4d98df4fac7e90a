#pragma once

#include <QJsonObject>
#include <QString>

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
// {"cpu": model name, "cores": n, "features": ["avx2", "avx512f", "avx512_vnni", ...],
//  "blas": path}
QJsonObject describe();

} // namespace Runtime
} // namespace ms
