#include "data/CsvReader.h"

#include "common/Error.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <string>
#include <string_view>

namespace ms {

namespace {

// Labels that are integers this large are more likely ids or codes than class indices; they
// are treated as names, so that a label of 90210 does not create 90,211 classes.
constexpr long long kMaxDirectLabel = 999;

std::string_view trimmed(std::string_view text)
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
        text.remove_suffix(1);
    return text;
}

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

// Finite decimal numbers only: an empty cell, "nan" or "inf" would poison the statistics.
bool parseNumber(std::string_view text, double &value)
{
    return parseWhole(text, value) && std::isfinite(value);
}

bool parseLabelIndex(std::string_view text, long long &value)
{
    return parseWhole(text, value) && value >= 0;
}

// Splits one line into cells, honouring double quotes ("a, b" and "" inside quotes), which
// spreadsheets write around string labels. Quoted line breaks are not supported.
void splitCells(std::string_view line, char delimiter, std::vector<std::string> &cells)
{
    cells.clear();
    std::string cell;
    bool quoted = false;
    for (size_t i = 0; i < line.size(); ++i) {
        const char c = line[i];
        if (quoted) {
            if (c != '"') {
                cell += c;
            } else if (i + 1 < line.size() && line[i + 1] == '"') {
                cell += '"';
                ++i;
            } else {
                quoted = false;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == delimiter) {
            cells.push_back(std::string(trimmed(cell)));
            cell.clear();
        } else {
            cell += c;
        }
    }
    cells.push_back(std::string(trimmed(cell)));
}

// Commas unless the first line clearly uses something else (European ';' or tab exports).
char detectDelimiter(std::string_view firstLine)
{
    if (firstLine.find(',') != std::string_view::npos)
        return ',';
    if (firstLine.find('\t') != std::string_view::npos)
        return '\t';
    if (firstLine.find(';') != std::string_view::npos)
        return ';';
    return ',';
}

QString text(const std::string &cell)
{
    return QString::fromUtf8(cell.data(), qsizetype(cell.size()));
}

int resolveLabelColumn(const QString &fileName, const QString &requested,
                       const std::vector<std::string> &header, int columns)
{
    if (requested.isEmpty())
        return columns - 1;
    for (int column = 0; column < int(header.size()); ++column) {
        if (text(header[size_t(column)]) == requested)
            return column;
    }
    for (int column = 0; column < int(header.size()); ++column) {
        if (text(header[size_t(column)]).compare(requested, Qt::CaseInsensitive) == 0)
            return column;
    }
    bool isIndex = false;
    const int index = requested.toInt(&isIndex);
    if (isIndex && index >= 0 && index < columns)
        return index;

    QStringList names;
    for (const std::string &cell : header)
        names.append(QLatin1Char('"') + text(cell) + QLatin1Char('"'));
    const QString choices = names.isEmpty()
        ? QStringLiteral("it has no header row, so give a 0-based index from 0 to %1")
              .arg(columns - 1)
        : QStringLiteral("its columns are %1, or give a 0-based index from 0 to %2")
              .arg(names.join(QStringLiteral(", ")))
              .arg(columns - 1);
    throw Error(QStringLiteral("%1 has no column \"%2\" to use as the label (--label-column): "
                               "%3.")
                    .arg(fileName, requested, choices));
}

// Fills labels and class names from the label texts (see the class comment for the rule).
void assignLabels(const std::vector<std::string> &labelTexts, Dataset &dataset)
{
    std::vector<qint64> &labels = dataset.train.labels;
    labels.assign(labelTexts.size(), 0);

    bool direct = true;
    long long maxLabel = -1;
    for (size_t i = 0; i < labelTexts.size() && direct; ++i) {
        long long value = 0;
        direct = parseLabelIndex(labelTexts[i], value) && value <= kMaxDirectLabel;
        labels[i] = value;
        maxLabel = std::max(maxLabel, value);
    }
    if (direct) {
        for (long long label = 0; label <= maxLabel; ++label)
            dataset.classNames.append(QString::number(label));
        return;
    }

    bool numeric = true;
    for (const std::string &label : labelTexts) {
        double value = 0.0;
        numeric = numeric && parseNumber(label, value);
    }
    // Numeric names sort by value (-1 before 1 before 10), other names by their bytes, so the
    // numbering does not depend on the locale.
    auto before = [numeric](const std::string &a, const std::string &b) {
        if (!numeric)
            return a < b;
        double x = 0.0;
        double y = 0.0;
        parseNumber(a, x);
        parseNumber(b, y);
        return x < y || (x == y && a < b);
    };
    std::map<std::string, qint64, decltype(before)> index(before);
    for (const std::string &label : labelTexts)
        index.emplace(label, 0);
    qint64 next = 0;
    for (auto &entry : index) {
        entry.second = next++;
        dataset.classNames.append(text(entry.first));
    }
    for (size_t i = 0; i < labelTexts.size(); ++i)
        labels[i] = index.at(labelTexts[i]);
}

} // namespace

QString CsvReader::name() const
{
    return QStringLiteral("csv");
}

QString CsvReader::description() const
{
    return QStringLiteral("a numeric .csv file, one sample per row, the label in the last column "
                          "(or --label-column)");
}

bool CsvReader::canRead(const QString &path) const
{
    const QFileInfo info(path);
    return info.isFile() && info.suffix().compare(QStringLiteral("csv"), Qt::CaseInsensitive) == 0;
}

Dataset CsvReader::read(const QString &path, const DatasetOptions &options) const
{
    const QFileInfo info(path);
    const QString fileName = info.fileName();
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("Cannot open %1: %2")
                        .arg(QDir::toNativeSeparators(path), file.errorString()));
    const QByteArray content = file.readAll();
    std::string_view rest(content.constData(), size_t(content.size()));
    if (rest.substr(0, 3) == "\xEF\xBB\xBF") // the UTF-8 mark some spreadsheets write
        rest.remove_prefix(3);

    Dataset dataset;
    dataset.name = info.completeBaseName();
    dataset.source = info.absoluteFilePath();
    dataset.readerName = name();

    std::vector<std::string> header;
    std::vector<std::string> cells;
    std::vector<std::string> labelTexts;
    std::vector<float> &features = dataset.train.features;
    char delimiter = ',';
    int columns = 0;        // fixed by the first row
    int firstRow = 0;       // its line number
    int labelColumn = -1;
    int row = 0;
    while (!rest.empty()) {
        const size_t end = rest.find('\n');
        std::string_view line = rest.substr(0, end);
        rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
        ++row;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        if (trimmed(line).empty())
            continue;

        if (columns == 0) {
            delimiter = detectDelimiter(line);
            splitCells(line, delimiter, cells);
            columns = int(cells.size());
            firstRow = row;
            if (columns < 2)
                throw Error(QStringLiteral("%1 has a single column: a CSV dataset needs at "
                                           "least one feature column and a label column.")
                                .arg(fileName));
            const bool isHeader = std::any_of(cells.begin(), cells.end(), [](const auto &c) {
                double value = 0.0;
                return !parseNumber(c, value);
            });
            if (isHeader)
                header = cells;
            labelColumn = resolveLabelColumn(fileName, options.labelColumn, header, columns);
            if (isHeader)
                continue;
        } else {
            splitCells(line, delimiter, cells);
        }

        if (int(cells.size()) != columns)
            throw Error(QStringLiteral("%1: row %2 has %3 columns, but row %4 has %5. Every row "
                                       "needs the same number of columns.")
                            .arg(fileName)
                            .arg(row)
                            .arg(qint64(cells.size()))
                            .arg(firstRow)
                            .arg(columns));
        for (int column = 0; column < columns; ++column) {
            const std::string &cell = cells[size_t(column)];
            if (column == labelColumn) {
                if (cell.empty())
                    throw Error(QStringLiteral("%1: row %2, column %3: the label is empty. "
                                               "Every sample needs a label.")
                                    .arg(fileName)
                                    .arg(row)
                                    .arg(column + 1));
                labelTexts.push_back(cell);
                continue;
            }
            double value = 0.0;
            if (!parseNumber(cell, value)) {
                const QString headerName = header.empty()
                    ? QString()
                    : QStringLiteral(" (\"%1\")").arg(text(header[size_t(column)]));
                throw Error(QStringLiteral("%1: row %2, column %3%4: \"%5\" is not a number. "
                                           "Fix the cell or choose that column as the label "
                                           "with --label-column.")
                                .arg(fileName)
                                .arg(row)
                                .arg(column + 1)
                                .arg(headerName, text(cell)));
            }
            features.push_back(float(value));
        }
    }

    if (columns == 0)
        throw Error(QStringLiteral("%1 is empty: a CSV dataset needs one sample per row, the "
                                   "features and then the label.")
                        .arg(fileName));
    if (labelTexts.empty())
        throw Error(QStringLiteral("%1 holds a header row but no samples.").arg(fileName));

    dataset.sampleShape = {qint64(columns - 1)};
    assignLabels(labelTexts, dataset);
    return dataset;
}

QList<QStringList> CsvReader::headRows(const QString &path, int maxRows)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("Cannot open %1: %2")
                        .arg(QDir::toNativeSeparators(path), file.errorString()));
    QList<QStringList> rows;
    std::vector<std::string> cells;
    char delimiter = 0;
    bool first = true;
    while (rows.size() < maxRows && !file.atEnd()) {
        const QByteArray bytes = file.readLine();
        std::string_view line(bytes.constData(), size_t(bytes.size()));
        if (first && line.substr(0, 3) == "\xEF\xBB\xBF")
            line.remove_prefix(3);
        first = false;
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
            line.remove_suffix(1);
        if (trimmed(line).empty())
            continue;
        if (delimiter == 0)
            delimiter = detectDelimiter(line);
        splitCells(line, delimiter, cells);
        QStringList row;
        for (const std::string &cell : cells)
            row << text(cell);
        rows << row;
    }
    return rows;
}

} // namespace ms
