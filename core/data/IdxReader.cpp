#include "data/IdxReader.h"

#include "common/Error.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>

namespace ms {

namespace {

constexpr quint32 kImagesMagic = 0x00000803; // unsigned bytes, 3 dimensions
constexpr quint32 kLabelsMagic = 0x00000801; // unsigned bytes, 1 dimension
constexpr qint64 kImagesHeaderBytes = 16;
constexpr qint64 kLabelsHeaderBytes = 8;

// Fashion-MNIST's README, in label order.
const QStringList &fashionClassNames()
{
    static const QStringList names = {
        QStringLiteral("T-shirt/top"), QStringLiteral("Trouser"), QStringLiteral("Pullover"),
        QStringLiteral("Dress"), QStringLiteral("Coat"), QStringLiteral("Sandal"),
        QStringLiteral("Shirt"), QStringLiteral("Sneaker"), QStringLiteral("Bag"),
        QStringLiteral("Ankle boot")};
    return names;
}

QString display(const QString &path)
{
    return QDir::toNativeSeparators(path);
}

// Both spellings seen in the wild: "train-images-idx3-ubyte" (LeCun's archives, Debian) and
// "train-images.idx3-ubyte" (what some unzip tools leave behind), raw preferred over gzip.
QStringList candidateNames(const QString &stem, const QString &kind)
{
    const QString dashed = stem + QLatin1Char('-') + kind + QStringLiteral("-ubyte");
    const QString dotted = stem + QLatin1Char('.') + kind + QStringLiteral("-ubyte");
    return {dashed, dashed + QStringLiteral(".gz"), dotted, dotted + QStringLiteral(".gz")};
}

QString findIdxFile(const QDir &dir, const QString &stem, const QString &kind)
{
    for (const QString &candidate : candidateNames(stem, kind)) {
        const QFileInfo info(dir.filePath(candidate));
        if (info.isFile())
            return info.filePath();
    }
    return QString();
}

quint32 readBigEndian32(const unsigned char *bytes)
{
    return (quint32(bytes[0]) << 24) | (quint32(bytes[1]) << 16) | (quint32(bytes[2]) << 8)
           | quint32(bytes[3]);
}

std::vector<unsigned char> readRawFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("Cannot open %1: %2").arg(display(path), file.errorString()));
    std::vector<unsigned char> bytes(size_t(file.size()), 0);
    const qint64 read_bytes = file.read(reinterpret_cast<char *>(bytes.data()), file.size());
    if (read_bytes != file.size())
        throw Error(QStringLiteral("Cannot read %1: %2").arg(display(path), file.errorString()));
    return bytes;
}

// The gzip trailer's ISIZE (uncompressed size mod 2^32) lets us reserve once instead of
// growing a 47 MB buffer step by step; it is only a hint, the loop below is the truth.
size_t gzipSizeHint(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly) || file.size() < 18 || !file.seek(file.size() - 4))
        return 0;
    const QByteArray trailer = file.read(4);
    if (trailer.size() != 4)
        return 0;
    const auto *bytes = reinterpret_cast<const unsigned char *>(trailer.constData());
    return size_t(bytes[0]) | (size_t(bytes[1]) << 8) | (size_t(bytes[2]) << 16)
           | (size_t(bytes[3]) << 24);
}

std::vector<unsigned char> readGzipFile(const QString &path)
{
    const QByteArray localPath = QFile::encodeName(path);
    gzFile file = gzopen(localPath.constData(), "rb");
    if (file == nullptr)
        throw Error(QStringLiteral("Cannot open %1.").arg(display(path)));
    gzbuffer(file, 1 << 18);

    constexpr size_t kChunkBytes = size_t(1) << 20;
    std::vector<unsigned char> bytes;
    bytes.reserve(gzipSizeHint(path) + 1);
    while (true) {
        const size_t used = bytes.size();
        bytes.resize(used + kChunkBytes);
        const int read_bytes = gzread(file, bytes.data() + used, unsigned(kChunkBytes));
        bytes.resize(used + size_t(read_bytes > 0 ? read_bytes : 0));
        if (read_bytes <= 0)
            break;
    }
    int errorCode = Z_OK;
    const char *zlibMessage = gzerror(file, &errorCode);
    const QString message = QString::fromUtf8(zlibMessage ? zlibMessage : "");
    gzclose(file);
    // A truncated gzip stream surfaces here (Z_BUF_ERROR), not as a short IDX payload.
    if (errorCode != Z_OK)
        throw Error(QStringLiteral("Cannot decompress %1: %2. The download is probably "
                                   "incomplete; fetch the file again.")
                        .arg(display(path), message));
    return bytes;
}

std::vector<unsigned char> readIdxBytes(const QString &path)
{
    if (path.endsWith(QStringLiteral(".gz"), Qt::CaseInsensitive))
        return readGzipFile(path);
    return readRawFile(path);
}

void checkMagic(const QString &path, const std::vector<unsigned char> &bytes,
                qint64 headerBytes, quint32 expectedMagic, const char *what)
{
    if (qint64(bytes.size()) < headerBytes)
        throw Error(QStringLiteral("%1 is truncated: an IDX %2 file needs a %3-byte header, "
                                   "expected at least %3 bytes but the file holds %4.")
                        .arg(display(path), QLatin1String(what))
                        .arg(headerBytes)
                        .arg(qint64(bytes.size())));
    const quint32 magic = readBigEndian32(bytes.data());
    if (magic != expectedMagic)
        throw Error(QStringLiteral("%1 has the wrong magic number 0x%2: an IDX %3 file starts "
                                   "with 0x%4. Is it the right file, and not corrupt?")
                        .arg(display(path))
                        .arg(magic, 8, 16, QLatin1Char('0'))
                        .arg(QLatin1String(what))
                        .arg(expectedMagic, 8, 16, QLatin1Char('0')));
}

void checkPayloadSize(const QString &path, const std::vector<unsigned char> &bytes,
                      qint64 headerBytes, quint64 payloadBytes, const QString &declared)
{
    const quint64 actual = bytes.size();
    const quint64 limit = quint64(std::numeric_limits<qint64>::max());
    if (payloadBytes > limit - quint64(headerBytes))
        throw Error(QStringLiteral("%1 is corrupt: its header declares %2, more bytes than any "
                                   "file can hold.")
                        .arg(display(path), declared));
    const quint64 expected = quint64(headerBytes) + payloadBytes;
    if (actual != expected)
        throw Error(QStringLiteral("%1 is %2: its header declares %3, so expected %4 bytes, "
                                   "but the file holds %5 bytes. Fetch the file again.")
                        .arg(display(path),
                             actual < expected ? QStringLiteral("truncated")
                                               : QStringLiteral("corrupt"),
                             declared)
                        .arg(expected)
                        .arg(actual));
}

struct IdxImages
{
    qint64 count = 0;
    qint64 rows = 0;
    qint64 cols = 0;
    std::vector<float> pixels;
};

IdxImages readImages(const QString &path)
{
    const std::vector<unsigned char> bytes = readIdxBytes(path);
    checkMagic(path, bytes, kImagesHeaderBytes, kImagesMagic, "images");

    IdxImages images;
    images.count = readBigEndian32(bytes.data() + 4);
    images.rows = readBigEndian32(bytes.data() + 8);
    images.cols = readBigEndian32(bytes.data() + 12);
    const quint64 pixelsPerImage = quint64(images.rows) * quint64(images.cols);
    const QString declared = QStringLiteral("%1 images of %2x%3 pixels")
                                 .arg(images.count)
                                 .arg(images.rows)
                                 .arg(images.cols);
    if (pixelsPerImage == 0)
        throw Error(QStringLiteral("%1 is corrupt: its header declares %2.")
                        .arg(display(path), declared));
    const quint64 limit = quint64(std::numeric_limits<qint64>::max());
    const quint64 payload = quint64(images.count) > limit / pixelsPerImage
                                ? limit
                                : quint64(images.count) * pixelsPerImage;
    checkPayloadSize(path, bytes, kImagesHeaderBytes, payload, declared);

    // One pass through a table: exactly byte / 255.0f, without a division per pixel.
    std::array<float, 256> toUnit = {};
    for (size_t value = 0; value < toUnit.size(); ++value)
        toUnit[value] = float(value) / 255.0f;
    images.pixels.resize(size_t(payload));
    const unsigned char *source = bytes.data() + kImagesHeaderBytes;
    float *target = images.pixels.data();
    for (size_t i = 0; i < size_t(payload); ++i)
        target[i] = toUnit[source[i]];
    return images;
}

std::vector<qint64> readLabels(const QString &path)
{
    const std::vector<unsigned char> bytes = readIdxBytes(path);
    checkMagic(path, bytes, kLabelsHeaderBytes, kLabelsMagic, "labels");
    const quint64 count = readBigEndian32(bytes.data() + 4);
    checkPayloadSize(path, bytes, kLabelsHeaderBytes, count,
                     QStringLiteral("%1 labels").arg(count));
    // Unsigned bytes: every value is already below 256.
    return std::vector<qint64>(bytes.begin() + kLabelsHeaderBytes, bytes.end());
}

QString requireFile(const QDir &dir, const QString &stem, const QString &kind)
{
    const QString path = findIdxFile(dir, stem, kind);
    if (path.isEmpty())
        throw Error(QStringLiteral("%1 holds no %2: an IDX dataset folder needs %3 "
                                   "(raw or .gz).")
                        .arg(display(dir.path()), stem,
                             candidateNames(stem, kind).constFirst()));
    return path;
}

// Reads one images/labels pair into `split` and checks that they belong together.
void readPair(const QString &imagesPath, const QString &labelsPath, DatasetSplit &split,
              qint64 &rows, qint64 &cols)
{
    IdxImages images = readImages(imagesPath);
    std::vector<qint64> labels = readLabels(labelsPath);
    if (qint64(labels.size()) != images.count)
        throw Error(QStringLiteral("%1 holds %2 labels but %3 holds %4 images: each image "
                                   "needs exactly one label. Are both files from the same "
                                   "dataset?")
                        .arg(display(labelsPath))
                        .arg(qint64(labels.size()))
                        .arg(display(imagesPath))
                        .arg(images.count));
    rows = images.rows;
    cols = images.cols;
    split.features = std::move(images.pixels);
    split.labels = std::move(labels);
}

} // namespace

QString IdxReader::name() const
{
    return QStringLiteral("idx");
}

QString IdxReader::description() const
{
    return QStringLiteral("a folder of IDX files (MNIST layout: train-images-idx3-ubyte[.gz], "
                          "train-labels-idx1-ubyte[.gz], optional t10k-*)");
}

bool IdxReader::canRead(const QString &path) const
{
    const QFileInfo info(path);
    if (info.isDir())
        return !findIdxFile(QDir(path), QStringLiteral("train-images"), QStringLiteral("idx3"))
                    .isEmpty();
    if (!info.isFile())
        return false;
    const QString fileName = info.fileName();
    const QStringList accepted =
        candidateNames(QStringLiteral("train-images"), QStringLiteral("idx3"))
        + candidateNames(QStringLiteral("train-labels"), QStringLiteral("idx1"))
        + candidateNames(QStringLiteral("t10k-images"), QStringLiteral("idx3"))
        + candidateNames(QStringLiteral("t10k-labels"), QStringLiteral("idx1"));
    return accepted.contains(fileName);
}

Dataset IdxReader::read(const QString &path, const DatasetOptions & /*options*/) const
{
    const QFileInfo info(path);
    const QDir dir(info.isDir() ? info.absoluteFilePath() : info.absolutePath());

    Dataset dataset;
    dataset.name = dir.dirName();
    dataset.source = dir.absolutePath();
    dataset.readerName = name();

    qint64 rows = 0;
    qint64 cols = 0;
    readPair(requireFile(dir, QStringLiteral("train-images"), QStringLiteral("idx3")),
             requireFile(dir, QStringLiteral("train-labels"), QStringLiteral("idx1")),
             dataset.train, rows, cols);

    const QString testImages =
        findIdxFile(dir, QStringLiteral("t10k-images"), QStringLiteral("idx3"));
    if (!testImages.isEmpty()) {
        qint64 testRows = 0;
        qint64 testCols = 0;
        readPair(testImages,
                 requireFile(dir, QStringLiteral("t10k-labels"), QStringLiteral("idx1")),
                 dataset.test, testRows, testCols);
        if (testRows != rows || testCols != cols)
            throw Error(QStringLiteral("%1 holds %2x%3 images but the training images are "
                                       "%4x%5: both splits must share one image size.")
                            .arg(display(testImages))
                            .arg(testRows)
                            .arg(testCols)
                            .arg(rows)
                            .arg(cols));
    }
    dataset.sampleShape = {1, rows, cols};

    qint64 maxLabel = -1;
    for (const qint64 label : dataset.train.labels)
        maxLabel = std::max(maxLabel, label);
    for (const qint64 label : dataset.test.labels)
        maxLabel = std::max(maxLabel, label);

    // The IDX files carry no class names; Fashion-MNIST's are well known, others are digits
    // (or unknown), so the label itself is the most honest name.
    const bool fashion = dataset.source.contains(QStringLiteral("fashion"), Qt::CaseInsensitive);
    if (fashion && maxLabel < qint64(fashionClassNames().size())) {
        dataset.classNames = fashionClassNames();
    } else {
        for (qint64 label = 0; label <= maxLabel; ++label)
            dataset.classNames.append(QString::number(label));
    }
    return dataset;
}

} // namespace ms
