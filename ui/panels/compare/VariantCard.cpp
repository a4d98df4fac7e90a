#include "panels/compare/VariantCard.h"

#include <QGridLayout>
#include <QLabel>
#include <QLayoutItem>
#include <QVBoxLayout>

namespace ms::ui {

VariantCard::VariantCard(QWidget *parent)
    : QFrame(parent)
{
    setObjectName(QStringLiteral("variantCard"));
    setFrameShape(QFrame::StyledPanel);
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Maximum);
    m_title = new QLabel(this);
    QFont bold = m_title->font();
    bold.setBold(true);
    bold.setPointSizeF(bold.pointSizeF() * 1.1);
    m_title->setFont(bold);
    m_subtitle = new QLabel(this);
    m_subtitle->setStyleSheet(QStringLiteral("color: #666666;"));
    m_grid = new QGridLayout;
    m_grid->setHorizontalSpacing(8);
    m_grid->setVerticalSpacing(4);
    m_grid->setColumnStretch(0, 1);
    m_grid->setColumnStretch(1, 1);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(10, 8, 10, 8);
    layout->setSpacing(4);
    layout->addWidget(m_title);
    layout->addWidget(m_subtitle);
    layout->addSpacing(2);
    layout->addLayout(m_grid);
}

QSize VariantCard::minimumSizeHint() const
{
    return QFrame::minimumSizeHint().expandedTo(QSize(kMinimumWidth, 0));
}

void VariantCard::setContent(const QString &title, const QString &subtitle, const QColor &color,
                             bool baseline, const QVector<Line> &lines)
{
    m_titleText = title;
    m_lines = lines;
    m_title->setText(title);
    m_subtitle->setText(baseline ? tr("%1 · baseline").arg(subtitle) : subtitle);
    // The variant's colour in the scatter, as a bar down the card's left edge.
    setStyleSheet(QStringLiteral("QFrame#variantCard { background: %1; border: 1px solid "
                                 "#d0d0d0; border-left: 4px solid %2; border-radius: 3px; }")
                      .arg(baseline ? QStringLiteral("#f7f7f7") : QStringLiteral("#ffffff"),
                           color.name()));

    while (QLayoutItem *item = m_grid->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    // Tiles two by two, caption over value over change: narrow enough for four cards side by
    // side, and each number large enough to read at a glance.
    for (int i = 0; i < lines.size(); ++i) {
        const Line &line = lines[i];
        auto *tile = new QWidget(this);
        auto *tileLayout = new QVBoxLayout(tile);
        tileLayout->setContentsMargins(0, 2, 6, 2);
        tileLayout->setSpacing(0);
        auto *name = new QLabel(line.name, tile);
        name->setStyleSheet(QStringLiteral("color: #666666;"));
        auto *value = new QLabel(line.value, tile);
        QFont valueFont = value->font();
        valueFont.setBold(true);
        valueFont.setPointSizeF(valueFont.pointSizeF() * 1.15);
        value->setFont(valueFont);
        // An empty change keeps its line, so the tiles of every card line up.
        auto *delta = new QLabel(line.delta.isEmpty() ? QStringLiteral(" ") : line.delta, tile);
        delta->setStyleSheet(line.better > 0   ? QStringLiteral("color: #2e7d32;")
                             : line.better < 0 ? QStringLiteral("color: #c62828;")
                                               : QStringLiteral("color: #777777;"));
        tileLayout->addWidget(name);
        tileLayout->addWidget(value);
        tileLayout->addWidget(delta);
        m_grid->addWidget(tile, i / 2, i % 2);
    }
}

} // namespace ms::ui
