#pragma once

// Private to core/data: the text side of CsvReader (limits, chunked lines, the counting pass,
// cells and numbers), kept apart from what the reader makes of the cells.

#include "data/Dataset.h"

#include <QString>

#include <string>
#include <string_view>
#include <vector>

class QIODevice;

namespace ms::csv {

// Defaults of DatasetOptions::maxLineBytes and maxCellBytes: a line of 64 MiB holds 16 million
// short numbers (a 2048x2048 RGB image per row); no number or class name needs 64 KiB.
constexpr qint64 kDefaultMaxLineBytes = qint64(64) << 20;
constexpr qint64 kDefaultMaxCellBytes = qint64(64) << 10;
constexpr qint64 kChunkBytes = qint64(1) << 20;

struct CsvLimits
{
    qint64 line = kDefaultMaxLineBytes;
    qint64 cell = kDefaultMaxCellBytes;
};
CsvLimits limitsOf(const DatasetOptions &options);

[[noreturn]] void throwLineTooLong(const QString &fileName, qint64 line, qint64 limit);
[[noreturn]] void throwCellTooLong(const QString &fileName, qint64 line, qint64 limit);

// 1234567 -> "1,234,567" (the C locale's grouping: messages read the same everywhere).
QString number(qint64 value);
QString text(std::string_view cell);
std::string_view trimmed(std::string_view text);
// Finite decimal numbers only: an empty cell, "nan" or "inf" would poison the statistics.
bool parseNumber(std::string_view text, double &value);
bool parseLabelIndex(std::string_view text, long long &value);
// Commas unless the first line clearly uses something else (European ';' or tab exports).
char detectDelimiter(bool comma, bool tab, bool semicolon);

// Calls onCell(column, cell) for each cell of `line`, trimmed, honouring double quotes
// ("a, b" and "" inside quotes), which spreadsheets write around string labels; returns the
// number of cells. A quoted cell is unescaped into `scratch`, any other is a view of `line`.
// Quoted line breaks are not supported.
template <typename OnCell>
int forEachCell(std::string_view line, char delimiter, std::string &scratch, OnCell &&onCell)
{
    int column = 0;
    size_t i = 0;
    while (true) {
        const size_t start = i;
        bool quoted = false;
        bool hasQuote = false;
        for (; i < line.size(); ++i) {
            const char c = line[i];
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < line.size() && line[i + 1] == '"')
                        ++i;
                    else
                        quoted = false;
                }
            } else if (c == '"') {
                quoted = true;
                hasQuote = true;
            } else if (c == delimiter) {
                break;
            }
        }
        std::string_view cell = line.substr(start, i - start);
        if (hasQuote) {
            scratch.clear();
            bool inQuotes = false;
            for (size_t j = 0; j < cell.size(); ++j) {
                const char c = cell[j];
                if (inQuotes && c == '"' && j + 1 < cell.size() && cell[j + 1] == '"') {
                    scratch += '"';
                    ++j;
                } else if (c == '"') {
                    inQuotes = !inQuotes;
                } else {
                    scratch += c;
                }
            }
            cell = scratch;
        }
        onCell(column++, trimmed(cell));
        if (i >= line.size())
            break;
        ++i;   // the delimiter
    }
    return column;
}

// The lines of a device, read in chunks: a line is a view of the chunk, or of a carry buffer
// when it spans two chunks. A line over the limit is refused as soon as the carry passes it,
// so a gigabyte without a line break costs the limit, not the gigabyte. Asks options'
// isCancelled before each chunk.
class LineReader
{
public:
    LineReader(QIODevice &device, const QString &fileName, const DatasetOptions &options,
               qint64 maxLineBytes);

    // The next line without its '\n' (and '\r'), the UTF-8 mark removed from the first;
    // false at the end. The view lives until the next call.
    bool next(std::string_view &line);
    qint64 lineNumber() const { return m_line; }

private:
    void append(const char *data, size_t length);
    bool finish(std::string_view &line);
    void refill();

    QIODevice &m_device;
    QString m_fileName;
    const DatasetOptions &m_options;
    qint64 m_maxLine = 0;
    std::vector<char> m_buffer;
    size_t m_pos = 0;
    size_t m_size = 0;
    bool m_atEnd = false;
    std::string m_carry;
    bool m_carryReturned = false;
    qint64 m_line = 0;
};

struct Scan
{
    qint64 contentLines = 0;   // lines holding anything but blanks
    char delimiter = ',';
};

// The first pass: counts the rows the features must hold and refuses, at once and without
// keeping anything, a line or a cell over its limit. A run of bytes without a delimiter lies
// inside one cell, so it bounds that cell's length from below (quotes aside, which the second
// pass measures exactly).
Scan scan(QIODevice &device, const QString &fileName, const DatasetOptions &options,
          const CsvLimits &limits);

} // namespace ms::csv
