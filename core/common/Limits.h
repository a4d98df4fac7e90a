#pragma once

#include <QString>

namespace ms::Limits {

// How much untrusted input may cost before anything is read in full: a model file's
// uncompressed contents, a dataset's features in memory. Each limit is, first to last:
// the explicit value a caller passes (a flag), the environment, the workspace's
// settings.json ({"max_model_bytes": ..., "max_dataset_bytes": ...}, numbers or "2G"-style
// text), then the built-in default.

// MODELSTUDIO_MAX_MODEL_BYTES / "max_model_bytes"; default 2 GiB (a TorchScript file is
// stored uncompressed, so its size on disk is about what loading it takes).
qint64 maxModelBytes(const QString &workspaceRoot = QString());
// MODELSTUDIO_MAX_DATASET_BYTES / "max_dataset_bytes": the features of a dataset as floats;
// default this machine's physical memory, which a larger set could never fit.
qint64 maxDatasetBytes(const QString &workspaceRoot = QString());
// This machine's physical memory (16 GiB when the system does not say).
qint64 physicalMemoryBytes();

// "1048576", "512K", "64M", "2G", "1T" (binary multiples, optional "B"/"iB"); -1 when the
// text is none of these or not positive.
qint64 parseBytes(const QString &text);
// "2.0 GiB", "512 KiB", "17 bytes".
QString formatBytes(qint64 bytes);

} // namespace ms::Limits
