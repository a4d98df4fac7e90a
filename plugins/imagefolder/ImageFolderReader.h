#pragma once

#include "data/DatasetReader.h"

#include <QDir>
#include <QStringList>

namespace msplugin {

// Reads a folder of images, one sub-folder per class (the torchvision ImageFolder layout):
//   pets/cat/001.png  pets/dog/002.jpg ...
// or, with a published test split, pets/train/<class>/... and pets/test/<class>/....
// Class names are the sub-folder names, sorted. Every image is converted to the folder's
// colour mode and resized to its shape, both set by an optional imagefolder.json in the root:
//   {"size": [32, 32], "color": "gray"}     ("size": 32 means 32x32; "color": "gray"/"rgb")
// Without it, the size is the first image's and the colour is gray when that image's file
// stores grey (its format: a PNG's colour type, a JPEG's components), never judged from its
// pixels, so an RGB photo of a grey wall still makes 3 channels.
// Pixels become floats in [0, 1], channels first (C x H x W), as the IDX reader gives them.
class ImageFolderReader final : public ms::DatasetReader
{
public:
    QString name() const override { return QStringLiteral("imagefolder"); }
    QString description() const override;
    bool canRead(const QString &path) const override;
    ms::Dataset read(const QString &path, const ms::DatasetOptions &options) const override;

    static QStringList imageFilters();   // *.png, *.jpg, *.jpeg (any case)
};

} // namespace msplugin
