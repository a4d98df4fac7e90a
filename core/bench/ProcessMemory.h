#pragma once

#include <QtGlobal>

namespace ms::ProcessMemory {

// Resident memory of this process from /proc/self (Linux). A benchmark resets the peak before
// it loads and runs a model, and reads it afterwards: the peak while running.

// Writes "5" to /proc/self/clear_refs, which sets the kernel's high-water mark (VmHWM) back to
// the current resident size. Returns false when the kernel refuses (not Linux, no permission):
// the peak then covers the whole life of the process, and results must say so.
bool resetPeak();
// Gives the pages of freed heap memory back to the kernel (glibc's malloc_trim). Called before a
// version's baseline, so that the memory an earlier version (or the warm-up pass) freed is not
// silently reused by the next one: its growth over the baseline would then read as zero.
void releaseFreedMemory();
qint64 currentResident_bytes();   // VmRSS, -1 when unknown
qint64 peakResident_bytes();      // VmHWM, -1 when unknown

} // namespace ms::ProcessMemory
