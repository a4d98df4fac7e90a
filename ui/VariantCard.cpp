#include "VariantCard.h"

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
    setMinimumWidth(190);
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Maximum);
    m_title = new QLabel(this);
    QFont bold = m_title->font();
    bold.setBold(true);
    bold.setPointSizeF(bold.pointSizeF() * 1.1);
    m_title->setFont(bold);
    m_subtitle = new QLabel(this);
    m_subtitle->setStyleSheet(QStringLiteral("color: #666666;"));
    m_grid = new QGridLayout;
    m_grid->setHorizontalSpacing(10);
    m_grid->setVerticalSpacing(3);
    m_grid->setColumnStretch(1, 1);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(10, 8, 10, 8);
    layout->setSpacing(4);
    layout->addWidget(m_title);
    layout->addWidget(m_subtitle);
    layout->addSpacing(2);
    layout->addLayout(m_grid);
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
    for (int r = 0; r < lines.size(); ++r) {
        const Line &line = lines[r];
        auto *name = new QLabel(line.name, this);
        name->setStyleSheet(QStringLiteral("color: #555555;"));
        auto *value = new QLabel(line.value, this);
        QFont valueFont = value->font();
        valueFont.setBold(true);
        value->setFont(valueFont);
        value->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
        auto *delta = new QLabel(line.delta, this);
        delta->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
        delta->setStyleSheet(line.better > 0   ? QStringLiteral("color: #2e7d32;")
                             : line.better < 0 ? QStringLiteral("color: #c62828;")
                                               : QStringLiteral("color: #777777;"));
        m_grid->addWidget(name, r, 0);
        m_grid->addWidget(value, r, 1);
        m_grid->addWidget(delta, r, 2);
    }
}

} // namespace ms::ui
