#pragma once

#include <QString>

#include <vector>

namespace ms {

// How a tensor's or a sample's shape is written. One function for every place that shows one
// (messages, the CLI's tables, the window, generated READMEs), so the same shape reads the same
// way wherever the same kind of text shows it.
enum class ShapeStyle {
    Compact,     // "1x28x28": messages and terminal lines (ASCII)
    Window,      // "1×28×28": labels and tables in the window
    List,        // "[-1, 1, 28, 28]": as a request body or a signature writes it
    Batch,       // "[N, 1, 28, 28]": the same, a dynamic (negative) batch written N and a
                 // dynamic dimension after it T (a sequence length: "[N, T]")
    Arguments,   // "N, 1, 28, 28": Python call arguments, a tuple's contents
};

QString shapeText(const std::vector<qint64> &shape, ShapeStyle style);

} // namespace ms
