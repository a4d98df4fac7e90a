#pragma once

#include "train/TrainConfig.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QSpinBox;
class QTimer;
class QToolButton;

namespace ms::ui {

class ScientificSpinBox;

// The inputs of a training run: dataset, architecture and hyper-parameters, read out as a
// ms::TrainConfig. Knows nothing about jobs; the Train panel starts them.
class TrainForm final : public QWidget
{
    Q_OBJECT

public:
    explicit TrainForm(QWidget *parent = nullptr);

    ms::TrainConfig config() const;
    // Fields the form does not show (momentum, validation fraction, ...) are kept as given.
    void setConfig(const ms::TrainConfig &config);

    QString dataset() const;
    // A text dataset (fortunes): the run trains a language model (task "lm").
    bool isTextDataset() const;
    QString architecture() const;
    // The registered version the architecture picker starts from ("resnet18:1"), empty when
    // it shows an architecture.
    QString startFrom() const;
    // The versions the picker offers as "start from REF" after the architectures (the Train
    // panel lists the workspace's); the current choice is kept when still offered.
    void setVersions(const QStringList &refs);
    QCheckBox *replaceHeadCheck() const { return m_replaceHead; }
    QCheckBox *freezeBackboneCheck() const { return m_freezeBackbone; }
    // The compute threads of new runs (0: all cores), as Settings… chooses them.
    void setThreads(int threads);

    // The widgets, for tests and for panels that want to focus one.
    QComboBox *datasetCombo() const { return m_dataset; }
    QComboBox *architectureCombo() const { return m_arch; }
    QSpinBox *epochsSpin() const { return m_epochs; }
    QSpinBox *batchSizeSpin() const { return m_batchSize; }
    ScientificSpinBox *learningRateSpin() const { return m_lr; }
    QSpinBox *limitSpin() const { return m_limit; }
    QSpinBox *threadsSpin() const { return m_threads; }
    QSpinBox *processesSpin() const { return m_processes; }
    QComboBox *augmentCombo() const { return m_augment; }
    QComboBox *tokenizerCombo() const { return m_tokenizer; }
    QSpinBox *vocabularySpin() const { return m_vocabulary; }
    // Local worker processes of a data-parallel run (1: an ordinary run); not part of the
    // recipe: the same recipe trains the same model on any number of processes.
    int processes() const;

Q_SIGNALS:
    // Debounced: typing a path emits once the typing pauses.
    void datasetChanged(const QString &source);
    void architectureChanged(const QString &nameOrPath);
    // A text dataset's tokenizer or its vocabulary size changed.
    void tokenizerChanged();

private:
    void browseFolder();
    void browseCsv();
    void browseSpec();
    void setDatasetPath(const QString &path);
    int addVersionItem(const QString &ref);
    void updateFineTuneChecks();
    void updateTextFields();

    QComboBox *m_dataset = nullptr;
    QToolButton *m_datasetBrowse = nullptr;
    QComboBox *m_arch = nullptr;
    QToolButton *m_archBrowse = nullptr;
    QCheckBox *m_replaceHead = nullptr;
    QCheckBox *m_freezeBackbone = nullptr;
    QSpinBox *m_epochs = nullptr;
    QSpinBox *m_batchSize = nullptr;
    ScientificSpinBox *m_lr = nullptr;
    QComboBox *m_optimizer = nullptr;
    QComboBox *m_schedule = nullptr;
    QSpinBox *m_seed = nullptr;
    QSpinBox *m_limit = nullptr;
    QSpinBox *m_threads = nullptr;
    QSpinBox *m_processes = nullptr;
    QComboBox *m_augment = nullptr;
    QComboBox *m_tokenizer = nullptr;
    QSpinBox *m_vocabulary = nullptr;
    QLabel *m_tokenizerLabel = nullptr;
    QLabel *m_vocabularyLabel = nullptr;
    QTimer *m_datasetDebounce = nullptr;
    ms::TrainConfig m_base;   // carries the fields the form does not show
};

} // namespace ms::ui
