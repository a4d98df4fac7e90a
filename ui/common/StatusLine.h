#pragma once

#include <QLabel>
#include <QString>

class QColor;

namespace ms::ui {

// How a line of status reads, the same in every panel and dialog.
enum class Tone {
    Info,      // what is, or what to do next
    Ok,        // something finished well
    Warning,   // it worked, but look (stopped early, paused, a guess was made)
    Error,     // it did not happen: the text says why and what to do
    Busy,      // something is under way (reads as Info: the progress shows elsewhere)
};

// The studio's colour for a tone's text. One table, so a red means the same everywhere.
QColor toneColor(Tone tone);
// Sets `widget`'s text colour (its palette's WindowText and Text) to the tone's.
void setTone(QWidget *widget, Tone tone);

// A panel's status line: plain text (a message quoting a file or a dataset's text never turns
// into markup), wrapped, selectable, in its tone's colour. It may end in one link, such as the
// Serve panel's "Use port 8766 and start", which emits QLabel::linkActivated(href).
class StatusLine final : public QLabel
{
    Q_OBJECT

public:
    // `minimumLines` > 0 keeps that many lines' height, text at the top, so a panel's layout
    // does not jump as messages of one and two lines alternate.
    explicit StatusLine(QWidget *parent = nullptr, int minimumLines = 0);

    void setStatus(const QString &text, Tone tone = Tone::Info);
    void setStatus(const QString &text, Tone tone, const QString &linkHref,
                   const QString &linkText);

    QString statusText() const { return m_text; }   // without the link
    Tone tone() const { return m_tone; }
    bool isError() const { return m_tone == Tone::Error; }

private:
    QString m_text;
    Tone m_tone = Tone::Info;
};

} // namespace ms::ui
