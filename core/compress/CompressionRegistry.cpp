// Minimal registry so that plugins can register compression methods (plugins branch). The
// compression branch owns this file and its built-in methods: on a merge, take its version.
#include "compress/CompressionMethod.h"

#include "common/Error.h"

namespace ms {

CompressionRegistry::CompressionRegistry() = default;

CompressionRegistry &CompressionRegistry::instance()
{
    static CompressionRegistry registry;
    return registry;
}

std::shared_ptr<CompressionMethod> CompressionRegistry::method(const QString &name) const
{
    if (auto found = m_methods.find(name))
        return found;
    throw Error(QStringLiteral("Unknown compression method \"%1\"; known: %2.")
                    .arg(name, m_methods.names().join(QLatin1String(", "))));
}

} // namespace ms
