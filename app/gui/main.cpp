// The studio window: a QApplication around ms::ui::Studio, which reads the options, makes the
// window and applies them (ui/shell/Studio.h); the tests drive the same object.
#include "shell/StartupOptions.h"
#include "shell/Studio.h"

#include "common/StartupTuning.h"

#include <QApplication>
#include <QCommandLineParser>

#include <cstdio>

namespace {

void printLine(const QString &text)
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

} // namespace

int main(int argc, char **argv)
{
    // Before anything else: may start the process again with BLAS kernels that fit the CPU.
    ms::startup::tuneAtStartup(argc, argv);
    QCommandLineParser parser;
    ms::ui::StartupOptions::addTo(parser);
    if (ms::ui::StartupOptions::asksOnlyForInformation(argc, argv)) {
        // Answered without a display: QApplication needs a platform plugin.
        QCoreApplication app(argc, argv);
        setApplicationNames();
        parser.process(app);   // prints and exits
        return 0;
    }

    QApplication app(argc, argv);
    setApplicationNames();
    QApplication::setApplicationDisplayName(QStringLiteral("ModelStudio"));
    // Matches the installed modelstudio.desktop: launchers find the window's icon by it.
    QGuiApplication::setDesktopFileName(QStringLiteral("modelstudio"));
    parser.process(app);
    QString error;
    const std::optional<ms::ui::StartupOptions> options =
        ms::ui::StartupOptions::from(parser, &error);
    if (!options) {
        printLine(error);
        return 2;
    }

    ms::ui::Studio studio(*options);
    QObject::connect(&studio, &ms::ui::Studio::message, &app, &printLine);
    QObject::connect(&studio, &ms::ui::Studio::finished, &app, &QCoreApplication::exit);
    if (!studio.open(&error)) {
        printLine(error);
        return 2;
    }
    studio.show();
    return QApplication::exec();
}
