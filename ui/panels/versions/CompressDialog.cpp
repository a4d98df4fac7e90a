#include "panels/versions/CompressDialog.h"

#include "common/ScientificSpinBox.h"
#include "common/StatusLine.h"

#include "common/Error.h"
#include "compress/CompressJob.h"
#include "compress/CompressionMethod.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>
#include <climits>
#include <cmath>
#include <exception>

namespace ms::ui {

namespace {

QWidget *makeField(const ms::CompressParameter &p, const QStringList &versionRefs,
                   QWidget *parent)
{
    switch (p.type) {
    case ms::CompressParameter::Type::Double: {
        // A range over decades (a learning rate) reads best as 3e-4 and steps 1-2-5; so does
        // one from 0 to 10 or more (a weight decay of 1e-4, a floor rate of 1e-5), which two
        // decimals would round to 0.
        const bool decades = (p.minimum > 0.0 && p.maximum / p.minimum >= 1e4)
                             || (p.minimum == 0.0 && p.maximum >= 10.0);
        QDoubleSpinBox *spin = decades ? new ScientificSpinBox(parent)
                                       : new QDoubleSpinBox(parent);
        if (!decades) {
            const bool unit = p.maximum - p.minimum <= 1.0;
            // Enough decimals for the default and the bounds (99.99), at least 2 (3 for 0..1).
            int decimals = unit ? 3 : 2;
            for (const double v : {p.defaultValue.toDouble(), p.minimum, p.maximum}) {
                int d = 0;
                double scaled = v;
                while (d < 6 && std::abs(scaled - std::round(scaled)) > 1e-9) {
                    ++d;
                    scaled *= 10.0;
                }
                decimals = std::max(decimals, d);
            }
            spin->setDecimals(decimals);
            spin->setSingleStep(unit ? 0.05 : 0.5);
        }
        spin->setRange(p.minimum, p.maximum);
        spin->setValue(p.defaultValue.toDouble(p.minimum));
        return spin;
    }
    case ms::CompressParameter::Type::Int: {
        auto *spin = new QSpinBox(parent);
        spin->setRange(int(std::max(p.minimum, double(INT_MIN))),
                       int(std::min(p.maximum, double(INT_MAX))));
        spin->setValue(p.defaultValue.toInt(int(p.minimum)));
        return spin;
    }
    case ms::CompressParameter::Type::Choice: {
        auto *combo = new QComboBox(parent);
        combo->addItems(p.choices);
        combo->setCurrentText(p.defaultValue.toString());
        return combo;
    }
    case ms::CompressParameter::Type::Version: {
        // Editable: NAME@ALIAS references are as good as the listed NAME:N.
        auto *combo = new QComboBox(parent);
        combo->setEditable(true);
        combo->setInsertPolicy(QComboBox::NoInsert);
        combo->addItem(QString());
        combo->addItems(versionRefs);
        combo->setCurrentText(p.defaultValue.toString());
        combo->lineEdit()->setPlaceholderText(QObject::tr("NAME:N or NAME@ALIAS"));
        return combo;
    }
    case ms::CompressParameter::Type::Text: {
        auto *edit = new QLineEdit(p.defaultValue.toString(), parent);
        return edit;
    }
    }
    return nullptr;
}

QJsonValue fieldValue(const QWidget *field)
{
    if (const auto *spin = qobject_cast<const QDoubleSpinBox *>(field))
        return spin->value();
    if (const auto *spin = qobject_cast<const QSpinBox *>(field))
        return spin->value();
    if (const auto *combo = qobject_cast<const QComboBox *>(field))
        return combo->currentText().trimmed();
    if (const auto *edit = qobject_cast<const QLineEdit *>(field))
        return edit->text().trimmed();
    return QJsonValue();
}

} // namespace

CompressDialog::CompressDialog(QString workspace, QString sourceRef, const QString &sourceModel,
                               QStringList versionRefs, QWidget *parent)
    : QDialog(parent)
    , m_workspace(std::move(workspace))
    , m_sourceRef(std::move(sourceRef))
    , m_versionRefs(std::move(versionRefs))
{
    setWindowTitle(tr("Compress %1").arg(m_sourceRef));

    m_method = new QComboBox(this);
    for (const auto &method : ms::CompressionRegistry::instance().methods().all()) {
        m_method->addItem(method->name(), method->name());
        m_method->setItemData(m_method->count() - 1, method->description(), Qt::ToolTipRole);
    }
    m_description = new QLabel(this);
    m_description->setWordWrap(true);
    m_description->setStyleSheet(QStringLiteral("color: #555555;"));

    m_formHost = new QGroupBox(tr("Parameters"), this);
    m_form = new QFormLayout(m_formHost);
    m_form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);

    m_name = new QLineEdit(sourceModel, this);
    m_name->setToolTip(tr("The model the variant is registered under (default: the source's)."));
    m_dataset = new QLineEdit(this);
    m_dataset->setPlaceholderText(tr("the source's training data"));
    m_dataset->setToolTip(tr("Data for fine-tuning, calibration, distillation and the accuracy "
                             "test: a dataset name or path. Empty: the source's training "
                             "data."));

    auto *top = new QFormLayout;
    top->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    auto *source = new QLabel(m_sourceRef, this);
    source->setTextInteractionFlags(Qt::TextSelectableByMouse);
    top->addRow(tr("Source:"), source);
    top->addRow(tr("Method:"), m_method);
    top->addRow(QString(), m_description);

    auto *bottom = new QFormLayout;
    bottom->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    bottom->addRow(tr("New version of:"), m_name);
    bottom->addRow(tr("Dataset:"), m_dataset);

    m_error = new QLabel(this);
    m_error->setWordWrap(true);
    m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
    setTone(m_error, Tone::Error);
    m_error->hide();

    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Compress"));
    connect(m_buttons, &QDialogButtonBox::accepted, this, &CompressDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &CompressDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_formHost);
    layout->addLayout(bottom);
    layout->addWidget(m_error);
    layout->addStretch(1);
    layout->addWidget(m_buttons);

    connect(m_method, &QComboBox::currentIndexChanged, this, [this] { rebuildForm(); });
    rebuildForm();
    setMinimumWidth(460);
}

bool CompressDialog::setMethod(const QString &name)
{
    const int index = m_method->findData(name);
    if (index < 0)
        return false;
    m_method->setCurrentIndex(index);
    return true;
}

QString CompressDialog::methodName() const
{
    return m_method->currentData().toString();
}

void CompressDialog::rebuildForm()
{
    while (m_form->rowCount() > 0)
        m_form->removeRow(0);   // deletes the row's label and field
    m_fields.clear();
    m_order.clear();
    showError(QString());
    const QString name = methodName();
    if (name.isEmpty())
        return;
    const auto method = ms::CompressionRegistry::instance().method(name);
    m_description->setText(method->description());
    for (const ms::CompressParameter &p : method->parameters()) {
        QWidget *field = makeField(p, m_versionRefs, m_formHost);
        field->setObjectName(p.name);
        field->setToolTip(p.help);
        auto *label = new QLabel(p.name + QLatin1Char(':'), m_formHost);
        label->setToolTip(p.help);
        m_form->addRow(label, field);
        // On a dialog already shown the layout would show them only on the next event loop
        // pass; now, so that adjustSize() below measures them.
        label->show();
        field->show();
        m_fields.insert(p.name, field);
        m_order << p.name;
    }
    if (m_order.isEmpty())
        m_form->addRow(new QLabel(tr("This method takes no parameters."), m_formHost));
    adjustSize();
}

QJsonObject CompressDialog::params() const
{
    QJsonObject params;
    for (const QString &name : m_order) {
        const QJsonValue value = fieldValue(m_fields.value(name));
        // An empty text is "not given": the parameter's default (or the method's "give X or
        // Y" rule) applies, exactly as when the CLI flag is left out.
        if (value.isString() && value.toString().isEmpty())
            continue;
        params.insert(name, value);
    }
    return params;
}

QJsonObject CompressDialog::spec() const
{
    return ms::CompressJob::makeSpec(m_sourceRef, methodName(), params(), m_name->text(),
                                     m_dataset->text());
}

QString CompressDialog::errorText() const
{
    return m_error->isHidden() ? QString() : m_error->text();
}

void CompressDialog::accept()
{
    QJsonObject spec;
    try {
        spec = this->spec();
        // The job's own checks, here, so a refusal is read while the fields can still change.
        // It loads the source's model on this thread: a studio model loads in well under a
        // second, and the work itself runs as a job.
        ms::CompressJob::preflight(m_workspace, spec);
    } catch (const std::exception &e) {
        showError(errorMessage(e));
        return;
    }
    showError(QString());
    m_accepted = spec;
    QDialog::accept();
}

void CompressDialog::showError(const QString &text)
{
    m_error->setText(text);
    m_error->setVisible(!text.isEmpty());
}

} // namespace ms::ui
