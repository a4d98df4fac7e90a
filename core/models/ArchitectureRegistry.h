#pragma once

#include "common/ProviderRegistry.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <vector>

namespace ms {

// Makes the spec of an architecture family for a dataset's input shape and class count.
// Built-ins (mlp, cnn) and plugin architectures register the same way.
class ArchitectureProvider
{
public:
    virtual ~ArchitectureProvider() = default;

    virtual QString name() const = 0;        // "cnn"
    virtual QString description() const = 0;
    // The spec JSON (see ArchSpec). Throws ms::Error when the family cannot take this input
    // (for example a CNN on a table).
    virtual QJsonObject makeSpec(const std::vector<qint64> &inputShape, int numClasses) const = 0;

    // The parameters the family takes ("width", "dropout"), what a sweep can search and a
    // train spec's "arch_params" can set. Empty: the family has none.
    virtual QStringList parameters() const { return {}; }
    // The spec with `params` applied; the default (no parameters) refuses any. Throws ms::Error
    // naming a parameter the family does not take or a value it cannot use.
    virtual QJsonObject makeSpec(const std::vector<qint64> &inputShape, int numClasses,
                                 const QJsonObject &params) const;
};

class ArchitectureRegistry
{
public:
    static ArchitectureRegistry &instance();

    ProviderRegistry<ArchitectureProvider> &providers() { return m_providers; }

    // `nameOrPath`: a registered name, or a path to a spec JSON file. Returns a spec bound to the
    // input shape and class count. Throws ms::Error listing the known names when nothing fits.
    QJsonObject resolve(const QString &nameOrPath, const std::vector<qint64> &inputShape,
                        int numClasses, const QJsonObject &params = {}) const;
    // The parameters a registered family takes (empty for spec files and unknown names).
    QStringList parametersOf(const QString &name) const;

private:
    ArchitectureRegistry();

    ProviderRegistry<ArchitectureProvider> m_providers;
};

} // namespace ms
