#pragma once

#include <QByteArray>
#include <QString>

namespace msplugin {

// What is wrong with a PNG file's structure, or an empty string when nothing is (or when the
// bytes are not a PNG at all, which the image reader then says itself). Checked before Qt
// decodes the file because libpng reports a broken file ("libpng error: Read Error") straight
// to stderr through its default error handler, which Qt's PNG reader leaves in place: no Qt
// message handler sees that line. This walks the chunks (lengths, CRCs, IHDR's fields, IEND)
// and inflates the image data, checking its size and, for non-interlaced images, each row's
// filter byte: what libpng would otherwise stop on.
QString pngProblem(const QByteArray &bytes);

} // namespace msplugin
