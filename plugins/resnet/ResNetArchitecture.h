#pragma once

#include "models/ArchitectureRegistry.h"

namespace msplugin {

// The CIFAR ResNet of He et al. (2016), sized for small images: a 3x3 stem conv, three stages
// of `blocksPerStage` basic residual blocks (two 3x3 convs with batch norm) at `width`,
// 2*width and 4*width channels, the last two starting with a stride of 2 (the block's
// shortcut then becomes a 1x1 projection), a global average pool and a linear classifier.
// Depth counts the convs and the classifier: 6 * blocksPerStage + 2.
class ResNetArchitecture final : public ms::ArchitectureProvider
{
public:
    ResNetArchitecture(QString name, int depth, int width);

    QString name() const override { return m_name; }
    QString description() const override;
    QJsonObject makeSpec(const std::vector<qint64> &inputShape, int numClasses) const override;

    int depth() const { return m_depth; }
    int width() const { return m_width; }

private:
    QString m_name;
    int m_depth;
    int m_width;
};

} // namespace msplugin
