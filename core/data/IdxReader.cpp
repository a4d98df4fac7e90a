#include "data/IdxReader.h"

#include "common/Error.h"
#include "common/Limits.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <climits>
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

// gzip's deflate inflates at most 1032 bytes per compressed byte: a header that declares more
// than that many times the file's size cannot be true, and is refused without inflating.
constexpr quint64 kMaxDeflateRatio = 1032;
constexpr qint64 kChunkBytes = qint64(1) << 20;

// One IDX file, raw or gzipped, read front to back in pieces: the header first, so that its
// dimensions are checked against the file and the limits before the payload is inflated.
class IdxStream
{
public:
    IdxStream(const QString &path, const DatasetOptions &options)
        : m_path(path)
        , m_options(options)
        , m_gzip(path.endsWith(QStringLiteral(".gz"), Qt::CaseInsensitive))
    {
        const QFileInfo info(path);
        m_fileBytes = info.size();
        if (m_gzip) {
            const QByteArray localPath = QFile::encodeName(path);
            m_gz = gzopen(localPath.constData(), "rb");
            if (m_gz == nullptr)
                throw Error(QStringLiteral("Cannot open %1.").arg(display(path)));
            gzbuffer(m_gz, 1 << 18);
        } else {
            m_file.setFileName(path);
            if (!m_file.open(QIODevice::ReadOnly))
                throw Error(QStringLiteral("Cannot open %1: %2")
                                .arg(display(path), m_file.errorString()));
        }
    }
    ~IdxStream()
    {
        if (m_gz)
            gzclose(m_gz);
    }
    IdxStream(const IdxStream &) = delete;
    IdxStream &operator=(const IdxStream &) = delete;

    QString path() const { return m_path; }

    // Up to `size` bytes; fewer only at the end of the data. Throws on a read or zlib error.
    qint64 read(unsigned char *data, qint64 size)
    {
        qint64 done = 0;
        while (done < size) {
            throwIfCancelled(m_options,
                             QStringLiteral("reading %1").arg(QFileInfo(m_path).fileName()));
            const qint64 want = std::min(size - done, kChunkBytes);
            qint64 got = 0;
            if (m_gzip) {
                got = gzread(m_gz, data + done, unsigned(want));
                int errorCode = Z_OK;
                const char *zlibMessage = gzerror(m_gz, &errorCode);
                // A truncated gzip stream surfaces here (Z_BUF_ERROR), not as a short payload.
                if (got < 0 || (errorCode != Z_OK && errorCode != Z_STREAM_END))
                    throw Error(QStringLiteral("Cannot decompress %1: %2. The download is "
                                               "probably incomplete; fetch the file again.")
                                    .arg(display(m_path),
                                         QString::fromUtf8(zlibMessage ? zlibMessage : "")));
            } else {
                got = m_file.read(reinterpret_cast<char *>(data + done), want);
                if (got < 0)
                    throw Error(QStringLiteral("Cannot read %1: %2")
                                    .arg(display(m_path), m_file.errorString()));
            }
            if (got == 0)
                break;
            done += got;
            m_consumed += got;
        }
        return done;
    }

    // Throws, before anything is inflated, when `total` bytes (header and payload, as the
    // header declares them in `declared`) cannot be what the file holds.
    void checkDeclaredSize(quint64 total, const QString &declared) const
    {
        if (!m_gzip) {
            const quint64 actual = quint64(m_fileBytes);
            if (actual != total)
                throw Error(QStringLiteral("%1 is %2: its header declares %3, so expected %4 "
                                           "bytes, but the file holds %5 bytes. Fetch the file "
                                           "again.")
                                .arg(display(m_path),
                                     actual < total ? QStringLiteral("truncated")
                                                    : QStringLiteral("corrupt"),
                                     declared, QString::number(total),
                                     QString::number(actual)));
            return;
        }
        if (total / kMaxDeflateRatio > quint64(m_fileBytes))
            throw Error(QStringLiteral("%1 is corrupt: its header declares %2 (%3), more than "
                                       "a gzip file of %4 can hold. Fetch the file again.")
                            .arg(display(m_path), declared, Limits::formatBytes(qint64(
                                     std::min<quint64>(total, quint64(LLONG_MAX)))),
                                 Limits::formatBytes(m_fileBytes)));
    }

    // After the payload: the data must end exactly there.
    void checkEnd(quint64 total, const QString &declared)
    {
        unsigned char extra = 0;
        if (read(&extra, 1) != 0)
            throw Error(QStringLiteral("%1 is corrupt: its header declares %2, so expected %3 "
                                       "bytes, but it holds more. Fetch the file again.")
                            .arg(display(m_path), declared, QString::number(total)));
    }

    // The message for data that ended after `got` of `total` bytes.
    [[noreturn]] void throwTruncated(quint64 total, const QString &declared) const
    {
        throw Error(QStringLiteral("%1 is truncated: its header declares %2, so expected %3 "
                                   "bytes, but the file holds %4 bytes. Fetch the file again.")
                        .arg(display(m_path), declared, QString::number(total),
                             QString::number(m_consumed)));
    }

private:
    QString m_path;
    const DatasetOptions &m_options;
    bool m_gzip = false;
    qint64 m_fileBytes = 0;
    QFile m_file;
    gzFile m_gz = nullptr;
    qint64 m_consumed = 0;
};

// Reads the fixed header (magic and `dims` big-endian 32-bit dimensions) and checks the magic.
std::vector<quint32> readHeader(IdxStream &stream, int dims, quint32 expectedMagic,
                                const char *what)
{
    const qint64 headerBytes = 4 + 4 * qint64(dims);
    unsigned char header[16] = {};
    const qint64 got = stream.read(header, headerBytes);
    if (got < headerBytes)
        throw Error(QStringLiteral("%1 is truncated: an IDX %2 file needs a %3-byte header, "
                                   "expected at least %3 bytes but the file holds %4.")
                        .arg(display(stream.path()), QLatin1String(what),
                             QString::number(headerBytes), QString::number(got)));
    const quint32 magic = readBigEndian32(header);
    if (magic != expectedMagic)
        throw Error(QStringLiteral("%1 has the wrong magic number 0x%2: an IDX %3 file starts "
                                   "with 0x%4. Is it the right file, and not corrupt?")
                        .arg(display(stream.path()))
                        .arg(magic, 8, 16, QLatin1Char('0'))
                        .arg(QLatin1String(what))
                        .arg(expectedMagic, 8, 16, QLatin1Char('0')));
    std::vector<quint32> values;
    for (int i = 0; i < dims; ++i)
        values.push_back(readBigEndian32(header + 4 + 4 * i));
    return values;
}

struct IdxImages
{
    qint64 count = 0;
    qint64 rows = 0;
    qint64 cols = 0;
    std::vector<float> pixels;
};

IdxImages readImages(const QString &path, const DatasetOptions &options)
{
    IdxStream stream(path, options);
    const std::vector<quint32> dims = readHeader(stream, 3, kImagesMagic, "images");
    IdxImages images;
    images.count = dims[0];
    images.rows = dims[1];
    images.cols = dims[2];
    const QString declared = QStringLiteral("%1 images of %2x%3 pixels")
                                 .arg(images.count)
                                 .arg(images.rows)
                                 .arg(images.cols);
    const quint64 pixelsPerImage = quint64(images.rows) * quint64(images.cols);
    if (pixelsPerImage == 0)
        throw Error(QStringLiteral("%1 is corrupt: its header declares %2.")
                        .arg(display(path), declared));
    // Three 32-bit factors stay below 2^96; a product past 2^62 is refused as too large anyway.
    const quint64 payload = quint64(images.count) > (quint64(1) << 62) / pixelsPerImage
                                ? (quint64(1) << 62)
                                : quint64(images.count) * pixelsPerImage;
    const quint64 total = quint64(kImagesHeaderBytes) + payload;
    stream.checkDeclaredSize(total, declared);
    checkFeatureBytes(options, payload,
                      QStringLiteral("%1 declares %2").arg(display(path), declared));

    // One pass through a table: exactly byte / 255.0f, without a division per pixel.
    std::array<float, 256> toUnit = {};
    for (size_t value = 0; value < toUnit.size(); ++value)
        toUnit[value] = float(value) / 255.0f;
    images.pixels.resize(size_t(payload));
    std::vector<unsigned char> chunk(static_cast<size_t>(kChunkBytes));
    float *target = images.pixels.data();
    quint64 done = 0;
    while (done < payload) {
        const qint64 want = qint64(std::min<quint64>(payload - done, quint64(kChunkBytes)));
        const qint64 got = stream.read(chunk.data(), want);
        for (qint64 i = 0; i < got; ++i)
            target[done + quint64(i)] = toUnit[chunk[size_t(i)]];
        done += quint64(got);
        if (got < want)
            stream.throwTruncated(total, declared);
    }
    stream.checkEnd(total, declared);
    return images;
}

// The labels of `imageCount` images (refused before reading when the header says otherwise).
std::vector<qint64> readLabels(const QString &path, const QString &imagesPath, qint64 imageCount,
                               const DatasetOptions &options)
{
    IdxStream stream(path, options);
    const quint64 count = readHeader(stream, 1, kLabelsMagic, "labels").front();
    const QString declared = QStringLiteral("%1 labels").arg(count);
    const quint64 total = quint64(kLabelsHeaderBytes) + count;
    stream.checkDeclaredSize(total, declared);
    if (qint64(count) != imageCount)
        throw Error(QStringLiteral("%1 holds %2 labels but %3 holds %4 images: each image "
                                   "needs exactly one label. Are both files from the same "
                                   "dataset?")
                        .arg(display(path), QString::number(count), display(imagesPath),
                             QString::number(imageCount)));
    std::vector<unsigned char> bytes(size_t(count), 0);
    if (stream.read(bytes.data(), qint64(count)) < qint64(count))
        stream.throwTruncated(total, declared);
    stream.checkEnd(total, declared);
    // Unsigned bytes: every value is already below 256.
    return std::vector<qint64>(bytes.begin(), bytes.end());
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
              qint64 &rows, qint64 &cols, const DatasetOptions &options)
{
    IdxImages images = readImages(imagesPath, options);
    split.labels = readLabels(labelsPath, imagesPath, images.count, options);
    rows = images.rows;
    cols = images.cols;
    split.features = std::move(images.pixels);
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

Dataset IdxReader::read(const QString &path, const DatasetOptions &options) const
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
             dataset.train, rows, cols, options);

    const QString testImages =
        findIdxFile(dir, QStringLiteral("t10k-images"), QStringLiteral("idx3"));
    if (!testImages.isEmpty()) {
        qint64 testRows = 0;
        qint64 testCols = 0;
        readPair(testImages,
                 requireFile(dir, QStringLiteral("t10k-labels"), QStringLiteral("idx1")),
                 dataset.test, testRows, testCols, options);
        if (testRows != rows || testCols != cols)
            throw Error(QStringLiteral("%1 holds %2x%3 images but the training images are "
                                       "%4x%5: both splits must share one image size.")
                            .arg(display(testImages), QString::number(testRows),
                                 QString::number(testCols), QString::number(rows),
                                 QString::number(cols)));
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
