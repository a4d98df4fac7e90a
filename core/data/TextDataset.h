#pragma once

#include "common/ProviderRegistry.h"
#include "data/Dataset.h"
#include "data/DatasetRegistry.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>
#include <QList>
#include <QStringList>

#include <vector>

namespace ms {

// One split of a text dataset: records (UTF-8 text, in corpus order) and their class labels.
struct TextSplit
{
    std::vector<QByteArray> records;
    std::vector<qint64> labels;

    qint64 count() const { return qint64(records.size()); }
    qint64 bytes() const;
    // The records joined by kRecordSeparator: the text a language model reads.
    QByteArray corpus() const;
};

// A labelled text dataset in memory. For classification a record is a sample and its label
// the class; for language modelling each split's corpus() is one long text. The split is a
// fixed rule over the whole corpus in its reading order (not seeded), recorded in `splitRule`
// and in describe(): every 10th record (index % 10 == 9) is validation, as in
// shared/peers/lm_peer.py, so a model trained here and one trained by the peer see the same
// validation text.
struct TextDataset
{
    // Records are joined with this in a corpus, the fortune files' own separator.
    static constexpr const char *kRecordSeparator = "\n%\n";
    static constexpr int kValidationEvery = 10;   // record i is validation when i % 10 == 9

    QString name;            // "fortunes"
    QString source;          // the folder it was read from
    QString readerName;      // "fortunes"
    QStringList classNames;  // one per class (a fortunes category), index = label
    TextSplit train;
    TextSplit validation;
    qint64 limit = 0;        // the sample limit applied (0: none)

    int numClasses() const { return int(classNames.size()); }
    static QString splitRule();
    // Keys: name, source, reader, kind ("text"), classes, num_classes, split_rule, train,
    // validation (record counts), train_bytes, validation_bytes, class_counts {train, validation},
    // limit when one was applied.
    QJsonObject describe() const;
};

// All records of a text source, in corpus order, before any split.
struct TextRecords
{
    QString name;
    QString source;
    QStringList classNames;
    std::vector<QByteArray> records;
    std::vector<qint64> labels;
};

// Reads one text format into records. Built-in readers register in
// TextDatasetRegistry::readers(), as plugin readers would.
class TextReader
{
public:
    virtual ~TextReader() = default;
    virtual QString name() const = 0;
    virtual QString description() const = 0;
    virtual bool canRead(const QString &path) const = 0;
    // Throws ms::Error naming the file and what is wrong (not UTF-8, a class without records).
    virtual TextRecords read(const QString &path, const DatasetOptions &options) const = 0;
};

// The `fortune` program's data folder (Debian's fortunes, fortunes-min): one file per
// category, records separated by lines that are exactly "%". The strfile indexes (.dat), the
// .u8 links and other symbolic links are skipped; files are read in byte order of their names.
// A record is its lines joined by "\n"; records that are blank are dropped. The category (file
// name) is the record's class.
class FortunesReader final : public TextReader
{
public:
    QString name() const override { return QStringLiteral("fortunes"); }
    QString description() const override;
    // A folder holding at least one category file with its strfile index (NAME and NAME.dat).
    bool canRead(const QString &path) const override;
    TextRecords read(const QString &path, const DatasetOptions &options) const override;
};

// A folder of text files per class: DIR/<class>/*.txt, one record per file (its text, a UTF-8
// byte-order mark and the line breaks at its end removed). Classes are the subfolders in byte
// order of their names, files within a class in byte order of theirs: the corpus order the
// fixed split counts in. Hidden entries are skipped; a subfolder without .txt files is a class
// without samples and refused, as are an empty file and a file that is not UTF-8.
class TextFolderReader final : public TextReader
{
public:
    QString name() const override { return QStringLiteral("text-folder"); }
    QString description() const override;
    // A folder with subfolders holding .txt files (and not a fortune folder).
    bool canRead(const QString &path) const override;
    TextRecords read(const QString &path, const DatasetOptions &options) const override;
};

// A CSV file (RFC 4180: quoted fields may hold commas, quotes as "" and line breaks) with a
// header row, a text column and a label column, one record per row, in file order. Columns
// are named by options.textColumn / options.labelColumn (header name or 0-based index); left
// out, the label is the column named label, target, class or category, and the text the
// column named text, else the one other column whose cells are not all numbers. A file where
// that is ambiguous is refused with the columns it has. A file of one column is text only (one
// class, for language modelling) when options.textColumn names it. Classes are the distinct labels, in numeric order when
// all are integers, else in byte order.
class TextCsvReader final : public TextReader
{
public:
    QString name() const override { return QStringLiteral("text-csv"); }
    QString description() const override;
    // A .csv/.tsv file whose first rows hold a column of text besides the label: a column
    // other than the one CsvReader would take as the label that has cells that are not numbers.
    // A numeric table (CsvReader's) is not accepted.
    bool canRead(const QString &path) const override;
    TextRecords read(const QString &path, const DatasetOptions &options) const override;

    // The cells of `text` (the whole file) as rows, quotes undone; `lines` receives the
    // 1-based line each row starts on. At most `maxRows` rows when > 0. Throws ms::Error
    // naming `fileName` and the line of a quote left open.
    static QList<QList<QByteArray>> parse(const QByteArray &text, char delimiter,
                                          const QString &fileName, qsizetype maxRows = 0,
                                          std::vector<qint64> *lines = nullptr);
};

// The 1-based line of the first byte of `text` that is not UTF-8, or 0 when it all is.
qsizetype invalidUtf8Line(const QByteArray &text);

// The text readers and built-in text datasets (Debian's fortunes), and the one door to loading
// a text dataset. Separate from DatasetRegistry because its datasets are tensors of floats
// and these are text, which a tokenizer turns into tokens at training time.
class TextDatasetRegistry
{
public:
    static TextDatasetRegistry &instance();

    ProviderRegistry<TextReader> &readers() { return m_readers; }
    ProviderRegistry<BuiltinDatasetProvider> &builtins() { return m_builtins; }

    // True when `source` names a built-in text dataset or a path a text reader accepts.
    bool accepts(const QString &source) const;
    // The same, or a file named with options.textColumn (a CSV read as text).
    bool accepts(const DatasetOptions &options) const;
    // Resolves options.source (built-in name or path), reads, splits by the fixed rule and
    // applies options.limit (at most that many training records and a ninth as many
    // validation records, each a seeded random subset kept in corpus order). Throws ms::Error:
    // a missing built-in names its path and Debian package; a validation fraction other than
    // 0.1 is refused, since the split is fixed.
    TextDataset load(const DatasetOptions &options) const;

private:
    TextDatasetRegistry();

    ProviderRegistry<TextReader> m_readers;
    ProviderRegistry<BuiltinDatasetProvider> m_builtins;
};

} // namespace ms
