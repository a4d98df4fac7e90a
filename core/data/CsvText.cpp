#include "data/CsvText_p.h"

#include "common/Error.h"
#include "common/Limits.h"

#include <QIODevice>
#include <QLocale>

#include <charconv>
#include <cmath>
#include <cstring>

namespace ms::csv {

namespace {

// The whole trimmed cell as a number of type T (an optional leading '+' allowed), or false.
template <typename T>
bool parseWhole(std::string_view text, T &value)
{
    text = trimmed(text);
    if (!text.empty() && text.front() == '+')
        text.remove_prefix(1);
    if (text.empty())
        return false;
    const char *end = text.data() + text.size();
    const std::from_chars_result result = std::from_chars(text.data(), end, value);
    return result.ec == std::errc() && result.ptr == end;
}

} // namespace

CsvLimits limitsOf(const DatasetOptions &options)
{
    CsvLimits limits;
    if (options.maxLineBytes > 0)
        limits.line = options.maxLineBytes;
    if (options.maxCellBytes > 0)
        limits.cell = options.maxCellBytes;
    return limits;
}

QString number(qint64 value)
{
    static const QLocale grouped = [] {
        QLocale c = QLocale::c();
        c.setNumberOptions(QLocale::DefaultNumberOptions);
        return c;
    }();
    return grouped.toString(value);
}

[[noreturn]] void throwLineTooLong(const QString &fileName, qint64 line, qint64 limit)
{
    throw Error(QStringLiteral("%1: line %2 is longer than %3 (the limit of one line). Is it a "
                               "CSV file with one sample per line? Split the line, or raise the "
                               "limit if it is meant to be so long.")
                    .arg(fileName, QString::number(line), Limits::formatBytes(limit)));
}

[[noreturn]] void throwCellTooLong(const QString &fileName, qint64 line, qint64 limit)
{
    throw Error(QStringLiteral("%1: line %2 holds a cell longer than %3 (the limit of one cell): "
                               "a CSV cell is a number or a class name. Is a quote left open, or "
                               "is it not a CSV file?")
                    .arg(fileName, QString::number(line), Limits::formatBytes(limit)));
}

std::string_view trimmed(std::string_view text)
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    return text;
}

bool parseNumber(std::string_view text, double &value)
{
    return parseWhole(text, value) && std::isfinite(value);
}

bool parseLabelIndex(std::string_view text, long long &value)
{
    return parseWhole(text, value) && value >= 0;
}

char detectDelimiter(bool comma, bool tab, bool semicolon)
{
    return comma ? ',' : tab ? '\t' : semicolon ? ';' : ',';
}

QString text(std::string_view cell)
{
    return QString::fromUtf8(cell.data(), qsizetype(cell.size()));
}

LineReader::LineReader(QIODevice &device, const QString &fileName,
                       const DatasetOptions &options, qint64 maxLineBytes)
    : m_device(device)
    , m_fileName(fileName)
    , m_options(options)
    , m_maxLine(maxLineBytes)
    , m_buffer(static_cast<size_t>(kChunkBytes))
{}

bool LineReader::next(std::string_view &line)
{
    if (m_carryReturned) {
        m_carry.clear();
        m_carryReturned = false;
    }
    while (true) {
        if (m_pos < m_size) {
            const char *start = m_buffer.data() + m_pos;
            const size_t available = m_size - m_pos;
            const auto *newline = static_cast<const char *>(std::memchr(start, '\n', available));
            if (newline) {
                const size_t length = size_t(newline - start);
                m_pos += length + 1;
                if (m_carry.empty()) {
                    line = std::string_view(start, length);
                } else {
                    append(start, length);
                    line = m_carry;
                    m_carryReturned = true;
                }
                return finish(line);
            }
            append(start, available);
            m_pos = m_size;
        }
        if (m_atEnd) {
            if (m_carry.empty())
                return false;
            line = m_carry;
            m_carryReturned = true;
            return finish(line);
        }
        refill();
    }
}

void LineReader::append(const char *data, size_t length)
{
    if (qint64(m_carry.size() + length) > m_maxLine)
        throwLineTooLong(m_fileName, m_line + 1, m_maxLine);
    m_carry.append(data, length);
}

bool LineReader::finish(std::string_view &line)
{
    ++m_line;
    if (qint64(line.size()) > m_maxLine)
        throwLineTooLong(m_fileName, m_line, m_maxLine);
    if (m_line == 1 && line.substr(0, 3) == "\xEF\xBB\xBF")   // spreadsheets write it
        line.remove_prefix(3);
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    return true;
}

void LineReader::refill()
{
    throwIfCancelled(m_options, QStringLiteral("reading %1").arg(m_fileName));
    const qint64 read = m_device.read(m_buffer.data(), kChunkBytes);
    if (read < 0)
        throw Error(QStringLiteral("Cannot read %1: %2").arg(m_fileName, m_device.errorString()));
    m_pos = 0;
    m_size = size_t(read);
    m_atEnd = read == 0;
}
Scan scan(QIODevice &device, const QString &fileName, const DatasetOptions &options,
          const CsvLimits &limits)
{
    Scan result;
    std::vector<char> buffer(static_cast<size_t>(kChunkBytes));
    qint64 line = 1;
    qint64 lineBytes = 0;
    qint64 run = 0;
    bool content = false;
    bool delimiterKnown = false;
    bool comma = false;
    bool tab = false;
    bool semicolon = false;
    bool first = true;
    auto endLine = [&] {
        if (content) {
            ++result.contentLines;
            if (!delimiterKnown) {
                result.delimiter = detectDelimiter(comma, tab, semicolon);
                delimiterKnown = true;
            }
        }
        ++line;
        lineBytes = 0;
        run = 0;
        content = false;
    };
    while (true) {
        throwIfCancelled(options, QStringLiteral("reading %1").arg(fileName));
        const qint64 read = device.read(buffer.data(), kChunkBytes);
        if (read < 0)
            throw Error(QStringLiteral("Cannot read %1: %2").arg(fileName, device.errorString()));
        if (read == 0)
            break;
        const char *p = buffer.data();
        const char *end = p + read;
        if (first && read >= 3 && std::memcmp(p, "\xEF\xBB\xBF", 3) == 0)
            p += 3;
        first = false;
        for (; p < end; ++p) {
            const char c = *p;
            if (c == '\n') {
                endLine();
                continue;
            }
            if (++lineBytes > limits.line)
                throwLineTooLong(fileName, line, limits.line);
            if (c == '\r')
                continue;
            if (c != ' ' && c != '\t')
                content = true;
            bool separates = false;
            if (delimiterKnown) {
                separates = c == result.delimiter;
            } else {
                comma = comma || c == ',';
                tab = tab || c == '\t';
                semicolon = semicolon || c == ';';
                separates = c == ',' || c == '\t' || c == ';';
            }
            if (separates)
                run = 0;
            else if (++run > limits.cell)
                throwCellTooLong(fileName, line, limits.cell);
        }
    }
    endLine();
    return result;
}

} // namespace ms::csv
