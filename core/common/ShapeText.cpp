#include "common/ShapeText.h"

#include <QStringList>

namespace ms {

QString shapeText(const std::vector<qint64> &shape, ShapeStyle style)
{
    const bool anySizeIsN = style == ShapeStyle::Batch || style == ShapeStyle::Arguments;
    QStringList dims;
    for (const qint64 dim : shape)
        dims << (anySizeIsN && dim < 0 ? QStringLiteral("N") : QString::number(dim));
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
