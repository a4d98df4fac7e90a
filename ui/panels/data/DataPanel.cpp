#include "panels/data/DataPanel.h"

#include "common/Format.h"
#include "common/Icons.h"
#include "common/Widgets.h"
#include "panels/data/ClassHistogram.h"
#include "panels/data/CsvRowsModel.h"
#include "panels/data/DatasetPreviewJob.h"
#include "panels/data/SampleListModel.h"
#include "panels/data/TokenLengthHistogram.h"

#include "common/ShapeText.h"
#include "data/DatasetRegistry.h"
#include "data/TextDataset.h"

#include <QAction>
#include <QComboBox>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMimeData>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStandardItemModel>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

namespace ms::ui {

namespace {

// The dataset a drop carries: the first local file or folder that is not a model (.pt files
// dropped here travel on to the window, which imports them).
QString droppedDataset(const QMimeData *mime)
{
    if (!mime || !mime->hasUrls())
        return {};
    for (const QUrl &url : mime->urls()) {
        if (!url.isLocalFile())
            continue;
        const QString path = url.toLocalFile();
        if (QFileInfo(path).suffix().compare(QLatin1String("pt"), Qt::CaseInsensitive) != 0)
            return path;
    }
    return {};
}

constexpr int kThumbnailScale = 2;   // 28x28 -> 56x56: a garment is recognisable
constexpr int kCellWidth = 92;       // room for "T-shirt/top" and "Ankle boot" under a sample

} // namespace

DataPanel::DataPanel(ms::JobRunner *runner, QWidget *parent)
    : Panel(parent)
    , m_runner(runner)
{
    setAcceptDrops(true);

    m_source = new QComboBox(this);
    m_source->setEditable(true);
    m_source->setInsertPolicy(QComboBox::NoInsert);
    m_source->setMinimumContentsLength(28);
    m_source->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    QList<std::shared_ptr<ms::BuiltinDatasetProvider>> builtins =
        ms::DatasetRegistry::instance().builtins().all();
    builtins += ms::TextDatasetRegistry::instance().builtins().all();
    for (const auto &builtin : builtins) {
        m_source->addItem(builtin->name());
        m_source->setItemData(m_source->count() - 1, builtin->info().description,
                              Qt::ToolTipRole);
    }
    m_source->setToolTip(tr("A built-in dataset, an IDX folder, a CSV file or a text dataset "
                            "(a folder of .txt files per class, a CSV with a text column); "
                            "Enter reads it. You can also drop a file or folder onto the "
                            "panel."));
    connect(m_source, &QComboBox::activated, this,
            [this] { load(m_source->currentText()); });
    connect(m_source->lineEdit(), &QLineEdit::returnPressed, this,
            [this] { load(m_source->currentText()); });

    m_browseFolder = new QToolButton(this);
    m_browseFolder->setText(tr("Folder…"));
    m_browseFolder->setToolTip(tr("Read a folder of IDX files (the MNIST family)"));
    connect(m_browseFolder, &QToolButton::clicked, this, [this] { browseFolder(); });
    m_browseFile = new QToolButton(this);
    m_browseFile->setText(tr("File…"));
    m_browseFile->setToolTip(tr("Read a CSV file or one of a folder's IDX files"));
    connect(m_browseFile, &QToolButton::clicked, this, [this] { browseFile(); });

    m_labelColumn = new QLineEdit(this);
    m_labelColumn->setPlaceholderText(tr("auto"));
    m_labelColumn->setMaximumWidth(120);
    m_labelColumn->setToolTip(tr("CSV only: the label column, by header name or 0-based "
                                 "index (default: the column named label, target or class, "
                                 "else the last)"));
    connect(m_labelColumn, &QLineEdit::returnPressed, this,
            [this] { load(m_source->currentText()); });
    m_textColumn = new QLineEdit(this);
    m_textColumn->setPlaceholderText(tr("auto"));
    m_textColumn->setMaximumWidth(120);
    m_textColumn->setToolTip(tr("A CSV of text: the text column, by header name or 0-based "
                                "index (default: the column named text, else the one column "
                                "of text besides the label)"));
    connect(m_textColumn, &QLineEdit::returnPressed, this,
            [this] { load(m_source->currentText()); });

    auto *sourceRow = new QHBoxLayout;
    auto *datasetLabel = new QLabel(tr("&Dataset"), this);
    datasetLabel->setBuddy(m_source);
    sourceRow->addWidget(datasetLabel);
    sourceRow->addWidget(m_source, 1);
    sourceRow->addWidget(m_browseFolder);
    sourceRow->addWidget(m_browseFile);
    sourceRow->addSpacing(12);
    auto *labelLabel = new QLabel(tr("&Label column"), this);
    labelLabel->setBuddy(m_labelColumn);
    sourceRow->addWidget(labelLabel);
    sourceRow->addWidget(m_labelColumn);
    auto *textLabel = new QLabel(tr("&Text column"), this);
    textLabel->setBuddy(m_textColumn);
    sourceRow->addWidget(textLabel);
    sourceRow->addWidget(m_textColumn);

    m_summary = new QLabel(this);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_summary->setWordWrap(true);

    // Samples: a grid of thumbnails for images, the file's first rows for a table.
    m_split = new QComboBox(this);
    m_split->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    connect(m_split, &QComboBox::currentIndexChanged, this, [this] { updateSamples(); });
    m_samplesTitle = sectionTitle(tr("Samples"), this);
    auto *samplesHeader = new QHBoxLayout;
    samplesHeader->addWidget(m_samplesTitle);
    samplesHeader->addStretch(1);
    samplesHeader->addWidget(m_split);

    m_samples = new SampleListModel(this);
    m_samples->setScale(kThumbnailScale);
    m_sampleView = new QListView(this);
    m_sampleView->setViewMode(QListView::IconMode);
    m_sampleView->setResizeMode(QListView::Adjust);
    m_sampleView->setMovement(QListView::Static);
    m_sampleView->setUniformItemSizes(true);
    m_sampleView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_samples->setDecorationWidth(kCellWidth - 8);
    m_sampleView->setIconSize(QSize(kCellWidth - 8, 28 * kThumbnailScale));
    m_sampleView->setGridSize(QSize(kCellWidth, 28 * kThumbnailScale + 26));
    m_sampleView->setSpacing(2);
    m_sampleView->setTextElideMode(Qt::ElideRight);
    m_sampleView->setModel(m_samples);

    m_csv = new CsvRowsModel(this);
    m_csvView = new QTableView(this);
    m_csvView->setModel(m_csv);
    m_csvView->setAlternatingRowColors(true);
    m_csvView->setWordWrap(false);
    m_csvView->verticalHeader()->setDefaultSectionSize(m_csvView->fontMetrics().height() + 6);
    m_csvView->horizontalHeader()->setHighlightSections(false);

    // Text records: one row each, the class, the length in tokens and the text on one line
    // (line breaks shown as ⏎; the tooltip has the record as it is).
    m_texts = new QStandardItemModel(this);
    m_textView = new QTableView(this);
    m_textView->setModel(m_texts);
    m_textView->setAlternatingRowColors(true);
    m_textView->setWordWrap(false);
    m_textView->setTextElideMode(Qt::ElideRight);
    m_textView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_textView->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_textView->verticalHeader()->setVisible(false);
    m_textView->verticalHeader()->setDefaultSectionSize(m_textView->fontMetrics().height() + 6);
    m_textView->horizontalHeader()->setStretchLastSection(true);
    m_textView->horizontalHeader()->setHighlightSections(false);

    m_sampleStack = new QStackedWidget(this);
    m_sampleStack->addWidget(m_sampleView);
    m_sampleStack->addWidget(m_csvView);
    m_sampleStack->addWidget(m_textView);

    auto *samplesSide = new QWidget(this);
    auto *samplesLayout = new QVBoxLayout(samplesSide);
    samplesLayout->setContentsMargins(0, 0, 0, 0);
    samplesLayout->addLayout(samplesHeader);
    samplesLayout->addWidget(m_sampleStack, 1);

    m_histogram = new ClassHistogram(this);
    auto *histogramSide = new QWidget(this);
    auto *histogramLayout = new QVBoxLayout(histogramSide);
    histogramLayout->setContentsMargins(0, 0, 0, 0);
    histogramLayout->addWidget(sectionTitle(tr("Samples per class"), histogramSide));
    histogramLayout->addWidget(m_histogram, 3);
    m_lengths = new TokenLengthHistogram(this);
    m_lengthsSide = new QWidget(histogramSide);
    auto *lengthsLayout = new QVBoxLayout(m_lengthsSide);
    lengthsLayout->setContentsMargins(0, 0, 0, 0);
    lengthsLayout->addWidget(sectionTitle(tr("Record lengths"), m_lengthsSide));
    lengthsLayout->addWidget(m_lengths, 1);
    m_lengthsSide->setVisible(false);
    histogramLayout->addWidget(m_lengthsSide, 2);

    m_splitter = new QSplitter(Qt::Horizontal, this);
    m_splitter->setChildrenCollapsible(false);
    m_splitter->addWidget(samplesSide);
    m_splitter->addWidget(histogramSide);
    m_splitter->setStretchFactor(0, 1);
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setSizes({600, 560});

    m_status = new StatusLine(this);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    layout->addLayout(sourceRow);
    layout->addWidget(m_summary);
    layout->addWidget(m_splitter, 1);
    layout->addWidget(m_status);

    // Panel-local shortcuts: F5 reads the dataset again (the files may have changed), Ctrl+L
    // goes to the dataset field.
    auto *reloadAction = new QAction(tr("Read Again"), this);
    reloadAction->setShortcut(QKeySequence::Refresh);
    reloadAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(reloadAction, &QAction::triggered, this, [this] { load(source()); });
    auto *focusAction = new QAction(tr("Dataset"), this);
    focusAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    focusAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(focusAction, &QAction::triggered, this, [this] {
        m_source->setFocus();
        m_source->lineEdit()->selectAll();
    });
    addActions({reloadAction, focusAction});

    connect(m_runner, &ms::JobRunner::finished, this, &DataPanel::onJobFinished);
    m_status->setStatus(
        tr("Choose a dataset to look at its samples and classes, or drop a file here."));
}

QIcon DataPanel::icon() const
{
    return dataIcon(palette().color(QPalette::WindowText));
}

QString DataPanel::source() const
{
    return m_source->currentText().trimmed();
}

void DataPanel::load(const QString &source)
{
    const QString trimmed = source.trimmed();
    if (m_source->currentText() != trimmed)
        m_source->setCurrentText(trimmed);
    m_loadedOnce = true;
    if (trimmed.isEmpty()) {
        m_status->setStatus(tr("Choose a dataset: a built-in name, an IDX folder or a CSV file."),
                            Tone::Error);
        Q_EMIT loaded(false);
        return;
    }
    if (m_jobId != 0) {
        m_pending = trimmed;   // read next; only the latest request matters
        return;
    }
    ms::DatasetOptions options;
    options.source = trimmed;
    options.labelColumn = m_labelColumn->text().trimmed();
    options.textColumn = m_textColumn->text().trimmed();
    m_slot = std::make_shared<DatasetPreview>();
    m_loading = trimmed;
    m_jobId = m_runner->start(std::make_unique<DatasetPreviewJob>(
        options, kSamplesPerSplit, kCsvRows, m_slot));
    m_status->setStatus(tr("Reading %1…").arg(QDir::toNativeSeparators(trimmed)), Tone::Busy);
}

void DataPanel::onJobFinished(ms::JobId id, const ms::JobResult &result)
{
    if (id != m_jobId)
        return;
    m_jobId = 0;
    const bool ok = result.status == ms::JobStatus::Finished;
    if (ok) {
        m_preview = std::move(*m_slot);
        applyPreview();
    } else {
        // The last good preview stays visible under the error, so a typo loses nothing.
        m_status->setStatus(result.message.isEmpty()
                                ? tr("Reading %1 stopped.").arg(m_loading)
                                : tr("Cannot read %1: %2").arg(
                                      QDir::toNativeSeparators(m_loading), result.message),
                            Tone::Error);
    }
    m_slot.reset();
    if (!m_pending.isEmpty()) {
        const QString next = m_pending;
        m_pending.clear();
        if (next != m_loading || !ok) {
            load(next);
        }
    }
    Q_EMIT loaded(ok);
}

void DataPanel::applyPreview()
{
    const DatasetPreview &p = m_preview;
    m_lengthsSide->setVisible(p.isText());
    if (p.isText()) {
        applyTextPreview();
        return;
    }
    QStringList sizes;
    for (const DatasetPreview::Split &split : p.splits)
        sizes << tr("%1 %2").arg(split.name, formatCount(split.count));
    m_summary->setText(tr("<b>%1</b> · %2 · samples of %3 · %4 classes · %5")
                           .arg(p.name.toHtmlEscaped(), p.readerName.toHtmlEscaped(),
                                shapeText(p.sampleShape, ShapeStyle::Window),
                                QString::number(p.classNames.size()),
                                sizes.join(QStringLiteral(" · ")).toHtmlEscaped()));
    m_summary->setToolTip(QDir::toNativeSeparators(p.source));

    QVector<ClassHistogram::Split> histogram;
    for (const DatasetPreview::Split &split : p.splits)
        histogram.append({split.name, split.classCounts});
    m_histogram->setData(p.classNames, histogram);

    const QString previous = m_split->currentData().toString();
    m_split->blockSignals(true);
    m_split->clear();
    for (const DatasetPreview::Split &split : p.splits) {
        if (split.count > 0)
            m_split->addItem(tr("%1 split").arg(split.name), split.name);
    }
    const int keep = m_split->findData(previous);
    m_split->setCurrentIndex(keep >= 0 ? keep : 0);
    m_split->blockSignals(false);

    if (p.isImage()) {
        m_sampleStack->setCurrentWidget(m_sampleView);
        m_split->setVisible(true);
        const int side = int(qMax<qint64>(p.sampleShape[1], p.sampleShape[2]));
        // Small images are enlarged, large ones shrunk, so the grid keeps about 56 px cells.
        const int scale = qMax(1, 56 / qMax(1, side));
        m_samples->setScale(scale);
        const int cell = qMin(side * scale, 96);
        m_samples->setMaxSide(cell);   // larger images shrink into the cell, above their label
        m_sampleView->setIconSize(QSize(qMax(cell, kCellWidth - 8), cell));
        m_sampleView->setGridSize(QSize(qMax(cell + 24, kCellWidth), cell + 26));
        m_csv->clear();
    } else {
        m_sampleStack->setCurrentWidget(m_csvView);
        m_split->setVisible(false);
        m_samples->clear();
        m_csv->setRows(p.csvRows, m_labelColumn->text().trimmed());
        m_csvView->resizeColumnsToContents();
    }
    updateSamples();
    m_status->setStatus(p.isImage()
                            ? tr("Split as a training run with seed 0 and a 10 % validation "
                                 "share splits it. Hover a sample for its label index.")
                            : tr("The first %1 rows of the file; the label column is bold. "
                                 "Split as a training run with seed 0 and a 10 % validation "
                                 "share splits it.")
                                  .arg(m_csv->rowCount()));
}

// A text dataset: its records in a list, the class histogram and the record lengths.
void DataPanel::applyTextPreview()
{
    const DatasetPreview &p = m_preview;
    QStringList sizes;
    for (const DatasetPreview::Split &split : p.splits)
        sizes << tr("%1 %2").arg(split.name, formatCount(split.count));
    m_summary->setText(tr("<b>%1</b> · %2 · text · %3 classes · %4 · %5 tokenizer: median %6, "
                          "longest %7 tokens per record")
                           .arg(p.name.toHtmlEscaped(), p.readerName.toHtmlEscaped(),
                                QString::number(p.classNames.size()),
                                sizes.join(QStringLiteral(" · ")).toHtmlEscaped(),
                                p.tokenizer.toHtmlEscaped(), formatCount(p.medianTokens),
                                formatCount(p.longestTokens)));
    m_summary->setToolTip(QDir::toNativeSeparators(p.source));
    QVector<ClassHistogram::Split> histogram;
    for (const DatasetPreview::Split &split : p.splits)
        histogram.append({split.name, split.classCounts});
    m_histogram->setData(p.classNames, histogram);
    m_lengths->setData(p.lengthEdges, p.lengthCounts, p.tokenizer, p.lengthOverflow);

    const QString previous = m_split->currentData().toString();
    m_split->blockSignals(true);
    m_split->clear();
    for (const DatasetPreview::Split &split : p.splits) {
        if (split.count > 0)
            m_split->addItem(tr("%1 split").arg(split.name), split.name);
    }
    const int keep = m_split->findData(previous);
    m_split->setCurrentIndex(keep >= 0 ? keep : 0);
    m_split->blockSignals(false);
    m_split->setVisible(true);
    m_sampleStack->setCurrentWidget(m_textView);
    m_samples->clear();
    m_csv->clear();
    updateSamples();
    m_status->setStatus(tr("Text records, split by the fixed rule (record %1 10 == 9 is "
                           "validation). Lengths are counted in %2 tokens; hover a record for "
                           "all of it.")
                            .arg(QStringLiteral("%"), p.tokenizer));
}

void DataPanel::updateTexts(const DatasetPreview::Split &split)
{
    m_texts->clear();
    m_texts->setHorizontalHeaderLabels({tr("Class"), tr("Tokens"), tr("Text")});
    for (int i = 0; i < split.texts.size(); ++i) {
        const qint64 label = split.labels[size_t(i)];
        const QString name = label >= 0 && label < m_preview.classNames.size()
                                 ? m_preview.classNames.at(int(label))
                                 : QString::number(label);
        auto *classItem = new QStandardItem(name);
        classItem->setToolTip(name);
        auto *tokens = new QStandardItem(formatCount(split.tokenCounts[size_t(i)]));
        tokens->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        QString line = split.texts.at(i);
        line.replace(QLatin1Char('\n'), QStringLiteral(" \u23ce ")).replace(QLatin1Char('\t'), QLatin1Char(' '));
        auto *text = new QStandardItem(line);
        text->setToolTip(split.texts.at(i).toHtmlEscaped().replace(QLatin1Char('\n'),
                                                                   QStringLiteral("<br>")));
        m_texts->appendRow({classItem, tokens, text});
    }
    m_textView->resizeColumnToContents(0);
    m_textView->resizeColumnToContents(1);
    // A long class name is elided rather than pushing the text out of view.
    m_textView->setColumnWidth(0, qMin(m_textView->columnWidth(0),
                                       m_textView->fontMetrics().averageCharWidth() * 18));
    m_samplesTitle->setText(tr("Records: %1 of %2, evenly spaced")
                                .arg(split.texts.size())
                                .arg(formatCount(split.count)));
}

void DataPanel::updateSamples()
{
    const QString splitName = m_split->currentData().toString();
    for (const DatasetPreview::Split &split : std::as_const(m_preview.splits)) {
        if (split.name != splitName)
            continue;
        if (m_preview.isImage()) {
            m_samples->setSamples(split.features, split.labels, m_preview.sampleShape,
                                  m_preview.classNames);
        }
        if (m_preview.isText()) {
            updateTexts(split);
            return;
        }
        m_samplesTitle->setText(
            m_preview.isImage()
                ? tr("Samples: the first %1 of %2").arg(split.labels.size())
                      .arg(formatCount(split.count))
                : tr("Rows"));
        return;
    }
    if (!m_preview.isImage())
        m_samplesTitle->setText(tr("Rows"));
}

void DataPanel::showSplit(const QString &split)
{
    const int index = m_split->findData(split);
    if (index >= 0)
        m_split->setCurrentIndex(index);
}

void DataPanel::browseFolder()
{
    const QString path =
        QFileDialog::getExistingDirectory(this, tr("Dataset folder"), source());
    if (!path.isEmpty())
        load(path);
}

void DataPanel::browseFile()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Dataset file"), QFileInfo(source()).absolutePath(),
        tr("Datasets (*.csv *.tsv *.txt *-ubyte *-ubyte.gz);;All files (*)"));
    if (!path.isEmpty())
        load(path);
}

void DataPanel::showEvent(QShowEvent *event)
{
    Panel::showEvent(event);
    // Read lazily: Fashion-MNIST costs seconds and 200 MB while reading, worth it only when the
    // panel is actually looked at.
    if (!m_loadedOnce)
        load(m_source->currentText());
}

void DataPanel::dragEnterEvent(QDragEnterEvent *event)
{
    if (!droppedDataset(event->mimeData()).isEmpty())
        event->acceptProposedAction();
    else
        event->ignore();   // a .pt goes on to the window
}

void DataPanel::dropEvent(QDropEvent *event)
{
    const QString path = droppedDataset(event->mimeData());
    if (path.isEmpty()) {
        event->ignore();
        return;
    }
    event->acceptProposedAction();
    load(path);
}

void DataPanel::saveState(QSettings &settings) const
{
    settings.setValue(QStringLiteral("splitter"), m_splitter->saveState());
    settings.setValue(QStringLiteral("source"), source());
    settings.setValue(QStringLiteral("labelColumn"), m_labelColumn->text());
    settings.setValue(QStringLiteral("textColumn"), m_textColumn->text());
}

void DataPanel::restoreState(QSettings &settings)
{
    m_splitter->restoreState(settings.value(QStringLiteral("splitter")).toByteArray());
    const QString saved = settings.value(QStringLiteral("source")).toString();
    if (!saved.isEmpty() && !m_loadedOnce)
        m_source->setCurrentText(saved);
    m_labelColumn->setText(settings.value(QStringLiteral("labelColumn")).toString());
    m_textColumn->setText(settings.value(QStringLiteral("textColumn")).toString());
}

} // namespace ms::ui
