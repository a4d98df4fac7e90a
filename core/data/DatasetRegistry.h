#pragma once

#include "common/ProviderRegistry.h"
#include "data/Dataset.h"
#include "data/DatasetReader.h"

namespace ms {

// A dataset known by name, such as Debian's Fashion-MNIST.
struct BuiltinDataset
{
    QString name;           // "fashion-mnist"
    QString description;
    QString path;           // where it lives
    QString reader;         // reader name for that path
    QString debianPackage;  // what to install when the path is missing
    // What one sample is, said without reading the files (a form fills in at once, where
    // reading 60,000 images would take seconds). Empty and 0 when the provider does not say:
    // then the dataset is read to learn them.
    std::vector<qint64> sampleShape;   // {1, 28, 28}
    int numClasses = 0;

    bool describesSamples() const { return !sampleShape.empty() && numClasses > 0; }
};

class BuiltinDatasetProvider
{
public:
    explicit BuiltinDatasetProvider(BuiltinDataset info) : m_info(std::move(info)) {}
    QString name() const { return m_info.name; }
    const BuiltinDataset &info() const { return m_info; }

private:
    BuiltinDataset m_info;
};

// The dataset readers and built-in datasets, and the one door to loading a dataset.
class DatasetRegistry
{
public:
    // Holds the built-in readers (idx, csv) and datasets (fashion-mnist; Debian 12 packages no
    // plain MNIST, so there is no "mnist" entry).
    static DatasetRegistry &instance();

    ProviderRegistry<DatasetReader> &readers() { return m_readers; }
    ProviderRegistry<BuiltinDatasetProvider> &builtins() { return m_builtins; }

    // Resolves options.source (a built-in name or a path), picks the reader, reads, then applies
    // the limit, the seeded validation split and the training-split statistics.
    // Throws ms::Error: a missing built-in names its path and Debian package.
    Dataset load(const DatasetOptions &options) const;
    // The file or folder load() reads for `source`: a built-in dataset's own path, or the path
    // given with a leading "~/" expanded. Not checked for existence.
    QString sourcePath(const QString &source) const;

private:
    DatasetRegistry();

    ProviderRegistry<DatasetReader> m_readers;
    ProviderRegistry<BuiltinDatasetProvider> m_builtins;
};

} // namespace ms
