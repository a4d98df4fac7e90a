#include "panels/optimize/SweepDialog.h"

#include "common/Error.h"
#include "common/StatusLine.h"
#include "data/DatasetRegistry.h"
#include "models/ArchitectureRegistry.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <climits>
#include <utility>

namespace ms::ui {

namespace {

enum Column { PathColumn, KindColumn, ValuesColumn };

const QStringList kKinds = {QStringLiteral("log_uniform"), QStringLiteral("uniform"),
                            QStringLiteral("int_log_uniform"), QStringLiteral("int_uniform"),
                            QStringLiteral("choice")};

// The train settings a sweep most often searches; any other path can be typed.
const QStringList kPaths = {QStringLiteral("lr"),           QStringLiteral("batch_size"),
                            QStringLiteral("weight_decay"), QStringLiteral("optimizer"),
                            QStringLiteral("momentum"),     QStringLiteral("arch.width"),
                            QStringLiteral("arch.dropout"), QStringLiteral("epochs"),
                            QStringLiteral("augment")};

// "0.001, 0.1" -> [0.001, 0.1]; "adam, sgd" -> ["adam", "sgd"]; numbers stay numbers.
QJsonArray listOf(const QString &text)
{
    QJsonArray list;
    for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const QString item = part.trimmed();
        bool number = false;
        const double value = item.toDouble(&number);
        list.append(number ? QJsonValue(value) : QJsonValue(item));
    }
    return list;
}

} // namespace

SweepDialog::SweepDialog(QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(tr("New sweep"));
    m_name = new QLineEdit(QStringLiteral("search"), this);
    m_dataset = new QComboBox(this);
    m_dataset->setEditable(true);
    for (const auto &builtin : ms::DatasetRegistry::instance().builtins().all())
        m_dataset->addItem(builtin->name());
    m_dataset->lineEdit()->setPlaceholderText(tr("built-in name, folder or CSV file"));
    m_arch = new QComboBox(this);
    for (const auto &provider : ms::ArchitectureRegistry::instance().providers().all()) {
        m_arch->addItem(provider->name());
        m_arch->setItemData(m_arch->count() - 1, provider->description(), Qt::ToolTipRole);
    }
    m_epochs = new QSpinBox(this);
    m_epochs->setRange(1, 1000);
    m_epochs->setValue(3);
    m_limit = new QSpinBox(this);
    m_limit->setRange(0, 100000000);
    m_limit->setSingleStep(1000);
    m_limit->setSpecialValueText(tr("all"));
    m_limit->setToolTip(tr("At most this many training samples per trial (0: all)"));

    auto *base = new QGroupBox(tr("Each trial trains"), this);
    auto *baseForm = new QFormLayout(base);
    baseForm->addRow(tr("Dataset"), m_dataset);
    baseForm->addRow(tr("Architecture"), m_arch);
    baseForm->addRow(tr("Epochs"), m_epochs);
    baseForm->addRow(tr("Samples"), m_limit);

    m_params = new QTableWidget(0, 3, this);
    m_params->setHorizontalHeaderLabels({tr("Parameter"), tr("Distribution"),
                                         tr("Range (low, high) or choices")});
    m_params->horizontalHeader()->setSectionResizeMode(PathColumn, QHeaderView::ResizeToContents);
    m_params->horizontalHeader()->setSectionResizeMode(KindColumn, QHeaderView::ResizeToContents);
    m_params->horizontalHeader()->setSectionResizeMode(ValuesColumn, QHeaderView::Stretch);
    m_params->verticalHeader()->hide();
    m_params->setMinimumHeight(150);
    auto *add = new QPushButton(tr("Add parameter"), this);
    auto *remove = new QPushButton(tr("Remove"), this);
    connect(add, &QPushButton::clicked, this,
            [this] { addParameter(QStringLiteral("batch_size"), QStringLiteral("choice"),
                                  QStringLiteral("32, 64, 128")); });
    connect(remove, &QPushButton::clicked, this, [this] {
        if (m_params->currentRow() >= 0)
            m_params->removeRow(m_params->currentRow());
    });
    auto *space = new QGroupBox(tr("Search"), this);
    auto *spaceLayout = new QVBoxLayout(space);
    spaceLayout->addWidget(m_params);
    auto *rowButtons = new QHBoxLayout;
    rowButtons->addWidget(add);
    rowButtons->addWidget(remove);
    rowButtons->addStretch(1);
    spaceLayout->addLayout(rowButtons);

    m_metric = new QComboBox(this);
    m_metric->addItems(ms::SweepSpec::epochMetrics());
    m_goal = new QComboBox(this);
    m_goal->addItems({QStringLiteral("max"), QStringLiteral("min")});
    connect(m_metric, &QComboBox::currentTextChanged, this, [this](const QString &metric) {
        m_goal->setCurrentText(metric.endsWith(QLatin1String("loss")) ? QStringLiteral("min")
                                                                      : QStringLiteral("max"));
    });
    m_trials = new QSpinBox(this);
    m_trials->setRange(1, 100000);
    m_trials->setValue(16);
    m_parallel = new QSpinBox(this);
    m_parallel->setRange(1, 64);
    m_parallel->setValue(2);
    m_sampler = new QComboBox(this);
    m_sampler->addItems({QStringLiteral("model"), QStringLiteral("random"),
                         QStringLiteral("grid")});
    m_sampler->setToolTip(tr("model: dlib's global search; random: seeded draws; grid: every "
                             "combination"));
    m_startup = new QSpinBox(this);
    m_startup->setRange(0, 100000);
    m_startup->setSpecialValueText(tr("none"));
    m_startup->setToolTip(tr("The model sampler's first trials drawn at random and taught to "
                             "it before its first request (Optuna's n_startup_trials)"));
    connect(m_sampler, &QComboBox::currentTextChanged, this, [this](const QString &sampler) {
        m_startup->setEnabled(sampler == QLatin1String("model"));
    });
    m_seed = new QSpinBox(this);
    m_seed->setRange(0, INT_MAX);
    m_seed->setToolTip(tr("Seeds the sampler's draws (random, model): the same seed and "
                          "results ask for the same trials. Each trial trains with the recipe's "
                          "own seed."));
    m_reuse = new QCheckBox(tr("Run a slot's trials in one process"), this);
    m_reuse->setChecked(true);
    m_reuse->setToolTip(tr("Each parallel slot starts LibTorch and reads the data once, then "
                           "runs its trials one after another; a crash still ends one trial. "
                           "Off: a fresh process per trial, for training code that leaves "
                           "state behind."));
    m_earlyStop = new QComboBox(this);
    m_earlyStop->addItems({QStringLiteral("asha"), QStringLiteral("median"),
                           QStringLiteral("none")});
    auto *goalRow = new QHBoxLayout;
    goalRow->addWidget(m_metric, 1);
    goalRow->addWidget(m_goal);
    auto *budget = new QGroupBox(tr("Objective and budget"), this);
    auto *budgetForm = new QFormLayout(budget);
    budgetForm->addRow(tr("Objective"), goalRow);
    budgetForm->addRow(tr("Trials"), m_trials);
    budgetForm->addRow(tr("At a time"), m_parallel);
    budgetForm->addRow(tr("Sampler"), m_sampler);
    budgetForm->addRow(tr("Random start-up trials"), m_startup);
    budgetForm->addRow(tr("Seed"), m_seed);
    budgetForm->addRow(tr("Early stopping"), m_earlyStop);
    budgetForm->addRow(tr("Processes"), m_reuse);

    m_error = new StatusLine(this, 2);
    m_error->setStatus(tr("Each trial is a training run of the recipe above with the searched "
                          "parameters set; OK checks the sweep as `sweep --config` would."));

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Use this sweep"));
    QPushButton *save = buttons->addButton(tr("Save as…"), QDialogButtonBox::ActionRole);
    connect(save, &QPushButton::clicked, this, [this] { saveAs(); });
    connect(buttons, &QDialogButtonBox::accepted, this, &SweepDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &SweepDialog::reject);

    auto *form = new QFormLayout;
    form->addRow(tr("Name"), m_name);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(base);
    layout->addWidget(space, 1);
    layout->addWidget(budget);
    layout->addWidget(m_error);
    layout->addWidget(buttons);

    // The mlp search, a start to edit.
    addParameter(QStringLiteral("lr"), QStringLiteral("log_uniform"), QStringLiteral("1e-4, 1e-2"));
    addParameter(QStringLiteral("arch.width"), QStringLiteral("int_log_uniform"),
                 QStringLiteral("32, 512"));
    resize(640, 640);
}

void SweepDialog::addParameter(const QString &path, const QString &distribution,
                               const QString &choicesOrRange)
{
    const int row = m_params->rowCount();
    m_params->insertRow(row);
    auto *pathBox = new QComboBox(m_params);
    pathBox->setEditable(true);
    pathBox->addItems(kPaths);
    pathBox->setCurrentText(path);
    pathBox->setToolTip(tr("A train setting (anything `train --config` takes) or an "
                           "architecture parameter, arch.NAME"));
    auto *kindBox = new QComboBox(m_params);
    kindBox->addItems(kKinds);
    kindBox->setCurrentText(distribution);
    m_params->setCellWidget(row, PathColumn, pathBox);
    m_params->setCellWidget(row, KindColumn, kindBox);
    m_params->setItem(row, ValuesColumn, new QTableWidgetItem(choicesOrRange));
    // The header sizes a column to its items' text, not to a cell's widget: widen the two
    // combo columns to their boxes, or "batch_size" shows as "atch_size".
    for (const auto &[column, box] : {std::pair<int, QComboBox *>{PathColumn, pathBox},
                                      std::pair<int, QComboBox *>{KindColumn, kindBox}}) {
        m_params->horizontalHeader()->setSectionResizeMode(column, QHeaderView::Interactive);
        m_params->setColumnWidth(column, std::max(m_params->columnWidth(column),
                                                  box->sizeHint().width()));
    }
}

void SweepDialog::clearParameters()
{
    m_params->setRowCount(0);
}

QJsonObject SweepDialog::sweepJson() const
{
    QJsonObject train{{QStringLiteral("dataset"), m_dataset->currentText().trimmed()},
                      {QStringLiteral("arch"), m_arch->currentText()},
                      {QStringLiteral("epochs"), m_epochs->value()}};
    if (m_limit->value() > 0)
        train.insert(QStringLiteral("limit"), m_limit->value());
    QJsonObject space;
    for (int row = 0; row < m_params->rowCount(); ++row) {
        const auto *path = qobject_cast<QComboBox *>(m_params->cellWidget(row, PathColumn));
        const auto *kind = qobject_cast<QComboBox *>(m_params->cellWidget(row, KindColumn));
        const QTableWidgetItem *values = m_params->item(row, ValuesColumn);
        if (!path || !kind || path->currentText().trimmed().isEmpty())
            continue;
        const QJsonArray list = listOf(values ? values->text() : QString());
        space.insert(path->currentText().trimmed(), QJsonObject{{kind->currentText(), list}});
    }
    QJsonObject sweep{{QStringLiteral("name"), m_name->text().trimmed()},
            {QStringLiteral("train"), train},
            {QStringLiteral("space"), space},
            {QStringLiteral("objective"),
             QJsonObject{{QStringLiteral("metric"), m_metric->currentText()},
                         {QStringLiteral("goal"), m_goal->currentText()}}},
            {QStringLiteral("trials"), m_trials->value()},
            {QStringLiteral("parallel"), m_parallel->value()},
            {QStringLiteral("sampler"), m_sampler->currentText()},
            {QStringLiteral("seed"), m_seed->value()},
            {QStringLiteral("early_stop"),
             QJsonObject{{QStringLiteral("rule"), m_earlyStop->currentText()}}}};
    if (m_sampler->currentText() == QLatin1String("model") && m_startup->value() > 0)
        sweep.insert(QStringLiteral("startup_trials"), m_startup->value());
    if (!m_reuse->isChecked())
        sweep.insert(QStringLiteral("reuse_processes"), false);
    return sweep;
}

QString SweepDialog::errorText() const
{
    return m_error->isError() ? m_error->statusText() : QString();
}

void SweepDialog::showError(const QString &message)
{
    m_error->setStatus(message, Tone::Error);
}

void SweepDialog::accept()
{
    // Two rows of one path would be one key of the file, the second silently winning.
    QStringList paths;
    for (int row = 0; row < m_params->rowCount(); ++row) {
        const auto *path = qobject_cast<QComboBox *>(m_params->cellWidget(row, PathColumn));
        const QString text = path ? path->currentText().trimmed() : QString();
        if (!text.isEmpty() && paths.contains(text)) {
            m_spec.reset();
            showError(tr("\"%1\" is in two rows; keep one.").arg(text));
            return;
        }
        paths << text;
    }
    try {
        m_spec = ms::SweepSpec::fromJson(sweepJson());
    } catch (const ms::Error &e) {
        m_spec.reset();
        showError(e.message());
        return;
    }
    m_error->setStatus(
        tr("Sweep \"%1\": %2 trials.").arg(m_spec->name, QString::number(m_spec->trials)),
        Tone::Ok);
    QDialog::accept();
}

bool SweepDialog::saveAs()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Save sweep file"),
                                                      m_name->text() + QStringLiteral(".json"),
                                                      tr("Sweep files (*.json)"));
    if (path.isEmpty())
        return false;
    QSaveFile file(path);
    const QByteArray text = QJsonDocument(sweepJson()).toJson();
    if (!file.open(QIODevice::WriteOnly) || file.write(text) != text.size() || !file.commit()) {
        showError(tr("Cannot write %1: %2").arg(path, file.errorString()));
        return false;
    }
    return true;
}

} // namespace ms::ui
