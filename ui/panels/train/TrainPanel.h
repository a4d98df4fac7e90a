#pragma once

#include "common/StatusLine.h"
#include "panels/train/DatasetProbe.h"
#include "shell/Panel.h"

#include "jobs/JobRunner.h"

#include <QElapsedTimer>
#include <QPointer>

#include <optional>

class QAbstractButton;
class QAction;
class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QSplitter;

namespace ms::ui {

class MetricPlot;
class ModelSummaryView;
class TrainCharts;
class TrainForm;

// Configure a training run, start / pause / stop it and watch it live: loss per step, accuracy
// per epoch, progress with ETA and the job's log. The run is an ms::TrainJob on the window's
// shared JobRunner; this panel only observes it through the runner's signals.
class TrainPanel final : public Panel
{
    Q_OBJECT

public:
    // `workspace` is the folder runs are written under (ms::Workspace).
    TrainPanel(ms::JobRunner *runner, QString workspace, QWidget *parent = nullptr);
    ~TrainPanel() override;

    QString id() const override { return QStringLiteral("train"); }
    QString title() const override { return tr("Train"); }
    QIcon icon() const override;
    QList<QAction *> jobActions() const override;
    void saveState(QSettings &settings) const override;
    void restoreState(QSettings &settings) override;

    void start();
    void stop();
    void togglePause();

    bool isRunning() const { return m_jobId != 0; }
    // The result of the last run that ended, if any.
    std::optional<ms::JobResult> lastResult() const { return m_lastResult; }
    // The status line under the run controls ("Finished in 00:12 …", or the error in red).
    QString statusText() const { return m_status->statusText(); }
    // True while the status line shows an error (in red).
    bool statusIsError() const { return m_status->isError(); }

    TrainForm *form() const { return m_form; }
    ModelSummaryView *summaryView() const { return m_summary; }
    TrainCharts *charts() const { return m_charts; }
    MetricPlot *lossPlot() const;
    MetricPlot *accuracyPlot() const;
    QAbstractButton *startButton() const { return m_startButton; }
    QAbstractButton *pauseButton() const { return m_pauseButton; }
    QAbstractButton *stopButton() const { return m_stopButton; }
    QProgressBar *progressBar() const { return m_progress; }

    // Fills the form from a version's recipe (the job spec it was trained with) and shows the
    // run is ready to start; the caller shows the panel. False, with the reason in the status
    // line, when the recipe is not a training spec this studio can read.
    bool loadRecipe(const QJsonObject &recipe, const QString &fromRef);
    // Lists the registry's versions in the architecture picker ("start from cnn:3"); the
    // window calls it when versions come or go.
    void reloadVersions();

Q_SIGNALS:
    // The model summary (or its error) now matches the form's dataset and architecture.
    void summaryUpdated();
    // A run of this panel ended (finished, failed or stopped): the registry may hold a new
    // version.
    void runFinished();

private:
    QWidget *buildSetupSide();
    QWidget *buildPlotSide();
    void createActions();

    void onJobProgress(ms::JobId id, double fraction, const QString &text);
    void onJobMetrics(ms::JobId id, const ms::MetricBatch &points);
    void onJobEvent(ms::JobId id, const QJsonObject &event);
    void onJobLog(ms::JobId id, const QString &line);
    void onJobPaused(ms::JobId id, bool paused);
    void onJobFinished(ms::JobId id, const ms::JobResult &result);

    void refreshSummary();
    void showLanguageModelSummary();
    // What starting from `ref` means for the form's dataset; *fits false when the run would be
    // refused (shape, or classes without Replace head).
    QString versionSummary(const QString &ref, bool *fits) const;
    void onDatasetProbed(const QString &source, const DatasetProbe::Info &info);
    void updateControls();
    void appendLog(const QString &line);
    double activeSeconds() const;   // run time minus paused time

    QPointer<ms::JobRunner> m_runner;
    QString m_workspace;
    DatasetProbe *m_probe = nullptr;
    QString m_probedSource;
    std::optional<DatasetProbe::Info> m_datasetInfo;

    TrainForm *m_form = nullptr;
    ModelSummaryView *m_summary = nullptr;
    TrainCharts *m_charts = nullptr;
    QPlainTextEdit *m_log = nullptr;
    QSplitter *m_splitter = nullptr;
    QSplitter *m_plotSplitter = nullptr;

    QAction *m_startAction = nullptr;
    QAction *m_pauseAction = nullptr;
    QAction *m_stopAction = nullptr;
    QAbstractButton *m_startButton = nullptr;
    QAbstractButton *m_pauseButton = nullptr;
    QAbstractButton *m_stopButton = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_progressText = nullptr;
    StatusLine *m_status = nullptr;

    ms::JobId m_jobId = 0;
    bool m_paused = false;
    int m_processes = 1;   // of the running job: rank 0 here, the others modelstudio-cli
    bool m_stopping = false;
    QElapsedTimer m_clock;
    QElapsedTimer m_pauseClock;
    qint64 m_pausedTotal_ms = 0;
    std::optional<ms::JobResult> m_lastResult;
};

} // namespace ms::ui
