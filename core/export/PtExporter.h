#pragma once

#include "export/Exporter.h"

namespace ms {

// The plain TorchScript file for Python (`torch.jit.load`) and anything else that loads one,
// with a generated README beside it: the input shape, the class names and a snippet that runs.
// --to FILE (FILE and FILE's stem + ".README.md"), or a folder (<model>-v<n>.pt in it). An
// existing file or README is refused unless the option "force" is true.
class PtExporter final : public Exporter
{
public:
    QString name() const override { return QStringLiteral("pt"); }
    QString description() const override;
    QStringList write(const ExportInput &input, const QString &to) const override;

    // The README's markdown for a version whose file is called `fileName`.
    static QByteArray readmeText(const VersionRecord &version, const QString &fileName);
};

} // namespace ms
