#pragma once

#include <QDoubleSpinBox>

namespace ms::ui {

// A spin box for values that span decades (learning rates): shows and accepts "3e-4", and the
// arrows walk the 1-2-5 ladder (1e-3, 2e-3, 5e-3, 1e-2) instead of adding a fixed step. A range
// from 0 (a weight decay) has 0 one step below its lowest rung, a millionth of the maximum.
class ScientificSpinBox final : public QDoubleSpinBox
{
    Q_OBJECT

public:
    explicit ScientificSpinBox(QWidget *parent = nullptr);

    QString textFromValue(double value) const override;
    double valueFromText(const QString &text) const override;
    QValidator::State validate(QString &text, int &pos) const override;
    void stepBy(int steps) override;
};

} // namespace ms::ui
