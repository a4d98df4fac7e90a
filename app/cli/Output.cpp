#include "Output.h"

#include "common/Error.h"
#include "common/Printable.h"

#include <QJsonDocument>

#include <cmath>

#include <unistd.h>

namespace cli {

bool isTerminal(FILE *stream)
{
    return isatty(fileno(stream)) != 0;
}

std::vector<qint64> parseShape(const QString &text, const QString &flag, const QString &example)
{
    std::vector<qint64> shape;
    for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const qint64 d = part.trimmed().toLongLong(&ok);
        if (!ok || d < 1)
            throw ms::Error(QStringLiteral("%1 takes positive integers separated by commas, such "
                                           "as %2; \"%3\" is not one.")
                                .arg(flag, example, text));
        shape.push_back(d);
    }
    return shape;
}

void printJsonLine(const QJsonObject &object)
{
    std::fputs(QJsonDocument(object).toJson(QJsonDocument::Compact).constData(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

void printLine(const QString &line)
{
    // The safety net under every verb's text: no ESC, carriage return or bidirectional control
    // from user text reaches the terminal. The line breaks are the verb's own; user text that
    // must stay on one line is escaped where it is put in (ms::printable).
    std::fputs(ms::printableLines(line).toLocal8Bit().constData(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

void printWarning(const QString &message)
{
    const QString line = QStringLiteral("warning: %1\n").arg(ms::printable(message));
    std::fputs(line.toLocal8Bit().constData(), stderr);
}

QString table(const QStringList &rawHeader, const QList<QStringList> &rawRows)
{
    // A cell is one line: whatever it holds is shown escaped, so it cannot break the table.
    QStringList header;
    for (const QString &cell : rawHeader)
        header << ms::printable(cell);
    QList<QStringList> rows;
    for (const QStringList &rawRow : rawRows) {
        QStringList row;
        for (const QString &cell : rawRow)
            row << ms::printable(cell);
        rows << row;
    }
    QVector<int> width(header.size(), 0);
    QVector<bool> numeric(header.size(), true);
    for (int c = 0; c < header.size(); ++c)
        width[c] = int(header[c].size());
    for (const QStringList &row : rows) {
        for (int c = 0; c < row.size() && c < header.size(); ++c) {
            width[c] = std::max(width[c], int(row[c].size()));
            bool ok = false;
            QString(row[c]).remove(QLatin1Char(',')).remove(QLatin1Char('%')).toDouble(&ok);
            numeric[c] = numeric[c] && (ok || row[c].isEmpty() || row[c] == QLatin1String("-"));
        }
    }
    auto format = [&](const QStringList &row, bool isHeader) {
        QStringList cells;
        for (int c = 0; c < header.size(); ++c) {
            const QString cell = c < row.size() ? row[c] : QString();
            const bool last = c + 1 == header.size();
            cells << (numeric[c] && !isHeader ? cell.rightJustified(width[c])
                                                    : last ? cell : cell.leftJustified(width[c]));
        }
        QString line = cells.join(QStringLiteral("  "));
        while (line.endsWith(QLatin1Char(' ')))   // empty trailing cells
            line.chop(1);
        return line;
    };
    QStringList lines{format(header, true)};
    for (const QStringList &row : rows)
        lines << format(row, false);
    return lines.join(QLatin1Char('\n'));
}

QString humanSize(qint64 size_bytes)
{
    const qint64 magnitude = size_bytes < 0 ? -size_bytes : size_bytes;
    if (magnitude < 1024)
        return QStringLiteral("%1 B").arg(size_bytes);
    const char *units[] = {"KiB", "MiB", "GiB", "TiB"};
    double value = double(size_bytes) / 1024.0;
    int unit = 0;
    while (std::abs(value) >= 1024.0 && unit < 3) {
        value /= 1024.0;
        ++unit;
    }
    return QStringLiteral("%1 %2").arg(value, 0, 'f', 1).arg(QLatin1String(units[unit]));
}

void ProgressBar::update(double fraction, const QString &text, double elapsed_s)
{
    const int width = 30;
    const int filled = int(std::clamp(fraction, 0.0, 1.0) * width + 0.5);
    QString eta;
    if (fraction > 0.01 && fraction < 1.0) {
        const int remaining_s = int(elapsed_s * (1.0 - fraction) / fraction);
        eta = QStringLiteral("  ETA %1:%2").arg(remaining_s / 60)
                  .arg(remaining_s % 60, 2, 10, QLatin1Char('0'));
    }
    const QString line = QStringLiteral("\r[%1%2] %3%  %4%5\x1b[K")
                             .arg(QString(filled, QLatin1Char('#')),
                                  QString(width - filled, QLatin1Char('.')))
                             .arg(int(fraction * 100.0), 3)
                             .arg(ms::printable(text), eta);
    std::fputs(line.toLocal8Bit().constData(), stderr);
    std::fflush(stderr);
    m_visible = true;
}

void ProgressBar::clear()
{
    if (!m_visible)
        return;
    std::fputs("\r\x1b[K", stderr);
    std::fflush(stderr);
    m_visible = false;
}

} // namespace cli
