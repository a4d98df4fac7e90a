#include "data/CsvReader.h"

#include "common/Error.h"
#include "common/Excerpt.h"
#include "common/Limits.h"
#include "data/CsvText_p.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLocale>

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ms {

namespace {

using namespace csv;

// Labels that are integers this large are more likely ids or codes than class indices; they
// are treated as names, so that a label of 90210 does not create 90,211 classes.
constexpr long long kMaxDirectLabel = 999;
// More distinct non-integer labels than this look like a measurement, not classes.
constexpr size_t kContinuousLabels = 20;
// Header names taken as the label column when none is requested, by priority.
const char *const kLabelHeaders[] = {"label", "target", "class"};

int resolveLabelColumn(const QString &fileName, const QString &requested,
                       const QStringList &header, int columns)
{
    if (requested.isEmpty())
        return CsvReader::defaultLabelColumn(header, columns);
    for (int column = 0; column < int(header.size()); ++column) {
        if (header[column] == requested)
            return column;
    }
    for (int column = 0; column < int(header.size()); ++column) {
        if (header[column].compare(requested, Qt::CaseInsensitive) == 0)
            return column;
    }
    bool isIndex = false;
    const int index = requested.toInt(&isIndex);
    if (isIndex && index >= 0 && index < columns)
        return index;

    // A table may have thousands of columns: name the first few.
    constexpr int kNamed = 12;
    QStringList names;
    for (int column = 0; column < std::min(int(header.size()), kNamed); ++column)
        names.append(QLatin1Char('"') + excerpt(header[column], 40) + QLatin1Char('"'));
    if (header.size() > kNamed)
        names.append(QStringLiteral("… (%1 columns)").arg(number(header.size())));
    const QString last = QString::number(columns - 1);
    const QString choices = names.isEmpty()
        ? QStringLiteral("it has no header row, so give a 0-based index from 0 to %1").arg(last)
        : QStringLiteral("its columns are %1, or give a 0-based index from 0 to %2")
              .arg(names.join(QStringLiteral(", ")), last);
    throw Error(QStringLiteral("%1 has no column \"%2\" to use as the label (--label-column): "
                               "%3.")
                    .arg(fileName, excerpt(requested), choices));
}

// Labels as read: each distinct text once, in order of appearance, and per row its index.
struct LabelTexts
{
    std::unordered_map<std::string, qint64> ids;
    std::vector<std::string> distinct;

    qint64 idOf(std::string_view cell)
    {
        const auto [it, added] = ids.emplace(std::string(cell), qint64(distinct.size()));
        if (added)
            distinct.emplace_back(cell);
        return it->second;
    }
};

// Turns the per-row text ids in dataset.train.labels into class indices and fills the class
// names (see the class comment for the rule); warns when the labels look continuous.
void assignLabels(const LabelTexts &texts, const QString &fileName, const QString &columnName,
                  const DatasetOptions &options, Dataset &dataset)
{
    const std::vector<std::string> &distinct = texts.distinct;
    std::vector<qint64> classOf(distinct.size(), 0);

    bool direct = true;
    long long maxLabel = -1;
    for (size_t i = 0; i < distinct.size() && direct; ++i) {
        long long value = 0;
        direct = parseLabelIndex(distinct[i], value) && value <= kMaxDirectLabel;
        classOf[i] = value;
        maxLabel = std::max(maxLabel, value);
    }
    if (direct) {
        for (long long label = 0; label <= maxLabel; ++label)
            dataset.classNames.append(QString::number(label));
    } else {
        bool numeric = true;
        size_t nonInteger = 0;
        for (const std::string &label : distinct) {
            double value = 0.0;
            const bool isNumber = parseNumber(label, value);
            numeric = numeric && isNumber;
            nonInteger += isNumber && value != std::floor(value);
        }
        // Numeric names sort by value (-1 before 1 before 10), other names by their bytes, so
        // the numbering does not depend on the locale.
        std::vector<size_t> order(distinct.size(), 0);
        for (size_t i = 0; i < order.size(); ++i)
            order[i] = i;
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
            if (!numeric)
                return distinct[a] < distinct[b];
            double x = 0.0;
            double y = 0.0;
            parseNumber(distinct[a], x);
            parseNumber(distinct[b], y);
            return x < y || (x == y && distinct[a] < distinct[b]);
        });
        for (size_t rank = 0; rank < order.size(); ++rank) {
            classOf[order[rank]] = qint64(rank);
            dataset.classNames.append(text(distinct[order[rank]]));
        }
        if (numeric && nonInteger > 0 && distinct.size() > kContinuousLabels)
            warnAbout(options,
                      QStringLiteral("%1: the label column %2 holds %3 different numbers, %4 of "
                                     "them not whole, so it makes %3 classes: it looks like a "
                                     "measurement, not a class. Choose the column of classes "
                                     "with --label-column.")
                          .arg(fileName, columnName, number(qint64(distinct.size())),
                               number(qint64(nonInteger))));
    }
    for (qint64 &label : dataset.train.labels)
        label = classOf[size_t(label)];
}

} // namespace

QString CsvReader::name() const
{
    return QStringLiteral("csv");
}

QString CsvReader::description() const
{
    return QStringLiteral("a numeric .csv file, one sample per row, the label in the column "
                          "named label, target or class, else the last (or --label-column)");
}

bool CsvReader::canRead(const QString &path) const
{
    const QFileInfo info(path);
    return info.isFile() && info.suffix().compare(QStringLiteral("csv"), Qt::CaseInsensitive) == 0;
}

int CsvReader::defaultLabelColumn(const QStringList &header, int columns)
{
    for (const char *name : kLabelHeaders) {
        for (int column = 0; column < std::min(int(header.size()), columns); ++column) {
            if (header[column].trimmed().compare(QLatin1String(name), Qt::CaseInsensitive) == 0)
                return column;
        }
    }
    return columns - 1;
}

Dataset CsvReader::read(const QString &path, const DatasetOptions &options) const
{
    const QFileInfo info(path);
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("Cannot open %1: %2")
                        .arg(QDir::toNativeSeparators(path), file.errorString()));
    Dataset dataset = readDevice(file, info.fileName(), options);
    dataset.name = info.completeBaseName();
    dataset.source = info.absoluteFilePath();
    return dataset;
}

Dataset CsvReader::readDevice(QIODevice &device, const QString &fileName,
                              const DatasetOptions &options)
{
    const CsvLimits limits = limitsOf(options);
    const Scan counted = scan(device, fileName, options, limits);
    if (!device.seek(0))
        throw Error(QStringLiteral("Cannot read %1 again from its start: %2")
                        .arg(fileName, device.errorString()));

    Dataset dataset;
    dataset.readerName = QStringLiteral("csv");
    std::vector<float> &features = dataset.train.features;
    std::vector<qint64> &labels = dataset.train.labels;   // text ids until assignLabels
    LabelTexts labelTexts;
    QStringList header;
    std::string scratch;
    const char delimiter = counted.delimiter;
    int columns = 0;        // fixed by the first row
    qint64 firstRow = 0;    // its line number
    int labelColumn = -1;

    LineReader lines(device, fileName, options, limits.line);
    std::string_view line;
    while (lines.next(line)) {
        if (trimmed(line).empty())
            continue;
        const qint64 row = lines.lineNumber();
        auto checkCell = [&](std::string_view cell) {
            if (qint64(cell.size()) > limits.cell)
                throwCellTooLong(fileName, row, limits.cell);
        };

        if (columns == 0) {
            firstRow = row;
            bool isHeader = false;
            QStringList cells;
            forEachCell(line, delimiter, scratch, [&](int, std::string_view cell) {
                checkCell(cell);
                double value = 0.0;
                isHeader = isHeader || !parseNumber(cell, value);
                cells << text(cell);
            });
            columns = int(cells.size());
            if (columns < 2)
                throw Error(QStringLiteral("%1 has a single column: a CSV dataset needs at "
                                           "least one feature column and a label column.")
                                .arg(fileName));
            if (isHeader)
                header = cells;
            labelColumn = resolveLabelColumn(fileName, options.labelColumn, header, columns);
            // Allocated once, for every row the first pass counted.
            const qint64 rows = counted.contentLines - (isHeader ? 1 : 0);
            checkFeatureBytes(options, quint64(rows) * quint64(columns - 1),
                              QStringLiteral("%1 holds %2 rows of %3 features")
                                  .arg(fileName, number(rows), number(columns - 1)));
            features.reserve(size_t(rows) * size_t(columns - 1));
            labels.reserve(size_t(rows));
            if (isHeader)
                continue;
        }

        const int cellCount = forEachCell(line, delimiter, scratch,
                                          [&](int column, std::string_view cell) {
            if (column >= columns)
                return;   // counted, then refused below
            checkCell(cell);
            if (column == labelColumn) {
                if (cell.empty())
                    throw Error(QStringLiteral("%1: row %2, column %3: the label is empty. "
                                               "Every sample needs a label.")
                                    .arg(fileName, QString::number(row), QString::number(column + 1)));
                labels.push_back(labelTexts.idOf(cell));
                return;
            }
            double value = 0.0;
            if (!parseNumber(cell, value)) {
                const QString headerName = header.isEmpty()
                    ? QString()
                    : QStringLiteral(" (\"%1\")").arg(excerpt(header[column]));
                throw Error(QStringLiteral("%1: row %2, column %3%4: \"%5\" is not a number. "
                                           "Fix the cell or choose that column as the label "
                                           "with --label-column.")
                                .arg(fileName, QString::number(row), QString::number(column + 1), headerName,
                                     excerpt(cell)));
            }
            features.push_back(float(value));
        });
        if (cellCount != columns)
            throw Error(QStringLiteral("%1: row %2 has %3 columns, but row %4 has %5. Every row "
                                       "needs the same number of columns.")
                            .arg(fileName, QString::number(row), QString::number(cellCount), QString::number(firstRow),
                                 QString::number(columns)));
    }

    if (columns == 0)
        throw Error(QStringLiteral("%1 is empty: a CSV dataset needs one sample per row, the "
                                   "features and then the label.")
                        .arg(fileName));
    if (labels.empty())
        throw Error(QStringLiteral("%1 holds a header row but no samples.").arg(fileName));

    dataset.sampleShape = {qint64(columns - 1)};
    const QString columnName = header.isEmpty()
        ? QStringLiteral("(column %1)").arg(labelColumn + 1)
        : QStringLiteral("\"%1\"").arg(excerpt(header[labelColumn]));
    assignLabels(labelTexts, fileName, columnName, options, dataset);
    return dataset;
}

QList<QStringList> CsvReader::headRows(const QString &path, int maxRows)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("Cannot open %1: %2")
                        .arg(QDir::toNativeSeparators(path), file.errorString()));
    const QString fileName = QFileInfo(path).fileName();
    const DatasetOptions options;
    const CsvLimits limits = limitsOf(options);
    QList<QStringList> rows;
    std::string scratch;
    char delimiter = 0;
    LineReader lines(file, fileName, options, limits.line);
    std::string_view line;
    while (rows.size() < maxRows && lines.next(line)) {
        if (trimmed(line).empty())
            continue;
        if (delimiter == 0)
            delimiter = detectDelimiter(line.find(',') != std::string_view::npos,
                                        line.find('\t') != std::string_view::npos,
                                        line.find(';') != std::string_view::npos);
        QStringList row;
        forEachCell(line, delimiter, scratch, [&](int, std::string_view cell) {
            if (qint64(cell.size()) > limits.cell)
                throwCellTooLong(fileName, lines.lineNumber(), limits.cell);
            row << text(cell);
        });
        rows << row;
    }
    return rows;
}

} // namespace ms
