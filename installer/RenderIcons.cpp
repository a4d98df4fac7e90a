// Build-time tool: writes the app icon as hicolor PNGs for the installed .desktop entry.
// It renders ms::ui::appIcon(), the icon the window shows (the SVG through Qt's svg plugin,
// or the same motif painted in code where the plugin is missing), so the launcher and the
// window never disagree and no PNG has to be kept in the repository beside the SVG.
#include "common/Icons.h"

#include <QDir>
#include <QGuiApplication>
#include <QImage>
#include <QPixmap>

#include <cstdio>

int main(int argc, char **argv)
{
    // No display at build time.
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QGuiApplication app(argc, argv);
    if (argc != 2) {
        std::fprintf(stderr, "usage: ms-render-icons OUTPUT_DIR\n");
        return 2;
    }
    const QDir out(QString::fromLocal8Bit(argv[1]));
    const QIcon icon = ms::ui::appIcon();
    for (int size : {16, 24, 32, 48, 64, 128, 256}) {
        const QString dir = QStringLiteral("%1x%1/apps").arg(size);
        if (!out.mkpath(dir)) {
            std::fprintf(stderr, "ms-render-icons: cannot create %s\n",
                         qPrintable(out.filePath(dir)));
            return 1;
        }
        QImage image = icon.pixmap(size, size).toImage();
        if (image.size() != QSize(size, size))
            image = image.scaled(size, size, Qt::KeepAspectRatio, Qt::SmoothTransformation);
        const QString path = out.filePath(dir + QStringLiteral("/modelstudio.png"));
        if (!image.save(path)) {
            std::fprintf(stderr, "ms-render-icons: cannot write %s\n", qPrintable(path));
            return 1;
        }
    }
    return 0;
}
