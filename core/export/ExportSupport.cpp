#include "export/ExportSupport.h"

#include "common/Error.h"
#include "common/Names.h"
#include "common/Printable.h"
#include "common/ShapeText.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>

#include <algorithm>

namespace ms::exportsupport {

void copyArtifact(const ExportInput &input, const QString &target)
{
    const VersionRecord &v = input.version;
    QFile in(input.artifactPath);
    if (!in.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("cannot read the artifact of %1 (%2): %3.")
                        .arg(v.ref(), input.artifactPath, in.errorString()));
    // QSaveFile: a temporary file beside the target, renamed when complete, so an interrupted
    // export never leaves a truncated model where a model is expected.
    QSaveFile out(target);
    if (!out.open(QIODevice::WriteOnly))
        throw Error(QStringLiteral("cannot write %1: %2.").arg(target, out.errorString()));
    qint64 copied_bytes = 0;
    while (!in.atEnd()) {
        const QByteArray chunk = in.read(1 << 20);
        if (chunk.isEmpty() || out.write(chunk) != chunk.size()) {
            out.cancelWriting();
            throw Error(QStringLiteral("cannot write %1: %2.").arg(target, out.errorString()));
        }
        copied_bytes += chunk.size();
    }
    if (v.sizeBytes > 0 && copied_bytes != v.sizeBytes) {
        out.cancelWriting();
        throw Error(QStringLiteral("the artifact of %1 changed while it was copied (%2 bytes "
                                   "read, %3 recorded); nothing was written.")
                        .arg(v.ref(), QString::number(copied_bytes),
                             QString::number(v.sizeBytes)));
    }
    if (!out.commit())
        throw Error(QStringLiteral("cannot write %1: %2.").arg(target, out.errorString()));
}

void writeFile(const QString &path, const QByteArray &data)
{
    QSaveFile out(path);
    if (!out.open(QIODevice::WriteOnly) || out.write(data) != data.size() || !out.commit())
        throw Error(QStringLiteral("cannot write %1: %2.").arg(path, out.errorString()));
}

void requireEmptyOrMissing(const QString &dir, const QString &what)
{
    const QFileInfo info(dir);
    if (!info.exists())
        return;
    if (!info.isDir())
        throw Error(QStringLiteral("%1 %2 exists and is not a folder: remove it or export "
                                   "somewhere else; nothing was written.")
                        .arg(what, QDir::toNativeSeparators(dir)));
    if (!QDir(dir).isEmpty(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden
                           | QDir::System))
        throw Error(QStringLiteral("%1 %2 already exists and is not empty: remove it or "
                                   "export somewhere else; nothing was written.")
                        .arg(what, QDir::toNativeSeparators(dir)));
}

void makePath(const QString &dir)
{
    if (QFileInfo(dir).isDir())
        return;
    if (QFileInfo::exists(dir))
        throw Error(QStringLiteral("%1 is a file, not a folder: give a folder to export "
                                   "into.").arg(QDir::toNativeSeparators(dir)));
    if (!QDir().mkpath(dir))
        throw Error(QStringLiteral("cannot create the folder %1: check that its parent exists "
                                   "and is writable.").arg(QDir::toNativeSeparators(dir)));
}

void checkExportable(const VersionRecord &version)
{
    checkStoredModelName(version.modelName);
}

bool forced(const ExportInput &input)
{
    return input.options.value(QStringLiteral("force")).toBool(false);
}

QString fileStem(const VersionRecord &version)
{
    return version.modelName + QStringLiteral("-v") + QString::number(version.number);
}

QByteArray pythonString(const QString &text)
{
    const QByteArray one = QJsonDocument(QJsonArray{text}).toJson(QJsonDocument::Compact);
    return one.mid(1, one.size() - 2);   // the string literal inside [ ]
}

QByteArray pythonStringList(const QStringList &items)
{
    QByteArrayList quoted;
    for (const QString &item : items)
        quoted << pythonString(item);
    return '[' + quoted.join(", ") + ']';
}

QString markdownCode(const QString &text)
{
    const QString shown = printable(text);
    int longestRun = 0;
    int run = 0;
    for (const QChar c : shown) {
        run = c == QLatin1Char('`') ? run + 1 : 0;
        longestRun = std::max(longestRun, run);
    }
    const QString fence(longestRun + 1, QLatin1Char('`'));
    // CommonMark strips one space at each end when both are there: pad so a backtick at an
    // end does not join the fence, and the text shows unchanged.
    const bool pad = shown.startsWith(QLatin1Char('`')) || shown.endsWith(QLatin1Char('`'));
    return pad ? fence + QLatin1Char(' ') + shown + QLatin1Char(' ') + fence
               : fence + shown + fence;
}

namespace {

QString numbers(const std::vector<double> &values)
{
    QStringList parts;
    for (double v : values)
        parts << QString::number(v, 'g', 6);
    return QLatin1Char('[') + parts.join(QStringLiteral(", ")) + QLatin1Char(']');
}

} // namespace

InputContract inputContract(const VersionRecord &version)
{
    InputContract contract;
    const InputPreprocessing p = version.inputs.isEmpty() ? InputPreprocessing()
                                                          : version.inputs.first().preprocessing;
    using Kind = InputPreprocessing::Kind;
    const Kind kind = p.kind != Kind::Unrecorded ? p.kind
                      : version.kind == VersionKind::Imported ? Kind::None
                                                               : Kind::Normalize;
    contract.normalisesItself = kind == Kind::Normalize;
    contract.mean = p.mean;
    contract.stdev = p.stdev;
    if (!version.inputs.isEmpty() && version.inputs.first().isInteger()) {
        const TensorSignature &input = version.inputs.first();
        contract.normalisesItself = false;
        // The studio's server reads text too (v2 BYTES); an export keeps the ids, so it says
        // which tokenizer makes them and where its model is.
        const QString kind = version.recipe.value(QStringLiteral("tokenizer")).toString();
        const QString tokenizer =
            kind == QLatin1String("byte")
                ? QStringLiteral("its byte tokenizer gives (the text's UTF-8 bytes)")
            : kind.startsWith(QLatin1String("spm-"))
                ? QStringLiteral("its %1 tokenizer gives (SentencePiece: the model is in the "
                                 "artifact's tokenizer_json attribute, base64, as ModelStudio's "
                                 "docs/language-models.md shows)")
                      .arg(kind)
                : QStringLiteral("its tokenizer gives");
        contract.sentence =
            QStringLiteral("The model takes token ids as %1 %2 (batch first%3), the ids %4%5; "
                           "there is no other preprocessing.")
                .arg(input.dtype, shapeText(input.shape, ShapeStyle::Batch),
                     input.dynamicDims().size() > 1 ? QStringLiteral(", T any length")
                                                    : QString(),
                     tokenizer,
                     input.vocabSize > 0
                         ? QStringLiteral(", from 0 to %1").arg(input.vocabSize - 1)
                         : QString());
    } else if (p.kind == Kind::Unrecorded && version.kind == VersionKind::Imported) {
        contract.sentence = QStringLiteral(
            "The model was imported before the studio recorded preprocessing: it normalises "
            "its input only if it was built to (a ModelStudio model does, a torchvision model "
            "does not), so give it what it was written for.");
    } else if (!contract.normalisesItself) {
        contract.sentence = QStringLiteral(
            "The model takes its input tensor as it is: it was imported without a "
            "normalisation (--mean/--std), so give it exactly what it was written for (images "
            "resized, scaled and normalised as in its training).");
    } else if (!p.mean.empty() && p.mean.size() <= 16) {
        contract.sentence = QStringLiteral(
            "The model takes raw features (images as floats in [0, 1]) and normalises them "
            "itself, (x - mean) / std with mean %1 and std %2 per channel: give it no other "
            "preprocessing.").arg(numbers(p.mean), numbers(p.stdev));
    } else {
        contract.sentence = QStringLiteral(
            "The model takes raw features (images as floats in [0, 1]) and normalises them "
            "itself: give it no other preprocessing.");
    }
    return contract;
}

std::vector<qint64> sampleShape(const VersionRecord &version)
{
    if (version.inputs.isEmpty() || version.inputs.first().shape.empty())
        throw Error(QStringLiteral("%1 has no input signature, so its input shape is unknown: "
                                   "import it again with --input-shape (e.g. 1,3,32,32).")
                        .arg(version.ref()));
    const std::vector<qint64> &shape = version.inputs.first().shape;
    return std::vector<qint64>(shape.begin() + 1, shape.end());
}

} // namespace ms::exportsupport
