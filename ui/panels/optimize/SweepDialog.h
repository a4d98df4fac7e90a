#pragma once

#include "optimize/SweepSpec.h"

#include <QDialog>
#include <QJsonObject>

#include <optional>

class QCheckBox;
class QComboBox;
class QLineEdit;
class QSpinBox;
class QTableWidget;

namespace ms::ui {

class StatusLine;

// "New sweep…": a training sweep built in a form instead of a file. The base recipe (dataset,
// architecture, epochs, sample limit), a table with one searched parameter per row (a path such
// as lr or arch.width, a distribution, its range or its comma-separated choices), the
// objective and the budget. OK checks the result with ms::SweepSpec::fromJson, the check
// `sweep --config` makes, and stays open with its message while anything is wrong; Save as…
// writes the same JSON for the command line. Compression searches and several objectives are
// written as files (README, "Searching hyperparameters").
class SweepDialog final : public QDialog
{
    Q_OBJECT

public:
    explicit SweepDialog(QWidget *parent = nullptr);

    // The sweep file the form describes (not checked).
    QJsonObject sweepJson() const;
    // The checked sweep after OK.
    const std::optional<ms::SweepSpec> &spec() const { return m_spec; }

    // A row per searched parameter: `choicesOrRange` is "low, high" for a range or the
    // comma-separated values of a choice.
    void addParameter(const QString &path, const QString &distribution,
                      const QString &choicesOrRange);
    void clearParameters();
    QTableWidget *parameterTable() const { return m_params; }
    QLineEdit *nameEdit() const { return m_name; }
    QSpinBox *trialsBox() const { return m_trials; }
    QComboBox *samplerBox() const { return m_sampler; }
    QSpinBox *startupBox() const { return m_startup; }
    QSpinBox *seedBox() const { return m_seed; }
    QCheckBox *reuseBox() const { return m_reuse; }
    QString errorText() const;

    void accept() override;

private:
    bool saveAs();
    void showError(const QString &message);

    QLineEdit *m_name = nullptr;
    QComboBox *m_dataset = nullptr;
    QComboBox *m_arch = nullptr;
    QSpinBox *m_epochs = nullptr;
    QSpinBox *m_limit = nullptr;
    QTableWidget *m_params = nullptr;
    QComboBox *m_metric = nullptr;
    QComboBox *m_goal = nullptr;
    QSpinBox *m_trials = nullptr;
    QSpinBox *m_parallel = nullptr;
    QComboBox *m_sampler = nullptr;
    QSpinBox *m_startup = nullptr;
    QSpinBox *m_seed = nullptr;
    QCheckBox *m_reuse = nullptr;
    QComboBox *m_earlyStop = nullptr;
    StatusLine *m_error = nullptr;
    std::optional<ms::SweepSpec> m_spec;
};

} // namespace ms::ui
