#pragma once

#include <QColor>
#include <QFrame>
#include <QString>
#include <QVector>

class QGridLayout;
class QLabel;

namespace ms::ui {

// One benchmarked variant at a glance, the way Edge Impulse sets float32 beside int8: its name
// and kind, then accuracy, latency, size and memory, each with its change against the baseline
// coloured green when better and red when worse. The Compare panel lays one per variant in a
// row, the baseline's first.
class VariantCard final : public QFrame
{
    Q_OBJECT

public:
    struct Line
    {
        QString name;    // "Accuracy"
        QString value;   // "91.2 %"
        QString delta;   // "−0.3 pt", "2.1× faster"; empty on the baseline or when unknown
        int better = 0;  // +1 better than the baseline, -1 worse, 0 neither
    };

    explicit VariantCard(QWidget *parent = nullptr);

    void setContent(const QString &title, const QString &subtitle, const QColor &color,
                    bool baseline, const QVector<Line> &lines);

    QString title() const { return m_titleText; }
    // Its contents' minimum, and no narrower than kMinimumWidth: an explicit minimum width
    // would win over the contents' (qSmartMinSize) and let a row of cards cut "330.7 KiB".
    QSize minimumSizeHint() const override;
    static constexpr int kMinimumWidth = 180;
    const QVector<Line> &lines() const { return m_lines; }

private:
    QLabel *m_title = nullptr;
    QLabel *m_subtitle = nullptr;
    QGridLayout *m_grid = nullptr;
    QString m_titleText;
    QVector<Line> m_lines;
};

} // namespace ms::ui
