#pragma once

#include "data/DatasetReader.h"

namespace ms {

// Reads the IDX format of the MNIST family (MNIST, Fashion-MNIST, KMNIST, ...): a folder with
// train-images-idx3-ubyte and train-labels-idx1-ubyte, raw or gzipped, and optionally the
// t10k-* pair as the test split. Images become floats in [0, 1] with shape {1, H, W}.
class IdxReader final : public DatasetReader
{
public:
    QString name() const override;
    QString description() const override;
    // A folder holding train-images-idx3-ubyte[.gz], or one of the four IDX files themselves
    // (then their folder is read).
    bool canRead(const QString &path) const override;
    Dataset read(const QString &path, const DatasetOptions &options) const override;
};

} // namespace ms
