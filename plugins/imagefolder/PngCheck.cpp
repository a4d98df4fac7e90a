#include "PngCheck.h"

#include <zlib.h>

#include <array>
#include <cstring>
#include <vector>

namespace msplugin {

namespace {

quint32 bigEndian32(const char *bytes)
{
    const auto *b = reinterpret_cast<const unsigned char *>(bytes);
    return (quint32(b[0]) << 24) | (quint32(b[1]) << 16) | (quint32(b[2]) << 8) | quint32(b[3]);
}

struct Header
{
    quint32 width = 0;
    quint32 height = 0;
    int bitDepth = 0;
    int colourType = 0;
    bool interlaced = false;
};

int channelsOf(int colourType)
{
    switch (colourType) {
    case 0: return 1;   // grey
    case 2: return 3;   // RGB
    case 3: return 1;   // palette index
    case 4: return 2;   // grey + alpha
    case 6: return 4;   // RGBA
    }
    return 0;
}

bool validDepth(int colourType, int depth)
{
    switch (colourType) {
    case 0: return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case 3: return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case 2:
    case 4:
    case 6: return depth == 8 || depth == 16;
    }
    return false;
}

// Bytes of one filtered row of `columns` pixels: the filter byte and the packed pixels.
quint64 rowBytes(const Header &h, quint64 columns)
{
    return 1 + (columns * quint64(channelsOf(h.colourType)) * quint64(h.bitDepth) + 7) / 8;
}

// The size of the inflated image data: every row of every Adam7 pass when interlaced.
quint64 expectedBytes(const Header &h)
{
    if (!h.interlaced)
        return quint64(h.height) * rowBytes(h, h.width);
    static const std::array<std::array<int, 4>, 7> passes = {{// x0, y0, dx, dy
                                                               {0, 0, 8, 8},
                                                               {4, 0, 8, 8},
                                                               {0, 4, 4, 8},
                                                               {2, 0, 4, 4},
                                                               {0, 2, 2, 4},
                                                               {1, 0, 2, 2},
                                                               {0, 1, 1, 2}}};
    quint64 total = 0;
    for (const auto &[x0, y0, dx, dy] : passes) {
        const quint64 columns = h.width > quint32(x0) ? (h.width - x0 + dx - 1) / dx : 0;
        const quint64 rows = h.height > quint32(y0) ? (h.height - y0 + dy - 1) / dy : 0;
        if (columns > 0 && rows > 0)
            total += rows * rowBytes(h, columns);
    }
    return total;
}

} // namespace

QString pngProblem(const QByteArray &bytes)
{
    static const char signature[] = "\x89PNG\r\n\x1a\n";
    if (bytes.size() < 8 || std::memcmp(bytes.constData(), signature, 8) != 0)
        return QString();
    const char *data = bytes.constData();
    const qint64 size = bytes.size();

    Header header;
    bool sawHeader = false;
    bool sawData = false;
    bool streamEnded = false;
    z_stream inflater;
    std::memset(&inflater, 0, sizeof(inflater));
    if (inflateInit(&inflater) != Z_OK)
        return QStringLiteral("zlib cannot start");
    struct End
    {
        z_stream *stream;
        ~End() { inflateEnd(stream); }
    } end{&inflater};
    std::vector<unsigned char> out(1 << 16);
    quint64 inflated = 0;
    quint64 row = 0;   // bytes of one row, non-interlaced only (0: not checked)

    qint64 pos = 8;
    while (true) {
        if (pos + 8 > size)
            return pos == size ? QStringLiteral("it is truncated: it ends before its IEND chunk")
                               : QStringLiteral("it is truncated inside a chunk header");
        const quint32 length = bigEndian32(data + pos);
        const QByteArray type = QByteArray(data + pos + 4, 4);
        const QString typeName = QString::fromLatin1(type.toPercentEncoding());
        if (length > 0x7fffffffu)
            return QStringLiteral("its %1 chunk declares an impossible length").arg(typeName);
        if (pos + 12 + qint64(length) > size)
            return QStringLiteral("it is truncated inside its %1 chunk").arg(typeName);
        const quint32 crc = quint32(crc32(crc32(0, nullptr, 0),
                                          reinterpret_cast<const Bytef *>(data + pos + 4),
                                          uInt(4 + length)));
        if (crc != bigEndian32(data + pos + 8 + length))
            return QStringLiteral("its %1 chunk is corrupt (its CRC does not match)").arg(typeName);
        const char *chunk = data + pos + 8;

        if (!sawHeader) {
            if (type != "IHDR" || length != 13)
                return QStringLiteral("it does not start with an IHDR chunk");
            header.width = bigEndian32(chunk);
            header.height = bigEndian32(chunk + 4);
            header.bitDepth = quint8(chunk[8]);
            header.colourType = quint8(chunk[9]);
            header.interlaced = quint8(chunk[12]) == 1;
            if (header.width == 0 || header.height == 0 || header.width > 0x7fffffffu
                || header.height > 0x7fffffffu || channelsOf(header.colourType) == 0
                || !validDepth(header.colourType, header.bitDepth) || chunk[10] != 0
                || chunk[11] != 0 || quint8(chunk[12]) > 1)
                return QStringLiteral("its IHDR chunk is invalid");
            sawHeader = true;
            if (!header.interlaced)
                row = rowBytes(header, header.width);
        } else if (type == "IDAT") {
            sawData = true;
            inflater.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(chunk));
            inflater.avail_in = length;
            while (inflater.avail_in > 0 && !streamEnded) {
                inflater.next_out = out.data();
                inflater.avail_out = uInt(out.size());
                const int status = inflate(&inflater, Z_NO_FLUSH);
                if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR)
                    return QStringLiteral("its image data is corrupt (zlib: %1)")
                        .arg(QString::fromLatin1(inflater.msg ? inflater.msg : "error"));
                const size_t produced = out.size() - inflater.avail_out;
                for (size_t i = 0; row > 0 && i < produced; ++i) {
                    if ((inflated + i) % row == 0 && out[i] > 4)
                        return QStringLiteral("its image data is corrupt (a row has the unknown "
                                              "filter type %1)").arg(out[i]);
                }
                inflated += produced;
                streamEnded = status == Z_STREAM_END;
                if (status == Z_BUF_ERROR && produced == 0)
                    break;
            }
        } else if (type == "IEND") {
            break;
        }
        pos += 12 + qint64(length);
    }
    if (!sawData)
        return QStringLiteral("it holds no image data (IDAT)");
    const quint64 expected = expectedBytes(header);
    if (!streamEnded || inflated != expected)
        return QStringLiteral("its image data is %1 (%2 bytes of the %3 that %4x%5 pixels need)")
            .arg(inflated < expected ? QStringLiteral("truncated") : QStringLiteral("corrupt"))
            .arg(inflated)
            .arg(expected)
            .arg(header.width)
            .arg(header.height);
    return QString();
}

} // namespace msplugin
