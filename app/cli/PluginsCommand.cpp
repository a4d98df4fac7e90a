// modelstudio-cli plugins: what was found on the plugin path, what loaded, what was skipped
// and why; --enable / --disable remember a choice in the workspace's plugins.json.

#include "Command.h"
#include "Output.h"

#include "common/Error.h"
#include "common/Workspace.h"
#include "plugins/PluginManager.h"

#include <QDir>
#include <QJsonArray>
#include <QMap>

namespace cli {

namespace {

// "architecture:resnet", "architecture:resnet-8", "reader:x" -> "architectures: resnet,
// resnet-8; reader: x": a family of ten architectures still fits on a line.
QString groupedProviders(const QStringList &keys)
{
    QStringList kinds;
    QMap<QString, QStringList> names;
    for (const QString &key : keys) {
        const int colon = key.indexOf(QLatin1Char(':'));
        const QString kind = colon < 0 ? key : key.left(colon);
        if (!kinds.contains(kind))
            kinds << kind;
        if (colon >= 0)
            names[kind] << key.mid(colon + 1);
    }
    QStringList parts;
    for (const QString &kind : kinds) {
        const QStringList &list = names.value(kind);
        parts << (list.isEmpty() ? kind
                                 : QStringLiteral("%1%2: %3").arg(kind,
                                       list.size() > 1 ? QStringLiteral("s") : QString(),
                                       list.join(QLatin1String(", "))));
    }
    return parts.join(QLatin1String("; "));
}

int runPlugins(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addOption({QStringLiteral("enable"),
                      QStringLiteral("Enable the plugin NAME (loads it now and at every start)."),
                      QStringLiteral("NAME")});
    parser.addOption({QStringLiteral("disable"),
                      QStringLiteral("Disable the plugin NAME (its providers are not "
                                     "registered from now on)."),
                      QStringLiteral("NAME")});
    int code = Ok;
    if (!parse(parser, QStringLiteral("plugins"),
               QStringLiteral("List the plugins on the plugin path ($MODELSTUDIO_PLUGIN_PATH, "
                              "then lib/modelstudio/plugins beside the executable's folder): "
                              "loaded, disabled, or skipped and why. Choices are kept per "
                              "workspace, in its plugins.json."),
               arguments, &code))
        return code;
    if (parser.isSet(QStringLiteral("enable")) && parser.isSet(QStringLiteral("disable")))
        return fail(QStringLiteral("give --enable or --disable, not both."), Usage);
    const QString workspace = ms::Workspace::resolve(parser.value(QStringLiteral("workspace")));
    ms::PluginManager &manager = ms::PluginManager::instance();
    manager.loadAll(workspace);   // already done by main(); here for clarity, it is idempotent

    QString stateProblem;
    try {
        ms::PluginManager::disabledNames(workspace);
    } catch (const ms::Error &e) {
        stateProblem = e.message();
    }
    for (const char *flag : {"enable", "disable"}) {
        const QString key = QLatin1String(flag);
        if (!parser.isSet(key))
            continue;
        if (!stateProblem.isEmpty())
            return fail(stateProblem);
        manager.setEnabled(workspace, parser.value(key), key == QLatin1String("enable"));
    }

    const QList<ms::PluginInfo> plugins = manager.plugins();
    if (parser.isSet(QStringLiteral("json"))) {
        QJsonArray list;
        for (const ms::PluginInfo &info : plugins)
            list.append(info.toJson());
        QJsonObject out{{QStringLiteral("plugins"), list},
                        {QStringLiteral("search_paths"),
                         QJsonArray::fromStringList(manager.searchPaths())},
                        {QStringLiteral("state_file"), ms::PluginManager::stateFile(workspace)}};
        if (!stateProblem.isEmpty())
            out.insert(QStringLiteral("state_problem"), stateProblem);
        printJsonLine(out);
        return Ok;
    }
    QList<QStringList> rows;
    for (const ms::PluginInfo &info : plugins) {
        rows << QStringList{info.name, info.version.isEmpty() ? QStringLiteral("-")
                                                              : info.version,
                            ms::pluginStateName(info.state),
                            info.state == ms::PluginInfo::State::Loaded
                                ? groupedProviders(info.providers)
                                : info.reason,
                            QDir::toNativeSeparators(info.file)};
    }
    if (rows.isEmpty())
        printLine(QStringLiteral("No plugins found."));
    else
        printLine(table({QStringLiteral("NAME"), QStringLiteral("VERSION"),
                         QStringLiteral("STATE"), QStringLiteral("PROVIDES / REASON"),
                         QStringLiteral("FILE")},
                        rows));
    printLine(QStringLiteral("Searched: %1").arg(
        QDir::toNativeSeparators(manager.searchPaths().join(QDir::listSeparator()))));
    if (!stateProblem.isEmpty())
        printLine(QStringLiteral("Warning: %1").arg(stateProblem));
    return Ok;
}

} // namespace

QList<Command> pluginCommands()
{
    return {{QStringLiteral("plugins"),
             QStringLiteral("List plugins (loaded, skipped and why); --enable/--disable NAME"),
             runPlugins}};
}

} // namespace cli
