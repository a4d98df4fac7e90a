// The studio window: a thin main over ModelStudio::Ui (DESIGN.md §2).
#include "ComparePanel.h"
#include "DataPanel.h"
#include "MainWindow.h"
#include "ServePanel.h"
#include "StudioPanels.h"
#include "StudioSettings.h"
#include "TrainForm.h"
#include "TrainPanel.h"
#include "VersionsPanel.h"

#include "common/Error.h"
#include "common/StartupTuning.h"
#include "common/Workspace.h"
#include "data/DatasetRegistry.h"
#include "jobs/JobRunner.h"
#include "plugins/PluginManager.h"
#include "train/TrainConfig.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QPixmap>
#include <QRegularExpression>
#include <QStatusBar>
#include <QTimer>

#include <cstdio>

namespace {

// Lets the event loop lay the window out and the plots draw their first frame before grabbing.
constexpr int kScreenshotDelay_ms = 300;

void printError(const QString &text)
{
    std::fprintf(stderr, "modelstudio: %s\n", qPrintable(text));
}

void setApplicationNames()
{
    QCoreApplication::setOrganizationName(QStringLiteral("ModelStudio"));
    QCoreApplication::setOrganizationDomain(QStringLiteral("modelstudio.local"));
    QCoreApplication::setApplicationName(QStringLiteral("modelstudio"));
    QCoreApplication::setApplicationVersion(QStringLiteral(MODELSTUDIO_VERSION));
}

struct Options
{
    QCommandLineOption workspace{
        QStringLiteral("workspace"),
        QStringLiteral("Keep runs and versions in DIR (default: $MODELSTUDIO_WORKSPACE, "
                       "else ~/.local/share/modelstudio)."),
        QStringLiteral("DIR")};
    QCommandLineOption screenshot{
        QStringLiteral("screenshot"),
        QStringLiteral("Render the window to the PNG FILE once laid out, then exit."),
        QStringLiteral("FILE")};
    QCommandLineOption panel{
        QStringLiteral("panel"),
        QStringLiteral("Open on panel NAME (data, train, versions, compare, serve). With "
                       "--screenshot, data waits for its dataset and compare checks the "
                       "newest three versions."),
        QStringLiteral("NAME")};
    QCommandLineOption compareTab{
        QStringLiteral("compare-tab"),
        QStringLiteral("Open the Compare panel on tab NAME (curves, variants). With "
                       "--screenshot, variants checks the newest four benchmarked versions."),
        QStringLiteral("NAME")};
    QCommandLineOption config{
        QStringLiteral("config"),
        QStringLiteral("Fill the Train panel from a job spec JSON (what modelstudio-cli train "
                       "--config takes)."),
        QStringLiteral("FILE")};
    QCommandLineOption start{
        QStringLiteral("start"),
        QStringLiteral("Start the Train panel's run at once; with --screenshot, the picture is "
                       "taken when the run ends.")};
    QCommandLineOption serve{
        QStringLiteral("serve"),
        QStringLiteral("Open on the Serve panel serving REF (NAME, NAME:N or NAME@ALIAS; "
                       "repeat for several models)."),
        QStringLiteral("REF")};
    QCommandLineOption port{QStringLiteral("port"),
                            QStringLiteral("The Serve panel's port (default 8765)."),
                            QStringLiteral("N")};
    QCommandLineOption screenshotDelay{
        QStringLiteral("screenshot-delay"),
        QStringLiteral("Wait MS milliseconds before taking the --screenshot (default 300), "
                       "e.g. to let a server started with --serve answer some requests."),
        QStringLiteral("MS")};
    QCommandLineOption dataset{
        QStringLiteral("dataset"),
        QStringLiteral("Open the Data panel reading SOURCE (a built-in name such as "
                       "fashion-mnist, a dataset folder or file)."),
        QStringLiteral("SOURCE")};
    QCommandLineOption select{
        QStringLiteral("select"),
        QStringLiteral("Select version REF (NAME:N) in the Versions panel."),
        QStringLiteral("REF")};
    QCommandLineOption windowSize{
        QStringLiteral("window-size"),
        QStringLiteral("Open the window at WIDTHxHEIGHT pixels (e.g. 1024x640, no smaller than "
                       "the window's minimum), to see the layout at that size; a --screenshot "
                       "has that size."),
        QStringLiteral("WxH")};
};

void setUpParser(QCommandLineParser &parser, const Options &options)
{
    parser.setApplicationDescription(
        QStringLiteral("Train, compress, track and serve TorchScript models."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOptions({options.workspace, options.screenshot, options.panel, options.compareTab,
                       options.config, options.start, options.serve, options.port,
                       options.screenshotDelay, options.dataset, options.select,
                       options.windowSize});
}

// --version and --help must work without a display, so they are answered before QApplication
// (which needs a platform plugin) exists.
bool onlyAsksForInformation(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        const QByteArray arg(argv[i]);
        if (arg == "-v" || arg == "--version" || arg == "-h" || arg == "--help"
            || arg == "--help-all")
            return true;
    }
    return false;
}

// Reads a job spec for --config; throws ms::Error naming the file and what is wrong.
ms::TrainConfig readConfig(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw ms::Error(QStringLiteral("cannot read the config %1: %2")
                            .arg(path, file.errorString()));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &error);
    if (!doc.isObject())
        throw ms::Error(QStringLiteral("%1 is not a JSON object (%2 at offset %3)")
                            .arg(path, error.errorString(), QString::number(error.offset)));
    return ms::TrainConfig::fromJson(doc.object());
}

// "1024x640" -> QSize(1024, 640); an invalid size for anything else or out of range.
QSize parseWindowSize(const QString &text)
{
    static const QRegularExpression pattern(QStringLiteral("^(\\d{3,5})[xX](\\d{3,5})$"));
    const QRegularExpressionMatch match = pattern.match(text.trimmed());
    if (!match.hasMatch())
        return {};
    const QSize size(match.captured(1).toInt(), match.captured(2).toInt());
    constexpr int kLargest_px = 16384;
    if (size.width() < 320 || size.height() < 240 || size.width() > kLargest_px
        || size.height() > kLargest_px)
        return {};
    return size;
}

bool isBuiltinDataset(const QString &name)
{
    for (const auto &builtin : ms::DatasetRegistry::instance().builtins().all()) {
        if (builtin->name() == name)
            return true;
    }
    return false;
}

bool saveScreenshot(QWidget &window, const QString &file)
{
    const QPixmap pixmap = window.grab();
    if (pixmap.isNull() || !pixmap.save(file, "PNG")) {
        printError(QStringLiteral("cannot write the screenshot to %1")
                       .arg(QDir::toNativeSeparators(file)));
        return false;
    }
    return true;
}

} // namespace

int main(int argc, char **argv)
{
    // Before anything else: may start the process again with BLAS kernels that fit the CPU.
    ms::startup::tuneAtStartup(argc, argv);
    const Options options;
    if (onlyAsksForInformation(argc, argv)) {
        QCoreApplication app(argc, argv);
        setApplicationNames();
        QCommandLineParser parser;
        setUpParser(parser, options);
        parser.process(app);   // prints and exits
        return 0;
    }

    QApplication app(argc, argv);
    setApplicationNames();
    QApplication::setApplicationDisplayName(QStringLiteral("ModelStudio"));
    // Matches the installed modelstudio.desktop: launchers find the window's icon by it.
    QGuiApplication::setDesktopFileName(QStringLiteral("modelstudio"));
    QCommandLineParser parser;
    setUpParser(parser, options);
    parser.process(app);

    // --workspace, else $MODELSTUDIO_WORKSPACE, else the one last opened in the window, else the
    // default.
    QString workspaceFlag = parser.value(options.workspace);
    if (workspaceFlag.isEmpty() && qEnvironmentVariableIsEmpty("MODELSTUDIO_WORKSPACE"))
        workspaceFlag = ms::ui::StudioSettings::workspace();
    const QString workspace = ms::Workspace::resolve(workspaceFlag);
    QString workspaceError;
    try {
        ms::Workspace(workspace).ensure();
    } catch (const ms::Error &e) {
        // The window still opens: the error shows again, in place, when a run needs the folder.
        workspaceError = e.message();
        printError(workspaceError);
    }

    // Before any panel asks the registries for architectures and readers. A broken plugin is
    // skipped and listed in Help > Plugins; it never keeps the window from opening.
    ms::PluginManager::instance().loadAll(workspace);

    const bool screenshot = parser.isSet(options.screenshot);
    ms::ui::MainWindow window(workspace);
    window.setPanelFactory(&ms::ui::addStudioPanels);
    // Only used before the first workspace switch, which rebuilds the panels.
    auto *trainPanel = window.panel<ms::ui::TrainPanel>();
    auto *servePanel = window.panel<ms::ui::ServePanel>();
    // A screenshot shows the defaults and must not overwrite the user's saved layout.
    if (!screenshot)
        window.restoreSettings();
    if (parser.isSet(options.panel) && !window.showPanel(parser.value(options.panel))) {
        printError(QStringLiteral("no panel named \"%1\"; known panels: %2")
                       .arg(parser.value(options.panel),
                            window.panelIds().join(QLatin1String(", "))));
        return 2;
    }
    bool variantsTab = false;
    if (parser.isSet(options.compareTab)) {
        const QString tab = parser.value(options.compareTab);
        if (tab != QLatin1String("curves") && tab != QLatin1String("variants")) {
            printError(QStringLiteral("--compare-tab is curves or variants, not \"%1\"")
                           .arg(tab));
            return 2;
        }
        variantsTab = tab == QLatin1String("variants");
        window.panel<ms::ui::ComparePanel>()->showTab(variantsTab
                                                          ? ms::ui::ComparePanel::VariantsTab
                                                          : ms::ui::ComparePanel::CurvesTab);
    }
    if (parser.isSet(options.config)) {
        try {
            trainPanel->form()->setConfig(readConfig(parser.value(options.config)));
        } catch (const ms::Error &e) {
            printError(e.message());
            return 2;
        }
    }
    if (parser.isSet(options.port)) {
        bool ok = false;
        const uint port = parser.value(options.port).toUInt(&ok);
        if (!ok || port < 1 || port > 65535) {
            printError(QStringLiteral("--port wants a number from 1 to 65535, not \"%1\"")
                           .arg(parser.value(options.port)));
            return 2;
        }
        servePanel->setPort(quint16(port));
    }
    int screenshotDelay_ms = kScreenshotDelay_ms;
    if (parser.isSet(options.screenshotDelay)) {
        bool ok = false;
        screenshotDelay_ms = parser.value(options.screenshotDelay).toInt(&ok);
        if (!ok || screenshotDelay_ms < 0) {
            printError(QStringLiteral("--screenshot-delay wants milliseconds, not \"%1\"")
                           .arg(parser.value(options.screenshotDelay)));
            return 2;
        }
    }
    if (parser.isSet(options.windowSize)) {
        const QSize size = parseWindowSize(parser.value(options.windowSize));
        if (!size.isValid()) {
            printError(QStringLiteral("--window-size wants WIDTHxHEIGHT in pixels, from 320x240 "
                                      "up, such as 1024x640; not \"%1\"")
                           .arg(parser.value(options.windowSize)));
            return 2;
        }
        window.resize(size);
    }
    auto *dataPanel = window.panel<ms::ui::DataPanel>();
    const QString datasetSource = parser.value(options.dataset).trimmed();
    if (parser.isSet(options.dataset)) {
        if (!isBuiltinDataset(datasetSource) && !QFileInfo::exists(datasetSource)) {
            QStringList builtins;
            for (const auto &builtin : ms::DatasetRegistry::instance().builtins().all())
                builtins << builtin->name();
            printError(QStringLiteral("--dataset: \"%1\" is neither a built-in dataset (%2) nor "
                                      "an existing file or folder")
                           .arg(datasetSource, builtins.join(QLatin1String(", "))));
            return 2;
        }
        if (!parser.isSet(options.panel))
            window.showPanel(dataPanel->id());
    }
    if (parser.isSet(options.select)) {
        auto *versionsPanel = window.panel<ms::ui::VersionsPanel>();
        const QString ref = parser.value(options.select).trimmed();
        if (!versionsPanel->selectRef(ref)) {
            printError(QStringLiteral("--select: no version \"%1\" in this workspace; give "
                                      "NAME:N as the Versions panel lists it")
                           .arg(ref));
            return 2;
        }
    }
    const QStringList serveRefs = parser.values(options.serve);
    if (!serveRefs.isEmpty()) {
        // The models asked for, not the ones remembered from the last session.
        servePanel->clearModels();
        for (const QString &ref : serveRefs) {
            if (!servePanel->addModel(ref)) {
                printError(servePanel->statusText());
                return 2;
            }
        }
        window.showPanel(servePanel->id());
    }
    if (!workspaceError.isEmpty())
        window.statusBar()->showMessage(workspaceError);
    const bool startRun = parser.isSet(options.start);
    // Chosen before show(): a panel shown even for a moment does its first-show work (the Data
    // panel starts reading its dataset, whose job would end before the run and be taken for it).
    if (startRun)
        window.showPanel(trainPanel->id());
    // Before show(): the Data panel's first show reads its current source otherwise.
    if (parser.isSet(options.dataset))
        dataPanel->load(datasetSource);
    window.show();

    if (startRun)
        QTimer::singleShot(0, trainPanel, [trainPanel] { trainPanel->start(); });
    if (!serveRefs.isEmpty()) {
        QTimer::singleShot(0, servePanel, [servePanel] {
            servePanel->start();
            // A port in use or a model that fails to load shows in the panel; say it here too.
            if (servePanel->statusIsError())
                printError(servePanel->statusText());
            else
                std::fprintf(stderr, "modelstudio: serving on %s\n",
                             qPrintable(servePanel->url()));
        });
    }
    if (screenshot) {
        const QString file = parser.value(options.screenshot);
        auto grabAndQuit = [&window, file] {
            QCoreApplication::exit(saveScreenshot(window, file) ? 0 : 1);
        };
        const QString shownPanel = parser.isSet(options.panel)
                                       ? parser.value(options.panel)
                                       : (parser.isSet(options.dataset) ? dataPanel->id()
                                                                        : QString());
        if (shownPanel == QLatin1String("compare") && variantsTab)
            window.panel<ms::ui::ComparePanel>()->selectBenchmarked(4);
        else if (shownPanel == QLatin1String("compare"))
            window.panel<ms::ui::ComparePanel>()->selectNewest(3);
        if (startRun) {
            // The picture of a run is worth taking once its curves are complete.
            QObject::connect(window.jobRunner(), &ms::JobRunner::finished, &window,
                             [&window, grabAndQuit, screenshotDelay_ms] {
                                 QTimer::singleShot(screenshotDelay_ms, &window, grabAndQuit);
                             });
        } else if (shownPanel == QLatin1String("data")) {
            // The samples and the histogram exist once the dataset is read (on a worker). A
            // dataset that cannot be read is pictured with its message, and said here too.
            QObject::connect(
                dataPanel, &ms::ui::DataPanel::loaded, &window,
                [&window, dataPanel, file, screenshotDelay_ms](bool ok) {
                    if (!ok)
                        printError(dataPanel->statusText());
                    QTimer::singleShot(screenshotDelay_ms, &window, [&window, file, ok] {
                        const bool saved = saveScreenshot(window, file);
                        QCoreApplication::exit(saved && ok ? 0 : 1);
                    });
                },
                Qt::SingleShotConnection);
        } else {
            QTimer::singleShot(screenshotDelay_ms, &window, grabAndQuit);
        }
    }
    return QApplication::exec();
}
