#pragma once

#include <QString>

namespace ms {

// What a TorchScript file (a zip archive) says it holds, read from its central directory
// without inflating or loading anything.
struct ModelArchiveSize
{
    bool isZip = false;           // false: not a zip archive at all (the loader will say so)
    qint64 entries = 0;
    quint64 uncompressedBytes = 0;
    qint64 fileBytes = 0;
};

// Reads the central directory of `path` (libzip) and throws ms::Error, naming the file, the
// size and how to raise the limit, when its entries would inflate to more than `maxBytes`:
// a 3 MB file of deflated zeros must not become 3 GB in memory before anything can refuse it.
// Called before torch::jit::load on every file from outside (imports).
ModelArchiveSize checkModelArchive(const QString &path, qint64 maxBytes);

} // namespace ms
