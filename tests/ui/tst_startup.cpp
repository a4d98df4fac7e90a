// The studio's start-up, as app/gui/main.cpp runs it (StartupOptions, then Studio): each option
// that cannot work is refused with one message naming it, before a window is shown; the ones
// that can are applied to the real window (panel, tab, config, port, size, selection).
// Offscreen, isolated workspace; no training.
#include "panels/compare/ComparePanel.h"
#include "panels/serve/ServePanel.h"
#include "panels/train/TrainForm.h"
#include "panels/train/TrainPanel.h"
#include "shell/MainWindow.h"
#include "shell/StartupOptions.h"
#include "shell/Studio.h"

#include <QComboBox>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using ms::ui::StartupOptions;
using ms::ui::Studio;

class TestStartup final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void badValuesAreRefused_data();
    void badValuesAreRefused();
    void goodValuesAreRead();
    void windowRefusesWhatItCannotOpen_data();
    void windowRefusesWhatItCannotOpen();
    void windowOpensAsAsked();
    void screenshotIsTakenAndFinishes();

private:
    QStringList args(const QStringList &rest) const;

    QTemporaryDir m_dir;
};

void TestStartup::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
}

QStringList TestStartup::args(const QStringList &rest) const
{
    return QStringList{QStringLiteral("modelstudio"), QStringLiteral("--workspace"),
                       m_dir.filePath(QStringLiteral("ws"))}
           + rest;
}

void TestStartup::badValuesAreRefused_data()
{
    QTest::addColumn<QStringList>("rest");
    QTest::addColumn<QString>("named");   // in the message
    QTest::newRow("port 0") << QStringList{"--port", "0"} << "--port";
    QTest::newRow("port word") << QStringList{"--port", "http"} << "--port";
    QTest::newRow("port too big") << QStringList{"--port", "70000"} << "--port";
    QTest::newRow("delay") << QStringList{"--screenshot-delay", "-5"} << "--screenshot-delay";
    QTest::newRow("size") << QStringList{"--window-size", "1024"} << "--window-size";
    QTest::newRow("size too small") << QStringList{"--window-size", "100x100"}
                                    << "--window-size";
    QTest::newRow("tab") << QStringList{"--compare-tab", "tables"} << "--compare-tab";
    QTest::newRow("empty panel") << QStringList{"--panel", ""} << "--panel";
    QTest::newRow("empty dataset") << QStringList{"--dataset", " "} << "--dataset";
    QTest::newRow("unknown option") << QStringList{"--colour", "red"} << "colour";
}

void TestStartup::badValuesAreRefused()
{
    QFETCH(QStringList, rest);
    QFETCH(QString, named);
    QString error;
    QVERIFY(!StartupOptions::parse(args(rest), &error));
    QVERIFY2(error.contains(named), qPrintable(error));
}

void TestStartup::goodValuesAreRead()
{
    QString error;
    const auto options = StartupOptions::parse(
        args({"--panel", "compare", "--compare-tab", "variants", "--port", "8799",
              "--window-size", "1024X640", "--serve", "a:1", "--serve", "b@prod", "--start",
              "--screenshot", "x.png", "--screenshot-delay", "0", "--dataset", " fashion-mnist ",
              "--select", "net:2"}),
        &error);
    QVERIFY2(options, qPrintable(error));
    QCOMPARE(options->workspace, m_dir.filePath(QStringLiteral("ws")));
    QCOMPARE(options->panel, QStringLiteral("compare"));
    QCOMPARE(options->compareTab, QStringLiteral("variants"));
    QCOMPARE(options->port, quint16(8799));
    QCOMPARE(options->windowSize, QSize(1024, 640));
    QCOMPARE(options->serve, QStringList({QStringLiteral("a:1"), QStringLiteral("b@prod")}));
    QVERIFY(options->start);
    QCOMPARE(options->screenshot, QStringLiteral("x.png"));
    QCOMPARE(options->screenshotDelay_ms, 0);
    QCOMPARE(options->dataset, QStringLiteral("fashion-mnist"));
    QCOMPARE(options->select, QStringLiteral("net:2"));

    const auto defaults = StartupOptions::parse({QStringLiteral("modelstudio")}, &error);
    QVERIFY2(defaults, qPrintable(error));
    QCOMPARE(defaults->screenshotDelay_ms, StartupOptions::kDefaultScreenshotDelay_ms);
    QVERIFY(!defaults->windowSize.isValid());
    QCOMPARE(defaults->port, quint16(0));
}

void TestStartup::windowRefusesWhatItCannotOpen_data()
{
    QTest::addColumn<QStringList>("rest");
    QTest::addColumn<QStringList>("named");   // all in the message
    QTest::newRow("panel") << QStringList{"--panel", "nowhere"}
                           << QStringList{"nowhere", "versions"};
    QTest::newRow("dataset") << QStringList{"--dataset", "no-such-dataset"}
                             << QStringList{"no-such-dataset", "fashion-mnist"};
    QTest::newRow("select") << QStringList{"--select", "ghost:3"} << QStringList{"ghost:3"};
    QTest::newRow("serve") << QStringList{"--serve", "ghost"} << QStringList{"ghost"};
    QTest::newRow("config") << QStringList{"--config", "/no/such/spec.json"}
                            << QStringList{"/no/such/spec.json"};
}

void TestStartup::windowRefusesWhatItCannotOpen()
{
    QFETCH(QStringList, rest);
    QFETCH(QStringList, named);
    QString error;
    const auto options = StartupOptions::parse(args(rest), &error);
    QVERIFY2(options, qPrintable(error));
    Studio studio(*options);
    QVERIFY(!studio.open(&error));
    for (const QString &part : named)
        QVERIFY2(error.contains(part), qPrintable(error));
    QVERIFY(!studio.window() || !studio.window()->isVisible());
}

void TestStartup::windowOpensAsAsked()
{
    const QString spec = m_dir.filePath(QStringLiteral("spec.json"));
    QFile file(spec);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(R"({"dataset": "fashion-mnist", "arch": "cnn", "epochs": 7, "limit": 600})");
    file.close();
    QString error;
    const auto options = StartupOptions::parse(
        args({"--panel", "compare", "--compare-tab", "variants", "--config", spec, "--port",
              "8799", "--window-size", "1100x700"}),
        &error);
    QVERIFY2(options, qPrintable(error));
    Studio studio(*options);
    QVERIFY2(studio.open(&error), qPrintable(error));
    ms::ui::MainWindow *window = studio.window();
    QCOMPARE(window->currentPanel()->id(), QStringLiteral("compare"));
    QCOMPARE(window->size(), QSize(1100, 700));
    QCOMPARE(window->panel<ms::ui::ComparePanel>()->tabs()->currentIndex(),
             int(ms::ui::ComparePanel::VariantsTab));
    ms::ui::TrainForm *form = window->panel<ms::ui::TrainPanel>()->form();
    QCOMPARE(form->epochsSpin()->value(), 7);
    QCOMPARE(form->limitSpin()->value(), 600);
    QCOMPARE(form->architectureCombo()->currentText(), QStringLiteral("cnn"));
    QCOMPARE(window->panel<ms::ui::ServePanel>()->port(), quint16(8799));
}

void TestStartup::screenshotIsTakenAndFinishes()
{
    const QString shot = m_dir.filePath(QStringLiteral("versions.png"));
    QString error;
    const auto options = StartupOptions::parse(
        args({"--panel", "versions", "--window-size", "1024x640", "--screenshot", shot,
              "--screenshot-delay", "0"}),
        &error);
    QVERIFY2(options, qPrintable(error));
    Studio studio(*options);
    QSignalSpy finished(&studio, &Studio::finished);
    QVERIFY2(studio.open(&error), qPrintable(error));
    studio.show();
    QVERIFY(finished.wait(30000));
    QCOMPARE(finished.first().first().toInt(), 0);
    const QImage image(shot);
    QCOMPARE(image.size(), QSize(1024, 640));
}

QTEST_MAIN(TestStartup)
#include "tst_startup.moc"
