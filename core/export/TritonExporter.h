#pragma once

#include "export/Exporter.h"

namespace ms {

// A Triton Inference Server model repository entry: DIR/<model>/config.pbtxt (platform
// pytorch_libtorch, INPUT__0…/OUTPUT__0… named by the PyTorch backend's convention, data types
// and dims from the version's signature), DIR/<model>/<n>/model.pt and, when the version names
// its classes, DIR/<model>/labels.txt for Triton's classification extension.
// Options: "max_batch_size" (default 32; 0 turns batching off).
class TritonExporter final : public Exporter
{
public:
    QString name() const override { return QStringLiteral("triton"); }
    QString description() const override;
    QStringList write(const ExportInput &input, const QString &to) const override;

    // The config.pbtxt text for a version (public for the tests and the dry-run view).
    static QByteArray configText(const VersionRecord &version, int max_batch_size);
    // "float32" -> "TYPE_FP32"; throws ms::Error for a type Triton has no name for.
    static QString tritonDataType(const QString &dtype);
};

} // namespace ms
