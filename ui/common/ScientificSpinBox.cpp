#include "common/ScientificSpinBox.h"

#include <QLocale>

#include <algorithm>
#include <array>
#include <cmath>

namespace ms::ui {

ScientificSpinBox::ScientificSpinBox(QWidget *parent)
    : QDoubleSpinBox(parent)
{
    // Enough decimals that QDoubleSpinBox's rounding never eats a 1e-7.
    setDecimals(12);
    setRange(1e-8, 10.0);
    setKeyboardTracking(false);
}

QString ScientificSpinBox::textFromValue(double value) const
{
    return QString::number(value, 'g', 6);
}

double ScientificSpinBox::valueFromText(const QString &text) const
{
    return QLocale::c().toDouble(text.trimmed());
}

QValidator::State ScientificSpinBox::validate(QString &text, int &pos) const
{
    Q_UNUSED(pos)
    const QString trimmed = text.trimmed();
    if (trimmed.isEmpty())
        return QValidator::Intermediate;
    bool ok = false;
    const double value = QLocale::c().toDouble(trimmed, &ok);
    if (ok)
        return value >= minimum() && value <= maximum() ? QValidator::Acceptable
                                                        : QValidator::Intermediate;
    // Half-typed numbers such as "3e" or "1e-" are on their way to being valid.
    static const QString allowed = QStringLiteral("0123456789.eE+-");
    const bool plausible = std::all_of(trimmed.cbegin(), trimmed.cend(),
                                       [](QChar c) { return allowed.contains(c); });
    return plausible ? QValidator::Intermediate : QValidator::Invalid;
}

void ScientificSpinBox::stepBy(int steps)
{
    static constexpr std::array<double, 3> ladder{1.0, 2.0, 5.0};
    // A range from 0 (a weight decay, a rate's floor): 0 is one step below the lowest rung
    // the arrows reach, a millionth of the maximum (1e-5 for 0..10).
    const double lowest = minimum() > 0 ? minimum() : maximum() * 1e-6;
    double value = this->value();
    if (value <= 0) {
        if (steps <= 0)
            return;
        value = lowest;
        if (--steps == 0) {
            setValue(value);
            return;
        }
    }
    int exponent = int(std::floor(std::log10(value)));
    const double mantissa = value / std::pow(10.0, exponent);
    // Snap to the nearest rung first, so 3e-4 steps to 5e-4 / 2e-4, not 6e-4.
    int rung = 0;
    double best = 1e300;
    for (int i = 0; i < int(ladder.size()); ++i) {
        const double distance = std::abs(std::log(mantissa / ladder[i]));
        if (distance < best) {
            best = distance;
            rung = i;
        }
    }
    const double snapped = ladder[rung] * std::pow(10.0, exponent);
    if (steps > 0 && snapped > value * 1.0001)
        --steps;
    else if (steps < 0 && snapped < value * 0.9999)
        ++steps;
    rung += steps;
    exponent += rung >= 0 ? rung / 3 : -((2 - rung) / 3);
    rung = ((rung % 3) + 3) % 3;
    double next = ladder[rung] * std::pow(10.0, exponent);
    if (minimum() <= 0 && next < lowest * 0.9999)
        next = steps > 0 ? lowest : 0.0;   // up from a typed 1e-7 is the lowest rung, not 0
    setValue(std::clamp(next, minimum(), maximum()));
}

} // namespace ms::ui
