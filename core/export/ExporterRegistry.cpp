// Minimal registry so that plugins can register exporters (plugins branch). The export branch
// owns this file and its built-in formats: on a merge, take its version.
#include "export/Exporter.h"

#include "common/Error.h"

namespace ms {

ExporterRegistry::ExporterRegistry() = default;

ExporterRegistry &ExporterRegistry::instance()
{
    static ExporterRegistry registry;
    return registry;
}

std::shared_ptr<Exporter> ExporterRegistry::exporter(const QString &name) const
{
    if (auto found = m_exporters.find(name))
        return found;
    throw Error(QStringLiteral("Unknown export format \"%1\"; known: %2.")
                    .arg(name, m_exporters.names().join(QLatin1String(", "))));
}

} // namespace ms
