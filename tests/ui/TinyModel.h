#pragma once

// A real, untrained TorchScript model registered without training: what the UI tests serve,
// list and export. Built through the core (mlp on 1x28x28, 10 classes), saved once per call.

#include "models/ArchitectureRegistry.h"
#include "models/Model.h"
#include "registry/Registry.h"

#include <QStringList>

namespace ms::test {

// A NewVersion of `modelName` whose artifact (saved at `artifactPath`) is a 1x28x28 -> 10 mlp,
// with its signature, digit class names and parameter count filled in.
inline ms::NewVersion tinyImageVersion(const QString &modelName, const QString &artifactPath)
{
    QStringList classes;
    for (int i = 0; i < 10; ++i)
        classes << QString::number(i);
    const ms::Model model = ms::Model::build(
        ms::ArchitectureRegistry::instance().resolve(QStringLiteral("mlp"), {1, 28, 28}, 10),
        ms::ModelDataInfo{{1, 28, 28}, {0.5f}, {0.25f}, classes}, 1);
    model.save(artifactPath);

    ms::NewVersion version;
    version.modelName = modelName;
    version.kind = ms::VersionKind::Imported;
    version.artifactPath = artifactPath;
    version.inputs = {ms::TensorSignature{QStringLiteral("input"), QStringLiteral("float32"),
                                          {-1, 1, 28, 28}}};
    version.outputs = {ms::TensorSignature{QStringLiteral("output"), QStringLiteral("float32"),
                                           {-1, 10}}};
    version.classNames = classes;
    version.parameterCount = model.parameterCount();
    return version;
}

} // namespace ms::test
