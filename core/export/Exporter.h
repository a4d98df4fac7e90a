#pragma once

#include "common/ProviderRegistry.h"
#include "registry/Registry.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <memory>

namespace ms {

// What an exporter writes from: the version's record (signature, class names, recipe) and its
// verified artifact, a TorchScript file.
struct ExportInput
{
    VersionRecord version;
    QString artifactPath;
    // Exporter-specific settings, e.g. {"max_batch_size": 16} for "triton"; each exporter
    // documents its keys and has a default for every one.
    QJsonObject options;
};

// A door out of the studio (docs/architecture.md, "Exports"): a Triton model repository, a
// TorchServe archive, a plain .pt with a Python snippet. `modelstudio-cli export REF --format NAME
// --to PATH` and the window's Export action both go through ExporterRegistry; plugins register the
// same way.
class Exporter
{
public:
    virtual ~Exporter() = default;

    virtual QString name() const = 0;          // "triton", "torchserve", "pt"
    virtual QString description() const = 0;   // one line
    // Writes the export to `to` (a folder or a file, as description() says) and returns the
    // paths it wrote, the main one (the file, or the folder it made) first. Nothing
    // half-written is left behind on failure; throws ms::Error saying what went wrong and what
    // to do.
    virtual QStringList write(const ExportInput &input, const QString &to) const = 0;
};

class ExporterRegistry
{
public:
    static ExporterRegistry &instance();

    ProviderRegistry<Exporter> &exporters() { return m_exporters; }
    // Throws ms::Error listing the formats when there is none of that name.
    std::shared_ptr<Exporter> exporter(const QString &name) const;

private:
    ExporterRegistry();

    ProviderRegistry<Exporter> m_exporters;
};

} // namespace ms
