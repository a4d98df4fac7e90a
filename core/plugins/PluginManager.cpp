#include "plugins/PluginManager.h"

#include "common/Error.h"
#include "compress/CompressionMethod.h"
#include "data/DatasetRegistry.h"
#include "export/Exporter.h"
#include "models/ArchitectureRegistry.h"
#include "plugins/PluginInterfaces.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLibrary>
#include <QPluginLoader>
#include <QSaveFile>
#include <QSet>

#include <exception>

#ifndef MODELSTUDIO_PLUGIN_SUBDIR
#define MODELSTUDIO_PLUGIN_SUBDIR "lib/modelstudio/plugins"
#endif

namespace ms {

namespace {

const QString kDisabledKey = QStringLiteral("disabled");

QString kindLabel(const QString &kind)
{
    // "architecture:resnet" -> "architecture \"resnet\"", for messages.
    const int colon = kind.indexOf(QLatin1Char(':'));
    return colon < 0 ? kind
                     : QStringLiteral("%1 \"%2\"").arg(kind.left(colon), kind.mid(colon + 1));
}

// The providers one plugin object hands out, per registry.
struct Offer
{
    QList<std::shared_ptr<ArchitectureProvider>> architectures;
    QList<std::shared_ptr<DatasetReader>> readers;
    QList<std::shared_ptr<CompressionMethod>> methods;
    QList<std::shared_ptr<Exporter>> exporters;
    bool panels = false;

    bool empty() const
    {
        return architectures.isEmpty() && readers.isEmpty() && methods.isEmpty()
               && exporters.isEmpty() && !panels;
    }
};

// A null provider, or one without a name, which no one could ever ask for.
template <typename Provider>
bool anyNull(const QList<std::shared_ptr<Provider>> &list)
{
    for (const auto &p : list) {
        if (!p || p->name().trimmed().isEmpty())
            return true;
    }
    return false;
}

// "kind:name" for each provider, noting names already taken in `registry` or twice in `list`.
template <typename Provider>
void names(const QString &kind, const QList<std::shared_ptr<Provider>> &list,
           const ProviderRegistry<Provider> &registry, QStringList *keys, QStringList *clashes)
{
    QSet<QString> seen;
    for (const auto &provider : list) {
        const QString key = kind + QLatin1Char(':') + provider->name();
        if (registry.find(provider->name()) || seen.contains(key))
            clashes->append(key);
        seen.insert(key);
        keys->append(key);
    }
}

template <typename Provider>
void addAll(const QList<std::shared_ptr<Provider>> &list, ProviderRegistry<Provider> &registry)
{
    for (const auto &provider : list)
        registry.add(provider);
}

} // namespace

struct PluginManager::Entry
{
    PluginInfo info;
    std::unique_ptr<QPluginLoader> loader;
    QObject *instance = nullptr;
    bool registered = false;   // its providers are in the registries now
};

QString pluginStateName(PluginInfo::State state)
{
    switch (state) {
    case PluginInfo::State::Loaded:
        return QStringLiteral("loaded");
    case PluginInfo::State::Disabled:
        return QStringLiteral("disabled");
    case PluginInfo::State::Skipped:
        break;
    }
    return QStringLiteral("skipped");
}

QJsonObject PluginInfo::toJson() const
{
    return QJsonObject{{QStringLiteral("name"), name},
                       {QStringLiteral("version"), version},
                       {QStringLiteral("description"), description},
                       {QStringLiteral("file"), file},
                       {QStringLiteral("interface_version"), interfaceVersion},
                       {QStringLiteral("state"), pluginStateName(state)},
                       {QStringLiteral("reason"), reason},
                       {QStringLiteral("providers"), QJsonArray::fromStringList(providers)}};
}

PluginManager &PluginManager::instance()
{
    static PluginManager manager(defaultSearchPaths());
    return manager;
}

PluginManager::PluginManager(QStringList searchPaths) : m_searchPaths(std::move(searchPaths)) {}

PluginManager::~PluginManager() = default;

QString PluginManager::installedPluginDir()
{
    // Relative to the executable, so that the build tree (bin/ beside lib/modelstudio/plugins)
    // and any install prefix work without a path compiled in.
    return QDir::cleanPath(QCoreApplication::applicationDirPath()
                           + QStringLiteral("/../" MODELSTUDIO_PLUGIN_SUBDIR));
}

QStringList PluginManager::defaultSearchPaths()
{
    QStringList paths = qEnvironmentVariable("MODELSTUDIO_PLUGIN_PATH")
                            .split(QDir::listSeparator(), Qt::SkipEmptyParts);
    paths << installedPluginDir();
    return paths;
}

QString PluginManager::stateFile(const QString &workspace)
{
    return QDir(workspace).filePath(QStringLiteral("plugins.json"));
}

QStringList PluginManager::disabledNames(const QString &workspace)
{
    QFile file(stateFile(workspace));
    if (!file.exists())
        return {};
    if (!file.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("Cannot read %1: %2").arg(file.fileName(), file.errorString()));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &error);
    const QJsonValue list = doc.object().value(kDisabledKey);
    if (!doc.isObject() || !(list.isArray() || list.isUndefined()))
        throw Error(QStringLiteral("%1 is not a plugin state file ({\"disabled\": [names]}): "
                                   "fix or delete it to enable every plugin.")
                        .arg(file.fileName()));
    QStringList names;
    for (const QJsonValue &v : list.toArray())
        names << v.toString();
    return names;
}

void PluginManager::writeDisabled(const QString &workspace, const QStringList &names)
{
    if (!QDir().mkpath(workspace))
        throw Error(QStringLiteral("Cannot create the workspace folder %1.").arg(workspace));
    // QSaveFile: a crash or a full disk leaves the previous choice, never half a file.
    QSaveFile file(stateFile(workspace));
    QJsonObject doc{{kDisabledKey, QJsonArray::fromStringList(names)}};
    if (!file.open(QIODevice::WriteOnly)
        || file.write(QJsonDocument(doc).toJson()) < 0 || !file.commit())
        throw Error(QStringLiteral("Cannot write %1: %2").arg(file.fileName(),
                                                              file.errorString()));
}

void PluginManager::loadAll(const QString &workspace)
{
    QMutexLocker lock(&m_mutex);
    if (m_loaded)
        return;
    m_loaded = true;
    QStringList disabled;
    try {
        disabled = disabledNames(workspace);
    } catch (const Error &) {
        // A damaged state file must not keep the studio from starting: every plugin then
        // loads, and `modelstudio-cli plugins` reports the file.
    }
    scan(disabled);
    for (auto &entry : m_entries) {
        if (entry->info.state == PluginInfo::State::Loaded)
            load(*entry);
    }
}

bool PluginManager::isLoaded() const
{
    QMutexLocker lock(&m_mutex);
    return m_loaded;
}

void PluginManager::scan(const QStringList &disabled)
{
    QSet<QString> seenDirs;
    for (const QString &path : m_searchPaths) {
        const QDir dir(path);
        const QString canonical = dir.canonicalPath();
        if (canonical.isEmpty() || seenDirs.contains(canonical))
            continue;   // a folder that does not exist (yet) is normal: nothing installed
        seenDirs.insert(canonical);
        const QFileInfoList files = dir.entryInfoList(QDir::Files | QDir::Readable, QDir::Name);
        for (const QFileInfo &file : files) {
            if (!QLibrary::isLibrary(file.fileName()))
                continue;
            auto entry = std::make_unique<Entry>();
            PluginInfo &info = entry->info;
            info.file = file.absoluteFilePath();
            info.name = file.completeBaseName();
            if (info.name.startsWith(QLatin1String("lib")))
                info.name = info.name.mid(3);
            info.state = PluginInfo::State::Skipped;

            // Reads the ELF section Q_PLUGIN_METADATA wrote; no code of the file runs here.
            QPluginLoader probe(info.file);
            const QJsonObject meta = probe.metaData();
            const QJsonObject data = meta.value(QLatin1String("MetaData")).toObject();
            if (meta.isEmpty()) {
                info.reason = QStringLiteral("not a plugin: the file has no Qt plugin "
                                             "metadata (an ordinary library, or not a "
                                             "library at all)");
            } else if (meta.value(QLatin1String("IID")).toString()
                       != QLatin1String(MODELSTUDIO_PLUGIN_IID)) {
                info.reason = QStringLiteral("not a ModelStudio plugin (its IID is \"%1\", "
                                             "not \"" MODELSTUDIO_PLUGIN_IID "\")")
                                  .arg(meta.value(QLatin1String("IID")).toString());
            } else if (!data.value(QLatin1String("name")).isString()
                       || data.value(QLatin1String("name")).toString().trimmed().isEmpty()
                       || !data.value(QLatin1String("interface_version")).isDouble()) {
                info.reason = QStringLiteral("its metadata lacks \"name\" or "
                                             "\"interface_version\" (see docs/plugins.md)");
            } else {
                info.name = data.value(QLatin1String("name")).toString().trimmed();
                info.version = data.value(QLatin1String("version")).toString();
                info.description = data.value(QLatin1String("description")).toString();
                info.interfaceVersion = data.value(QLatin1String("interface_version")).toInt();
                const Entry *earlier = nullptr;
                for (const auto &other : m_entries) {
                    if (other->info.name == info.name
                        && other->info.state != PluginInfo::State::Skipped)
                        earlier = other.get();
                }
                if (info.interfaceVersion != kPluginInterfaceVersion) {
                    info.reason = QStringLiteral("built for plugin interface version %1, but "
                                                 "this ModelStudio provides version %2; "
                                                 "rebuild the plugin against it")
                                      .arg(info.interfaceVersion).arg(kPluginInterfaceVersion);
                } else if (earlier) {
                    info.reason = QStringLiteral("a plugin named \"%1\" is already taken from "
                                                 "%2 (earlier on the search path)")
                                      .arg(info.name, earlier->info.file);
                } else if (disabled.contains(info.name)) {
                    info.state = PluginInfo::State::Disabled;
                    info.reason = QStringLiteral("disabled (modelstudio-cli plugins --enable "
                                                 "%1)").arg(info.name);
                } else {
                    info.state = PluginInfo::State::Loaded;   // load() may still skip it
                }
            }
            m_entries.push_back(std::move(entry));
        }
    }
}

void PluginManager::load(Entry &entry)
{
    PluginInfo &info = entry.info;
    auto skip = [&info](const QString &reason) {
        info.state = PluginInfo::State::Skipped;
        info.reason = reason;
        info.providers.clear();
    };
    if (!entry.loader)
        entry.loader = std::make_unique<QPluginLoader>(info.file);
    // A skipped plugin is not unloaded: objects its code made (a provider list being
    // destroyed, a static) may still point into it. Mapped but unused code costs nothing.
    QObject *object = entry.loader->instance();
    if (!object) {
        skip(QStringLiteral("cannot be loaded: %1").arg(entry.loader->errorString()));
        return;
    }
    entry.instance = object;

    Offer offer;
    try {
        if (auto *p = qobject_cast<ArchitecturePlugin *>(object))
            offer.architectures = p->architectures();
        if (auto *p = qobject_cast<DatasetReaderPlugin *>(object))
            offer.readers = p->datasetReaders();
        if (auto *p = qobject_cast<CompressionPlugin *>(object))
            offer.methods = p->compressionMethods();
        if (auto *p = qobject_cast<ExporterPlugin *>(object))
            offer.exporters = p->exporters();
    } catch (const std::exception &e) {
        skip(QStringLiteral("failed while listing its providers: %1")
                 .arg(QString::fromLocal8Bit(e.what())));
        return;
    } catch (...) {
        skip(QStringLiteral("failed while listing its providers (unknown exception)"));
        return;
    }
    // qobject_cast to an interface is qt_metacast with its IID; the panel interface lives in
    // ui/, so the core asks by IID.
    offer.panels = object->qt_metacast(MODELSTUDIO_PANEL_PLUGIN_IID) != nullptr;
    if (offer.empty()) {
        skip(QStringLiteral("implements none of the ModelStudio plugin interfaces of version "
                            "%1 (architectures, dataset readers, compression methods, "
                            "exporters, panels)").arg(kPluginInterfaceVersion));
        return;
    }
    QStringList keys;
    QStringList clashes;
    try {
        // name() is plugin code too.
        if (anyNull(offer.architectures) || anyNull(offer.readers) || anyNull(offer.methods)
            || anyNull(offer.exporters)) {
            skip(QStringLiteral("handed out a null provider or one without a name"));
            return;
        }
        names(QStringLiteral("architecture"), offer.architectures,
              ArchitectureRegistry::instance().providers(), &keys, &clashes);
        names(QStringLiteral("reader"), offer.readers, DatasetRegistry::instance().readers(),
              &keys, &clashes);
        names(QStringLiteral("compression"), offer.methods,
              CompressionRegistry::instance().methods(), &keys, &clashes);
        names(QStringLiteral("exporter"), offer.exporters,
              ExporterRegistry::instance().exporters(), &keys, &clashes);
    } catch (...) {
        skip(QStringLiteral("failed while naming its providers"));
        return;
    }
    if (!clashes.isEmpty()) {
        QStringList parts;
        for (const QString &key : clashes) {
            QString owner = QStringLiteral("the studio's built-ins");
            for (const auto &other : m_entries) {
                if (other.get() != &entry && other->registered
                    && other->info.providers.contains(key))
                    owner = QStringLiteral("plugin \"%1\"").arg(other->info.name);
            }
            parts << QStringLiteral("%1 is already registered by %2").arg(kindLabel(key), owner);
        }
        skip(QStringLiteral("name clash: %1; rename it in the plugin")
                 .arg(parts.join(QLatin1String("; "))));
        return;
    }
    // All names were checked free above, so add() cannot throw half way through.
    addAll(offer.architectures, ArchitectureRegistry::instance().providers());
    addAll(offer.readers, DatasetRegistry::instance().readers());
    addAll(offer.methods, CompressionRegistry::instance().methods());
    addAll(offer.exporters, ExporterRegistry::instance().exporters());
    if (offer.panels)
        keys << QStringLiteral("panels");
    info.providers = keys;
    info.state = PluginInfo::State::Loaded;
    info.reason.clear();
    entry.registered = true;
}

void PluginManager::unregister(Entry &entry)
{
    for (const QString &key : entry.info.providers) {
        const int colon = key.indexOf(QLatin1Char(':'));
        const QString kind = key.left(colon);
        const QString name = key.mid(colon + 1);
        if (kind == QLatin1String("architecture"))
            ArchitectureRegistry::instance().providers().remove(name);
        else if (kind == QLatin1String("reader"))
            DatasetRegistry::instance().readers().remove(name);
        else if (kind == QLatin1String("compression"))
            CompressionRegistry::instance().methods().remove(name);
        else if (kind == QLatin1String("exporter"))
            ExporterRegistry::instance().exporters().remove(name);
    }
    entry.registered = false;
}

QList<PluginInfo> PluginManager::plugins() const
{
    QMutexLocker lock(&m_mutex);
    QList<PluginInfo> list;
    for (const auto &entry : m_entries)
        list << entry->info;
    return list;
}

QList<QObject *> PluginManager::instances() const
{
    QMutexLocker lock(&m_mutex);
    QList<QObject *> list;
    for (const auto &entry : m_entries) {
        if (entry->registered && entry->instance)
            list << entry->instance;
    }
    return list;
}

void PluginManager::setEnabled(const QString &workspace, const QString &name, bool enabled)
{
    QMutexLocker lock(&m_mutex);
    Entry *target = nullptr;
    QStringList known;
    for (const auto &entry : m_entries) {
        known << entry->info.name;
        const bool usable = entry->info.state != PluginInfo::State::Skipped;
        if (entry->info.name == name && (!target || usable))
            target = entry.get();
    }
    if (!target)
        throw Error(QStringLiteral("No plugin named \"%1\" on the plugin path; found: %2.")
                        .arg(name, known.isEmpty() ? QStringLiteral("none")
                                                   : known.join(QLatin1String(", "))));
    QStringList disabled = disabledNames(workspace);
    disabled.removeAll(name);
    if (!enabled)
        disabled << name;
    disabled.sort();
    writeDisabled(workspace, disabled);

    PluginInfo &info = target->info;
    if (enabled && info.state == PluginInfo::State::Disabled) {
        load(*target);
    } else if (!enabled && info.state == PluginInfo::State::Loaded) {
        unregister(*target);
        info.state = PluginInfo::State::Disabled;
        info.reason = QStringLiteral("disabled (modelstudio-cli plugins --enable %1)").arg(name);
    }
}

} // namespace ms
