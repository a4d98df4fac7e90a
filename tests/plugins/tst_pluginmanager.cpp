// PluginManager in-process: a good plugin loads and registers, broken ones are listed as
// skipped with the reason (and their code is never mapped), enable/disable is remembered.

#include "TestSupport.h"

#include "compress/CompressionMethod.h"
#include "export/Exporter.h"
#include "models/ArchitectureRegistry.h"
#include "plugins/PluginInterfaces.h"
#include "plugins/PluginManager.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using namespace ms;
using ms::test::errorOf;

namespace {

const PluginInfo *find(const QList<PluginInfo> &list, const QString &name)
{
    for (const PluginInfo &p : list) {
        if (p.name == name)
            return &p;
    }
    return nullptr;
}

// Whether the dynamic loader has mapped `file` into this process.
bool isMapped(const QString &file)
{
    QFile maps(QStringLiteral("/proc/self/maps"));
    if (!maps.open(QIODevice::ReadOnly))
        return false;
    return maps.readAll().contains(QFileInfo(file).canonicalFilePath().toUtf8());
}

} // namespace

class tst_PluginManager : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void goodPluginLoadsAndRegisters();
    void oneObjectProvidesSeveralKinds();
    void wrongInterfaceIsRefusedFromMetadata();
    void nonPluginsAreSkipped();
    void unloadableLibraryIsSkipped();
    void nameClashIsSkipped();
    void duplicatePluginNameKeepsTheFirst();
    void disableAndEnableAreRememberedAndApplied();
    void unknownNameAndDamagedStateFile();
    void defaultSearchPathIsBesideTheExecutable();

private:
    QTemporaryDir m_dir;
    QString m_workspace;
    std::unique_ptr<PluginManager> m_manager;
    QList<PluginInfo> m_plugins;
};

void tst_PluginManager::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
    m_workspace = m_dir.filePath(QStringLiteral("ws"));
    // A file that merely looks like a library by its name.
    const QString junkDir = m_dir.filePath(QStringLiteral("junk"));
    QVERIFY(QDir().mkpath(junkDir));
    QFile junk(junkDir + QStringLiteral("/garbage.so"));
    QVERIFY(junk.open(QIODevice::WriteOnly));
    junk.write("this is not an ELF file\n");
    junk.close();
    // A second copy of example-arch, later on the path: same plugin name.
    const QString copyDir = m_dir.filePath(QStringLiteral("copy"));
    QVERIFY(QDir().mkpath(copyDir));
    QVERIFY(QFile::copy(QStringLiteral(MS_PLUGIN_DIR "/example-arch.so"),
                        copyDir + QStringLiteral("/example-arch-copy.so")));

    m_manager = std::make_unique<PluginManager>(
        QStringList{QStringLiteral(MS_TEST_PLUGIN_DIR), junkDir, QStringLiteral(MS_PLUGIN_DIR),
                    copyDir, m_dir.filePath(QStringLiteral("does-not-exist"))});
    m_manager->loadAll(m_workspace);
    QVERIFY(m_manager->isLoaded());
    m_plugins = m_manager->plugins();
    // Every library found is listed, loaded or not: the fixtures, the junk file, the three
    // shipped plugins and the copy.
    const int fixtures = QDir(QStringLiteral(MS_TEST_PLUGIN_DIR)).entryList(QDir::Files).size();
    QVERIFY(fixtures >= 3);
    QCOMPARE(m_plugins.size(), fixtures + 1 + 3 + 1);
}

void tst_PluginManager::goodPluginLoadsAndRegisters()
{
    const PluginInfo *p = find(m_plugins, QStringLiteral("example-arch"));
    QVERIFY(p);
    QCOMPARE(pluginStateName(p->state), QStringLiteral("loaded"));
    QCOMPARE(p->version, QStringLiteral("1.0.0"));
    QCOMPARE(p->interfaceVersion, kPluginInterfaceVersion);
    QCOMPARE(p->providers, QStringList{QStringLiteral("architecture:linear")});
    QVERIFY(p->reason.isEmpty());
    const QJsonObject spec = ArchitectureRegistry::instance().resolve(QStringLiteral("linear"),
                                                                      {1, 28, 28}, 10);
    QCOMPARE(spec.value(QStringLiteral("name")).toString(), QStringLiteral("linear"));
    QVERIFY(m_manager->instances().size() >= 3);   // example-arch, resnet, imagefolder

    const PluginInfo *resnet = find(m_plugins, QStringLiteral("resnet"));
    QVERIFY(resnet && resnet->state == PluginInfo::State::Loaded);
    QVERIFY(resnet->providers.contains(QStringLiteral("architecture:resnet-20-w32")));
    const PluginInfo *images = find(m_plugins, QStringLiteral("imagefolder"));
    QVERIFY(images && images->state == PluginInfo::State::Loaded);
    QCOMPARE(images->providers, QStringList{QStringLiteral("reader:imagefolder")});
}

void tst_PluginManager::oneObjectProvidesSeveralKinds()
{
    const PluginInfo *p = find(m_plugins, QStringLiteral("multi"));
    QVERIFY(p);
    QCOMPARE(p->state, PluginInfo::State::Loaded);
    QCOMPARE(p->providers, (QStringList{"architecture:multi-arch", "compression:multi-compress",
                                        "exporter:multi-export"}));
    QVERIFY(ArchitectureRegistry::instance().providers().find(QStringLiteral("multi-arch")));
    QCOMPARE(CompressionRegistry::instance().method(QStringLiteral("multi-compress"))->name(),
             QStringLiteral("multi-compress"));
    QCOMPARE(ExporterRegistry::instance().exporter(QStringLiteral("multi-export"))->name(),
             QStringLiteral("multi-export"));

    // Disabling takes every kind out; enabling puts every kind back.
    m_manager->setEnabled(m_workspace, QStringLiteral("multi"), false);
    QVERIFY(!ArchitectureRegistry::instance().providers().find(QStringLiteral("multi-arch")));
    QVERIFY(!CompressionRegistry::instance().methods().find(QStringLiteral("multi-compress")));
    QVERIFY(!ExporterRegistry::instance().exporters().find(QStringLiteral("multi-export")));
    QVERIFY(errorOf([] { ExporterRegistry::instance().exporter(QStringLiteral("multi-export")); })
                .contains(QStringLiteral("multi-export")));
    m_manager->setEnabled(m_workspace, QStringLiteral("multi"), true);
    QVERIFY(CompressionRegistry::instance().methods().find(QStringLiteral("multi-compress")));
    QVERIFY(ExporterRegistry::instance().exporters().find(QStringLiteral("multi-export")));
    QVERIFY(ArchitectureRegistry::instance().providers().find(QStringLiteral("multi-arch")));
}

void tst_PluginManager::wrongInterfaceIsRefusedFromMetadata()
{
    const PluginInfo *p = find(m_plugins, QStringLiteral("wrong-interface"));
    QVERIFY(p);
    QCOMPARE(p->state, PluginInfo::State::Skipped);
    QCOMPARE(p->interfaceVersion, 999);
    QVERIFY2(p->reason.contains(QStringLiteral("interface version 999"))
                 && p->reason.contains(QStringLiteral("provides version %1")
                                           .arg(kPluginInterfaceVersion)),
             qPrintable(p->reason));
    // Decided from the metadata alone: its code was never loaded.
    QVERIFY(!ArchitectureRegistry::instance().providers().find(QStringLiteral("must-not-load")));
    QVERIFY(!isMapped(p->file));
    QVERIFY(isMapped(find(m_plugins, QStringLiteral("example-arch"))->file));   // the probe works
}

void tst_PluginManager::nonPluginsAreSkipped()
{
    const PluginInfo *lib = find(m_plugins, QStringLiteral("notaplugin"));
    QVERIFY(lib);
    QCOMPARE(lib->state, PluginInfo::State::Skipped);
    QVERIFY2(lib->reason.startsWith(QStringLiteral("not a plugin")), qPrintable(lib->reason));
    const PluginInfo *junk = find(m_plugins, QStringLiteral("garbage"));
    QVERIFY(junk);
    QCOMPARE(junk->state, PluginInfo::State::Skipped);
    QVERIFY2(junk->reason.startsWith(QStringLiteral("not a plugin")), qPrintable(junk->reason));
}

void tst_PluginManager::unloadableLibraryIsSkipped()
{
    const PluginInfo *p = find(m_plugins, QStringLiteral("unloadable"));
    QVERIFY(p);
    QCOMPARE(p->state, PluginInfo::State::Skipped);
    QVERIFY2(p->reason.startsWith(QStringLiteral("cannot be loaded"))
                 && p->reason.contains(QStringLiteral("modelstudio_test_missing_variable")),
             qPrintable(p->reason));
    QVERIFY(p->providers.isEmpty());
}

void tst_PluginManager::nameClashIsSkipped()
{
    const PluginInfo *p = find(m_plugins, QStringLiteral("clash"));
    QVERIFY(p);
    QCOMPARE(p->state, PluginInfo::State::Skipped);
    QVERIFY2(p->reason.contains(
                 QStringLiteral("architecture \"mlp\" is already registered by the studio's "
                                "built-ins")),
             qPrintable(p->reason));
    // The built-in is still the one registered.
    QVERIFY(ArchitectureRegistry::instance().providers().find(QStringLiteral("mlp"))
                ->description().startsWith(QStringLiteral("Multilayer perceptron")));
}

void tst_PluginManager::duplicatePluginNameKeepsTheFirst()
{
    int copies = 0;
    for (const PluginInfo &p : m_plugins) {
        if (p.name != QLatin1String("example-arch"))
            continue;
        ++copies;
        if (p.file.endsWith(QLatin1String("example-arch-copy.so"))) {
            QCOMPARE(p.state, PluginInfo::State::Skipped);
            QVERIFY2(p.reason.contains(QStringLiteral("already taken from")), qPrintable(p.reason));
        } else {
            QCOMPARE(p.state, PluginInfo::State::Loaded);
        }
    }
    QCOMPARE(copies, 2);
}

void tst_PluginManager::disableAndEnableAreRememberedAndApplied()
{
    auto &archs = ArchitectureRegistry::instance().providers();
    QVERIFY(archs.find(QStringLiteral("linear")));

    m_manager->setEnabled(m_workspace, QStringLiteral("example-arch"), false);
    QVERIFY(!archs.find(QStringLiteral("linear")));
    QCOMPARE(PluginManager::disabledNames(m_workspace), QStringList{"example-arch"});
    const PluginInfo *p = find(m_manager->plugins(), QStringLiteral("example-arch"));
    QCOMPARE(p->state, PluginInfo::State::Disabled);
    QVERIFY(p->reason.contains(QStringLiteral("--enable example-arch")));

    // A fresh manager reads the choice and leaves the plugin alone.
    PluginManager second({QStringLiteral(MS_PLUGIN_DIR)});
    QTemporaryDir other;
    QVERIFY(QFile::copy(PluginManager::stateFile(m_workspace),
                        PluginManager::stateFile(other.path())));
    // Only the metadata of example-arch is read there: its name is free, so were it loaded
    // it would register "linear" again.
    second.loadAll(other.path());
    QCOMPARE(find(second.plugins(), QStringLiteral("example-arch"))->state,
             PluginInfo::State::Disabled);
    QVERIFY(!archs.find(QStringLiteral("linear")));

    m_manager->setEnabled(m_workspace, QStringLiteral("example-arch"), true);
    QVERIFY(archs.find(QStringLiteral("linear")));
    QVERIFY(PluginManager::disabledNames(m_workspace).isEmpty());
    QCOMPARE(find(m_manager->plugins(), QStringLiteral("example-arch"))->state,
             PluginInfo::State::Loaded);
}

void tst_PluginManager::unknownNameAndDamagedStateFile()
{
    const QString error = errorOf(
        [&] { m_manager->setEnabled(m_workspace, QStringLiteral("nope"), false); });
    QVERIFY2(error.contains(QStringLiteral("No plugin named \"nope\""))
                 && error.contains(QStringLiteral("example-arch")),
             qPrintable(error));

    QTemporaryDir ws;
    QFile file(PluginManager::stateFile(ws.path()));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("[1, 2");
    file.close();
    const QString damaged = errorOf([&] { PluginManager::disabledNames(ws.path()); });
    QVERIFY2(damaged.contains(QStringLiteral("plugins.json")), qPrintable(damaged));
    // Nothing already saved is overwritten by a change the file cannot take.
    QVERIFY(!errorOf([&] {
                 m_manager->setEnabled(ws.path(), QStringLiteral("example-arch"), false);
             }).isEmpty());
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), QByteArray("[1, 2"));
}

void tst_PluginManager::defaultSearchPathIsBesideTheExecutable()
{
    qputenv("MODELSTUDIO_PLUGIN_PATH", "/first:/second");
    const QStringList paths = PluginManager::defaultSearchPaths();
    qunsetenv("MODELSTUDIO_PLUGIN_PATH");
    QCOMPARE(paths.size(), 3);
    QCOMPARE(paths.at(0), QStringLiteral("/first"));
    QCOMPARE(paths.at(1), QStringLiteral("/second"));
    // Tests run from bin/ of the build tree, which mirrors the installed layout.
    QCOMPARE(QDir(paths.at(2)).canonicalPath(),
             QDir(QStringLiteral(MS_PLUGIN_DIR)).canonicalPath());
}

QTEST_GUILESS_MAIN(tst_PluginManager)
#include "tst_pluginmanager.moc"
