#include "common/ShapeText.h"

#include <QStringList>

namespace ms {

QString shapeText(const std::vector<qint64> &shape, ShapeStyle style)
{
    const bool anySizeIsN = style == ShapeStyle::Batch || style == ShapeStyle::Arguments;
    QStringList dims;
    for (size_t i = 0; i < shape.size(); ++i) {
        const qint64 dim = shape[i];
        if (!anySizeIsN || dim >= 0)
            dims << QString::number(dim);
        else   // the batch first; a dynamic dimension after it is a token input's sequence
            dims << (i == 0 ? QStringLiteral("N") : QStringLiteral("T"));
    }
    switch (style) {
    case ShapeStyle::Compact:
        return dims.join(QLatin1Char('x'));
    case ShapeStyle::Window:
        return dims.join(QChar(0x00D7));   // the multiplication sign
    case ShapeStyle::List:
    case ShapeStyle::Batch:
        return QLatin1Char('[') + dims.join(QStringLiteral(", ")) + QLatin1Char(']');
    case ShapeStyle::Arguments:
        return dims.join(QStringLiteral(", "));
    }
    return dims.join(QLatin1Char('x'));
}

} // namespace ms
