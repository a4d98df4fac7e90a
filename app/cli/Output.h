#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <cstdio>
#include <vector>

namespace cli {

bool isTerminal(FILE *stream);

// A shape flag such as --input-shape 1,28,28: positive integers separated by commas. Throws
// ms::Error naming the flag and showing `example` when the text is not one.
std::vector<qint64> parseShape(const QString &text, const QString &flag, const QString &example);

// One JSON object on one line of stdout, flushed (for --json consumers reading a pipe).
void printJsonLine(const QJsonObject &object);
// A line (or lines) of text on stdout, flushed, with every control character but '\n'
// escaped (ms::printableLines).
void printLine(const QString &line);
// "warning: MESSAGE" on stderr, the message on one line with control characters escaped.
void printWarning(const QString &message);

// Column-aligned text table: numbers right-aligned, text left-aligned ("-" marks a missing
// number without making its column text). Cells are escaped with ms::printable.
QString table(const QStringList &header, const QList<QStringList> &rows);

// Bytes for people: "812 B", "12.3 KiB", "4.5 MiB", "1.2 GiB".
QString humanSize(qint64 size_bytes);

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
