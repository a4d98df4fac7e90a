#pragma once

#include "data/Dataset.h"

#include <QString>

namespace ms {

// Reads one dataset format. Built-in readers and plugin readers register the same way, in
// DatasetRegistry::readers().
class DatasetReader
{
public:
    virtual ~DatasetReader() = default;

    virtual QString name() const = 0;        // "idx", "csv"
    virtual QString description() const = 0;
    // True when this reader understands `path` (a file or a folder), judged cheaply.
    virtual bool canRead(const QString &path) const = 0;
    // Reads every sample into `train` (and `test` where the format has one), fills name,
    // sampleShape and classNames. The registry then applies limit, validation split and
    // statistics. Throws ms::Error naming the file and what is wrong.
    virtual Dataset read(const QString &path, const DatasetOptions &options) const = 0;
};

} // namespace ms
