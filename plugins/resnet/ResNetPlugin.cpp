// The resnet plugin: ResNet-style architectures of several depths and widths.

#include "ResNetArchitecture.h"

#include "plugins/PluginInterfaces.h"

#include <QObject>

class ResNetPlugin : public QObject, public ms::ArchitecturePlugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID MODELSTUDIO_PLUGIN_IID FILE "resnet.json")
    Q_INTERFACES(ms::ArchitecturePlugin)

public:
    // "resnet" is ResNet-8 at width 16; "resnet-D" is depth D at width 16 and "resnet-D-wW"
    // sets the width too. The registry resolves names, not parameters, so the useful grid is
    // listed: depth 6n+2 for n = 1..3, width 8, 16 or 32.
    QList<std::shared_ptr<ms::ArchitectureProvider>> architectures() const override
    {
        QList<std::shared_ptr<ms::ArchitectureProvider>> list;
        list << std::make_shared<msplugin::ResNetArchitecture>(QStringLiteral("resnet"), 8, 16);
        for (const int depth : {8, 14, 20}) {
            for (const int width : {8, 16, 32}) {
                const QString name = width == 16
                    ? QStringLiteral("resnet-%1").arg(depth)
                    : QStringLiteral("resnet-%1-w%2").arg(depth).arg(width);
                list << std::make_shared<msplugin::ResNetArchitecture>(name, depth, width);
            }
        }
        return list;
    }
};

#include "ResNetPlugin.moc"
