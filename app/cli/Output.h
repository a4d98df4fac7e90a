#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <cstdio>

namespace cli {

bool isTerminal(FILE *stream);

// One JSON object on one line of stdout, flushed (for --json consumers reading a pipe).
void printJsonLine(const QJsonObject &object);
void printLine(const QString &line);

// Column-aligned text table: numbers right-aligned, text left-aligned.
QString table(const QStringList &header, const QList<QStringList> &rows);

// A one-line progress bar redrawn in place on stderr; only used on a terminal.
class ProgressBar
{
public:
    void update(double fraction, const QString &text, double elapsed_s);
    void clear();

private:
    bool m_visible = false;
};

} // namespace cli
