#pragma once

#include "common/StatusLine.h"
#include "shell/Panel.h"

#include "jobs/JobRunner.h"
#include "optimize/SweepSpec.h"

#include <QPointer>

#include <optional>

class QAbstractButton;
class QComboBox;
class QLabel;
class QProgressBar;
class QSplitter;
class QTabWidget;
class QTableView;
class QTimer;

namespace ms::ui {

class HistoryPlot;
class ImportancePlot;
class IntermediatePlot;
class ParallelCoordinates;
class ParetoPlot;
class TrialFilterProxy;
class TrialTableModel;

// Hyperparameter search in the window: open a sweep file (checked by ms::SweepSpec before
// anything starts), start / pause / stop it as an ms::SweepJob on the window's JobRunner (the
// trials are child processes of modelstudio-cli, found next to the studio's executable), and
// watch its trials live: a table, the optimization history and a parallel-coordinates plot
// whose brushes filter the table. Past sweeps of the workspace are in a combo, finished or
// interrupted ones with their trials; a stopped or interrupted sweep resumes; a trial becomes a
// version with Register.
//
// The panel reads the registry for what it shows (sweeps, sweep_trials) and re-reads it on the
// job's "sweep", "trial" and "trial_epoch" events, so a sweep looks the same live and later. A
// sweep another process runs (`modelstudio-cli sweep`) is followed by re-reading it every two
// seconds while it shows as running; the combo is re-read whenever the panel is shown.
class OptimizePanel final : public Panel
{
    Q_OBJECT

public:
    OptimizePanel(ms::JobRunner *runner, QString workspace, QWidget *parent = nullptr);
    ~OptimizePanel() override;

    QString id() const override { return QStringLiteral("optimize"); }
    QString title() const override { return tr("Optimize"); }
    QIcon icon() const override;
    QList<QAction *> jobActions() const override;
    void saveState(QSettings &settings) const override;
    void restoreState(QSettings &settings) override;

    // Reads and checks a sweep file; false, with the reason in the status line, when it is not
    // one (nothing starts, a file opened before stays the one Start runs).
    bool openSweepFile(const QString &path);
    // Makes `spec` (checked, from the New sweep form) the one Start runs.
    void useSpec(const ms::SweepSpec &spec);
    void start();
    void stop();
    void togglePause();
    // Continues the sweep shown in the combo (stopped or interrupted), without repeating its
    // finished trials.
    void resumeShown();
    // Makes the selected trial a version; false with the reason in the status line.
    bool registerSelected();
    // Asks for the selected trial's run to be shown with its curves (curvesRequested); false
    // when no trial with a run is selected.
    bool showSelectedCurves();

    // Lists the workspace's sweeps in the combo, keeping the one shown.
    void reloadSweeps();
    // Shows sweep `sweepId` (its trials in the table and plots); false when there is none.
    bool showSweep(qint64 sweepId);
    qint64 shownSweep() const { return m_shownSweep; }

    // The modelstudio-cli the trials run (default: beside this executable).
    QString cliPath() const { return m_cli; }
    void setCliPath(const QString &path) { m_cli = path; }

    bool isRunning() const { return m_jobId != 0; }
    std::optional<ms::JobResult> lastResult() const { return m_lastResult; }
    QString statusText() const { return m_status->statusText(); }
    bool statusIsError() const { return m_status->isError(); }

    TrialTableModel *trialModel() const { return m_model; }
    TrialFilterProxy *trialProxy() const { return m_proxy; }
    QTableView *trialView() const { return m_table; }
    HistoryPlot *historyPlot() const { return m_history; }
    ImportancePlot *importancePlot() const { return m_importance; }
    IntermediatePlot *intermediatePlot() const { return m_intermediate; }
    ParetoPlot *paretoPlot() const { return m_pareto; }
    ParallelCoordinates *parallelPlot() const { return m_parallel; }
    QComboBox *sweepCombo() const { return m_sweeps; }
    QAbstractButton *openButton() const { return m_openButton; }
    QAbstractButton *newButton() const { return m_newButton; }
    QAbstractButton *startButton() const { return m_startButton; }
    QAbstractButton *pauseButton() const { return m_pauseButton; }
    QAbstractButton *stopButton() const { return m_stopButton; }
    QAbstractButton *resumeButton() const { return m_resumeButton; }
    QAbstractButton *registerButton() const { return m_registerButton; }
    QAbstractButton *curvesButton() const { return m_curvesButton; }

protected:
    void showEvent(QShowEvent *event) override;

Q_SIGNALS:
    // The registry may hold a new version (a sweep registered its best trial, or Register).
    void versionsChanged();
    // A trial's run, to be shown with its curves (the window opens it in the Compare panel).
    void curvesRequested(qint64 runId);

private:
    void createActions();
    QWidget *buildControls();
    QWidget *buildTrialSide();
    void startJob(std::unique_ptr<ms::Job> job, const QString &what);

    void onJobProgress(ms::JobId id, double fraction, const QString &text);
    void onJobEvent(ms::JobId id, const QJsonObject &event);
    void onJobPaused(ms::JobId id, bool paused);
    void onJobFinished(ms::JobId id, const ms::JobResult &result);

    // Re-reads the shown sweep's trials from the registry.
    void refreshTrials();
    void showTrialsInPlots();
    void showSpec(const ms::SweepSpec &spec);
    void announceSpec();   // the opened or built sweep, in the status line
    void updateControls();
    std::optional<int> selectedTrial() const;

    QPointer<ms::JobRunner> m_runner;
    QString m_workspace;
    QString m_cli;
    std::optional<ms::SweepSpec> m_fileSpec;   // the opened sweep file, checked
    QString m_filePath;
    qint64 m_shownSweep = 0;
    QString m_shownStatus;

    TrialTableModel *m_model = nullptr;
    TrialFilterProxy *m_proxy = nullptr;
    QTableView *m_table = nullptr;
    HistoryPlot *m_history = nullptr;
    ImportancePlot *m_importance = nullptr;
    IntermediatePlot *m_intermediate = nullptr;
    ParetoPlot *m_pareto = nullptr;   // a tab only for sweeps of several objectives
    QTabWidget *m_plots = nullptr;   // history | curves | importance [| Pareto front]
    ParallelCoordinates *m_parallel = nullptr;
    QComboBox *m_sweeps = nullptr;
    QLabel *m_fileLabel = nullptr;
    QLabel *m_filterLabel = nullptr;
    QProgressBar *m_progress = nullptr;
    StatusLine *m_status = nullptr;
    QSplitter *m_splitter = nullptr;
    QSplitter *m_topSplitter = nullptr;
    QTimer *m_poll = nullptr;   // follows a sweep run by another process

    QAction *m_openAction = nullptr;
    QAction *m_newAction = nullptr;
    QAction *m_curvesAction = nullptr;
    QAction *m_startAction = nullptr;
    QAction *m_pauseAction = nullptr;
    QAction *m_stopAction = nullptr;
    QAction *m_resumeAction = nullptr;
    QAction *m_registerAction = nullptr;
    QAbstractButton *m_openButton = nullptr;
    QAbstractButton *m_newButton = nullptr;
    QAbstractButton *m_curvesButton = nullptr;
    QAbstractButton *m_startButton = nullptr;
    QAbstractButton *m_pauseButton = nullptr;
    QAbstractButton *m_stopButton = nullptr;
    QAbstractButton *m_resumeButton = nullptr;
    QAbstractButton *m_registerButton = nullptr;

    ms::JobId m_jobId = 0;
    bool m_paused = false;
    bool m_stopping = false;
    std::optional<ms::JobResult> m_lastResult;
};

} // namespace ms::ui
