#pragma once

#include "export/Exporter.h"

namespace ms {

// A TorchServe model archive (.mar): the zip torch-model-archiver writes for a TorchScript
// model, i.e. MAR-INF/MANIFEST.json, the serialized file model.pt, a handler,
// index_to_name.json (the class names, TorchServe's convention for extra files) and
// modelstudio.json (the input shape the handler reads).
// --to FILE.mar, or a folder (<model>.mar in it, as the archiver's --export-path does). An
// existing archive is refused unless the option "force" is true.
//
// The handler is generated, not TorchServe's builtin "image_classifier": that one resizes to
// 3-channel 224x224 and applies ImageNet's normalisation, while a studio model takes raw
// [0, 1] features of its own shape and normalises itself. The generated one decodes an image
// (or takes a JSON tensor), resizes it to the version's input shape and returns the top-5
// class names with their probabilities, the shape of the builtin classifier's answer.
class TorchServeExporter final : public Exporter
{
public:
    QString name() const override { return QStringLiteral("torchserve"); }
    QString description() const override;
    QStringList write(const ExportInput &input, const QString &to) const override;

    static QByteArray manifestJson(const VersionRecord &version);
    // The same Python for every version: nothing of a version is pasted into code.
    static QByteArray handlerSource();
    // modelstudio.json: {"ref": "cnn:3", "input_shape": [1, 28, 28]}. Throws ms::Error when
    // the version has no fixed sample shape.
    static QByteArray configJson(const VersionRecord &version);
};

} // namespace ms
