#include "bench/ProcessMemory.h"

#include <QFile>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ms::ProcessMemory {

namespace {

// One "Key:   1234 kB" line of /proc/self/status. QFile rather than a Qt API: Qt offers no
// process memory figures.
qint64 statusField(const QByteArray &key)
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (!line.startsWith(key + ':'))
            continue;
        const QList<QByteArray> parts = line.mid(key.size() + 1).simplified().split(' ');
        bool ok = false;
        const qint64 value = parts.value(0).toLongLong(&ok);
        if (!ok)
            return -1;
        return parts.value(1) == "kB" ? value * 1024 : value;
    }
    return -1;
}

} // namespace

bool resetPeak()
{
    QFile clearRefs(QStringLiteral("/proc/self/clear_refs"));
    if (!clearRefs.open(QIODevice::WriteOnly))
        return false;
    return clearRefs.write("5") == 1;
}

qint64 currentResident_bytes()
{
    return statusField("VmRSS");
}

qint64 peakResident_bytes()
{
    return statusField("VmHWM");
}

void releaseFreedMemory()
{
#if defined(__GLIBC__)
    malloc_trim(0);   // since glibc 2.8 it also releases free pages inside the heap
#endif
}

} // namespace ms::ProcessMemory
