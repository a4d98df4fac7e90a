#pragma once

#include <QString>
#include <QVector>

namespace ms {
struct TensorSignature;
}

namespace ms::ui {

// Number and time formatting shared by the panels, so every table and label reads the same.
// Counts use the user's locale grouping; the C locale (tests, minimal containers) falls back to
// English grouping because "83466" is much harder to read than "83,466".
QString formatCount(qint64 count);
// 4 120 000 -> "4.12 M"; keeps three significant digits.
QString formatCompact(double value);
// 1536 -> "1.5 KiB", 2400000 -> "2.29 MiB": an artifact's size.
QString formatSize(qint64 bytes);
// "input float32 [-1×1×28×28]; ..." (shapes in ms::ShapeStyle::Window); empty when none.
QString formatSignature(const QVector<ms::TensorSignature> &signature);
// 83.4 -> "01:23"; hours appear only when needed.
QString formatDuration(double seconds);
// A metric value in a tooltip or status line: 4 significant digits, no exponent for 0.1..1e4.
QString formatValue(double value);

} // namespace ms::ui
