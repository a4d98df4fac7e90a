#include "common/Icons.h"

#include <QImageReader>
#include <QPainter>
#include <QPainterPath>
#include <QPixmap>

// Q_INIT_RESOURCE must be used outside any namespace; the .qrc lives in a static library, whose
// resources the linker drops unless something references them.
static void initModelStudioResources()
{
    Q_INIT_RESOURCE(modelstudio);
}

namespace ms::ui {

namespace {

// The falling loss curve with three nodes, on a blue rounded square: the SVG's motif.
QPixmap paintAppIcon(int size)
{
    QPixmap pixmap(size, size);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.scale(size / 256.0, size / 256.0);

    QLinearGradient background(0, 0, 0, 256);
    background.setColorAt(0.0, QColor(0x2b, 0x6c, 0xd4));
    background.setColorAt(1.0, QColor(0x17, 0x3f, 0x8a));
    painter.setPen(Qt::NoPen);
    painter.setBrush(background);
    painter.drawRoundedRect(QRectF(8, 8, 240, 240), 48, 48);

    painter.setPen(QPen(QColor(255, 255, 255, 60), 6, Qt::SolidLine, Qt::RoundCap));
    painter.drawLine(QPointF(48, 204), QPointF(212, 204));
    painter.drawLine(QPointF(48, 204), QPointF(48, 48));

    QPainterPath curve;
    curve.moveTo(60, 64);
    curve.cubicTo(92, 150, 120, 168, 208, 176);
    painter.setPen(QPen(Qt::white, 14, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    painter.setBrush(Qt::NoBrush);
    painter.drawPath(curve);

    painter.setPen(QPen(QColor(0x17, 0x3f, 0x8a), 6));
    painter.setBrush(QColor(0xff, 0xb3, 0x40));
    for (const QPointF &node : {QPointF(60, 64), QPointF(112, 150), QPointF(208, 176)})
        painter.drawEllipse(node, 16, 16);
    return pixmap;
}

QPixmap paintTrainIcon(int size, const QColor &color)
{
    QPixmap pixmap(size, size);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.scale(size / 32.0, size / 32.0);
    painter.setPen(QPen(color, 2, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    painter.drawPolyline(QPolygonF({QPointF(5, 4), QPointF(5, 27), QPointF(28, 27)}));
    QPainterPath curve;
    curve.moveTo(8, 7);
    curve.cubicTo(12, 18, 16, 21, 27, 22);
    painter.setPen(QPen(color, 2.5, Qt::SolidLine, Qt::RoundCap));
    painter.drawPath(curve);
    return pixmap;
}

// A server box with two lit slots and a signal arc: "on the network".
QPixmap paintServeIcon(int size, const QColor &color)
{
    QPixmap pixmap(size, size);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.scale(size / 32.0, size / 32.0);
    painter.setPen(QPen(color, 2, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    painter.setBrush(Qt::NoBrush);
    painter.drawRoundedRect(QRectF(4, 13, 20, 7), 1.5, 1.5);
    painter.drawRoundedRect(QRectF(4, 22, 20, 7), 1.5, 1.5);
    painter.setBrush(color);
    painter.drawEllipse(QPointF(8, 16.5), 1, 1);
    painter.drawEllipse(QPointF(8, 25.5), 1, 1);
    painter.setBrush(Qt::NoBrush);
    QPainterPath arcs;
    arcs.arcMoveTo(QRectF(18, 3, 12, 12), 0);
    arcs.arcTo(QRectF(18, 3, 12, 12), 0, 90);
    arcs.arcMoveTo(QRectF(21, 6, 6, 6), 0);
    arcs.arcTo(QRectF(21, 6, 6, 6), 0, 90);
    painter.drawPath(arcs);
    return pixmap;
}

// Three stacked cards with a tag dot on the front one: "stored versions".
QPixmap paintVersionsIcon(int size, const QColor &color)
{
    QPixmap pixmap(size, size);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.scale(size / 32.0, size / 32.0);
    painter.setPen(QPen(color, 2, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    painter.setBrush(Qt::NoBrush);
    painter.drawPolyline(QPolygonF({QPointF(10, 8), QPointF(10, 4), QPointF(28, 4),
                                    QPointF(28, 18), QPointF(24, 18)}));
    painter.drawPolyline(QPolygonF({QPointF(7, 12), QPointF(7, 8), QPointF(24, 8),
                                    QPointF(24, 22), QPointF(20, 22)}));
    painter.drawRoundedRect(QRectF(3, 12, 17, 16), 1.5, 1.5);
    painter.setBrush(color);
    painter.drawEllipse(QPointF(8, 17), 1.5, 1.5);
    painter.setBrush(Qt::NoBrush);
    painter.drawLine(QPointF(7, 23), QPointF(16, 23));
    return pixmap;
}

// A 2x2 grid of image tiles, one holding a bar chart: "samples and their classes".
QPixmap paintDataIcon(int size, const QColor &color)
{
    QPixmap pixmap(size, size);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.scale(size / 32.0, size / 32.0);
    painter.setPen(QPen(color, 2, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    painter.setBrush(Qt::NoBrush);
    painter.drawRoundedRect(QRectF(4, 4, 10, 10), 1.5, 1.5);
    painter.drawRoundedRect(QRectF(18, 4, 10, 10), 1.5, 1.5);
    painter.drawRoundedRect(QRectF(4, 18, 10, 10), 1.5, 1.5);
    painter.drawLine(QPointF(19, 28), QPointF(19, 23));
    painter.drawLine(QPointF(23, 28), QPointF(23, 18));
    painter.drawLine(QPointF(27, 28), QPointF(27, 21));
    return pixmap;
}

// Two crossing curves over an axis: "runs side by side".
QPixmap paintCompareIcon(int size, const QColor &color)
{
    QPixmap pixmap(size, size);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.scale(size / 32.0, size / 32.0);
    painter.setPen(QPen(color, 2, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    painter.setBrush(Qt::NoBrush);
    painter.drawPolyline(QPolygonF({QPointF(4, 4), QPointF(4, 28), QPointF(28, 28)}));
    QPainterPath first;
    first.moveTo(7, 8);
    first.cubicTo(11, 19, 16, 22, 27, 23);
    painter.setPen(QPen(color, 2.5, Qt::SolidLine, Qt::RoundCap));
    painter.drawPath(first);
    QPainterPath second;
    second.moveTo(7, 13);
    second.cubicTo(13, 14, 18, 15, 27, 10);
    painter.setPen(QPen(color, 2, Qt::DotLine, Qt::RoundCap));
    painter.drawPath(second);
    return pixmap;
}

// Three parallel axes crossed by two trials' polylines: the Optimize panel's chart.
QPixmap paintOptimizeIcon(int size, const QColor &color)
{
    QPixmap pixmap(size, size);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.scale(size / 32.0, size / 32.0);
    painter.setBrush(Qt::NoBrush);
    painter.setPen(QPen(color, 2, Qt::SolidLine, Qt::RoundCap));
    for (const double x : {5.0, 16.0, 27.0})
        painter.drawLine(QPointF(x, 4), QPointF(x, 28));
    painter.setPen(QPen(color, 2.5, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    painter.drawPolyline(QPolygonF({QPointF(5, 22), QPointF(16, 9), QPointF(27, 7)}));
    painter.setPen(QPen(color, 1.8, Qt::DotLine, Qt::RoundCap, Qt::RoundJoin));
    painter.drawPolyline(QPolygonF({QPointF(5, 10), QPointF(16, 20), QPointF(27, 24)}));
    return pixmap;
}

// A magnifying glass over a small grid: looking at what a model sees in an image.
QPixmap paintTryIcon(int size, const QColor &color)
{
    QPixmap pixmap(size, size);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.scale(size / 32.0, size / 32.0);
    painter.setBrush(Qt::NoBrush);
    painter.setPen(QPen(color, 2.5, Qt::SolidLine, Qt::RoundCap));
    painter.drawEllipse(QPointF(13, 13), 8.5, 8.5);
    painter.drawLine(QPointF(19.5, 19.5), QPointF(28, 28));
    painter.setPen(Qt::NoPen);
    painter.setBrush(color);
    painter.drawRect(QRectF(9, 9, 3.5, 3.5));
    painter.drawRect(QRectF(13.5, 13.5, 3.5, 3.5));
    return pixmap;
}

// A speech bubble with three lines of text: the Chat panel.
QPixmap paintChatIcon(int size, const QColor &color)
{
    QPixmap pixmap(size, size);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.scale(size / 32.0, size / 32.0);
    painter.setBrush(Qt::NoBrush);
    painter.setPen(QPen(color, 2.2, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    QPainterPath bubble;
    bubble.addRoundedRect(QRectF(3, 4, 26, 18), 5, 5);
    bubble.moveTo(9, 22);
    bubble.lineTo(7, 29);
    bubble.lineTo(15, 22);
    painter.drawPath(bubble);
    painter.setPen(QPen(color, 2, Qt::SolidLine, Qt::RoundCap));
    painter.drawLine(QPointF(8, 10), QPointF(24, 10));
    painter.drawLine(QPointF(8, 16), QPointF(19, 16));
    return pixmap;
}

// A navigation icon at the sizes the navigation list asks for, tinted with `color`.
QIcon tintedIcon(QPixmap (*paint)(int, const QColor &), const QColor &color)
{
    QIcon icon;
    for (int size : {16, 24, 32, 48, 64})
        icon.addPixmap(paint(size, color));
    return icon;
}

} // namespace

QIcon appIcon()
{
    static const QIcon icon = [] {
        initModelStudioResources();
        if (QImageReader::supportedImageFormats().contains("svg"))
            return QIcon(QStringLiteral(":/modelstudio/icons/modelstudio.svg"));
        QIcon painted;
        for (int size : {16, 24, 32, 48, 64, 128, 256})
            painted.addPixmap(paintAppIcon(size));
        return painted;
    }();
    return icon;
}

QIcon trainIcon(const QColor &color)
{
    return tintedIcon(paintTrainIcon, color);
}

QIcon serveIcon(const QColor &color)
{
    return tintedIcon(paintServeIcon, color);
}

QIcon versionsIcon(const QColor &color)
{
    return tintedIcon(paintVersionsIcon, color);
}

QIcon dataIcon(const QColor &color)
{
    return tintedIcon(paintDataIcon, color);
}

QIcon compareIcon(const QColor &color)
{
    return tintedIcon(paintCompareIcon, color);
}

QIcon optimizeIcon(const QColor &color)
{
    return tintedIcon(paintOptimizeIcon, color);
}

QIcon tryIcon(const QColor &color)
{
    return tintedIcon(paintTryIcon, color);
}

QIcon chatIcon(const QColor &color)
{
    return tintedIcon(paintChatIcon, color);
}

} // namespace ms::ui
