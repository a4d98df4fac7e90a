#pragma once

#include <QJsonObject>
#include <QList>
#include <QMutex>
#include <QObject>
#include <QString>
#include <QStringList>

#include <memory>
#include <vector>

class QPluginLoader;

namespace ms {

// One plugin file found on the search path, and what became of it.
struct PluginInfo
{
    enum class State { Loaded, Disabled, Skipped };

    QString name;          // from the metadata; the file's base name when it has none
    QString version;
    QString description;
    QString file;          // absolute path
    int interfaceVersion = 0;
    State state = State::Skipped;
    QString reason;        // why Skipped or Disabled; empty when Loaded
    // What it provides, as "kind:name": "architecture:resnet", "reader:imagefolder",
    // "compression:...", "exporter:...", and "panels" for a plugin with UI panels (the window
    // asks the object itself for their names).
    QStringList providers;

    QJsonObject toJson() const;
};

QString pluginStateName(PluginInfo::State state);   // "loaded", "disabled", "skipped"

// Finds, checks and loads the plugins, and registers their providers in the same registries
// the built-ins use (ArchitectureRegistry, DatasetRegistry, CompressionRegistry,
// ExporterRegistry). Both front-ends call loadAll() once at start-up.
//
// Each candidate's JSON metadata is read before any of its code is loaded: a library that is
// not a ModelStudio plugin, a plugin built for another interface version, a second plugin of
// the same name, and a plugin whose provider names clash with registered ones are listed as
// Skipped with the reason; nothing a plugin does wrong short of crashing in its own code stops
// the studio. Plugins are never unloaded: providers they made may still be in use by a job.
class PluginManager
{
public:
    // The process-wide manager over defaultSearchPaths().
    static PluginManager &instance();

    // `searchPaths` in priority order: when two files declare the same plugin name, the first
    // found wins and the later one is Skipped.
    explicit PluginManager(QStringList searchPaths);
    ~PluginManager();
    PluginManager(const PluginManager &) = delete;
    PluginManager &operator=(const PluginManager &) = delete;

    // Every folder of $MODELSTUDIO_PLUGIN_PATH (':'-separated, searched first so that a
    // developer's build overrides an installed copy), then <executable dir>/../
    // lib/modelstudio/plugins, which is both the build tree's output folder and the installed
    // layout.
    static QStringList defaultSearchPaths();
    static QString installedPluginDir();   // <executable dir>/../lib/modelstudio/plugins

    QStringList searchPaths() const { return m_searchPaths; }

    // Scans the search paths and loads every plugin not disabled in `workspace`'s
    // plugins.json. Only the first call does the work: providers cannot be registered twice.
    void loadAll(const QString &workspace);
    bool isLoaded() const;

    QList<PluginInfo> plugins() const;
    // The instances of loaded plugins, for interfaces the core does not know (UI panels).
    QList<QObject *> instances() const;

    // Remembers the choice in `workspace`'s plugins.json and applies it at once where that is
    // safe: enabling a disabled plugin loads it; disabling a loaded one removes its providers
    // from the registries (its code stays loaded; panels go at the next start). Throws
    // ms::Error for a name no plugin file declares, or when plugins.json cannot be written.
    void setEnabled(const QString &workspace, const QString &name, bool enabled);

    // Names disabled in `workspace` (its plugins.json; empty when there is none). Throws
    // ms::Error when the file exists but is not what this class writes.
    static QStringList disabledNames(const QString &workspace);
    static QString stateFile(const QString &workspace);   // <workspace>/plugins.json

private:
    struct Entry;

    void scan(const QStringList &disabled);
    void load(Entry &entry);
    void unregister(Entry &entry);
    static void writeDisabled(const QString &workspace, const QStringList &names);

    QStringList m_searchPaths;
    mutable QMutex m_mutex;
    bool m_loaded = false;
    std::vector<std::unique_ptr<Entry>> m_entries;
};

} // namespace ms
