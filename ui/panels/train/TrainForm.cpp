#include "panels/train/TrainForm.h"

#include "common/ScientificSpinBox.h"

#include "common/Runtime.h"
#include "data/DatasetRegistry.h"
#include "data/TextDataset.h"
#include "data/Tokenizer.h"
#include "models/ArchitectureRegistry.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QSpinBox>
#include <QTimer>
#include <QToolButton>

#include <climits>

namespace ms::ui {

namespace {

// Long enough to let someone finish typing a path, short enough to feel immediate.
constexpr int kDatasetDebounce_ms = 350;

// The architecture picker's items that start from a registered version hold its ref here
// (their Qt::UserRole data, the architecture, stays empty).
constexpr int kFromRole = Qt::UserRole + 1;

QLabel *buddyLabel(const QString &text, QWidget *buddy)
{
    auto *label = new QLabel(text, buddy->parentWidget());
    label->setBuddy(buddy);
    return label;
}

} // namespace

TrainForm::TrainForm(QWidget *parent)
    : QWidget(parent)
    , m_dataset(new QComboBox(this))
    , m_datasetBrowse(new QToolButton(this))
    , m_arch(new QComboBox(this))
    , m_archBrowse(new QToolButton(this))
    , m_replaceHead(new QCheckBox(tr("Replace head"), this))
    , m_freezeBackbone(new QCheckBox(tr("Freeze backbone"), this))
    , m_epochs(new QSpinBox(this))
    , m_batchSize(new QSpinBox(this))
    , m_lr(new ScientificSpinBox(this))
    , m_optimizer(new QComboBox(this))
    , m_schedule(new QComboBox(this))
    , m_seed(new QSpinBox(this))
    , m_limit(new QSpinBox(this))
    , m_threads(new QSpinBox(this))
    , m_processes(new QSpinBox(this))
    , m_augment(new QComboBox(this))
    , m_tokenizer(new QComboBox(this))
    , m_vocabulary(new QSpinBox(this))
    , m_datasetDebounce(new QTimer(this))
{
    m_dataset->setEditable(true);
    m_dataset->setInsertPolicy(QComboBox::NoInsert);
    m_dataset->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_dataset->setMinimumContentsLength(12);
    for (const auto &builtin : ms::DatasetRegistry::instance().builtins().all()) {
        m_dataset->addItem(builtin->name());
        m_dataset->setItemData(m_dataset->count() - 1, builtin->info().description,
                               Qt::ToolTipRole);
    }
    for (const auto &builtin : ms::TextDatasetRegistry::instance().builtins().all()) {
        m_dataset->addItem(builtin->name());
        m_dataset->setItemData(m_dataset->count() - 1, builtin->info().description,
                               Qt::ToolTipRole);
    }
    m_dataset->lineEdit()->setPlaceholderText(tr("built-in name, folder or CSV file"));
    m_dataset->setToolTip(tr("A built-in dataset, an IDX folder or a CSV file (last column is "
                             "the label)"));

    auto *browseMenu = new QMenu(m_datasetBrowse);
    browseMenu->addAction(tr("Folder…"), this, [this] { browseFolder(); });
    browseMenu->addAction(tr("CSV file…"), this, [this] { browseCsv(); });
    m_datasetBrowse->setText(tr("Browse…"));
    m_datasetBrowse->setMenu(browseMenu);
    m_datasetBrowse->setPopupMode(QToolButton::InstantPopup);
    m_datasetBrowse->setToolTip(tr("Train on a dataset folder or a CSV file"));

    m_arch->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_arch->setMinimumContentsLength(12);
    for (const auto &provider : ms::ArchitectureRegistry::instance().providers().all()) {
        m_arch->addItem(provider->name(), provider->name());
        m_arch->setItemData(m_arch->count() - 1, provider->description(), Qt::ToolTipRole);
    }
    m_replaceHead->setToolTip(tr("Starting from a version: re-initialise its classifier for "
                                 "the dataset's classes when their count differs from its "
                                 "outputs"));
    m_freezeBackbone->setToolTip(tr("Starting from a version: train only its classifier"));
    m_archBrowse->setText(tr("Spec…"));
    m_archBrowse->setToolTip(tr("Use an architecture spec JSON file"));
    connect(m_archBrowse, &QToolButton::clicked, this, [this] { browseSpec(); });

    m_epochs->setRange(1, 10000);
    m_epochs->setToolTip(tr("Passes over the training split"));
    m_batchSize->setRange(1, 65536);
    m_batchSize->setToolTip(tr("Samples per optimizer step"));
    m_lr->setToolTip(tr("Learning rate; type 3e-4 or use the arrows (1-2-5 steps)"));
    m_optimizer->addItems({QStringLiteral("adam"), QStringLiteral("adamw"),
                           QStringLiteral("sgd")});
    m_schedule->addItems({QStringLiteral("constant"), QStringLiteral("step"),
                          QStringLiteral("cosine")});
    m_schedule->setToolTip(tr("How the learning rate changes over the epochs"));
    m_seed->setRange(0, INT_MAX);
    m_seed->setToolTip(tr("Same seed, same data split and initial weights: same run"));
    m_limit->setRange(0, INT_MAX);
    m_limit->setSingleStep(1000);
    m_limit->setSpecialValueText(tr("all"));
    m_limit->setToolTip(tr("Train on at most this many samples (0 = all)"));
    m_threads->setRange(0, ms::Runtime::kMaxThreads);   // the cap train/compress/bench share
    m_threads->setSpecialValueText(tr("all cores"));
    m_threads->setToolTip(tr("CPU threads for training (0 = all cores)"));

    m_processes->setRange(1, 64);
    m_processes->setToolTip(tr("Worker processes on this computer, data-parallel: each trains "
                               "a share of every batch (the batch size stays the whole batch) "
                               "and rank 0's curves are shown"));
    m_augment->setEditable(true);
    m_augment->setInsertPolicy(QComboBox::NoInsert);
    m_augment->addItems({QStringLiteral("none"), QStringLiteral("hflip"),
                         QStringLiteral("hflip,shift:2")});
    m_augment->setToolTip(tr("Images: random changes to every training batch: hflip mirrors "
                             "half of them, shift:N moves them by up to N pixels; "
                             "comma-separated"));
    m_tokenizer->addItems(ms::Tokenizer::kinds());
    m_tokenizer->setToolTip(tr("Text datasets: byte reads UTF-8 bytes (256 symbols); spm-bpe "
                               "and spm-unigram train a SentencePiece vocabulary on the "
                               "training split first"));
    m_vocabulary->setRange(300, 65536);   // what TrainConfig accepts for a trained tokenizer
    m_vocabulary->setSingleStep(256);
    m_vocabulary->setToolTip(tr("The symbols a SentencePiece tokenizer learns (spm-bpe, "
                                "spm-unigram)"));
    connect(m_tokenizer, &QComboBox::currentTextChanged, this, [this] {
        updateTextFields();
        Q_EMIT tokenizerChanged();
    });
    connect(m_vocabulary, &QSpinBox::valueChanged, this, [this] { Q_EMIT tokenizerChanged(); });
    for (QSpinBox *spin : {m_epochs, m_batchSize, m_seed, m_limit, m_threads, m_processes,
                           m_vocabulary})
        spin->setAlignment(Qt::AlignRight);
    m_lr->setAlignment(Qt::AlignRight);

    auto *grid = new QGridLayout(this);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setHorizontalSpacing(8);
    grid->setVerticalSpacing(6);
    grid->setColumnStretch(1, 1);
    grid->setColumnStretch(3, 1);

    auto *datasetRow = new QHBoxLayout;
    datasetRow->setSpacing(4);
    datasetRow->addWidget(m_dataset, 1);
    datasetRow->addWidget(m_datasetBrowse);
    auto *archRow = new QHBoxLayout;
    archRow->setSpacing(4);
    archRow->addWidget(m_arch, 1);
    archRow->addWidget(m_archBrowse);
    // Same width for both buttons keeps the combos' right edges aligned; the extra room is for
    // the menu arrow, which some styles draw over the text.
    const int buttonWidth = std::max(m_datasetBrowse->sizeHint().width(),
                                     m_archBrowse->sizeHint().width()) + 12;
    m_datasetBrowse->setFixedWidth(buttonWidth);
    m_archBrowse->setFixedWidth(buttonWidth);

    grid->addWidget(buddyLabel(tr("&Dataset"), m_dataset), 0, 0);
    grid->addLayout(datasetRow, 0, 1, 1, 3);
    grid->addWidget(buddyLabel(tr("&Architecture"), m_arch), 1, 0);
    grid->addLayout(archRow, 1, 1, 1, 3);
    auto *fineTuneRow = new QHBoxLayout;
    fineTuneRow->setSpacing(12);
    fineTuneRow->addWidget(m_replaceHead);
    fineTuneRow->addWidget(m_freezeBackbone);
    fineTuneRow->addStretch(1);
    grid->addLayout(fineTuneRow, 2, 1, 1, 3);
    // Text datasets have a tokenizer and no version to fine-tune (that is refused for text):
    // the same row holds one or the other, so the form keeps its height.
    m_tokenizerLabel = buddyLabel(tr("To&kenizer"), m_tokenizer);
    m_vocabularyLabel = buddyLabel(tr("&Vocabulary"), m_vocabulary);
    grid->addWidget(m_tokenizerLabel, 2, 0);
    grid->addWidget(m_tokenizer, 2, 1);
    grid->addWidget(m_vocabularyLabel, 2, 2);
    grid->addWidget(m_vocabulary, 2, 3);
    grid->addWidget(buddyLabel(tr("&Epochs"), m_epochs), 3, 0);
    grid->addWidget(m_epochs, 3, 1);
    grid->addWidget(buddyLabel(tr("&Batch size"), m_batchSize), 3, 2);
    grid->addWidget(m_batchSize, 3, 3);
    grid->addWidget(buddyLabel(tr("&Learning rate"), m_lr), 4, 0);
    grid->addWidget(m_lr, 4, 1);
    grid->addWidget(buddyLabel(tr("&Optimizer"), m_optimizer), 4, 2);
    grid->addWidget(m_optimizer, 4, 3);
    grid->addWidget(buddyLabel(tr("LR sc&hedule"), m_schedule), 5, 0);
    grid->addWidget(m_schedule, 5, 1);
    grid->addWidget(buddyLabel(tr("&Seed"), m_seed), 5, 2);
    grid->addWidget(m_seed, 5, 3);
    grid->addWidget(buddyLabel(tr("Li&mit"), m_limit), 6, 0);
    grid->addWidget(m_limit, 6, 1);
    grid->addWidget(buddyLabel(tr("&Threads"), m_threads), 6, 2);
    grid->addWidget(m_threads, 6, 3);
    grid->addWidget(buddyLabel(tr("P&rocesses"), m_processes), 7, 0);
    grid->addWidget(m_processes, 7, 1);
    grid->addWidget(buddyLabel(tr("A&ugment"), m_augment), 7, 2);
    grid->addWidget(m_augment, 7, 3);

    setConfig(ms::TrainConfig{});

    m_datasetDebounce->setSingleShot(true);
    m_datasetDebounce->setInterval(kDatasetDebounce_ms);
    connect(m_datasetDebounce, &QTimer::timeout, this,
            [this] { Q_EMIT datasetChanged(dataset()); });
    connect(m_dataset, &QComboBox::currentTextChanged, this, [this] {
        updateTextFields();
        m_datasetDebounce->start();
    });
    connect(m_dataset, &QComboBox::activated, this, [this] {
        m_datasetDebounce->stop();
        // Text trains a language model: the one architecture that reads it is chosen with it.
        const int gpt = m_arch->findData(QStringLiteral("gpt"));
        if (isTextDataset() && gpt >= 0 && startFrom().isEmpty())
            m_arch->setCurrentIndex(gpt);
        Q_EMIT datasetChanged(dataset());
    });
    connect(m_arch, &QComboBox::currentIndexChanged, this, [this] {
        updateFineTuneChecks();
        Q_EMIT architectureChanged(architecture());
    });
    updateFineTuneChecks();
}

bool TrainForm::isTextDataset() const
{
    return ms::TextDatasetRegistry::instance().accepts(dataset());
}

QString TrainForm::startFrom() const
{
    return m_arch->currentData(kFromRole).toString();
}

int TrainForm::addVersionItem(const QString &ref)
{
    m_arch->addItem(tr("start from %1").arg(ref));
    const int index = m_arch->count() - 1;
    m_arch->setItemData(index, ref, kFromRole);
    m_arch->setItemData(index, tr("Fine-tune the registered version %1").arg(ref),
                        Qt::ToolTipRole);
    return index;
}

void TrainForm::setVersions(const QStringList &refs)
{
    const QString current = startFrom();
    const QSignalBlocker block(m_arch);
    for (int i = m_arch->count() - 1; i >= 0; --i) {
        if (!m_arch->itemData(i, kFromRole).toString().isEmpty())
            m_arch->removeItem(i);
    }
    int keep = -1;
    for (const QString &ref : refs) {
        const int index = addVersionItem(ref);
        if (ref == current)
            keep = index;
    }
    if (!current.isEmpty())
        m_arch->setCurrentIndex(keep >= 0 ? keep : addVersionItem(current));
    updateFineTuneChecks();
}

// The tokenizer belongs to text datasets, the vocabulary size to the tokenizers that learn one;
// the fine-tune checks to the rest (they share a row).
void TrainForm::updateTextFields()
{
    const bool text = isTextDataset();
    for (QWidget *field : {static_cast<QWidget *>(m_tokenizerLabel),
                           static_cast<QWidget *>(m_tokenizer),
                           static_cast<QWidget *>(m_vocabularyLabel),
                           static_cast<QWidget *>(m_vocabulary)})
        field->setVisible(text);
    m_replaceHead->setVisible(!text);
    m_freezeBackbone->setVisible(!text);
    m_tokenizer->setEnabled(text);
    m_vocabulary->setEnabled(text && ms::Tokenizer::isTrained(m_tokenizer->currentText()));
}

void TrainForm::updateFineTuneChecks()
{
    const bool fromVersion = !startFrom().isEmpty();
    m_replaceHead->setEnabled(fromVersion);
    m_freezeBackbone->setEnabled(fromVersion);
}

ms::TrainConfig TrainForm::config() const
{
    ms::TrainConfig config = m_base;
    config.dataset = dataset();
    config.arch = architecture();
    config.epochs = m_epochs->value();
    config.batchSize = m_batchSize->value();
    config.lr = m_lr->value();
    config.optimizer = m_optimizer->currentText();
    config.schedule = m_schedule->currentText();
    config.seed = quint64(m_seed->value());
    config.limit = m_limit->value();
    config.threads = m_threads->value();
    config.from = startFrom();
    config.replaceHead = !config.from.isEmpty() && m_replaceHead->isChecked();
    config.freezeBackbone = !config.from.isEmpty() && m_freezeBackbone->isChecked();
    const QString augment = m_augment->currentText().trimmed().toLower();
    config.augment = augment == QLatin1String("none") ? QString() : augment;
    if (isTextDataset()) {   // images and tables keep the recipe's (unused) defaults
        config.tokenizer = m_tokenizer->currentText();
        config.vocabSize = m_vocabulary->value();
    }
    // Text trains a language model, unless the architecture is the text classifier.
    config.task = isTextDataset() && config.arch != QLatin1String("text-classifier")
                      ? QStringLiteral("lm")
                      : QStringLiteral("classify");
    return config;
}

void TrainForm::setConfig(const ms::TrainConfig &config)
{
    m_base = config;
    if (m_dataset->findText(config.dataset) < 0 && !config.dataset.isEmpty())
        setDatasetPath(config.dataset);
    else
        m_dataset->setCurrentText(config.dataset);

    int archIndex = m_arch->findData(config.arch);
    if (archIndex < 0 && QFileInfo(config.arch).isFile()) {
        m_arch->addItem(QFileInfo(config.arch).fileName(), config.arch);
        archIndex = m_arch->count() - 1;
        m_arch->setItemData(archIndex, config.arch, Qt::ToolTipRole);
    }
    if (!config.from.isEmpty()) {
        // A recipe that fine-tuned a version (Re-run): start from it again.
        archIndex = m_arch->findData(config.from, kFromRole);
        if (archIndex < 0)
            archIndex = addVersionItem(config.from);
    }
    if (archIndex >= 0)
        m_arch->setCurrentIndex(archIndex);
    m_replaceHead->setChecked(config.replaceHead);
    m_freezeBackbone->setChecked(config.freezeBackbone);
    updateFineTuneChecks();

    m_epochs->setValue(config.epochs);
    m_batchSize->setValue(config.batchSize);
    m_lr->setValue(config.lr);
    m_optimizer->setCurrentText(config.optimizer);
    m_schedule->setCurrentText(config.schedule);
    m_seed->setValue(int(std::min<quint64>(config.seed, INT_MAX)));
    m_limit->setValue(int(std::min<qint64>(config.limit, INT_MAX)));
    m_threads->setValue(config.threads);
    m_augment->setCurrentText(config.augment.isEmpty() ? QStringLiteral("none") : config.augment);
    m_tokenizer->setCurrentText(config.tokenizer);
    m_vocabulary->setValue(config.vocabSize);
    updateTextFields();
}

QString TrainForm::dataset() const
{
    return m_dataset->currentText().trimmed();
}

QString TrainForm::architecture() const
{
    if (!startFrom().isEmpty())
        return m_base.arch;   // a version is the start; the recipe's arch stays as it was
    const QVariant data = m_arch->currentData();
    return data.isValid() ? data.toString() : m_arch->currentText();
}

int TrainForm::processes() const
{
    return m_processes->value();
}

void TrainForm::setThreads(int threads)
{
    m_threads->setValue(threads);
}

void TrainForm::browseFolder()
{
    const QString path = QFileDialog::getExistingDirectory(this, tr("Dataset folder"),
                                                           dataset());
    if (!path.isEmpty())
        setDatasetPath(path);
}

void TrainForm::browseCsv()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Dataset CSV file"), QFileInfo(dataset()).absolutePath(),
        tr("CSV files (*.csv *.tsv *.txt);;All files (*)"));
    if (!path.isEmpty())
        setDatasetPath(path);
}

void TrainForm::browseSpec()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Architecture spec"), QString(), tr("Spec files (*.json);;All files (*)"));
    if (path.isEmpty())
        return;
    int index = m_arch->findData(path);
    if (index < 0) {
        m_arch->addItem(QFileInfo(path).fileName(), path);
        index = m_arch->count() - 1;
        m_arch->setItemData(index, path, Qt::ToolTipRole);
    }
    m_arch->setCurrentIndex(index);
}

void TrainForm::setDatasetPath(const QString &path)
{
    // Paths join the list so switching back and forth between datasets is one click.
    if (m_dataset->findText(path) < 0)
        m_dataset->addItem(path);
    m_dataset->setCurrentText(path);
    m_datasetDebounce->stop();
    Q_EMIT datasetChanged(dataset());
}

} // namespace ms::ui
