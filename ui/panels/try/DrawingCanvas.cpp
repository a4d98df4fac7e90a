#include "panels/try/DrawingCanvas.h"

#include <QMouseEvent>
#include <QPainter>

namespace ms::ui {

DrawingCanvas::DrawingCanvas(QWidget *parent)
    : QWidget(parent)
    , m_image(kSide, kSide, QImage::Format_Grayscale8)
{
    setFixedSize(kSide, kSide);
    setCursor(Qt::CrossCursor);
    setMouseTracking(true); // moves arrive however the platform reports the button
    setToolTip(tr("Draw with the mouse; the drawing is explained when you let go"));
    m_image.fill(Qt::black);
}

void DrawingCanvas::clear()
{
    m_image.fill(Qt::black);
    m_empty = true;
    update();
    Q_EMIT cleared();
}

std::vector<float> DrawingCanvas::values(int width, int height) const
{
    const QImage small = m_image.scaled(width, height, Qt::IgnoreAspectRatio,
                                        Qt::SmoothTransformation);
    std::vector<float> out(size_t(width) * size_t(height));
    for (int y = 0; y < height; ++y) {
        const uchar *row = small.constScanLine(y);
        for (int x = 0; x < width; ++x)
            out[size_t(y) * size_t(width) + size_t(x)] = float(row[x]) / 255.0f;
    }
    return out;
}

void DrawingCanvas::paintEvent(QPaintEvent *)
{
    QPainter painter(this);
    painter.drawImage(rect(), m_image);
    if (m_empty) {
        painter.setPen(QColor(0x90, 0x90, 0x90));
        painter.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, tr("Draw here"));
    }
}

void DrawingCanvas::mousePressEvent(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton)
        return;
    m_drawing = true;
    m_last = event->position().toPoint();
    strokeTo(m_last); // a click leaves a dot
}

void DrawingCanvas::mouseMoveEvent(QMouseEvent *event)
{
    if (m_drawing)
        strokeTo(event->position().toPoint());
}

void DrawingCanvas::mouseReleaseEvent(QMouseEvent *event)
{
    if (!m_drawing || event->button() != Qt::LeftButton)
        return;
    strokeTo(event->position().toPoint());
    m_drawing = false;
    Q_EMIT strokeFinished();
}

void DrawingCanvas::strokeTo(const QPoint &at)
{
    QPainter painter(&m_image);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setPen(QPen(Qt::white, kPenWidth, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    painter.drawLine(m_last, at);
    m_last = at;
    m_empty = false;
    update();
}

} // namespace ms::ui
