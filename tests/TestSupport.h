#pragma once

// Small helpers the unit tests share.

#include "common/Error.h"

#include <QDebug>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QString>
#include <QStringList>

#include <algorithm>
#include <cmath>
#include <vector>

namespace ms::test {

// The message of the ms::Error `action` throws, or an empty string when it throws none; lets a
// test check a refusal's words with one QVERIFY.
template <typename Action>
QString errorOf(Action &&action)
{
    try {
        action();
    } catch (const ms::Error &error) {
        return error.message();
    }
    return QString();
}

// The largest element-wise difference of two equally long outputs.
inline float maxAbsDiff(const std::vector<float> &a, const std::vector<float> &b)
{
    float diff = 0;
    for (size_t i = 0; i < a.size(); ++i)
        diff = std::max(diff, std::abs(a[i] - b[i]));
    return diff;
}

// True when two floats agree within `tolerance` relative to their size, absolute below 1:
// |a - b| <= tolerance * max(1, |a|, |b|). For values that went through different batch sizes,
// BLAS kernels, thread counts or processes, which change float32 summation order (a relative
// 1e-6 or so, more where terms cancel): an exact or 1e-9 comparison holds only on the machine
// it was written on.
inline bool closeTo(double a, double b, double tolerance)
{
    return std::abs(a - b) <= tolerance * std::max({1.0, std::abs(a), std::abs(b)});
}

// The largest element-wise difference of two equally long outputs, scaled as closeTo scales it.
inline double maxScaledDiff(const std::vector<float> &a, const std::vector<float> &b)
{
    double diff = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        const double x = a[i], y = b[i];
        diff = std::max(diff, std::abs(x - y) / std::max({1.0, std::abs(x), std::abs(y)}));
    }
    return diff;
}

// True when all of `bytes` reached `path`.
inline bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

// Runs an inline Python script with the Python that has torch, from a file written in `dir`
// (not -c: torch.jit.script reads the source of the classes it compiles). True with the
// script's stdout in `out` when it exits 0; otherwise false with its stderr in a warning, so
// the caller's QVERIFY fails (not skips) when Python cannot do it.
inline bool runPython(const QString &dir, const QString &script, const QStringList &args,
                      QByteArray *out, const QString &workingDir = QString(),
                      int timeout_ms = 180000)
{
    static int counter = 0;
    const QString file = QDir(dir).filePath(QStringLiteral("script%1.py").arg(++counter));
    if (!writeFile(file, script.toUtf8()))
        return false;
    QProcess p;
    if (!workingDir.isEmpty())
        p.setWorkingDirectory(workingDir);
    p.start(QStringLiteral("/usr/bin/python3"), QStringList{file} + args);
    if (!p.waitForFinished(timeout_ms) || p.exitStatus() != QProcess::NormalExit
        || p.exitCode() != 0) {
        qWarning().noquote() << "python failed:" << p.errorString() << "\n"
                             << p.readAllStandardError();
        return false;
    }
    *out = p.readAllStandardOutput();
    return true;
}

} // namespace ms::test
