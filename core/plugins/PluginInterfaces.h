#pragma once

// The contract between the studio and a plugin (docs/architecture.md "Plugins", docs/plugins.md).
//
// A plugin is a Qt plugin (a MODULE library) whose one QObject implements any of the
// interfaces below; one object may provide several kinds at once. It carries
//   Q_PLUGIN_METADATA(IID MODELSTUDIO_PLUGIN_IID FILE "myplugin.json")
// with {"name", "version", "interface_version", "description"}: PluginManager reads that JSON
// with QPluginLoader::metaData() before loading any code, so a plugin built for another
// interface version is listed with the reason and never loaded.
//
// Torch-free on purpose: a plugin compiles against the same headers the window does.

#include <QList>
#include <QObject>
#include <QtPlugin>

#include <memory>

namespace ms {

class ArchitectureProvider;
class CompressionMethod;
class DatasetReader;
class Exporter;

// Bumped whenever an interface below or a provider class it hands out changes incompatibly;
// the IIDs of Q_DECLARE_INTERFACE carry the same number so that even a plugin with a wrong
// "interface_version" in its JSON cannot be cast to the new interface.
constexpr int kPluginInterfaceVersion = 2;

// Architecture families (resolved by name in ArchitectureRegistry).
class ArchitecturePlugin
{
public:
    virtual ~ArchitecturePlugin() = default;
    virtual QList<std::shared_ptr<ArchitectureProvider>> architectures() const = 0;
};

// Dataset formats (DatasetRegistry::readers()).
class DatasetReaderPlugin
{
public:
    virtual ~DatasetReaderPlugin() = default;
    virtual QList<std::shared_ptr<DatasetReader>> datasetReaders() const = 0;
};

// Compression methods (CompressionRegistry::methods()).
class CompressionPlugin
{
public:
    virtual ~CompressionPlugin() = default;
    virtual QList<std::shared_ptr<CompressionMethod>> compressionMethods() const = 0;
};

// Export formats (ExporterRegistry::exporters()).
class ExporterPlugin
{
public:
    virtual ~ExporterPlugin() = default;
    virtual QList<std::shared_ptr<Exporter>> exporters() const = 0;
};

} // namespace ms

// The IID of every ModelStudio plugin's Q_PLUGIN_METADATA: it says "this library is one of
// ours"; the version a plugin needs is its JSON's "interface_version".
#define MODELSTUDIO_PLUGIN_IID "org.modelstudio.Plugin"

#define MODELSTUDIO_ARCHITECTURE_PLUGIN_IID "org.modelstudio.ArchitecturePlugin/2"
#define MODELSTUDIO_DATASETREADER_PLUGIN_IID "org.modelstudio.DatasetReaderPlugin/2"
#define MODELSTUDIO_COMPRESSION_PLUGIN_IID "org.modelstudio.CompressionPlugin/2"
#define MODELSTUDIO_EXPORTER_PLUGIN_IID "org.modelstudio.ExporterPlugin/2"
// Declared with Q_DECLARE_INTERFACE in ui/shell/PanelPlugin.h (panels are widgets; the core has
// none). Named here so that the core can tell that a plugin offers panels.
#define MODELSTUDIO_PANEL_PLUGIN_IID "org.modelstudio.PanelPlugin/2"

Q_DECLARE_INTERFACE(ms::ArchitecturePlugin, MODELSTUDIO_ARCHITECTURE_PLUGIN_IID)
Q_DECLARE_INTERFACE(ms::DatasetReaderPlugin, MODELSTUDIO_DATASETREADER_PLUGIN_IID)
Q_DECLARE_INTERFACE(ms::CompressionPlugin, MODELSTUDIO_COMPRESSION_PLUGIN_IID)
Q_DECLARE_INTERFACE(ms::ExporterPlugin, MODELSTUDIO_EXPORTER_PLUGIN_IID)
