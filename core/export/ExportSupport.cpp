#include "export/ExportSupport.h"

#include "common/Error.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSaveFile>

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
                        .arg(v.ref()).arg(copied_bytes).arg(v.sizeBytes));
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

QString fileStem(const VersionRecord &version)
{
    return QStringLiteral("%1-v%2").arg(version.modelName).arg(version.number);
}

QByteArray pythonStringList(const QStringList &items)
{
    QByteArrayList quoted;
    for (const QString &item : items) {
        const QByteArray one = QJsonDocument(QJsonArray{item}).toJson(QJsonDocument::Compact);
        quoted << one.mid(1, one.size() - 2);   // the string literal inside [ ]
    }
    return '[' + quoted.join(", ") + ']';
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
