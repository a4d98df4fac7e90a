#include "export/TritonExporter.h"

#include "common/Error.h"
#include "common/Names.h"
#include "common/Printable.h"
#include "export/ExportSupport.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>

namespace ms {

namespace {

constexpr int kDefaultMaxBatchSize = 32;
// How long Triton may hold a request to gather a batch. 100 us is the value Triton's own
// dynamic batching examples start from; a user tunes it in config.pbtxt.
constexpr int kMaxQueueDelay_us = 100;

QString dimsText(const std::vector<qint64> &dims)
{
    QStringList parts;
    for (qint64 d : dims)
        parts << QString::number(d);
    return QStringLiteral("[ %1 ]").arg(parts.join(QStringLiteral(", ")));
}

// Triton batches on the first dimension only when every input and output has a variable one.
bool batchable(const VersionRecord &version)
{
    for (const Signature *signature : {&version.inputs, &version.outputs}) {
        for (const TensorSignature &t : *signature) {
            if (t.shape.empty() || t.shape.front() != -1)
                return false;
        }
    }
    return true;
}

// A protobuf text-format string literal (what TextFormat's parser reads back as `text`):
// quotes and backslashes escaped, control bytes as octal escapes, UTF-8 kept as it is.
QByteArray pbtxtString(const QString &text)
{
    QByteArray out("\"");
    for (const char c : text.toUtf8()) {
        const auto byte = static_cast<unsigned char>(c);
        switch (byte) {
        case '"': out += "\\\""; break;
        case '\'': out += "\\'"; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (byte < 0x20 || byte == 0x7f) {
                out += '\\';
                out += QByteArray::number(byte, 8).rightJustified(3, '0');
            } else {
                out += c;
            }
        }
    }
    return out + '"';
}

bool hasLabels(const VersionRecord &version)
{
    if (version.classNames.isEmpty() || version.outputs.size() != 1)
        return false;
    const std::vector<qint64> &shape = version.outputs.first().shape;
    return shape.size() == 2 && shape.back() == version.classNames.size();
}

void appendTensors(QByteArray &text, const char *block, const char *prefix,
                   const Signature &signature, bool batched, bool labels)
{
    text += block;
    text += " [\n";
    for (int i = 0; i < signature.size(); ++i) {
        const TensorSignature &t = signature.at(i);
        std::vector<qint64> dims = t.shape;
        if (batched)
            dims.erase(dims.begin());
        text += "  {\n";
        text += QByteArray("    name: \"") + prefix + "__" + QByteArray::number(i) + "\"\n";
        text += QStringLiteral("    data_type: %1\n").arg(TritonExporter::tritonDataType(t.dtype))
                    .toUtf8();
        text += QStringLiteral("    dims: %1\n").arg(dimsText(dims)).toUtf8();
        if (labels)
            text += "    label_filename: \"labels.txt\"\n";
        text += i + 1 < signature.size() ? "  },\n" : "  }\n";
    }
    text += "]\n";
}

} // namespace

QString TritonExporter::description() const
{
    return QStringLiteral("Triton model repository: --to DIR gets DIR/<model>/config.pbtxt and "
                          "DIR/<model>/<version>/model.pt");
}

QString TritonExporter::tritonDataType(const QString &dtype)
{
    static const QMap<QString, QString> names{
        {QStringLiteral("float32"), QStringLiteral("TYPE_FP32")},
        {QStringLiteral("float64"), QStringLiteral("TYPE_FP64")},
        {QStringLiteral("float16"), QStringLiteral("TYPE_FP16")},
        {QStringLiteral("bfloat16"), QStringLiteral("TYPE_BF16")},
        {QStringLiteral("int64"), QStringLiteral("TYPE_INT64")},
        {QStringLiteral("int32"), QStringLiteral("TYPE_INT32")},
        {QStringLiteral("int16"), QStringLiteral("TYPE_INT16")},
        {QStringLiteral("int8"), QStringLiteral("TYPE_INT8")},
        {QStringLiteral("uint8"), QStringLiteral("TYPE_UINT8")},
        {QStringLiteral("bool"), QStringLiteral("TYPE_BOOL")},
    };
    const QString name = names.value(dtype);
    if (name.isEmpty())
        throw Error(QStringLiteral("Triton has no data type for \"%1\"; known: %2.")
                        .arg(dtype, names.keys().join(QStringLiteral(", "))));
    return name;
}

QByteArray TritonExporter::configText(const VersionRecord &version, int max_batch_size)
{
    if (version.inputs.isEmpty() || version.outputs.isEmpty())
        throw Error(QStringLiteral("%1 has no %2 signature, which a Triton configuration needs: "
                                   "import it again with --input-shape (e.g. 1,3,32,32).")
                        .arg(version.ref(), version.inputs.isEmpty() ? QStringLiteral("input")
                                                                     : QStringLiteral("output")));
    if (max_batch_size < 0)
        throw Error(QStringLiteral("max_batch_size must be 0 (no batching) or more, not %1.")
                        .arg(max_batch_size));
    const bool batched = max_batch_size > 0 && batchable(version);
    QByteArray text;
    // A comment ends at the line's end: the reference is escaped so it cannot start a line.
    text += QStringLiteral("# Triton model configuration for %1, written by ModelStudio %2.\n")
                .arg(printable(version.ref()), QStringLiteral(MODELSTUDIO_VERSION)).toUtf8();
    // Wrapped at the comment width; the sentence holds no line break of its own.
    const QStringList words = exportsupport::inputContract(version).sentence.split(
        QLatin1Char(' '));
    QString line = QStringLiteral("#");
    for (const QString &word : words) {
        if (line.size() + 1 + word.size() > 96) {
            text += line.toUtf8() + '\n';
            line = QStringLiteral("#");
        }
        line += QLatin1Char(' ') + word;
    }
    text += line.toUtf8() + '\n';
    if (max_batch_size > 0 && !batched)
        text += "# Not batched: a tensor of its signature has a fixed first dimension.\n";
    text += "name: " + pbtxtString(version.modelName) + '\n';
    text += "platform: \"pytorch_libtorch\"\n";
    text += QStringLiteral("max_batch_size: %1\n").arg(batched ? max_batch_size : 0).toUtf8();
    appendTensors(text, "input", "INPUT", version.inputs, batched, false);
    appendTensors(text, "output", "OUTPUT", version.outputs, batched, hasLabels(version));
    if (batched) {
        text += "dynamic_batching {\n";
        text += QStringLiteral("  max_queue_delay_microseconds: %1\n").arg(kMaxQueueDelay_us)
                    .toUtf8();
        text += "}\n";
    }
    return text;
}

QStringList TritonExporter::write(const ExportInput &input, const QString &to) const
{
    const VersionRecord &v = input.version;
    const int max_batch_size =
        input.options.value(QStringLiteral("max_batch_size")).toInt(kDefaultMaxBatchSize);
    // Everything that can be refused is refused before a file is touched.
    exportsupport::checkExportable(v);
    const QByteArray config = configText(v, max_batch_size);
    const QString repository = QFileInfo(to).absoluteFilePath();
    const QString modelDir = pathInside(repository, v.modelName);
    exportsupport::requireEmptyOrMissing(modelDir, QStringLiteral("The Triton model folder"));
    exportsupport::makePath(repository);

    // The model folder is assembled under a temporary name in the repository and renamed into
    // place: a Triton server polling the repository never sees a half-written model.
    QTemporaryDir staging(pathInside(repository, QLatin1Char('.') + v.modelName
                                                     + QStringLiteral("-XXXXXX")));
    if (!staging.isValid())
        throw Error(QStringLiteral("cannot write into %1: %2. Check that it is writable.")
                        .arg(QDir::toNativeSeparators(repository), staging.errorString()));
    const QString versionDir = QString::number(v.number);
    if (!QDir(staging.path()).mkdir(versionDir))
        throw Error(QStringLiteral("cannot create a folder in %1.").arg(staging.path()));
    exportsupport::writeFile(QDir(staging.path()).filePath(QStringLiteral("config.pbtxt")),
                             config);
    exportsupport::copyArtifact(input, QDir(staging.path()).filePath(versionDir
                                                                      + QStringLiteral(
                                                                          "/model.pt")));
    QStringList relative{QStringLiteral("config.pbtxt"), versionDir + QStringLiteral("/model.pt")};
    if (hasLabels(v)) {
        // One label per line, in class order: a name holding a line break would shift every
        // label after it, so control characters are written escaped.
        QStringList labels;
        for (const QString &name : v.classNames)
            labels << printable(name);
        exportsupport::writeFile(QDir(staging.path()).filePath(QStringLiteral("labels.txt")),
                                 labels.join(QLatin1Char('\n')).toUtf8() + '\n');
        relative << QStringLiteral("labels.txt");
    }
    // An empty model folder was accepted above; it makes way for the complete one.
    if (QFileInfo(modelDir).isDir() && !QDir().rmdir(modelDir))
        throw Error(QStringLiteral("cannot replace the empty folder %1.").arg(modelDir));
    // QTemporaryDir makes its folder private (0700); an exported model is for a server that may
    // run as another user.
    QFile::setPermissions(staging.path(), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner
                                              | QFile::ReadGroup | QFile::ExeGroup
                                              | QFile::ReadOther | QFile::ExeOther);
    if (!QDir().rename(staging.path(), modelDir))
        throw Error(QStringLiteral("cannot move the export into %1; nothing was written.")
                        .arg(QDir::toNativeSeparators(modelDir)));
    staging.setAutoRemove(false);

    QStringList written{modelDir};
    for (const QString &file : relative)
        written << QDir(modelDir).filePath(file);
    return written;
}

} // namespace ms
