#include "export/Exporter.h"

#include "common/Error.h"
#include "export/PtExporter.h"
#include "export/TorchServeExporter.h"
#include "export/TritonExporter.h"

namespace ms {

ExporterRegistry &ExporterRegistry::instance()
{
    static ExporterRegistry registry;
    return registry;
}

ExporterRegistry::ExporterRegistry()
{
    // The built-ins register exactly as a plugin's exporter does (docs/architecture.md,
    // "Decisions").
    m_exporters.add(std::make_shared<PtExporter>());
    m_exporters.add(std::make_shared<TorchServeExporter>());
    m_exporters.add(std::make_shared<TritonExporter>());
}

std::shared_ptr<Exporter> ExporterRegistry::exporter(const QString &name) const
{
    if (std::shared_ptr<Exporter> found = m_exporters.find(name))
        return found;
    throw Error(QStringLiteral("no export format \"%1\"; formats: %2.")
                    .arg(name, m_exporters.names().join(QStringLiteral(", "))));
}

} // namespace ms
