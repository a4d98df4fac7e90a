// The smallest complete ModelStudio plugin (docs/plugins.md): one architecture, "linear" — a
// logistic regression (flatten, then one linear layer to the classes).

#include "models/ArchSpec.h"
#include "models/ArchitectureRegistry.h"
#include "plugins/PluginInterfaces.h"

#include <QJsonArray>
#include <QObject>

namespace {

class LinearArchitecture final : public ms::ArchitectureProvider
{
public:
    QString name() const override { return QStringLiteral("linear"); }
    QString description() const override
    {
        return QStringLiteral("Logistic regression: flatten, one linear layer to the classes "
                              "(example-arch plugin); takes any input shape.");
    }
    QJsonObject makeSpec(const std::vector<qint64> &inputShape, int numClasses) const override
    {
        const QJsonObject spec{
            {QStringLiteral("name"), name()},
            {QStringLiteral("layers"),
             QJsonArray{QJsonObject{{QStringLiteral("type"), QStringLiteral("flatten")}},
                        QJsonObject{{QStringLiteral("type"), QStringLiteral("linear")},
                                    {QStringLiteral("out"), QStringLiteral("num_classes")}}}}};
        // Checked and bound here so that a wrong spec fails with the layer named.
        return ms::ArchSpec::fromJson(spec).boundTo(inputShape, numClasses).toJson();
    }
};

} // namespace

class ExampleArchPlugin : public QObject, public ms::ArchitecturePlugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID MODELSTUDIO_PLUGIN_IID FILE "example-arch.json")
    Q_INTERFACES(ms::ArchitecturePlugin)

public:
    QList<std::shared_ptr<ms::ArchitectureProvider>> architectures() const override
    {
        return {std::make_shared<LinearArchitecture>()};
    }
};

#include "ExampleArchPlugin.moc"
