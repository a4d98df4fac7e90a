#include "common/StatusLine.h"

#include <QColor>
#include <QPalette>

namespace ms::ui {

QColor toneColor(Tone tone)
{
    switch (tone) {
    case Tone::Ok: return QColor(0x2e, 0x7d, 0x32);
    case Tone::Warning: return QColor(0xa1, 0x5c, 0x00);
    case Tone::Error: return QColor(0xc6, 0x28, 0x28);
    case Tone::Info:
    case Tone::Busy: break;
    }
    return QColor(0x44, 0x44, 0x44);
}

void setTone(QWidget *widget, Tone tone)
{
    QPalette palette = widget->palette();
    palette.setColor(QPalette::WindowText, toneColor(tone));
    palette.setColor(QPalette::Text, toneColor(tone));
    widget->setPalette(palette);
}

StatusLine::StatusLine(QWidget *parent, int minimumLines)
    : QLabel(parent)
{
    setWordWrap(true);
    setTextFormat(Qt::PlainText);
    setTextInteractionFlags(Qt::TextSelectableByMouse);
    if (minimumLines > 0) {
        setMinimumHeight(fontMetrics().height() * minimumLines);
        setAlignment(Qt::AlignLeft | Qt::AlignTop);
    }
    setTone(this, m_tone);
}

void StatusLine::setStatus(const QString &text, Tone tone)
{
    setStatus(text, tone, QString(), QString());
}

void StatusLine::setStatus(const QString &text, Tone tone, const QString &linkHref,
                           const QString &linkText)
{
    m_text = text;
    m_tone = tone;
    setTone(this, tone);
    if (linkHref.isEmpty()) {
        setTextFormat(Qt::PlainText);
        setTextInteractionFlags(Qt::TextSelectableByMouse);
        setText(text);
        return;
    }
    setTextFormat(Qt::RichText);
    setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::LinksAccessibleByMouse);
    setText(QStringLiteral("%1 <a href=\"%2\">%3</a>")
                .arg(text.toHtmlEscaped(), linkHref.toHtmlEscaped(), linkText.toHtmlEscaped()));
}

} // namespace ms::ui
