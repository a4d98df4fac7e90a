#pragma once

#include <QSize>
#include <QString>
#include <QStringList>

#include <optional>

class QCommandLineParser;

namespace ms::ui {

// What the studio executable was asked on its command line, read and checked before any
// window exists: a value that cannot work is refused with one line naming the option and
// what it takes. Studio applies them.
struct StartupOptions
{
    // Lets the event loop lay the window out and the plots draw their first frame.
    static constexpr int kDefaultScreenshotDelay_ms = 300;

    QString workspace;     // --workspace; empty: $MODELSTUDIO_WORKSPACE, the last one, the default
    QString panel;         // --panel: the id of the panel to open on
    QString compareTab;    // --compare-tab: "curves" or "variants"; empty: as it was left
    QString config;        // --config: a job spec filling the Train panel
    bool start = false;    // --start: the Train panel's run starts at once
    int processes = 0;     // --processes: the Train panel's Processes field; 0: as it was left
    QStringList serve;     // --serve, repeated: the Serve panel serves these and listens
    quint16 port = 0;      // --port; 0: the Serve panel's own
    QString dataset;       // --dataset: the Data panel reads this source
    QString select;        // --select: the version selected in the Versions panel
    QSize windowSize;      // --window-size; invalid: the saved or the default size
    QString screenshot;    // --screenshot: draw the window to this PNG, then exit
    int screenshotDelay_ms = kDefaultScreenshotDelay_ms;

    // Declares the options (and --help, --version) on `parser`.
    static void addTo(QCommandLineParser &parser);
    // Reads a parser that has processed the arguments. Nullopt, with `error` set, when a
    // value cannot work.
    static std::optional<StartupOptions> from(const QCommandLineParser &parser, QString *error);
    // addTo, parse and from in one: `arguments` starts with the program name. Unknown options
    // are an error here; --help and --version are the caller's (QCommandLineParser::process).
    static std::optional<StartupOptions> parse(const QStringList &arguments, QString *error);
    // True when the arguments ask only for --help or --version, which must be answered
    // without a display (before a QApplication exists).
    static bool asksOnlyForInformation(int argc, char **argv);
};

} // namespace ms::ui
