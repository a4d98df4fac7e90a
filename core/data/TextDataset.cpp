#include "data/TextDataset.h"

#include "data/TextReaders_p.h"

#include "common/Error.h"
#include "common/Excerpt.h"
#include "common/Limits.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>

#include <algorithm>
#include <cmath>

namespace ms {

namespace {

const char *const kFortunesPath = "/usr/share/games/fortunes";

QJsonArray countsPerClass(const TextSplit &split, int classes)
{
    std::vector<qint64> counts(size_t(std::max(0, classes)), 0);
    for (const qint64 label : split.labels) {
        if (label >= 0 && label < qint64(counts.size()))
            ++counts[size_t(label)];
    }
    QJsonArray array;
    for (const qint64 n : counts)
        array.append(n);
    return array;
}

// The category files of a fortune folder in byte order of their names (Python's sorted(), so
// the corpus order is the peer's): regular files that are neither strfile indexes (.dat) nor
// .u8 links, nor any other symbolic link.
QStringList categoryFiles(const QDir &dir)
{
    std::vector<QByteArray> names;
    for (const QFileInfo &info : dir.entryInfoList(QDir::Files | QDir::NoDotAndDotDot
                                                   | QDir::Hidden | QDir::System)) {
        const QString name = info.fileName();
        if (info.isSymLink() || name.endsWith(QLatin1String(".dat"))
            || name.endsWith(QLatin1String(".u8")))
            continue;
        names.push_back(QFile::encodeName(name));
    }
    std::sort(names.begin(), names.end());
    QStringList files;
    for (const QByteArray &name : names)
        files << QFile::decodeName(name);
    return files;
}

// Records of one fortune file: lines up to a line that is exactly "%", joined by "\n"; blank
// records dropped. A last record without a closing "%" counts too (the peer's rule).
std::vector<QByteArray> parseFortunes(const QByteArray &text)
{
    QList<QByteArray> lines = text.split('\n');
    if (!lines.isEmpty() && lines.last().isEmpty())
        lines.removeLast();
    lines.append(QByteArrayLiteral("%"));
    std::vector<QByteArray> records;
    QByteArray current;
    bool any = false;
    for (const QByteArray &line : lines) {
        if (line == "%") {
            if (!current.trimmed().isEmpty())
                records.push_back(current);
            current.clear();
            any = false;
            continue;
        }
        if (any)
            current.append('\n');
        current.append(line);
        any = true;
    }
    return records;
}

TextSplit subset(const TextSplit &split, qint64 keep, quint64 seed)
{
    if (keep >= split.count())
        return split;
    TextSplit out;
    for (const qint64 i : seededSubset(split.count(), keep, seed)) {
        out.records.push_back(split.records[size_t(i)]);
        out.labels.push_back(split.labels[size_t(i)]);
    }
    return out;
}

} // namespace

qsizetype invalidUtf8Line(const QByteArray &text)
{
    if (QUtf8StringView(text).isValidUtf8())
        return 0;
    const QList<QByteArray> lines = text.split('\n');
    for (qsizetype i = 0; i < lines.size(); ++i) {
        if (!QUtf8StringView(lines[i]).isValidUtf8())
            return i + 1;
    }
    return 0;
}

qint64 TextSplit::bytes() const
{
    qint64 total = 0;
    for (const QByteArray &r : records)
        total += r.size();
    return total;
}

QByteArray TextSplit::corpus() const
{
    const QByteArray separator(TextDataset::kRecordSeparator);
    QByteArray text;
    text.reserve(bytes() + qint64(records.size()) * separator.size());
    for (size_t i = 0; i < records.size(); ++i) {
        if (i > 0)
            text += separator;
        text += records[i];
    }
    return text;
}

QString TextDataset::splitRule()
{
    return QStringLiteral("record index %% %1 == %2 is validation (over the whole corpus in "
                          "reading order)")
        .arg(kValidationEvery)
        .arg(kValidationEvery - 1)
        .replace(QLatin1String("%%"), QLatin1String("%"));
}

QJsonObject TextDataset::describe() const
{
    QJsonObject json{{QStringLiteral("name"), name},
                     {QStringLiteral("source"), source},
                     {QStringLiteral("reader"), readerName},
                     {QStringLiteral("kind"), QStringLiteral("text")},
                     {QStringLiteral("classes"), QJsonArray::fromStringList(classNames)},
                     {QStringLiteral("num_classes"), numClasses()},
                     {QStringLiteral("split_rule"), splitRule()},
                     {QStringLiteral("train"), train.count()},
                     {QStringLiteral("validation"), validation.count()},
                     {QStringLiteral("test"), 0},
                     {QStringLiteral("train_bytes"), train.bytes()},
                     {QStringLiteral("validation_bytes"), validation.bytes()},
                     {QStringLiteral("class_counts"),
                      QJsonObject{{QStringLiteral("train"), countsPerClass(train, numClasses())},
                                  {QStringLiteral("validation"),
                                   countsPerClass(validation, numClasses())}}}};
    if (limit > 0)
        json.insert(QStringLiteral("limit"), limit);
    return json;
}

QString FortunesReader::description() const
{
    return QStringLiteral("a fortune(6) data folder: one file per category, records separated "
                          "by lines of \"%\"");
}

bool FortunesReader::canRead(const QString &path) const
{
    const QFileInfo info(path);
    if (!info.isDir())
        return false;
    const QDir dir(info.absoluteFilePath());
    const QStringList files = categoryFiles(dir);
    return std::any_of(files.begin(), files.end(), [&dir](const QString &file) {
        return QFileInfo::exists(dir.filePath(file + QStringLiteral(".dat")));
    });
}

TextRecords FortunesReader::read(const QString &path, const DatasetOptions &options) const
{
    const QDir dir(QFileInfo(path).absoluteFilePath());
    TextRecords out;
    out.name = dir.dirName();
    out.source = dir.absolutePath();
    const QStringList files = categoryFiles(dir);
    if (files.isEmpty())
        throw Error(QStringLiteral("%1 holds no category files (fortune files beside their "
                                   ".dat index).").arg(QDir::toNativeSeparators(out.source)));
    qint64 total = 0;
    for (const QString &file : files)
        total += QFileInfo(dir.filePath(file)).size();
    // The text, and the tokens a language model makes of it (int64 per byte at most).
    const qint64 limit = options.maxFeatureBytes > 0 ? options.maxFeatureBytes
                                                     : Limits::maxDatasetBytes();
    if (total > limit / 9)
        throw Error(QStringLiteral("%1: %2 of text take about %3 in memory as tokens, more than "
                                   "the limit of %4. Use a smaller corpus, or raise the limit "
                                   "with MODELSTUDIO_MAX_DATASET_BYTES.")
                        .arg(QDir::toNativeSeparators(out.source), Limits::formatBytes(total),
                             Limits::formatBytes(total * 9), Limits::formatBytes(limit)));
    for (const QString &file : files) {
        throwIfCancelled(options, QStringLiteral("reading %1").arg(file));
        QFile f(dir.filePath(file));
        if (!f.open(QIODevice::ReadOnly))
            throw Error(QStringLiteral("Cannot read %1: %2").arg(f.fileName(), f.errorString()));
        const QByteArray text = f.readAll();
        if (const qsizetype line = invalidUtf8Line(text); line > 0)
            throw Error(QStringLiteral("%1 is not UTF-8 text (line %2). "
                                       "Convert it (iconv -t UTF-8) or remove it from the "
                                       "folder.").arg(f.fileName()).arg(line));
        const std::vector<QByteArray> records = parseFortunes(text);
        if (records.empty())
            throw Error(QStringLiteral("The category \"%1\" (%2) has no records: every class "
                                       "needs samples. Remove the file or fill it (records "
                                       "separated by lines of \"%\").")
                            .arg(file, f.fileName()));
        const qint64 label = out.classNames.size();
        out.classNames << file;
        for (const QByteArray &r : records) {
            out.records.push_back(r);
            out.labels.push_back(label);
        }
    }
    return out;
}

TextDatasetRegistry::TextDatasetRegistry()
{
    m_readers.add(std::make_shared<FortunesReader>());
    m_readers.add(std::make_shared<TextFolderReader>());
    m_readers.add(std::make_shared<TextCsvReader>());
    BuiltinDataset fortunes;
    fortunes.name = QStringLiteral("fortunes");
    fortunes.description = QStringLiteral("Debian's fortune cookies: about 15,000 English "
                                          "records in about 40 categories (text; the category "
                                          "is the class)");
    fortunes.path = QString::fromLatin1(kFortunesPath);
    fortunes.reader = QStringLiteral("fortunes");
    fortunes.debianPackage = QStringLiteral("fortunes");
    m_builtins.add(std::make_shared<BuiltinDatasetProvider>(fortunes));
}

TextDatasetRegistry &TextDatasetRegistry::instance()
{
    static TextDatasetRegistry registry;
    return registry;
}

bool TextDatasetRegistry::accepts(const DatasetOptions &options) const
{
    const QString source = options.source.trimmed();
    if (!options.textColumn.isEmpty() && QFileInfo(source).isFile())
        return true;
    if (options.labelColumn.isEmpty())
        return accepts(source);
    // A label column named: a CSV is text when a column besides that one holds text.
    const QList<std::shared_ptr<TextReader>> readers = m_readers.all();
    return m_builtins.find(source) || textcsv::isTextCsv(source, options.labelColumn)
           || std::any_of(readers.begin(), readers.end(), [&](const auto &r) {
                  return r->name() != QLatin1String("text-csv") && r->canRead(source);
              });
}

bool TextDatasetRegistry::accepts(const QString &source) const
{
    const QString trimmed = source.trimmed();
    if (m_builtins.find(trimmed))
        return true;
    const QList<std::shared_ptr<TextReader>> readers = m_readers.all();
    return std::any_of(readers.begin(), readers.end(),
                       [&trimmed](const auto &r) { return r->canRead(trimmed); });
}

TextDataset TextDatasetRegistry::load(const DatasetOptions &options) const
{
    if (options.limit < 0)
        throw Error(QStringLiteral("The sample limit must be 0 (all) or more, not %1.")
                        .arg(options.limit));
    if (std::abs(options.validationFraction - 0.1) > 1e-12)
        throw Error(QStringLiteral("Text datasets have a fixed split (%1), a validation "
                                   "fraction of 0.1; %2 cannot be used. Leave "
                                   "--validation-fraction out.")
                        .arg(TextDataset::splitRule(), QString::number(options.validationFraction)));
    const QString source = options.source.trimmed();
    QString path = source;
    std::shared_ptr<TextReader> reader;
    QString name;
    if (const auto builtin = m_builtins.find(source)) {
        const BuiltinDataset &info = builtin->info();
        path = info.path;
        name = info.name;
        if (!QFileInfo::exists(path))
            throw Error(QStringLiteral("Dataset \"%1\" is not installed: %2 is missing. Install "
                                       "it with: sudo apt-get install %3")
                            .arg(info.name, QDir::toNativeSeparators(path), info.debianPackage));
        reader = m_readers.find(info.reader);
    } else if (!options.textColumn.isEmpty() && QFileInfo(path).isFile()) {
        reader = m_readers.find(QStringLiteral("text-csv"));   // named: read as text
    } else {
        for (const auto &candidate : m_readers.all()) {
            // A CSV is text when a column besides the label named (or CsvReader's) is.
            if (candidate->name() == QLatin1String("text-csv")
                    ? textcsv::isTextCsv(path, options.labelColumn)
                    : candidate->canRead(path)) {
                reader = candidate;
                break;
            }
        }
    }
    if (!reader && DatasetRegistry::instance().builtins().find(source))
        throw Error(QStringLiteral("\"%1\" is not a text dataset: a language model (--task lm) "
                                   "trains on text, such as %2.")
                        .arg(source, m_builtins.names().join(QStringLiteral(", "))));
    if (!reader)
        throw Error(QStringLiteral("No text dataset \"%1\": it is neither a built-in text "
                                   "dataset (%2) nor a folder a text reader accepts (%3).")
                        .arg(excerpt(source), m_builtins.names().join(QStringLiteral(", ")),
                             m_readers.names().join(QStringLiteral(", "))));
    TextRecords all = reader->read(path, options);
    TextDataset dataset;
    dataset.name = name.isEmpty() ? all.name : name;
    dataset.source = all.source;
    dataset.readerName = reader->name();
    dataset.classNames = all.classNames;
    for (size_t i = 0; i < all.records.size(); ++i) {
        TextSplit &split = i % TextDataset::kValidationEvery == TextDataset::kValidationEvery - 1
                               ? dataset.validation
                               : dataset.train;
        split.records.push_back(std::move(all.records[i]));
        split.labels.push_back(all.labels[i]);
    }
    if (dataset.train.count() == 0)
        throw Error(QStringLiteral("The text dataset %1 has no training records.")
                        .arg(dataset.source));
    if (options.limit > 0) {
        dataset.limit = options.limit;
        const qint64 validationKeep = (options.limit + 8) / 9;
        dataset.train = subset(dataset.train, options.limit, options.seed);
        dataset.validation = subset(dataset.validation, validationKeep, options.seed + 1);
    }
    return dataset;
}

} // namespace ms
