#include "panels/try/TryPanel.h"

#include "common/Icons.h"
#include "common/StatusLine.h"
#include "panels/try/AttributionImage.h"
#include "panels/try/DrawingCanvas.h"
#include "plots/PlotStyle.h"

#include "common/Error.h"
#include "explain/ExplainJob.h"
#include "explain/Explainer.h"
#include "registry/Registry.h"

#include <qcustomplot.h>

#include <QCheckBox>
#include <QComboBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QImageReader>
#include <QJsonArray>
#include <QLabel>
#include <QMimeData>
#include <QPushButton>
#include <QSlider>
#include <QSpinBox>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <numeric>

namespace ms::ui {

namespace {

constexpr int kMapScale = 8; // a 28x28 image at 224 pixels
const QString kNone = QStringLiteral("(none)");

// Attribution maps are of float inputs: a language model's token ids are not offered (the
// Chat panel is for those). An import without a recorded signature is offered; the explain
// job's own checks say what does not fit.
bool explainable(const ms::VersionRecord &v)
{
    return v.inputs.isEmpty() || v.inputs.first().dtype.startsWith(QLatin1String("float"));
}

std::vector<float> floatsOf(const QJsonArray &array)
{
    std::vector<float> out;
    out.reserve(size_t(array.size()));
    for (const QJsonValue &v : array)
        out.push_back(float(v.toDouble()));
    return out;
}

// "9 Ankle boot" when the class has a name, else "9" (as the CLI's explain prints it).
QString classText(const QStringList &names, int index)
{
    const QString name = names.value(index);
    return name.isEmpty() || name == QString::number(index)
               ? QString::number(index)
               : QStringLiteral("%1 %2").arg(QString::number(index), name);
}

// The method picker's words for the core's method names.
QString methodLabel(const QString &name)
{
    if (name == QLatin1String("integrated-gradients"))
        return QObject::tr("Integrated gradients");
    if (name == QLatin1String("saliency"))
        return QObject::tr("Saliency");
    if (name == QLatin1String("smoothgrad"))
        return QObject::tr("SmoothGrad");
    if (name == QLatin1String("occlusion"))
        return QObject::tr("Occlusion");
    return name;
}

std::vector<qint64> shapeOf(const QJsonArray &array)
{
    std::vector<qint64> out;
    for (const QJsonValue &v : array)
        out.push_back(v.toInteger());
    return out;
}

} // namespace

TryPanel::TryPanel(ms::JobRunner *runner, QString workspace, QWidget *parent)
    : Panel(parent)
    , m_runner(runner)
    , m_workspace(std::move(workspace))
{
    setAcceptDrops(true);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(makeControls());
    auto *columns = new QHBoxLayout;
    columns->addWidget(makeDrawing());
    for (int i = 0; i < kColumns; ++i)
        columns->addWidget(makeColumn(m_columns[i], i), 1);
    layout->addLayout(columns, 1);
    m_status = new StatusLine(this);
    m_status->setStatus(tr("Open or drop an image, or pick a test sample; then Explain."));
    layout->addWidget(m_status);
    connect(m_runner, &ms::JobRunner::finished, this, &TryPanel::onFinished);
    reload();
    firstVersionChanged();
}

QIcon TryPanel::icon() const
{
    return tryIcon(palette().color(QPalette::WindowText));
}

QWidget *TryPanel::makeControls()
{
    auto *box = new QWidget(this);
    auto *form = new QFormLayout(box);
    auto *input = new QHBoxLayout;
    auto *open = new QPushButton(tr("Open image…"), box);
    connect(open, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open an image"), QString(),
                                                          tr("Images (*.png *.jpg *.jpeg *.bmp)"));
        if (!path.isEmpty())
            openImage(path);
    });
    m_sample = new QSpinBox(box);
    m_sample->setRange(0, 1 << 30);
    m_class = new QComboBox(box); // the first version's classes: firstVersionChanged
    m_misclassified = new QCheckBox(tr("misclassified only"), box);
    auto *useSample = new QPushButton(tr("Use test sample"), box);
    connect(useSample, &QPushButton::clicked, this, [this] { useTestSample(m_sample->value()); });
    m_inputLabel = new QLabel(tr("test sample 0"), box);
    input->addWidget(open);
    input->addWidget(new QLabel(tr("or test sample"), box));
    input->addWidget(m_sample);
    input->addWidget(m_class);
    input->addWidget(m_misclassified);
    input->addWidget(useSample);
    input->addWidget(m_inputLabel, 1);
    form->addRow(tr("Input:"), input);

    auto *method = new QHBoxLayout;
    m_method = new QComboBox(box);
    for (const QString &name : ms::explainMethodNames())
        m_method->addItem(methodLabel(name), name);
    m_steps = new QSpinBox(box);
    m_steps->setRange(2, ms::ExplainOptions::kMaxSteps);
    m_steps->setValue(50);
    m_opacity = new QSlider(Qt::Horizontal, box);
    m_opacity->setRange(0, 100);
    m_opacity->setValue(70);
    connect(m_opacity, &QSlider::valueChanged, this, [this] { redrawMaps(); });
    m_explain = new QPushButton(tr("Explain"), box);
    connect(m_explain, &QPushButton::clicked, this, &TryPanel::explainNow);
    method->addWidget(m_method);
    method->addWidget(new QLabel(tr("steps"), box));
    method->addWidget(m_steps);
    method->addWidget(new QLabel(tr("map opacity"), box));
    method->addWidget(m_opacity, 1);
    method->addWidget(m_explain);
    form->addRow(tr("Method:"), method);
    return box;
}

QWidget *TryPanel::makeColumn(Column &column, int index)
{
    auto *box = new QWidget(this);
    auto *layout = new QVBoxLayout(box);
    column.version = new QComboBox(box);
    column.version->setToolTip(index == 0 ? tr("The version to try")
                                          : tr("A version to set beside it (optional)"));
    if (index == 0) {
        // Another first version by hand: its own test samples again.
        connect(column.version, &QComboBox::activated, this, [this] { m_dataset.clear(); });
        connect(column.version, &QComboBox::currentIndexChanged, this,
                &TryPanel::firstVersionChanged);
    }
    column.headline = new QLabel(box);
    column.headline->setWordWrap(true);
    column.image = new QLabel(box);
    column.image->setAlignment(Qt::AlignCenter);
    column.image->setMinimumSize(28 * kMapScale, 28 * kMapScale);
    auto *plotHost = new QWidget(box);
    column.bars = new QCustomPlot(plotHost);
    embedPlot(plotHost, column.bars, 200, 150);
    styleAxis(column.bars->xAxis);
    styleAxis(column.bars->yAxis);
    column.bars->xAxis->setRange(0, 1);
    column.bars->xAxis->setLabel(tr("probability"));
    layout->addWidget(column.version);
    layout->addWidget(column.headline);
    layout->addWidget(column.image);
    layout->addWidget(plotHost, 1);
    return box;
}

QWidget *TryPanel::makeDrawing()
{
    m_drawing = new QWidget(this);
    auto *layout = new QVBoxLayout(m_drawing);
    auto *title = new QLabel(tr("Or draw:"), m_drawing);
    m_canvas = new DrawingCanvas(m_drawing);
    auto *clear = new QPushButton(tr("Clear"), m_drawing);
    connect(clear, &QPushButton::clicked, m_canvas, &DrawingCanvas::clear);
    connect(m_canvas, &DrawingCanvas::strokeFinished, this, &TryPanel::useDrawing);
    layout->addWidget(title);
    layout->addWidget(m_canvas);
    layout->addWidget(clear, 0, Qt::AlignLeft);
    layout->addStretch(1);
    m_drawing->setVisible(false);
    return m_drawing;
}

void TryPanel::firstVersionChanged()
{
    m_classNames.clear();
    std::vector<qint64> shape;
    const QString ref = m_columns[0].version->currentText();
    try {
        if (!ref.isEmpty()) {
            const ms::VersionRecord v = ms::Registry(m_workspace).resolve(ref);
            m_classNames = v.classNames;
            if (!v.inputs.isEmpty())
                shape = v.inputs.first().shape;
            if (m_classNames.isEmpty() && !v.outputs.isEmpty()
                && v.outputs.first().shape.size() == 2 && v.outputs.first().shape[1] > 0)
                for (qint64 c = 0; c < v.outputs.first().shape[1]; ++c)
                    m_classNames << QString::number(c);
        }
    } catch (const ms::Error &e) {
        m_status->setStatus(e.message(), Tone::Error);
    }
    const int kept = m_class->currentData().isValid() ? m_class->currentData().toInt() : -1;
    m_class->clear();
    m_class->addItem(tr("any class"), -1);
    for (int c = 0; c < m_classNames.size(); ++c)
        m_class->addItem(classText(m_classNames, c), c);
    m_class->setCurrentIndex(std::max(0, m_class->findData(kept)));
    m_drawing->setVisible(shape == std::vector<qint64>{-1, 1, 28, 28});
}

bool TryPanel::canDraw() const
{
    return !m_drawing->isHidden();
}

QStringList TryPanel::classChoices() const
{
    QStringList out;
    for (int i = 1; i < m_class->count(); ++i)
        out << m_class->itemText(i);
    return out;
}

void TryPanel::useDrawing()
{
    if (m_canvas->isEmpty())
        return;
    m_imageValues = m_canvas->values(28, 28);
    m_imageShape = {1, 28, 28};
    m_imageName = tr("your drawing");
    m_inputLabel->setText(m_imageName);
    explainNow();
}

void TryPanel::reload()
{
    QStringList refs;
    try {
        const ms::Registry registry(m_workspace);
        for (const ms::ModelRecord &model : registry.models()) {
            for (const ms::VersionRecord &v :
                 registry.versions(model.name, ms::Registry::Detail::Listing))
                if (explainable(v))
                    refs << v.ref();
        }
    } catch (const ms::Error &e) {
        m_status->setStatus(e.message(), Tone::Error);
    }
    for (int i = 0; i < kColumns; ++i) {
        QComboBox *combo = m_columns[i].version;
        const QString kept = combo->currentText();
        combo->clear();
        if (i > 0)
            combo->addItem(kNone);
        combo->addItems(refs);
        const int at = combo->findText(kept);
        if (at >= 0)
            combo->setCurrentIndex(at);
    }
}

bool TryPanel::chooseVersion(int column, const QString &ref)
{
    if (column < 0 || column >= kColumns)
        return false;
    const int at = m_columns[column].version->findText(ref);
    if (at >= 0)
        m_columns[column].version->setCurrentIndex(at);
    return at >= 0;
}

QStringList TryPanel::chosenVersions() const
{
    QStringList refs;
    for (const Column &c : m_columns) {
        const QString ref = c.version->currentText();
        if (!ref.isEmpty() && ref != kNone && !refs.contains(ref))
            refs << ref;
    }
    return refs;
}

bool TryPanel::openImage(const QString &path)
{
    const QStringList refs = chosenVersions();
    if (refs.isEmpty()) {
        m_status->setStatus(tr("Choose a version first: the image is fitted to its input."),
                            Tone::Error);
        return false;
    }
    std::vector<qint64> shape;
    try {
        const ms::Registry registry(m_workspace);
        const ms::VersionRecord v = registry.resolve(refs.first());
        if (!v.inputs.isEmpty())
            shape.assign(v.inputs.first().shape.begin() + 1, v.inputs.first().shape.end());
    } catch (const ms::Error &e) {
        m_status->setStatus(e.message(), Tone::Error);
        return false;
    }
    if (shape.size() != 3 || (shape[0] != 1 && shape[0] != 3) || shape[1] <= 0 || shape[2] <= 0) {
        m_status->setStatus(
            tr("%1 does not take images; pick a test sample instead.").arg(refs.first()),
            Tone::Error);
        return false;
    }
    QImageReader reader(path);
    QImage image;
    if (!reader.read(&image)) {
        m_status->setStatus(tr("Cannot read %1 as an image: %2.")
                                .arg(QFileInfo(path).fileName(), reader.errorString()),
                            Tone::Error);
        return false;
    }
    const QSize original = image.size();
    // The window fits any image to the model (the CLI asks for --resize): a person who drops a
    // photo wants to see what the model makes of it, and the status line says what was done.
    image =
        image.scaled(int(shape[2]), int(shape[1]), Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
    m_imageValues = imageValues(image, int(shape[0]));
    m_imageShape = shape;
    m_imageName = QFileInfo(path).fileName();
    m_inputLabel->setText(original == image.size()
                              ? m_imageName
                              : tr("%1 (scaled from %2x%3)")
                                    .arg(m_imageName, QString::number(original.width()),
                                         QString::number(original.height())));
    explainNow();
    return true;
}

void TryPanel::useTestSample(int index)
{
    m_imageValues.clear();
    m_imageShape.clear();
    m_sample->setValue(index);
    m_inputLabel->setText(tr("test sample %1").arg(index));
    explainNow();
}

void TryPanel::trySample(qint64 index, const QStringList &versions, const QString &source)
{
    for (int i = 0; i < kColumns; ++i)
        chooseVersion(i, i < versions.size() ? versions.at(i) : kNone);
    m_dataset = source;
    m_class->setCurrentIndex(m_class->findData(-1));
    m_misclassified->setChecked(false);
    useTestSample(int(index));
}

void TryPanel::explainNow()
{
    const QStringList refs = chosenVersions();
    if (refs.isEmpty()) {
        m_status->setStatus(tr("Choose a version to try."), Tone::Error);
        return;
    }
    if (m_job != 0) {
        m_pending = true; // one at a time: this input once the running one ends
        return;
    }
    m_pending = false;
    ms::ExplainRequest request;
    request.versions = refs;
    request.options.method = ms::explainMethodFromName(m_method->currentData().toString());
    request.options.steps = m_steps->value();
    request.values = m_imageValues;
    request.shape = m_imageShape;
    request.sample = m_sample->value();
    request.dataset = m_dataset;
    request.sampleClass = m_class->currentData().toInt();
    request.misclassifiedOnly = m_misclassified->isChecked();
    m_explain->setEnabled(false);
    m_status->setStatus(tr("Explaining with %1…").arg(refs.join(QStringLiteral(", "))), Tone::Busy);
    m_job = m_runner->start(std::make_unique<ms::ExplainJob>(m_workspace, request));
}

void TryPanel::explainNewest()
{
    try {
        const ms::Registry registry(m_workspace);
        QVector<ms::VersionRecord> all;
        for (const ms::ModelRecord &model : registry.models())
            for (const ms::VersionRecord &v :
                 registry.versions(model.name, ms::Registry::Detail::Listing))
                if (explainable(v))
                    all << v;
        std::stable_sort(all.begin(), all.end(),
                         [](const ms::VersionRecord &a, const ms::VersionRecord &b) {
                             return a.created > b.created;
                         });
        for (int i = 0; i < kColumns; ++i)
            chooseVersion(i, i < all.size() ? all[i].ref() : kNone);
    } catch (const ms::Error &e) {
        m_status->setStatus(e.message(), Tone::Error);
        return;
    }
    useTestSample(0);
}

void TryPanel::onFinished(ms::JobId id, const ms::JobResult &result)
{
    if (id != m_job)
        return;
    m_job = 0;
    m_explain->setEnabled(true);
    if (m_pending) { // the input changed meanwhile (a stroke more): explain what is there now
        QTimer::singleShot(0, this, &TryPanel::explainNow);
    }
    if (result.status != ms::JobStatus::Finished) {
        m_status->setStatus(result.message, Tone::Error);
        Q_EMIT explained(false);
        return;
    }
    const QJsonObject &out = result.output;
    m_shownValues = floatsOf(out.value(QStringLiteral("values")).toArray());
    m_shownShape = shapeOf(out.value(QStringLiteral("shape")).toArray());
    QStringList names;
    for (const QJsonValue &v : out.value(QStringLiteral("class_names")).toArray())
        names << v.toString();
    if (names.isEmpty())
        names = m_classNames;
    m_shownSample = out.value(QStringLiteral("sample")).toInteger(-1);
    if (out.contains(QStringLiteral("sample")))
        m_inputLabel->setText(
            tr("test sample %1 of %2, true class %3")
                .arg(QString::number(out.value(QStringLiteral("sample")).toInteger()),
                     out.value(QStringLiteral("dataset")).toString(),
                     classText(names, out.value(QStringLiteral("label")).toInt())));
    const QJsonArray explanations = out.value(QStringLiteral("explanations")).toArray();
    bool allOk = true;
    for (int i = 0; i < kColumns; ++i) {
        showColumn(m_columns[i], explanations.at(i).toObject(), names);
        allOk = allOk && !explanations.at(i).toObject().contains(QStringLiteral("error"));
    }
    redrawMaps();
    m_status->setStatus(allOk ? tr("Red raises the score of the class explained, blue lowers it.")
                              : tr("Some versions could not use this method: see their column."),
                        allOk ? Tone::Ok : Tone::Warning);
    Q_EMIT explained(true);
}

void TryPanel::showColumn(Column &column, const QJsonObject &e, const QStringList &names)
{
    column.attributions.clear();
    column.bars->clearPlottables();
    column.headline->clear();
    column.image->clear();
    if (e.isEmpty()) {
        column.bars->replot();
        return;
    }
    const QString ref = e.value(QStringLiteral("version")).toString();
    if (e.contains(QStringLiteral("error"))) {
        column.headline->setText(refusal(e)); // names ref
        setTone(column.headline, Tone::Error);
        column.bars->replot();
        return;
    }
    setTone(column.headline, Tone::Info);
    const std::vector<float> p = floatsOf(e.value(QStringLiteral("probabilities")).toArray());
    const int predicted = e.value(QStringLiteral("predicted")).toInt();
    const int target = e.value(QStringLiteral("target")).toInt();
    column.headline->setText(tr("%1: %2 (%3 %)\nmap of %4 by %5")
                                 .arg(ref, classText(names, predicted),
                                      QString::number(100.0 * p.at(size_t(predicted)), 'f', 1),
                                      classText(names, target),
                                      methodLabel(e.value(QStringLiteral("method")).toString())));
    column.attributions = floatsOf(e.value(QStringLiteral("attributions")).toArray());

    std::vector<int> order(p.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&p](int a, int b) { return p[size_t(a)] > p[size_t(b)]; });
    const int shown = std::min<int>(5, int(order.size()));
    auto *bars = new QCPBars(column.bars->yAxis, column.bars->xAxis);
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    QVector<double> keys, values;
    for (int i = 0; i < shown; ++i) {
        const int c = order[size_t(i)];
        keys << double(shown - i); // the most likely on top
        values << double(p[size_t(c)]);
        ticker->addTick(double(shown - i), classText(names, c));
    }
    bars->setData(keys, values);
    bars->setWidth(0.7);
    bars->setBrush(QColor(70, 120, 190));
    bars->setPen(Qt::NoPen);
    column.bars->yAxis->setTicker(ticker);
    column.bars->yAxis->setRange(0.4, shown + 0.6);
    column.bars->replot();
}

// A version's refusal in the window's terms: an int8 variant with a gradient method is pointed
// at the method picker, not at the CLI's --method.
QString TryPanel::refusal(const QJsonObject &e) const
{
    if (e.value(QStringLiteral("gradients")).toBool(true))
        return e.value(QStringLiteral("error")).toString();
    return tr("%1 has no gradients for its input (an int8 variant's quantized ops have none), so "
              "%2 cannot run on it. Choose Occlusion in the method picker: it needs only "
              "forward passes.")
        .arg(e.value(QStringLiteral("version")).toString(), m_method->currentText());
}

void TryPanel::redrawMaps()
{
    const double opacity = m_opacity->value() / 100.0;
    for (Column &c : m_columns) {
        if (c.attributions.empty())
            continue;
        const QImage image =
            attributionImage(m_shownValues, c.attributions, m_shownShape, opacity, kMapScale);
        c.image->setPixmap(QPixmap::fromImage(image));
    }
}

QString TryPanel::statusText() const
{
    return m_status->text();
}

QString TryPanel::columnHeadline(int column) const
{
    return column >= 0 && column < kColumns ? m_columns[column].headline->text() : QString();
}

bool TryPanel::columnHasMap(int column) const
{
    return column >= 0 && column < kColumns && !m_columns[column].image->pixmap().isNull();
}

void TryPanel::dragEnterEvent(QDragEnterEvent *event)
{
    if (event->mimeData()->hasUrls())
        event->acceptProposedAction();
}

void TryPanel::dropEvent(QDropEvent *event)
{
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.isEmpty() || !urls.first().isLocalFile())
        return;
    event->acceptProposedAction();
    openImage(urls.first().toLocalFile());
}

} // namespace ms::ui
