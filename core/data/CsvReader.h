#pragma once

#include "data/DatasetReader.h"

#include <QList>
#include <QStringList>

class QIODevice;

namespace ms {

// Reads a numeric table from a .csv file: one sample per row, one feature per column, one
// label column: options.labelColumn (by header name or 0-based index), else the column whose
// header is label, target or class (in that order, any case), else the last.
// The first row is a header when any of its cells is not a number. Labels that are all
// non-negative integers are used as they are; any other labels are class names, sorted and
// numbered from 0. There is no test split. Rows are numbered as in the file (1-based, the
// header counts), so that an error points at the line an editor shows.
//
// Memory is the features' floats, not the text: a first pass counts the rows (and refuses a
// line or a cell over its limit as soon as it gets there), the features are allocated once,
// and a second pass parses the file chunk by chunk straight into them.
class CsvReader final : public DatasetReader
{
public:
    QString name() const override;
    QString description() const override;
    bool canRead(const QString &path) const override;
    Dataset read(const QString &path, const DatasetOptions &options) const override;

    // read() from an open, seekable device (a file; a test's counting device). `fileName`
    // names it in messages.
    static Dataset readDevice(QIODevice &device, const QString &fileName,
                              const DatasetOptions &options);

    // The label column read() uses when none is requested: the header's label, target or
    // class column, else the last of `columns`.
    static int defaultLabelColumn(const QStringList &header, int columns);

    // The first `maxRows` non-blank lines of the file split into cells as read() splits them
    // (same delimiter detection and quoting), header included: what a preview shows. Reads
    // only as far as it needs, and refuses a line or cell over the default limits as read()
    // does. Throws ms::Error naming the file when it cannot be opened.
    static QList<QStringList> headRows(const QString &path, int maxRows);
};

} // namespace ms
