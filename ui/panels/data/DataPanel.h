#pragma once

#include "common/StatusLine.h"
#include "panels/data/DatasetPreview.h"
#include "shell/Panel.h"

#include "jobs/JobRunner.h"

#include <memory>

class QComboBox;
class QLabel;
class QLineEdit;
class QListView;
class QSplitter;
class QStackedWidget;
class QStandardItemModel;
class QTableView;
class QToolButton;

namespace ms::ui {

class ClassHistogram;
class CsvRowsModel;
class SampleListModel;
class TokenLengthHistogram;

// A look at a dataset before training on it: a built-in or a file/folder dataset (chosen,
// browsed or dropped onto the panel) is read as a Job on the window's JobRunner, never on the
// GUI thread, and split as a training run with default options would split it. Shows a grid of
// sample images with their labels (or the first rows of a CSV), the class histogram of every
// split, the split sizes and the sample shape; an unreadable file shows why, in the panel.
// A text dataset (fortunes, a folder of .txt files per class, a CSV with a text column) shows
// its records with their class and length in tokens, the class histogram and the histogram of
// record lengths in the byte tokenizer's tokens.
class DataPanel final : public Panel
{
    Q_OBJECT

public:
    static constexpr int kSamplesPerSplit = 120;
    static constexpr int kCsvRows = 200;

    explicit DataPanel(ms::JobRunner *runner, QWidget *parent = nullptr);

    QString id() const override { return QStringLiteral("data"); }
    QString title() const override { return tr("Data"); }
    QIcon icon() const override;
    void saveState(QSettings &settings) const override;
    void restoreState(QSettings &settings) override;

    // Reads `source` (a built-in name, an IDX folder or file, a CSV file) on a worker; emits
    // loaded() when done. A request while a read runs is read next (only the latest one).
    void load(const QString &source);
    QString source() const;
    // The preview shown, empty before the first successful read.
    const DatasetPreview &preview() const { return m_preview; }
    // The split whose samples show ("train", "validation", "test").
    void showSplit(const QString &split);

    QString statusText() const { return m_status->statusText(); }
    bool statusIsError() const { return m_status->isError(); }

    SampleListModel *sampleModel() const { return m_samples; }
    CsvRowsModel *csvModel() const { return m_csv; }
    ClassHistogram *histogram() const { return m_histogram; }
    QListView *sampleView() const { return m_sampleView; }
    QTableView *csvView() const { return m_csvView; }
    // A text dataset's records of the chosen split: class, tokens, text.
    QStandardItemModel *textModel() const { return m_texts; }
    QTableView *textView() const { return m_textView; }
    TokenLengthHistogram *lengthHistogram() const { return m_lengths; }

Q_SIGNALS:
    // A read ended; `ok` false when it failed (statusText() says why).
    void loaded(bool ok);

protected:
    void showEvent(QShowEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void onJobFinished(ms::JobId id, const ms::JobResult &result);
    void applyPreview();
    void applyTextPreview();
    void updateTexts(const DatasetPreview::Split &split);
    void updateSamples();
    void browseFolder();
    void browseFile();

    ms::JobRunner *m_runner = nullptr;
    ms::JobId m_jobId = 0;
    QString m_loading;                          // the source being read
    QString m_pending;                          // asked for while reading
    std::shared_ptr<DatasetPreview> m_slot;     // the running job writes here
    DatasetPreview m_preview;
    bool m_loadedOnce = false;

    QComboBox *m_source = nullptr;
    QToolButton *m_browseFolder = nullptr;
    QToolButton *m_browseFile = nullptr;
    QLineEdit *m_labelColumn = nullptr;
    QLineEdit *m_textColumn = nullptr;
    QLabel *m_summary = nullptr;
    QComboBox *m_split = nullptr;
    QLabel *m_samplesTitle = nullptr;
    QStackedWidget *m_sampleStack = nullptr;
    SampleListModel *m_samples = nullptr;
    QListView *m_sampleView = nullptr;
    CsvRowsModel *m_csv = nullptr;
    QTableView *m_csvView = nullptr;
    QStandardItemModel *m_texts = nullptr;
    QTableView *m_textView = nullptr;
    TokenLengthHistogram *m_lengths = nullptr;
    QWidget *m_lengthsSide = nullptr;
    ClassHistogram *m_histogram = nullptr;
    QSplitter *m_splitter = nullptr;
    StatusLine *m_status = nullptr;
};

} // namespace ms::ui
