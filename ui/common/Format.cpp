#include "common/Format.h"

#include "common/ShapeText.h"
#include "registry/Registry.h"

#include <QLocale>
#include <QStringList>

#include <cmath>

namespace ms::ui {

namespace {

QLocale groupingLocale()
{
    QLocale locale;
    if (locale.language() == QLocale::C)
        locale = QLocale(QLocale::English, QLocale::UnitedStates);
    return locale;
}

} // namespace

QString formatCount(qint64 count)
{
    return groupingLocale().toString(qlonglong(count));
}

QString formatCompact(double value)
{
    static const char *const suffixes[] = {"", " k", " M", " G", " T"};
    int index = 0;
    double scaled = value;
    while (std::abs(scaled) >= 1000.0 && index < 4) {
        scaled /= 1000.0;
        ++index;
    }
    if (index == 0)
        return groupingLocale().toString(value, 'g', 4);
    const int decimals = std::abs(scaled) >= 100.0 ? 0 : (std::abs(scaled) >= 10.0 ? 1 : 2);
    return groupingLocale().toString(scaled, 'f', decimals) + QLatin1String(suffixes[index]);
}

QString formatSize(qint64 bytes)
{
    if (bytes < 1024 * 1024)
        return QStringLiteral("%1 KiB").arg(double(bytes) / 1024.0, 0, 'f', 1);
    return QStringLiteral("%1 MiB").arg(double(bytes) / (1024.0 * 1024.0), 0, 'f', 2);
}

QString formatSignature(const QVector<ms::TensorSignature> &signature)
{
    QStringList parts;
    for (const ms::TensorSignature &t : signature)
        // [N, 3, 224, 224], [N, T]: what is dynamic reads as a letter, as `show` prints it.
        parts << QStringLiteral("%1 %2 %3").arg(t.name, t.dtype,
                                                shapeText(t.shape, ShapeStyle::Batch));
    return parts.join(QStringLiteral("; "));
}

QString formatDuration(double seconds)
{
    if (!std::isfinite(seconds) || seconds < 0)
        return QStringLiteral("--:--");
    const qint64 total = qint64(std::llround(seconds));
    const qint64 hours = total / 3600;
    const qint64 minutes = (total / 60) % 60;
    const qint64 secs = total % 60;
    const QString mmss = QStringLiteral("%1:%2").arg(minutes, 2, 10, QLatin1Char('0'))
                             .arg(secs, 2, 10, QLatin1Char('0'));
    return hours > 0 ? QStringLiteral("%1:%2").arg(hours).arg(mmss) : mmss;
}

QString formatValue(double value)
{
    if (!std::isfinite(value))
        return QString::number(value);
    const double magnitude = std::abs(value);
    if (magnitude != 0.0 && (magnitude < 1e-3 || magnitude >= 1e5))
        return QString::number(value, 'e', 3);
    return QString::number(value, 'g', 4);
}

} // namespace ms::ui
