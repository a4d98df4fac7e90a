#pragma once

#include "data/DatasetReader.h"

#include <QList>
#include <QStringList>

namespace ms {

// Reads a numeric table from a .csv file: one sample per row, one feature per column, one
// label column (options.labelColumn, by header name or 0-based index; default the last).
// The first row is a header when any of its cells is not a number. Labels that are all
// non-negative integers are used as they are; any other labels are class names, sorted and
// numbered from 0. There is no test split. Rows are numbered as in the file (1-based, the
// header counts), so that an error points at the line an editor shows.
class CsvReader final : public DatasetReader
{
public:
    QString name() const override;
    QString description() const override;
    bool canRead(const QString &path) const override;
    Dataset read(const QString &path, const DatasetOptions &options) const override;

    // The first `maxRows` non-blank lines of the file split into cells as read() splits them
    // (same delimiter detection and quoting), header included: what a preview shows. Reads
    // only as far as it needs. Throws ms::Error naming the file when it cannot be opened.
    static QList<QStringList> headRows(const QString &path, int maxRows);
};

} // namespace ms
