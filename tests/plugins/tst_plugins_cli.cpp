// `modelstudio-cli plugins` and what plugins change for the other verbs, driving the real CLI:
// the shipped plugins load, broken ones are listed with the reason and the CLI keeps working,
// --disable / --enable are remembered per workspace.

#include "app/CliRun.h"

#include <QJsonArray>
#include <QTemporaryDir>
#include <QtTest>

using namespace ms::test;

namespace {

QJsonObject pluginNamed(const QJsonObject &listing, const QString &name)
{
    for (const QJsonValue &v : listing.value(QStringLiteral("plugins")).toArray()) {
        if (v.toObject().value(QStringLiteral("name")).toString() == name)
            return v.toObject();
    }
    return {};
}

QStringList archNames(const CliRun &run)
{
    QStringList names;
    for (const QJsonValue &v : run.json().value(QStringLiteral("architectures")).toArray())
        names << v.toObject().value(QStringLiteral("name")).toString();
    return names;
}

} // namespace

class tst_PluginsCli : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }
    void cleanup() { qunsetenv("MODELSTUDIO_PLUGIN_PATH"); }

    void listsTheShippedPlugins()
    {
        const CliRun run = runCli({"plugins", "--json", "--workspace", ws()});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        const QJsonObject listing = run.json();
        for (const char *name : {"example-arch", "resnet", "imagefolder"}) {
            const QJsonObject p = pluginNamed(listing, QLatin1String(name));
            QCOMPARE(p.value(QStringLiteral("state")).toString(), QStringLiteral("loaded"));
            QVERIFY(!p.value(QStringLiteral("version")).toString().isEmpty());
            QVERIFY(p.value(QStringLiteral("file")).toString().endsWith(
                QStringLiteral("/lib/modelstudio/plugins/%1.so").arg(QLatin1String(name))));
            QVERIFY(!p.value(QStringLiteral("providers")).toArray().isEmpty());
        }
        QCOMPARE(listing.value(QStringLiteral("state_file")).toString(),
                 ws() + QStringLiteral("/plugins.json"));

        const CliRun text = runCli({"plugins", "--workspace", ws()});
        QVERIFY2(text.exitCode == 0, qPrintable(text.err));
        QVERIFY(text.out.contains(QStringLiteral("architecture: linear")));
        QVERIFY(text.out.contains(QStringLiteral("reader: imagefolder")));
        QVERIFY(text.out.contains(QStringLiteral("architectures: resnet, resnet-8-w8, ")));
    }

    // The smallest example plugin of docs/plugins.md works end to end.
    void exampleArchitectureIsUsable()
    {
        const CliRun run = runCli({"archs", "linear", "--json", "--workspace", ws()});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        // 784 * 10 weights + 10 biases.
        QCOMPARE(run.json().value(QStringLiteral("summary")).toObject()
                     .value(QStringLiteral("total_params")).toInteger(), 7850);
    }

    void brokenPluginsAreListedAndTheCliStillWorks()
    {
        qputenv("MODELSTUDIO_PLUGIN_PATH", MS_TEST_PLUGIN_DIR);
        const CliRun run = runCli({"plugins", "--json", "--workspace", ws()});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        const QJsonObject listing = run.json();
        const QJsonObject wrong = pluginNamed(listing, QStringLiteral("wrong-interface"));
        QCOMPARE(wrong.value(QStringLiteral("state")).toString(), QStringLiteral("skipped"));
        QVERIFY(wrong.value(QStringLiteral("reason")).toString()
                    .contains(QStringLiteral("interface version 999")));
        const QJsonObject lib = pluginNamed(listing, QStringLiteral("notaplugin"));
        QCOMPARE(lib.value(QStringLiteral("state")).toString(), QStringLiteral("skipped"));
        QVERIFY(lib.value(QStringLiteral("reason")).toString()
                    .startsWith(QStringLiteral("not a plugin")));
        const QJsonObject unloadable = pluginNamed(listing, QStringLiteral("unloadable"));
        QCOMPARE(unloadable.value(QStringLiteral("state")).toString(), QStringLiteral("skipped"));
        QVERIFY(unloadable.value(QStringLiteral("reason")).toString()
                    .startsWith(QStringLiteral("cannot be loaded")));
        const QJsonObject clash = pluginNamed(listing, QStringLiteral("clash"));
        QCOMPARE(clash.value(QStringLiteral("state")).toString(), QStringLiteral("skipped"));
        QVERIFY(clash.value(QStringLiteral("reason")).toString()
                    .contains(QStringLiteral("architecture \"mlp\"")));
        QCOMPARE(pluginNamed(listing, QStringLiteral("resnet")).value(QStringLiteral("state"))
                     .toString(), QStringLiteral("loaded"));
        QCOMPARE(listing.value(QStringLiteral("search_paths")).toArray().first().toString(),
                 QStringLiteral(MS_TEST_PLUGIN_DIR));

        // Other verbs are untouched: no warning on stderr, the built-ins as before.
        const CliRun archs = runCli({"archs", "--json", "--workspace", ws()});
        QVERIFY2(archs.exitCode == 0, qPrintable(archs.err));
        QVERIFY2(archs.err.isEmpty(), qPrintable(archs.err));
        const QStringList names = archNames(archs);
        QVERIFY(names.contains(QStringLiteral("mlp")) && names.contains(QStringLiteral("cnn")));
        QVERIFY(!names.contains(QStringLiteral("must-not-load")));
        const CliRun version = runCli({"--version"});
        QCOMPARE(version.exitCode, 0);
    }

    void disableAndEnableAreRemembered()
    {
        const QString workspace = m_dir.filePath(QStringLiteral("toggle"));
        const CliRun off = runCli({"plugins", "--disable", "resnet", "--json",
                                   "--workspace", workspace});
        QVERIFY2(off.exitCode == 0, qPrintable(off.err));
        QCOMPARE(pluginNamed(off.json(), QStringLiteral("resnet")).value(QStringLiteral("state"))
                     .toString(), QStringLiteral("disabled"));
        // The next process honours it; another workspace does not share it.
        QVERIFY(!archNames(runCli({"archs", "--json", "--workspace", workspace}))
                     .contains(QStringLiteral("resnet")));
        QVERIFY(archNames(runCli({"archs", "--json", "--workspace", ws()}))
                    .contains(QStringLiteral("resnet")));
        const CliRun usage = runCli({"train", "--arch", "resnet", "--dataset", "fashion-mnist",
                                     "--workspace", workspace});
        QVERIFY(usage.exitCode != 0);
        QVERIFY2(usage.errorLine().contains(QStringLiteral("Unknown architecture \"resnet\"")),
                 qPrintable(usage.err));

        const CliRun on = runCli({"plugins", "--enable", "resnet", "--json",
                                  "--workspace", workspace});
        QVERIFY2(on.exitCode == 0, qPrintable(on.err));
        QCOMPARE(pluginNamed(on.json(), QStringLiteral("resnet")).value(QStringLiteral("state"))
                     .toString(), QStringLiteral("loaded"));
        QVERIFY(archNames(runCli({"archs", "--json", "--workspace", workspace}))
                    .contains(QStringLiteral("resnet")));
    }

    void badRequestsGetOneClearLine()
    {
        const CliRun unknown = runCli({"plugins", "--disable", "nope", "--workspace", ws()});
        QCOMPARE(unknown.exitCode, 1);
        QVERIFY2(unknown.errorLine().contains(QStringLiteral("No plugin named \"nope\"")),
                 qPrintable(unknown.err));
        const CliRun both = runCli({"plugins", "--enable", "a", "--disable", "b",
                                    "--workspace", ws()});
        QCOMPARE(both.exitCode, 2);
        QVERIFY(!both.errorLine().isEmpty());
    }

private:
    QString ws() const { return m_dir.filePath(QStringLiteral("ws")); }

    QTemporaryDir m_dir;
};

QTEST_GUILESS_MAIN(tst_PluginsCli)
#include "tst_plugins_cli.moc"
