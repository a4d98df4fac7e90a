// The window's side of plugins: Help > Plugins lists what PluginManager found and its check
// boxes enable and disable plugins; a plugin's panel joins the navigation.

#include "shell/MainWindow.h"
#include "shell/PluginTableModel.h"
#include "shell/PluginsDialog.h"

#include "models/ArchitectureRegistry.h"
#include "plugins/PluginManager.h"

#include <QAction>
#include <QLabel>
#include <QMenuBar>
#include <QTableView>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using namespace ms;

class tst_PluginsDialog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        // Before the manager's first use: it reads the path once.
        qputenv("MODELSTUDIO_PLUGIN_PATH", MS_TEST_PLUGIN_DIR);
        PluginManager::instance().loadAll(m_dir.path());
    }

    void listsPluginsWithReasons()
    {
        ui::PluginsDialog dialog(m_dir.path());
        const ui::PluginTableModel *model = dialog.model();
        QVERIFY(model->rowCount() >= 5);
        QHash<QString, int> rows;
        for (int r = 0; r < model->rowCount(); ++r)
            rows.insert(model->plugin(r).name, r);
        QVERIFY(rows.contains("example-arch") && rows.contains("wrong-interface"));
        const auto text = [&](const char *name, int column) {
            return model->data(model->index(rows.value(QLatin1String(name)), column)).toString();
        };
        QCOMPARE(text("example-arch", ui::PluginTableModel::StateColumn), QStringLiteral("loaded"));
        QCOMPARE(text("example-arch", ui::PluginTableModel::DetailColumn),
                 QStringLiteral("architecture:linear"));
        QCOMPARE(text("wrong-interface", ui::PluginTableModel::StateColumn),
                 QStringLiteral("skipped"));
        QVERIFY(text("wrong-interface", ui::PluginTableModel::DetailColumn)
                    .contains(QStringLiteral("interface version 999")));
        QCOMPARE(text("panel-fixture", ui::PluginTableModel::DetailColumn),
                 QStringLiteral("panels"));
    }

    void checkBoxDisablesAndEnables()
    {
        ui::PluginsDialog dialog(m_dir.path());
        ui::PluginTableModel *model = dialog.model();
        int row = -1;
        for (int r = 0; r < model->rowCount(); ++r) {
            if (model->plugin(r).name == QLatin1String("example-arch"))
                row = r;
        }
        const QModelIndex box = model->index(row, ui::PluginTableModel::EnabledColumn);
        QVERIFY(model->flags(box) & Qt::ItemIsUserCheckable);
        QCOMPARE(model->data(box, Qt::CheckStateRole).value<Qt::CheckState>(), Qt::Checked);

        QVERIFY(model->setData(box, Qt::Unchecked, Qt::CheckStateRole));
        QVERIFY(!ArchitectureRegistry::instance().providers().find(QStringLiteral("linear")));
        QCOMPARE(PluginManager::disabledNames(m_dir.path()), QStringList{"example-arch"});
        QCOMPARE(model->data(model->index(row, ui::PluginTableModel::StateColumn)).toString(),
                 QStringLiteral("disabled"));
        QCOMPARE(model->data(box, Qt::CheckStateRole).value<Qt::CheckState>(), Qt::Unchecked);

        QVERIFY(model->setData(box, Qt::Checked, Qt::CheckStateRole));
        QVERIFY(ArchitectureRegistry::instance().providers().find(QStringLiteral("linear")));
        QVERIFY(PluginManager::disabledNames(m_dir.path()).isEmpty());
        QVERIFY(dialog.message().isEmpty());
    }

    void windowHasThePluginPanelAndTheMenuEntry()
    {
        ui::MainWindow window(m_dir.path());
        QVERIFY(window.addPluginPanels().isEmpty());
        QVERIFY(window.panelIds().contains(QStringLiteral("hello")));
        QVERIFY(window.showPanel(QStringLiteral("hello")));
        auto *label = window.findChild<QLabel *>(QStringLiteral("helloLabel"));
        QVERIFY(label);
        QCOMPARE(label->text(), QStringLiteral("workspace: ") + m_dir.path());
        // Twice would clash: the second attempt is reported, not added.
        QCOMPARE(window.addPluginPanels().size(), 1);
        // Help › Plugins… is there to list them.
        QVERIFY(window.pluginsAction());
        QVERIFY(window.menuBar()->findChildren<QAction *>().contains(window.pluginsAction()));
    }

private:
    QTemporaryDir m_dir;
};

QTEST_MAIN(tst_PluginsDialog)
#include "tst_pluginsdialog.moc"
