// The text dataset readers beside fortunes: a folder of .txt files per class and a CSV with a
// text column.

#include "data/TextDataset.h"

#include "common/Error.h"
#include "common/Limits.h"
#include "data/CsvReader.h"
#include "data/CsvText_p.h"
#include "data/TextReaders_p.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <map>

namespace ms {

namespace {

// The text a reader keeps, and the tokens a model makes of it (an int64 per byte at most):
// refused before it is read when that would pass the dataset memory limit.
void checkTextBytes(const DatasetOptions &options, qint64 total, const QString &source)
{
    const qint64 limit = options.maxFeatureBytes > 0 ? options.maxFeatureBytes
                                                     : Limits::maxDatasetBytes();
    if (total > limit / 9)
        throw Error(QStringLiteral("%1: %2 of text take about %3 in memory as tokens, more than "
                                   "the limit of %4. Use a smaller corpus, or raise the limit "
                                   "with MODELSTUDIO_MAX_DATASET_BYTES.")
                        .arg(QDir::toNativeSeparators(source), Limits::formatBytes(total),
                             Limits::formatBytes(total * 9), Limits::formatBytes(limit)));
}

QByteArray readWhole(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("Cannot read %1: %2").arg(QDir::toNativeSeparators(path),
                                                             f.errorString()));
    QByteArray text = f.readAll();
    if (text.startsWith("\xEF\xBB\xBF"))
        text.remove(0, 3);
    return text;
}

void checkUtf8(const QByteArray &text, const QString &path)
{
    if (const qsizetype line = invalidUtf8Line(text); line > 0)
        throw Error(QStringLiteral("%1 is not UTF-8 text (line %2). Convert it (iconv -t UTF-8) "
                                   "or remove it.")
                        .arg(QDir::toNativeSeparators(path), QString::number(line)));
}

// Names in byte order of their encoded form (Python's sorted()), hidden ones left out.
QStringList sortedEntries(const QDir &dir, QDir::Filters filters, const QStringList &patterns)
{
    std::vector<QByteArray> names;
    for (const QString &name : dir.entryList(patterns, filters | QDir::NoDotAndDotDot)) {
        if (!name.startsWith(QLatin1Char('.')))
            names.push_back(QFile::encodeName(name));
    }
    std::sort(names.begin(), names.end());
    QStringList out;
    for (const QByteArray &name : names)
        out << QFile::decodeName(name);
    return out;
}

const QStringList kTxt{QStringLiteral("*.txt")};

// --- CSV ---

bool isNumber(const QByteArray &cell)
{
    double value = 0.0;
    return csv::parseNumber(std::string_view(cell.constData(), size_t(cell.size())), value);
}

char delimiterOf(const QString &path)
{
    return path.endsWith(QLatin1String(".tsv"), Qt::CaseInsensitive) ? '\t' : ',';
}

// A column by header name (exact, then ignoring case) or 0-based index; -1 when none matches.
int columnNamed(const QStringList &header, const QString &name)
{
    if (const int exact = int(header.indexOf(name)); exact >= 0)
        return exact;
    for (int i = 0; i < header.size(); ++i) {
        if (header[i].compare(name, Qt::CaseInsensitive) == 0)
            return i;
    }
    bool ok = false;
    const int index = name.toInt(&ok);
    return ok && index >= 0 && index < header.size() ? index : -1;
}

int firstNamed(const QStringList &header, std::initializer_list<const char *> names)
{
    for (const char *name : names) {
        for (int i = 0; i < header.size(); ++i) {
            if (header[i].compare(QLatin1String(name), Qt::CaseInsensitive) == 0)
                return i;
        }
    }
    return -1;
}

// Columns (other than `except`) where most cells among `rows` (header skipped) are not numbers:
// a column of numbers with a typo stays a column of numbers (CsvReader then names the cell).
std::vector<int> textColumns(const QList<QList<QByteArray>> &rows, int columns, int except)
{
    std::vector<int> out;
    for (int c = 0; c < columns; ++c) {
        if (c == except)
            continue;
        int words = 0, numbers = 0;
        for (qsizetype r = 1; r < rows.size(); ++r) {
            if (c >= rows[r].size() || rows[r][c].trimmed().isEmpty())
                continue;
            ++(isNumber(rows[r][c]) ? numbers : words);
        }
        if (words > numbers)
            out.push_back(c);
    }
    return out;
}

struct CsvColumns
{
    int text = -1;
    int label = -1;   // -1: a file of one column, text only
};

[[noreturn]] void throwNoColumn(const QString &file, const char *flag, const QString &name,
                                const QStringList &header)
{
    throw Error(QStringLiteral("%1 has no column \"%2\" (--%3); its columns: %4. Name one of "
                               "them by header or 0-based index.")
                    .arg(QDir::toNativeSeparators(file), name, QLatin1String(flag),
                         header.join(QStringLiteral(", "))));
}

// Which column is the text and which the label (the class docs say how): throws ms::Error
// naming the columns when a named one is missing or the choice is ambiguous.
CsvColumns chooseColumns(const QList<QList<QByteArray>> &head, const QStringList &header,
                         const DatasetOptions &options, const QString &file)
{
    CsvColumns c;
    const int columns = int(header.size());
    if (!options.textColumn.isEmpty() && (c.text = columnNamed(header, options.textColumn)) < 0)
        throwNoColumn(file, "text-column", options.textColumn, header);
    if (!options.labelColumn.isEmpty()
        && (c.label = columnNamed(header, options.labelColumn)) < 0)
        throwNoColumn(file, "label-column", options.labelColumn, header);
    if (columns == 1 && options.labelColumn.isEmpty()) {
        c.text = 0;
        return c;
    }
    if (c.label < 0)
        c.label = firstNamed(header, {"label", "target", "class", "category"});
    if (c.label < 0 && c.text >= 0 && columns == 2)
        c.label = 1 - c.text;
    if (c.text < 0 && c.label >= 0) {
        c.text = firstNamed(header, {"text"});
        if (c.text < 0 || c.text == c.label) {
            const std::vector<int> candidates = textColumns(head, columns, c.label);
            if (candidates.size() == 1)
                c.text = candidates.front();
            else {
                QStringList names;
                for (int i : candidates)
                    names << header[i];
                throw Error(candidates.empty()
                    ? QStringLiteral("%1: no column besides the label (\"%2\") holds text; its "
                                     "columns: %3. Name the text column with --text-column.")
                          .arg(QDir::toNativeSeparators(file), header[c.label],
                               header.join(QStringLiteral(", ")))
                    : QStringLiteral("%1: the columns %2 all hold text; name the one to read "
                                     "with --text-column.")
                          .arg(QDir::toNativeSeparators(file), names.join(QStringLiteral(", "))));
            }
        }
    }
    if (c.label < 0 && c.text >= 0)
        throw Error(QStringLiteral("%1: which column is the label? None is named label, target, "
                                   "class or category (columns: %2). Name it with "
                                   "--label-column.")
                        .arg(QDir::toNativeSeparators(file), header.join(QStringLiteral(", "))));
    if (c.label < 0 || c.text < 0)
        throw Error(QStringLiteral("%1: cannot tell the text column from the label column "
                                   "(columns: %2). Name them with --text-column and "
                                   "--label-column.")
                        .arg(QDir::toNativeSeparators(file), header.join(QStringLiteral(", "))));
    if (c.label == c.text)
        throw Error(QStringLiteral("%1: the text and the label are both the column \"%2\"; "
                                   "name two different columns.")
                        .arg(QDir::toNativeSeparators(file), header[c.text]));
    return c;
}

// Class names and the label of each record: the distinct labels, numeric order when all are
// integers (so "2" < "10"), else byte order.
void numberClasses(const std::vector<QByteArray> &labels, TextRecords &out)
{
    bool integers = true;
    for (const QByteArray &l : labels) {
        bool ok = false;
        l.toLongLong(&ok);
        integers = integers && ok;
    }
    auto less = [integers](const QByteArray &a, const QByteArray &b) {
        return integers ? a.toLongLong() < b.toLongLong() : a < b;
    };
    std::map<QByteArray, qint64, decltype(less)> index(less);
    for (const QByteArray &l : labels)
        index.emplace(l, 0);
    for (auto &[name, i] : index) {
        i = out.classNames.size();
        out.classNames << QString::fromUtf8(name);
    }
    for (const QByteArray &l : labels)
        out.labels.push_back(index.at(l));
}

} // namespace

// --- folder of .txt files per class ---

QString TextFolderReader::description() const
{
    return QStringLiteral("a folder of text files per class: DIR/<class>/*.txt, one record per "
                          "file");
}

bool TextFolderReader::canRead(const QString &path) const
{
    const QFileInfo info(path);
    if (!info.isDir() || FortunesReader().canRead(path))
        return false;
    const QDir dir(info.absoluteFilePath());
    const QStringList classes = sortedEntries(dir, QDir::Dirs, {});
    return std::any_of(classes.begin(), classes.end(), [&dir](const QString &c) {
        return !sortedEntries(QDir(dir.filePath(c)), QDir::Files, kTxt).isEmpty();
    });
}

TextRecords TextFolderReader::read(const QString &path, const DatasetOptions &options) const
{
    const QDir dir(QFileInfo(path).absoluteFilePath());
    TextRecords out;
    out.name = dir.dirName();
    out.source = dir.absolutePath();
    const QStringList classes = sortedEntries(dir, QDir::Dirs, {});
    std::vector<QStringList> files;
    qint64 total = 0;
    for (const QString &c : classes) {
        files.push_back(sortedEntries(QDir(dir.filePath(c)), QDir::Files, kTxt));
        if (files.back().isEmpty())
            throw Error(QStringLiteral("The class \"%1\" (%2) has no .txt files: every class "
                                       "needs samples. Add text files to it or remove the "
                                       "folder.")
                            .arg(c, QDir::toNativeSeparators(dir.filePath(c))));
        for (const QString &f : files.back())
            total += QFileInfo(QDir(dir.filePath(c)).filePath(f)).size();
    }
    if (classes.isEmpty())
        throw Error(QStringLiteral("%1 holds no class folders (DIR/<class>/*.txt).")
                        .arg(QDir::toNativeSeparators(out.source)));
    checkTextBytes(options, total, out.source);
    for (int c = 0; c < classes.size(); ++c) {
        out.classNames << classes[c];
        const QDir classDir(dir.filePath(classes[c]));
        for (const QString &f : files[size_t(c)]) {
            throwIfCancelled(options, QStringLiteral("reading %1").arg(classes[c]));
            const QString file = classDir.filePath(f);
            QByteArray text = readWhole(file);
            checkUtf8(text, file);
            while (text.endsWith('\n') || text.endsWith('\r'))
                text.chop(1);
            if (text.trimmed().isEmpty())
                throw Error(QStringLiteral("%1 is empty: every record needs text. Fill it or "
                                           "remove it.")
                                .arg(QDir::toNativeSeparators(file)));
            out.records.push_back(text);
            out.labels.push_back(c);
        }
    }
    return out;
}

// --- CSV with a text column ---

QString TextCsvReader::description() const
{
    return QStringLiteral("a CSV file with a header, a text column and a label column "
                          "(--text-column, --label-column), one record per row");
}

// RFC 4180 by hand: CsvReader (numeric tables, read in chunks of lines) has no quoted line
// breaks, which text cells need, and Qt has no CSV parser. The whole file is in memory anyway.
QList<QList<QByteArray>> TextCsvReader::parse(const QByteArray &text, char delimiter,
                                              const QString &fileName, qsizetype maxRows,
                                              std::vector<qint64> *lines)
{
    QList<QList<QByteArray>> rows;
    QList<QByteArray> row;
    QByteArray cell;
    bool quoted = false, wasQuoted = false;
    qint64 line = 1, rowLine = 1, quoteLine = 0;
    auto endCell = [&] {
        row.append(wasQuoted ? cell : cell.trimmed());
        cell.clear();
        wasQuoted = false;
    };
    auto endRow = [&] {
        endCell();
        if (!(row.size() == 1 && row.front().isEmpty())) {   // blank lines are skipped
            rows.append(row);
            if (lines)
                lines->push_back(rowLine);
        }
        row.clear();
    };
    for (qsizetype i = 0; i < text.size() && (maxRows <= 0 || rows.size() < maxRows); ++i) {
        const char ch = text[i];
        if (quoted) {
            if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') {
                cell += '"';
                ++i;
            } else if (ch == '"') {
                quoted = false;
            } else {
                line += ch == '\n';
                cell += ch;
            }
        } else if (ch == '"' && cell.trimmed().isEmpty()) {
            quoted = wasQuoted = true;
            quoteLine = line;
            cell.clear();
        } else if (ch == delimiter) {
            endCell();
        } else if (ch == '\n') {
            endRow();
            rowLine = ++line;
        } else if (ch != '\r') {
            cell += ch;
        }
    }
    if (quoted)
        throw Error(QStringLiteral("%1: the quote opened on line %2 is never closed. Close it "
                                   "(a quote inside a quoted cell is written \"\").")
                        .arg(QDir::toNativeSeparators(fileName), QString::number(quoteLine)));
    if (maxRows <= 0 || rows.size() < maxRows)
        endRow();
    return rows;
}

bool TextCsvReader::canRead(const QString &path) const
{
    return textcsv::isTextCsv(path, QString());
}

bool textcsv::isTextCsv(const QString &path, const QString &labelColumn)
{
    const QFileInfo info(path);
    if (!info.isFile()
        || !(path.endsWith(QLatin1String(".csv"), Qt::CaseInsensitive)
             || path.endsWith(QLatin1String(".tsv"), Qt::CaseInsensitive)))
        return false;
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return false;
    constexpr qint64 kHead = qint64(1) << 20;
    QByteArray head = f.read(kHead);
    if (head.size() == kHead)   // the last row is cut: its cells would mislead
        head.truncate(head.lastIndexOf('\n') + 1);
    QList<QList<QByteArray>> rows;
    try {
        rows = TextCsvReader::parse(head, delimiterOf(path), path, 50);
    } catch (const Error &) {
        return true;   // a quote never closed: read() says where, better than "no reader"
    }
    if (rows.size() < 2)
        return false;
    QStringList header;
    for (const QByteArray &h : rows.front())
        header << QString::fromUtf8(h);
    int label = labelColumn.isEmpty() ? -1 : columnNamed(header, labelColumn);
    if (label < 0)
        label = CsvReader::defaultLabelColumn(header, int(header.size()));
    // One column is text only when --text-column names it (TextDatasetRegistry::load): a
    // column of words is more often a table without its features.
    return header.size() > 1 && !textColumns(rows, int(header.size()), label).empty();
}

TextRecords TextCsvReader::read(const QString &path, const DatasetOptions &options) const
{
    const QFileInfo info(path);
    TextRecords out;
    out.name = info.completeBaseName();
    out.source = info.absoluteFilePath();
    checkTextBytes(options, info.size(), out.source);
    throwIfCancelled(options, QStringLiteral("reading %1").arg(info.fileName()));
    const QByteArray text = readWhole(path);
    checkUtf8(text, path);
    std::vector<qint64> lines;
    const QList<QList<QByteArray>> rows = parse(text, delimiterOf(path), path, 0, &lines);
    if (rows.size() < 2)
        throw Error(QStringLiteral("%1 has no rows below its header: a text CSV needs a header "
                                   "row and one row per record.")
                        .arg(QDir::toNativeSeparators(out.source)));
    QStringList header;
    for (const QByteArray &h : rows.front())
        header << QString::fromUtf8(h);
    const CsvColumns columns = chooseColumns(rows.mid(0, 51), header, options, path);
    std::vector<QByteArray> labels;
    for (qsizetype r = 1; r < rows.size(); ++r) {
        const QList<QByteArray> &row = rows[r];
        const QString where = QStringLiteral("%1, line %2").arg(
            QDir::toNativeSeparators(out.source), QString::number(lines[size_t(r)]));
        if (row.size() != header.size())
            throw Error(QStringLiteral("%1: %2 cells where the header has %3. Quote a cell "
                                       "that holds the delimiter.")
                            .arg(where, QString::number(row.size()),
                                 QString::number(header.size())));
        if (row[columns.text].trimmed().isEmpty())
            throw Error(QStringLiteral("%1: the text (column \"%2\") is empty: every record "
                                       "needs text. Fill it or remove the row.")
                            .arg(where, header[columns.text]));
        if (columns.label >= 0 && row[columns.label].trimmed().isEmpty())
            throw Error(QStringLiteral("%1: the label (column \"%2\") is empty. Fill it or "
                                       "remove the row.")
                            .arg(where, header[columns.label]));
        out.records.push_back(row[columns.text]);
        labels.push_back(columns.label >= 0 ? row[columns.label].trimmed()
                                            : QByteArray(header[columns.text].toUtf8()));
    }
    numberClasses(labels, out);
    return out;
}

} // namespace ms
