#include "shell/ImportDialog.h"

#include "common/StatusLine.h"

#include "common/Error.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace ms::ui {

ImportDialog::ImportDialog(QWidget *parent)
    : QDialog(parent)
    , m_path(new QLineEdit(this))
    , m_name(new QLineEdit(this))
    , m_shape(new QLineEdit(this))
    , m_dtype(new QComboBox(this))
    , m_mean(new QLineEdit(this))
    , m_std(new QLineEdit(this))
    , m_classes(new QLineEdit(this))
    , m_notes(new QLineEdit(this))
    , m_error(new QLabel(this))
{
    setWindowTitle(tr("Import model"));
    m_path->setPlaceholderText(tr("a TorchScript file (torch.jit.save output)"));
    auto *browseButton = new QPushButton(tr("Browse…"), this);
    connect(browseButton, &QPushButton::clicked, this, [this] { browse(); });
    auto *pathRow = new QHBoxLayout;
    pathRow->addWidget(m_path, 1);
    pathRow->addWidget(browseButton);
    connect(m_path, &QLineEdit::textChanged, this, [this](const QString &path) {
        if (!m_nameEdited)
            m_name->setText(path.isEmpty() ? QString() : ms::modelNameForFile(path));
    });
    connect(m_name, &QLineEdit::textEdited, this, [this] { m_nameEdited = true; });
    m_name->setToolTip(tr("The model the version joins; created when new"));
    m_shape->setPlaceholderText(tr("recorded in the file, else e.g. 1,1,28,28"));
    m_shape->setToolTip(tr("An example input, batch first: the model is run once on zeros "
                           "of this shape before it is registered"));
    m_dtype->addItems({QStringLiteral("float32"), QStringLiteral("int64"),
                       QStringLiteral("int32")});
    m_dtype->setToolTip(tr("float32 for images and tables; int64 or int32 for token ids (a "
                           "text model: the example input is then zeros, and a sequence that "
                           "runs at any length is recorded as dynamic)"));
    m_mean->setPlaceholderText(tr("none, or one per channel, e.g. 0.485,0.456,0.406"));
    m_mean->setToolTip(tr("The mean the network expects its input normalised with, per channel "
                          "(with Std). Folded into the registered model, which then takes "
                          "floats in [0, 1] like every studio model"));
    m_std->setPlaceholderText(tr("e.g. 0.229,0.224,0.225"));
    m_std->setToolTip(tr("The standard deviation per channel (with Mean)"));
    m_classes->setPlaceholderText(tr("recorded in the file, else e.g. cat,dog or a .txt file"));
    m_classes->setToolTip(tr("Class names, one per output score: separated by commas, or the "
                             "path of a text file with one name per line"));
    m_error->setWordWrap(true);
    setTone(m_error, Tone::Error);
    m_error->setVisible(false);

    auto *form = new QFormLayout;
    // A row holding a layout gets no buddy from QFormLayout: without one "&File" shows the '&'.
    auto *pathLabel = new QLabel(tr("&File"), this);
    pathLabel->setBuddy(m_path);
    form->addRow(pathLabel, pathRow);
    form->addRow(tr("&Model name"), m_name);
    form->addRow(tr("&Input shape"), m_shape);
    form->addRow(tr("Input &dtype"), m_dtype);
    form->addRow(tr("M&ean"), m_mean);
    form->addRow(tr("S&td"), m_std);
    form->addRow(tr("&Classes"), m_classes);
    form->addRow(tr("&Notes"), m_notes);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Import"));
    connect(buttons, &QDialogButtonBox::accepted, this, &ImportDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &ImportDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_error);
    layout->addWidget(buttons);
    resize(560, sizeHint().height());
}

void ImportDialog::setPath(const QString &path)
{
    m_path->setText(path);
}

std::vector<qint64> ImportDialog::parseShape(const QString &text)
{
    std::vector<qint64> shape;
    for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        const qint64 dim = part.trimmed().toLongLong(&ok);
        if (!ok || dim < 1)
            throw ms::Error(tr("The input shape takes positive integers separated by commas, "
                               "batch first, such as 1,1,28,28; \"%1\" is not one.").arg(text));
        shape.push_back(dim);
    }
    return shape;
}

ms::ImportOptions ImportDialog::options() const
{
    ms::ImportOptions options;
    options.path = m_path->text().trimmed();
    options.modelName = m_name->text().trimmed();
    options.notes = m_notes->text();
    options.shapeHint = tr("the Input shape field of File › Import model…");
    options.inputDtype = m_dtype->currentText();
    try {
        options.exampleShape = parseShape(m_shape->text());
    } catch (const ms::Error &) {
        // accept() refuses such a shape; options() of an unchecked dialog just leaves it out.
    }
    try {
        readPreprocessing(options);
    } catch (const ms::Error &) {
        // As the shape: refused by accept(), left out here.
    }
    return options;
}

void ImportDialog::readPreprocessing(ms::ImportOptions &options) const
{
    if (!m_mean->text().trimmed().isEmpty())
        options.mean = ms::parseValueList(m_mean->text(), tr("The Mean field"));
    if (!m_std->text().trimmed().isEmpty())
        options.stdev = ms::parseValueList(m_std->text(), tr("The Std field"));
    if (options.mean.empty() != options.stdev.empty())
        throw ms::Error(tr("Give the normalisation whole: Mean and Std together (one value per "
                           "channel each), or neither."));
    if (!options.mean.empty() && m_dtype->currentText() != QLatin1String("float32"))
        throw ms::Error(tr("Mean and Std normalise float inputs; token ids (%1) are not "
                           "normalised: leave them empty.").arg(m_dtype->currentText()));
    if (!options.mean.empty() && options.mean.size() != options.stdev.size())
        throw ms::Error(tr("Mean has %1 values and Std %2: give one of each per channel.")
                            .arg(options.mean.size())
                            .arg(options.stdev.size()));
    if (!options.mean.empty() && !options.exampleShape.empty()
        && options.exampleShape.size() >= 2
        && qint64(options.mean.size()) != options.exampleShape[1])
        throw ms::Error(tr("Mean and Std have %1 values but the input shape has %2 channels "
                           "(its dimension after the batch): give one value per channel.")
                            .arg(options.mean.size())
                            .arg(options.exampleShape[1]));
    if (!m_classes->text().trimmed().isEmpty())
        options.classNames = ms::parseClassNames(m_classes->text(), tr("The Classes field"));
}

QString ImportDialog::errorText() const
{
    return m_error->isHidden() ? QString() : m_error->text();   // also before the dialog shows
}

void ImportDialog::accept()
{
    const QString path = m_path->text().trimmed();
    if (!QFileInfo(path).isFile()) {
        showError(path.isEmpty() ? tr("Choose the .pt file to import.")
                                 : tr("There is no file %1.").arg(path));
        return;
    }
    try {
        ms::checkModelName(m_name->text().trimmed());   // as prepareImport reads it
        ms::ImportOptions options;
        options.exampleShape = parseShape(m_shape->text());
        readPreprocessing(options);
    } catch (const ms::Error &e) {
        showError(e.message());
        return;
    }
    QDialog::accept();
}

void ImportDialog::browse()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Import model"), QFileInfo(m_path->text()).absolutePath(),
        tr("TorchScript models (*.pt *.pth *.ts);;All files (*)"));
    if (!path.isEmpty())
        m_path->setText(path);
}

void ImportDialog::showError(const QString &text)
{
    m_error->setText(text);
    m_error->setVisible(true);
}

} // namespace ms::ui
