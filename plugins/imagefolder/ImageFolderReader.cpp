#include "ImageFolderReader.h"

#include "PngCheck.h"

#include "common/Error.h"
#include "common/Excerpt.h"

#include <QBuffer>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QImageReader>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cstdio>
#include <mutex>

namespace msplugin {

namespace {

constexpr int kMaxSide = 4096;   // larger would mean gigabytes of floats per thousand images

struct Layout
{
    int height = 0;
    int width = 0;
    bool gray = true;
};

QStringList classFolders(const QDir &dir)
{
    return dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot | QDir::Readable, QDir::Name);
}

QStringList imagesIn(const QDir &dir)
{
    QDir copy(dir);
    copy.setNameFilters(ImageFolderReader::imageFilters());
    return copy.entryList(QDir::Files | QDir::Readable, QDir::Name);
}

bool hasClassImages(const QDir &dir)
{
    for (const QString &sub : classFolders(dir)) {
        if (!imagesIn(QDir(dir.filePath(sub))).isEmpty())
            return true;
    }
    return false;
}

int readSide(const QJsonValue &v, const QString &file)
{
    const double d = v.toDouble(-1);
    if (!v.isDouble() || d != double(int(d)) || d < 1 || d > kMaxSide)
        throw ms::Error(QStringLiteral("%1: \"size\" must be a side in pixels from 1 to %2, or "
                                       "[height, width]").arg(file, QString::number(kMaxSide)));
    return int(d);
}

// imagefolder.json, when present; throws naming the file and the key that is wrong.
void readSettings(const QDir &root, Layout *layout, bool *hasSize, bool *hasColor)
{
    const QString path = root.filePath(QStringLiteral("imagefolder.json"));
    QFile file(path);
    if (!file.exists())
        return;
    if (!file.open(QIODevice::ReadOnly))
        throw ms::Error(QStringLiteral("Cannot read %1: %2").arg(path, file.errorString()));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &error);
    if (!doc.isObject())
        throw ms::Error(QStringLiteral("%1 is not a JSON object such as {\"size\": [32, 32], "
                                       "\"color\": \"gray\"} (%2)")
                            .arg(path, error.errorString()));
    const QJsonObject obj = doc.object();
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        if (it.key() != QLatin1String("size") && it.key() != QLatin1String("color"))
            throw ms::Error(QStringLiteral("%1: unknown key \"%2\"; allowed: size, color")
                                .arg(path, it.key()));
    }
    const QJsonValue size = obj.value(QLatin1String("size"));
    if (size.isArray()) {
        if (size.toArray().size() != 2)
            throw ms::Error(QStringLiteral("%1: \"size\" as a list must be [height, width]")
                                .arg(path));
        layout->height = readSide(size.toArray().at(0), path);
        layout->width = readSide(size.toArray().at(1), path);
        *hasSize = true;
    } else if (!size.isUndefined()) {
        layout->height = layout->width = readSide(size, path);
        *hasSize = true;
    }
    const QJsonValue color = obj.value(QLatin1String("color"));
    if (!color.isUndefined()) {
        const QString word = color.toString().toLower();
        if (word != QLatin1String("gray") && word != QLatin1String("rgb"))
            throw ms::Error(QStringLiteral("%1: \"color\" must be \"gray\" or \"rgb\"").arg(path));
        layout->gray = word == QLatin1String("gray");
        *hasColor = true;
    }
}

// While this thread decodes an image, Qt's image plugins pass libpng's and libjpeg's own
// complaints on as log messages ("libpng error: Read Error" on stderr, before our error). The
// reader reports a failed image itself, so those are held back, and the last is quoted in that
// report. Qt offers no per-call switch, hence a message handler installed once that filters
// only messages of a decoding thread and hands every other message to the handler before it.
thread_local bool t_decoding = false;
thread_local QString t_decoderMessage;
QtMessageHandler g_previousHandler = nullptr;

void filterDecoderMessages(QtMsgType type, const QMessageLogContext &context,
                           const QString &message)
{
    if (t_decoding && type != QtCriticalMsg && type != QtFatalMsg) {
        t_decoderMessage = message;
        return;
    }
    if (g_previousHandler)
        g_previousHandler(type, context, message);
    else
        std::fputs(qPrintable(qFormatLogMessage(type, context, message) + QLatin1Char('\n')),
                   stderr);
}

class DecodingScope
{
public:
    DecodingScope()
    {
        static std::once_flag installed;
        std::call_once(installed,
                       [] { g_previousHandler = qInstallMessageHandler(filterDecoderMessages); });
        t_decoderMessage.clear();
        t_decoding = true;
    }
    ~DecodingScope() { t_decoding = false; }
    DecodingScope(const DecodingScope &) = delete;
    DecodingScope &operator=(const DecodingScope &) = delete;
};

[[noreturn]] void throwUndecodable(const QString &file, const QString &why)
{
    const QString detail = t_decoderMessage.isEmpty()
                               ? why
                               : QStringLiteral("%1 (%2)").arg(why, ms::excerpt(t_decoderMessage));
    throw ms::Error(QStringLiteral("Cannot decode the image %1: %2. Remove or replace it.")
                        .arg(QDir::toNativeSeparators(file), detail));
}

QImage load(const QString &file)
{
    QFile source(file);
    if (!source.open(QIODevice::ReadOnly))
        throw ms::Error(QStringLiteral("Cannot read the image %1: %2")
                            .arg(QDir::toNativeSeparators(file), source.errorString()));
    QByteArray bytes = source.readAll();
    if (const QString problem = pngProblem(bytes); !problem.isEmpty())
        throw ms::Error(QStringLiteral("Cannot decode the image %1: %2. Remove or replace it.")
                            .arg(QDir::toNativeSeparators(file), problem));
    DecodingScope scope;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::ReadOnly);
    QImageReader reader(&buffer);
    QImage image = reader.read();
    if (image.isNull())
        throwUndecodable(file, reader.errorString());
    return image;
}

bool allGray(const QList<QRgb> &colours)
{
    return std::all_of(colours.begin(), colours.end(), [](QRgb c) { return qIsGray(c); });
}

// Whether the file stores grey (1 channel) rather than colour, from its format, never from its
// pixels: an RGB file whose pixels happen to be grey is still an RGB file, and a model trained
// on the folder must take 3 channels from it and from every later image. A PNG says so in its
// IHDR colour type (0 grey, 4 grey+alpha, 2/6 RGB[A], 3 palette); other formats through the
// QImage format Qt reads them as. A palette is grey when every colour it declares is.
bool storesGray(const QString &file)
{
    QFile raw(file);
    if (raw.open(QIODevice::ReadOnly)) {
        const QByteArray head = raw.read(26);
        if (head.size() == 26 && head.startsWith("\x89PNG\r\n\x1a\n")
            && head.mid(12, 4) == "IHDR") {
            const int colourType = quint8(head[25]);
            if (colourType == 0 || colourType == 4)
                return true;
            if (colourType == 2 || colourType == 6)
                return false;
            return allGray(load(file).colorTable());
        }
    }
    DecodingScope scope;
    QImageReader reader(file);
    switch (reader.imageFormat()) {
    case QImage::Format_Grayscale8:
    case QImage::Format_Grayscale16:
    case QImage::Format_Mono:
    case QImage::Format_MonoLSB:
    case QImage::Format_Alpha8:
        return true;
    case QImage::Format_Indexed8:
        return allGray(load(file).colorTable());
    case QImage::Format_Invalid:
        throwUndecodable(file, reader.errorString());
    default:
        return false;
    }
}

// Appends one image as C x H x W floats in [0, 1].
void append(const QImage &source, const Layout &layout, std::vector<float> &features)
{
    QImage image = source;
    if (image.width() != layout.width || image.height() != layout.height)
        image = image.scaled(layout.width, layout.height, Qt::IgnoreAspectRatio,
                             Qt::SmoothTransformation);
    image = image.convertToFormat(layout.gray ? QImage::Format_Grayscale8
                                              : QImage::Format_RGB888);
    const int channels = layout.gray ? 1 : 3;
    const size_t plane = size_t(layout.height) * size_t(layout.width);
    const size_t start = features.size();
    features.resize(start + plane * size_t(channels));
    for (int y = 0; y < layout.height; ++y) {
        const uchar *line = image.constScanLine(y);
        for (int x = 0; x < layout.width; ++x) {
            for (int c = 0; c < channels; ++c)
                features[start + size_t(c) * plane + size_t(y) * size_t(layout.width)
                         + size_t(x)] = float(line[x * channels + c]) / 255.0f;
        }
    }
}

qint64 countImages(const QDir &dir, const QStringList &classes)
{
    qint64 count = 0;
    for (const QString &cls : classes)
        count += imagesIn(QDir(dir.filePath(cls))).size();
    return count;
}

void readSplit(const QDir &dir, const QStringList &classes, const Layout &layout,
               const ms::DatasetOptions &options, ms::DatasetSplit &split)
{
    for (int label = 0; label < classes.size(); ++label) {
        const QDir classDir(dir.filePath(classes[label]));
        if (!classDir.exists())
            continue;   // a test split may lack a class
        for (const QString &file : imagesIn(classDir)) {
            ms::throwIfCancelled(options, QStringLiteral("reading the images of %1")
                                              .arg(QDir::toNativeSeparators(dir.path())));
            append(load(classDir.filePath(file)), layout, split.features);
            split.labels.push_back(label);
        }
    }
}

} // namespace

QStringList ImageFolderReader::imageFilters()
{
    return {QStringLiteral("*.png"), QStringLiteral("*.PNG"), QStringLiteral("*.jpg"),
            QStringLiteral("*.JPG"), QStringLiteral("*.jpeg"), QStringLiteral("*.JPEG")};
}

QString ImageFolderReader::description() const
{
    return QStringLiteral("a folder of PNG/JPEG images, one sub-folder per class (or train/ "
                          "and test/ each so); size and gray/rgb from its imagefolder.json, "
                          "else the first image's (imagefolder plugin)");
}

bool ImageFolderReader::canRead(const QString &path) const
{
    const QFileInfo info(path);
    if (!info.isDir())
        return false;
    const QDir dir(info.absoluteFilePath());
    return hasClassImages(dir) || hasClassImages(QDir(dir.filePath(QStringLiteral("train"))));
}

ms::Dataset ImageFolderReader::read(const QString &path, const ms::DatasetOptions &options) const
{
    const QDir root(QFileInfo(path).absoluteFilePath());
    const bool splitLayout = hasClassImages(QDir(root.filePath(QStringLiteral("train"))));
    const QDir trainDir = splitLayout ? QDir(root.filePath(QStringLiteral("train"))) : root;
    const QDir testDir(root.filePath(QStringLiteral("test")));

    QStringList classes;
    for (const QString &sub : classFolders(trainDir)) {
        if (!imagesIn(QDir(trainDir.filePath(sub))).isEmpty())
            classes << sub;
    }
    if (classes.size() < 2)
        throw ms::Error(QStringLiteral("%1 has %2 class folder(s) with images; an image folder "
                                       "needs one sub-folder per class, at least two.")
                            .arg(QDir::toNativeSeparators(trainDir.path()),
                                 QString::number(classes.size())));
    if (splitLayout && testDir.exists()) {
        for (const QString &sub : classFolders(testDir)) {
            if (!classes.contains(sub) && !imagesIn(QDir(testDir.filePath(sub))).isEmpty())
                throw ms::Error(QStringLiteral("%1 has the class \"%2\", which train/ lacks; "
                                               "every test class needs training images.")
                                    .arg(QDir::toNativeSeparators(testDir.path()), sub));
        }
    }

    Layout layout;
    bool hasSize = false;
    bool hasColor = false;
    readSettings(root, &layout, &hasSize, &hasColor);
    if (!hasSize || !hasColor) {
        const QDir firstClass(trainDir.filePath(classes.first()));
        const QImage first = load(firstClass.filePath(imagesIn(firstClass).first()));
        if (!hasSize) {
            layout.height = first.height();
            layout.width = first.width();
            if (layout.height > kMaxSide || layout.width > kMaxSide)
                throw ms::Error(QStringLiteral("The images of %1 are %2x%3; set a smaller "
                                               "\"size\" in its imagefolder.json.")
                                    .arg(QDir::toNativeSeparators(root.path()),
                                         QString::number(layout.height),
                                         QString::number(layout.width)));
        }
        if (!hasColor)
            layout.gray = storesGray(firstClass.filePath(imagesIn(firstClass).first()));
    }

    ms::Dataset dataset;
    dataset.name = root.dirName();
    dataset.source = root.absolutePath();
    dataset.readerName = name();
    dataset.sampleShape = {layout.gray ? 1 : 3, layout.height, layout.width};
    dataset.classNames = classes;
    // Every image becomes C x H x W floats: refused before decoding any when that is too much.
    const bool hasTest = splitLayout && testDir.exists();
    const qint64 trainCount = countImages(trainDir, classes);
    const qint64 testCount = hasTest ? countImages(testDir, classes) : 0;
    const quint64 perImage = quint64(layout.gray ? 1 : 3) * quint64(layout.height)
                             * quint64(layout.width);
    ms::checkFeatureBytes(options, quint64(trainCount + testCount) * perImage,
                          QStringLiteral("%1 holds %2 images of %3x%4x%5")
                              .arg(QDir::toNativeSeparators(root.path()),
                                   QString::number(trainCount + testCount),
                                   QString::number(layout.gray ? 1 : 3),
                                   QString::number(layout.height),
                                   QString::number(layout.width)));
    dataset.train.features.reserve(size_t(quint64(trainCount) * perImage));
    dataset.test.features.reserve(size_t(quint64(testCount) * perImage));
    readSplit(trainDir, classes, layout, options, dataset.train);
    if (hasTest)
        readSplit(testDir, classes, layout, options, dataset.test);
    return dataset;
}

} // namespace msplugin
