#include "models/ModelArchive.h"

#include "common/Error.h"
#include "common/Limits.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <zip.h>

#include <algorithm>
#include <climits>

namespace ms {

ModelArchiveSize checkModelArchive(const QString &path, qint64 maxBytes)
{
    ModelArchiveSize size;
    size.fileBytes = QFileInfo(path).size();
    int error = 0;
    zip_t *archive = zip_open(QFile::encodeName(path).constData(), ZIP_RDONLY, &error);
    if (archive == nullptr)
        return size;   // missing or not a zip: Model::load gives the message a person needs
    size.isZip = true;
    const zip_int64_t entries = zip_get_num_entries(archive, 0);
    for (zip_int64_t i = 0; i < entries; ++i) {
        zip_stat_t stat;
        zip_stat_init(&stat);
        if (zip_stat_index(archive, zip_uint64_t(i), 0, &stat) == 0
            && (stat.valid & ZIP_STAT_SIZE) != 0)
            size.uncompressedBytes += stat.size;
    }
    zip_discard(archive);
    size.entries = qint64(entries);
    if (size.uncompressedBytes > quint64(maxBytes))
        throw Error(QStringLiteral("%1 declares %2 once unpacked (%3 entries in a file of %4), "
                                   "more than the limit of %5 for a model. Is it the file you "
                                   "meant? If the model is that large, raise the limit with "
                                   "--max-model-bytes, MODELSTUDIO_MAX_MODEL_BYTES or "
                                   "\"max_model_bytes\" in the workspace's settings.json.")
                        .arg(QDir::toNativeSeparators(path),
                             Limits::formatBytes(qint64(std::min<quint64>(
                                 size.uncompressedBytes, quint64(LLONG_MAX)))),
                             QString::number(size.entries), Limits::formatBytes(size.fileBytes),
                             Limits::formatBytes(maxBytes)));
    return size;
}

} // namespace ms
