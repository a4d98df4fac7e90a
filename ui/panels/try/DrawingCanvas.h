#pragma once

#include <QImage>
#include <QPoint>
#include <QWidget>

#include <vector>

namespace ms::ui {

// A square to draw on with the mouse for models of 28x28 grey images: thick white strokes on
// black, as MNIST and Fashion-MNIST images look. The picture is kept at kSide pixels and
// scaled down (area-averaged) when the model reads it, so strokes get the soft edges the
// datasets' images have. `strokeFinished` fires when the button is released.
class DrawingCanvas final : public QWidget
{
    Q_OBJECT

public:
    static constexpr int kSide = 224; // 8 x 28
    static constexpr int kPenWidth = 20; // ~2.5 pixels of 28: the datasets' stroke width

    explicit DrawingCanvas(QWidget *parent = nullptr);

    void clear();
    bool isEmpty() const { return m_empty; }
    // The drawing scaled to `width` x `height`, one grey value in [0, 1] per pixel, row-major.
    std::vector<float> values(int width, int height) const;
    QSize sizeHint() const override { return {kSide, kSide}; }

Q_SIGNALS:
    void strokeFinished();
    void cleared();

protected:
    void paintEvent(QPaintEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;

private:
    void strokeTo(const QPoint &at);

    QImage m_image;
    QPoint m_last;
    bool m_drawing = false;
    bool m_empty = true;
};

} // namespace ms::ui
