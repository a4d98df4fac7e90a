#include "export/TorchServeExporter.h"

#include "common/Error.h"
#include "common/Names.h"
#include "export/ExportSupport.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <zip.h>

#include <cstdlib>
#include <cstring>
#include <memory>

namespace ms {

namespace {

// The archiver release whose manifest layout this writes (createdOn, runtime, model{...},
// archiverVersion), the one released beside PyTorch 1.13.
const char *const kArchiverVersion = "0.7.0";
const char *const kSerializedFile = "model.pt";
const char *const kHandlerFile = "handler.py";

const char *const kConfigFile = "modelstudio.json";

// The handler is a constant: no text of the version (its name, its class names) is ever pasted
// into Python source, where a quote in a name would become code. What it needs to know about
// the version it reads at load time from data files in the archive: modelstudio.json (the
// input shape) and index_to_name.json (the class names, TorchServe's own convention). A
// module-level handle(data, context) is TorchServe's plain custom-handler entry point: it needs
// nothing from the `ts` package, so the tests can drive it with a stand-in context.
const char *const kHandlerTemplate = R"PY("""TorchServe handler written by ModelStudio.

The version it serves, its input shape and its class names are read from modelstudio.json and
index_to_name.json beside the model when TorchServe loads it.

Each request body is an image (PNG, JPEG: decoded with Pillow, converted to the model's
channels, resized to its input size, scaled to [0, 1]) or a JSON array of floats of the input
shape (also {"data": [...]}). What the model does to that input itself is in modelstudio.json's
"preprocessing": "normalize" (it computes (x - mean) / std per channel, so images in [0, 1] are
what it takes) or "none" (it takes the tensor as it comes: send what it was written for; an
image is still only scaled to [0, 1]). The answer per request: the top-5 class names with their
probabilities, best first.
"""
import io
import json
import os

import torch

TOP_K = 5

INPUT_SHAPE = None  # one sample, without the batch dimension: modelstudio.json's input_shape
CLASS_NAMES = []    # index_to_name.json, in index order
_model = None


def _load(context):
    global _model, INPUT_SHAPE, CLASS_NAMES
    model_dir = context.system_properties.get("model_dir")
    with open(os.path.join(model_dir, "modelstudio.json"), encoding="utf-8") as f:
        INPUT_SHAPE = [int(d) for d in json.load(f)["input_shape"]]
    names_path = os.path.join(model_dir, "index_to_name.json")
    if os.path.exists(names_path):
        with open(names_path, encoding="utf-8") as f:
            names = json.load(f)
        CLASS_NAMES = [str(names[str(i)]) for i in range(len(names))]
    serialized = context.manifest["model"]["serializedFile"]
    _model = torch.jit.load(os.path.join(model_dir, serialized), map_location="cpu")
    _model.eval()


def _image(raw):
    if len(INPUT_SHAPE) != 3 or INPUT_SHAPE[0] not in (1, 3):
        raise ValueError("this model takes %s tensors, not images: send a JSON array"
                         % (INPUT_SHAPE,))
    from PIL import Image
    channels, height, width = INPUT_SHAPE
    image = Image.open(io.BytesIO(raw)).convert("L" if channels == 1 else "RGB")
    image = image.resize((width, height), Image.BILINEAR)
    pixels = torch.tensor(list(image.tobytes()), dtype=torch.float32).div_(255.0)
    return pixels.reshape(height, width, channels).permute(2, 0, 1)


def _sample(row):
    body = row.get("data") if isinstance(row, dict) else row
    if body is None and isinstance(row, dict):
        body = row.get("body")
    if isinstance(body, (bytes, bytearray)):
        try:
            body = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _image(bytes(body))
    if isinstance(body, str):
        body = json.loads(body)
    if isinstance(body, dict):
        body = body.get("data", body.get("inputs"))
    sample = torch.tensor(body, dtype=torch.float32)
    expected = 1
    for d in INPUT_SHAPE:
        expected *= d
    if sample.numel() != expected:
        raise ValueError("expected %d values (shape %s), got %d"
                         % (expected, INPUT_SHAPE, sample.numel()))
    return sample.reshape(INPUT_SHAPE)


def _label(index):
    return CLASS_NAMES[index] if index < len(CLASS_NAMES) else str(index)


def handle(data, context):
    if _model is None:
        _load(context)
    if data is None:  # TorchServe's initialisation call
        return None
    batch = torch.stack([_sample(row) for row in data])
    with torch.no_grad():
        probabilities = torch.softmax(_model(batch), dim=1)
    top = torch.topk(probabilities, min(TOP_K, probabilities.shape[1]), dim=1)
    return [{_label(i): p for i, p in zip(indices, values)}
            for indices, values in zip(top.indices.tolist(), top.values.tolist())]
)PY";

struct ZipCloser
{
    void operator()(zip_t *archive) const { zip_discard(archive); }
};

[[noreturn]] void zipFailed(zip_t *archive, const QString &what, const QString &target)
{
    throw Error(QStringLiteral("cannot write %1 (%2): %3; nothing was written.")
                    .arg(QDir::toNativeSeparators(target), what,
                         QString::fromLocal8Bit(zip_strerror(archive))));
}

// libzip copies the buffer it is given (freep = 1 on a malloc'ed copy): the QByteArray may go.
void addBuffer(zip_t *archive, const char *name, const QByteArray &data, const QString &target)
{
    void *copy = std::malloc(size_t(data.size()));
    if (!copy)
        throw Error(QStringLiteral("out of memory while writing %1.").arg(target));
    std::memcpy(copy, data.constData(), size_t(data.size()));
    zip_source_t *source = zip_source_buffer(archive, copy, zip_uint64_t(data.size()), 1);
    if (!source) {
        std::free(copy);
        zipFailed(archive, QString::fromLatin1(name), target);
    }
    if (zip_file_add(archive, name, source, ZIP_FL_ENC_UTF_8) < 0) {
        zip_source_free(source);
        zipFailed(archive, QString::fromLatin1(name), target);
    }
}

} // namespace

QString TorchServeExporter::description() const
{
    return QStringLiteral("TorchServe model archive: --to FILE.mar or a folder (<model>.mar in "
                          "it)");
}

QByteArray TorchServeExporter::manifestJson(const VersionRecord &v)
{
    // Field names and the createdOn format (day/month/year) are torch-model-archiver's.
    const QJsonObject model{
        {QStringLiteral("modelName"), v.modelName},
        {QStringLiteral("serializedFile"), QString::fromLatin1(kSerializedFile)},
        {QStringLiteral("handler"), QString::fromLatin1(kHandlerFile)},
        {QStringLiteral("modelVersion"), QStringLiteral("%1.0").arg(v.number)},
    };
    const QJsonObject manifest{
        {QStringLiteral("createdOn"),
         QDateTime::currentDateTime().toString(QStringLiteral("dd/MM/yyyy HH:mm:ss"))},
        {QStringLiteral("runtime"), QStringLiteral("python")},
        {QStringLiteral("model"), model},
        {QStringLiteral("archiverVersion"), QString::fromLatin1(kArchiverVersion)},
    };
    return QJsonDocument(manifest).toJson(QJsonDocument::Indented);
}

QByteArray TorchServeExporter::handlerSource()
{
    return QByteArray(kHandlerTemplate);
}

QByteArray TorchServeExporter::configJson(const VersionRecord &v)
{
    const std::vector<qint64> shape = exportsupport::sampleShape(v);
    QJsonArray dims;
    for (qint64 d : shape) {
        if (d <= 0)
            throw Error(QStringLiteral("%1 has a variable dimension in its input shape besides "
                                       "the batch; the handler needs a fixed sample shape.")
                            .arg(v.ref()));
        dims.append(d);
    }
    const exportsupport::InputContract contract = exportsupport::inputContract(v);
    QJsonObject preprocessing{{QStringLiteral("kind"), contract.normalisesItself
                                                           ? QStringLiteral("normalize")
                                                           : QStringLiteral("none")},
                              {QStringLiteral("note"), contract.sentence}};
    if (!contract.mean.empty()) {
        QJsonArray mean, stdev;
        for (double m : contract.mean)
            mean.append(m);
        for (double s : contract.stdev)
            stdev.append(s);
        preprocessing.insert(QStringLiteral("mean"), mean);
        preprocessing.insert(QStringLiteral("std"), stdev);
    }
    return QJsonDocument(QJsonObject{{QStringLiteral("ref"), v.ref()},
                                     {QStringLiteral("input_shape"), dims},
                                     {QStringLiteral("preprocessing"), preprocessing}})
        .toJson(QJsonDocument::Indented);
}

QStringList TorchServeExporter::write(const ExportInput &input, const QString &to) const
{
    const VersionRecord &v = input.version;
    exportsupport::checkExportable(v);
    QString target = to;
    if (QFileInfo(to).isDir() || to.endsWith(QLatin1Char('/')))
        target = pathInside(to, v.modelName + QStringLiteral(".mar"));
    target = QFileInfo(target).absoluteFilePath();
    if (!target.endsWith(QStringLiteral(".mar")))
        throw Error(QStringLiteral("%1: a TorchServe archive must end in .mar (TorchServe "
                                   "loads only those from its model store).").arg(target));
    // torch-model-archiver refuses an existing archive unless forced; so does this.
    const bool force = exportsupport::forced(input);
    if (QFileInfo(target).isDir() || (QFileInfo::exists(target) && !force))
        throw Error(QStringLiteral("%1 already exists: remove it, choose another --to or pass "
                                   "--force to replace it; nothing was written.")
                        .arg(QDir::toNativeSeparators(target)));
    const QByteArray config = configJson(v);
    const QByteArray manifest = manifestJson(v);
    exportsupport::makePath(QFileInfo(target).absolutePath());

    // libzip writes the archive to a temporary file beside `target` and renames it in
    // zip_close() (over the old archive when forced); zip_discard() (on any error) leaves
    // nothing behind.
    int error_code = 0;
    std::unique_ptr<zip_t, ZipCloser> archive(
        zip_open(QFile::encodeName(target).constData(),
                 ZIP_CREATE | (force ? ZIP_TRUNCATE : ZIP_EXCL), &error_code));
    if (!archive) {
        zip_error_t error;
        zip_error_init_with_code(&error, error_code);
        const QString why = QString::fromLocal8Bit(zip_error_strerror(&error));
        zip_error_fini(&error);
        throw Error(QStringLiteral("cannot write %1: %2.").arg(target, why));
    }
    addBuffer(archive.get(), "MAR-INF/MANIFEST.json", manifest, target);
    addBuffer(archive.get(), kHandlerFile, handlerSource(), target);
    addBuffer(archive.get(), kConfigFile, config, target);
    if (!v.classNames.isEmpty()) {
        QJsonObject names;
        for (int i = 0; i < v.classNames.size(); ++i)
            names.insert(QString::number(i), v.classNames.at(i));
        addBuffer(archive.get(), "index_to_name.json",
                  QJsonDocument(names).toJson(QJsonDocument::Indented), target);
    }
    // The model streams from the verified artifact; its recorded size is the length libzip
    // must read, so a file cut short since it was verified fails the close.
    zip_source_t *model = zip_source_file(archive.get(),
                                          QFile::encodeName(input.artifactPath).constData(), 0,
                                          v.sizeBytes > 0 ? zip_int64_t(v.sizeBytes) : -1);
    if (!model)
        zipFailed(archive.get(), input.artifactPath, target);
    if (zip_file_add(archive.get(), kSerializedFile, model, ZIP_FL_ENC_UTF_8) < 0) {
        zip_source_free(model);
        zipFailed(archive.get(), QString::fromLatin1(kSerializedFile), target);
    }
    if (zip_close(archive.get()) < 0)
        zipFailed(archive.get(), QStringLiteral("closing"), target);
    archive.release();   // zip_close freed it
    return {target};
}

} // namespace ms
