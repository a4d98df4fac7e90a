#include "shell/StartupOptions.h"

#include <QCommandLineParser>
#include <QRegularExpression>

namespace ms::ui {

namespace {

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

QList<QCommandLineOption> studioOptions()
{
    const auto valued = [](const char *name, const QString &help, const char *valueName) {
        return QCommandLineOption(QString::fromLatin1(name), help, QString::fromLatin1(valueName));
    };
    return {
        valued("workspace",
               QStringLiteral("Keep runs and versions in DIR (default: $MODELSTUDIO_WORKSPACE, "
                              "else ~/.local/share/modelstudio)."),
               "DIR"),
        valued("screenshot",
               QStringLiteral("Render the window to the PNG FILE once laid out, then exit."),
               "FILE"),
        valued("panel",
               QStringLiteral("Open on panel NAME (data, train, versions, compare, serve, "
                              "optimize, try, chat). With "
                              "--screenshot, data waits for its dataset, compare checks the "
                              "newest three versions, try explains test sample 0 with "
                              "them and chat asks the newest language model one question."),
               "NAME"),
        valued("compare-tab",
               QStringLiteral("Open the Compare panel on tab NAME (curves, variants). With "
                              "--screenshot, variants checks the newest four benchmarked "
                              "versions."),
               "NAME"),
        valued("config",
               QStringLiteral("Fill the Train panel from a job spec JSON (what modelstudio-cli "
                              "train --config takes)."),
               "FILE"),
        valued("processes",
               QStringLiteral("Set the Train panel's Processes field to N (data-parallel "
                              "workers on this computer, 1 to 64)."),
               "N"),
        QCommandLineOption(QStringLiteral("start"),
                           QStringLiteral("Start the Train panel's run at once; with "
                                          "--screenshot, the picture is taken when the run "
                                          "ends.")),
        valued("serve",
               QStringLiteral("Open on the Serve panel serving REF (NAME, NAME:N or NAME@ALIAS; "
                              "repeat for several models)."),
               "REF"),
        valued("port", QStringLiteral("The Serve panel's port (default 8765)."), "N"),
        valued("screenshot-delay",
               QStringLiteral("Wait MS milliseconds before taking the --screenshot (default "
                              "300), e.g. to let a server started with --serve answer some "
                              "requests."),
               "MS"),
        valued("dataset",
               QStringLiteral("Open the Data panel reading SOURCE (a built-in name such as "
                              "fashion-mnist, a dataset folder or file)."),
               "SOURCE"),
        valued("select", QStringLiteral("Select version REF (NAME:N) in the Versions panel."),
               "REF"),
        valued("window-size",
               QStringLiteral("Open the window at WIDTHxHEIGHT pixels (e.g. 1024x640, no smaller "
                              "than the window's minimum), to see the layout at that size; a "
                              "--screenshot has that size."),
               "WxH"),
    };
}

} // namespace

void StartupOptions::addTo(QCommandLineParser &parser)
{
    parser.setApplicationDescription(
        QStringLiteral("Train, compress, track and serve TorchScript models."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOptions(studioOptions());
}

std::optional<StartupOptions> StartupOptions::from(const QCommandLineParser &parser,
                                                   QString *error)
{
    const auto fail = [error](const QString &why) -> std::optional<StartupOptions> {
        if (error)
            *error = why;
        return std::nullopt;
    };
    const auto value = [&parser](const char *name) {
        return parser.value(QString::fromLatin1(name));
    };
    const auto isSet = [&parser](const char *name) {
        return parser.isSet(QString::fromLatin1(name));
    };
    // A valued option given an empty value is a mistake (a shell variable that was not set),
    // not a request for the default. (An empty --workspace has long meant the default one.)
    for (const char *name : {"panel", "compare-tab", "config", "processes", "serve", "port",
                             "dataset", "select", "window-size", "screenshot",
                             "screenshot-delay"}) {
        for (const QString &given : parser.values(QString::fromLatin1(name))) {
            if (given.trimmed().isEmpty())
                return fail(QStringLiteral("--%1 wants a value, not an empty one")
                                .arg(QLatin1String(name)));
        }
    }
    StartupOptions options;
    options.workspace = value("workspace");
    options.panel = value("panel");
    options.config = value("config");
    options.start = isSet("start");
    options.serve = parser.values(QStringLiteral("serve"));
    options.dataset = value("dataset").trimmed();
    options.select = value("select").trimmed();
    options.screenshot = value("screenshot");
    options.compareTab = value("compare-tab");
    if (!options.compareTab.isEmpty() && options.compareTab != QLatin1String("curves")
        && options.compareTab != QLatin1String("variants"))
        return fail(QStringLiteral("--compare-tab is curves or variants, not \"%1\"")
                        .arg(options.compareTab));
    if (isSet("port")) {
        bool ok = false;
        const uint port = value("port").toUInt(&ok);
        if (!ok || port < 1 || port > 65535)
            return fail(QStringLiteral("--port wants a number from 1 to 65535, not \"%1\"")
                            .arg(value("port")));
        options.port = quint16(port);
    }
    if (isSet("processes")) {
        bool ok = false;
        options.processes = value("processes").toInt(&ok);
        if (!ok || options.processes < 1 || options.processes > 64)
            return fail(QStringLiteral("--processes wants a number from 1 to 64, not \"%1\"")
                            .arg(value("processes")));
    }
    if (isSet("screenshot-delay")) {
        bool ok = false;
        options.screenshotDelay_ms = value("screenshot-delay").toInt(&ok);
        if (!ok || options.screenshotDelay_ms < 0)
            return fail(QStringLiteral("--screenshot-delay wants milliseconds, not \"%1\"")
                            .arg(value("screenshot-delay")));
    }
    if (isSet("window-size")) {
        options.windowSize = parseWindowSize(value("window-size"));
        if (!options.windowSize.isValid())
            return fail(QStringLiteral("--window-size wants WIDTHxHEIGHT in pixels, from 320x240 "
                                       "up, such as 1024x640; not \"%1\"")
                            .arg(value("window-size")));
    }
    return options;
}

std::optional<StartupOptions> StartupOptions::parse(const QStringList &arguments, QString *error)
{
    QCommandLineParser parser;
    addTo(parser);
    if (!parser.parse(arguments)) {
        if (error)
            *error = parser.errorText();
        return std::nullopt;
    }
    return from(parser, error);
}

bool StartupOptions::asksOnlyForInformation(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        const QByteArray arg(argv[i]);
        if (arg == "-v" || arg == "--version" || arg == "-h" || arg == "--help"
            || arg == "--help-all")
            return true;
    }
    return false;
}

} // namespace ms::ui
