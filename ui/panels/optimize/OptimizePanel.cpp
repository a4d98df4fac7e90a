#include "panels/optimize/OptimizePanel.h"

#include "common/Format.h"
#include "common/Icons.h"
#include "common/Widgets.h"
#include "panels/optimize/HistoryPlot.h"
#include "panels/optimize/ImportancePlot.h"
#include "panels/optimize/IntermediatePlot.h"
#include "panels/optimize/ParallelCoordinates.h"
#include "panels/optimize/ParetoPlot.h"
#include "panels/optimize/SweepDialog.h"
#include "panels/optimize/TrialTableModel.h"

#include "common/Error.h"
#include "optimize/SweepJob.h"
#include "registry/Registry.h"

#include <QAction>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QFileDialog>
#include <QFile>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QStyle>
#include <QTableView>
#include <QTabWidget>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace ms::ui {

namespace {

// The largest sweep file read: a sweep file is a page of JSON, not a data set.
constexpr qint64 kMaxSweepFileBytes = 1 << 20;

QString brushHint()
{
    return OptimizePanel::tr("Drag along an axis of the chart below to filter the trials.");
}

QStringList paramPaths(const ms::SweepSpec &spec)
{
    QStringList paths;
    for (const ms::ParamDomain &d : spec.space)
        paths << d.path;
    return paths;
}

} // namespace

OptimizePanel::OptimizePanel(ms::JobRunner *runner, QString workspace, QWidget *parent)
    : Panel(parent)
    , m_runner(runner)
    , m_workspace(std::move(workspace))
    , m_cli(QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("modelstudio-cli")))
{
    createActions();
    m_model = new TrialTableModel(this);
    m_proxy = new TrialFilterProxy(this);
    m_proxy->setSourceModel(m_model);
    m_history = new HistoryPlot(this);
    m_importance = new ImportancePlot(this);
    m_parallel = new ParallelCoordinates(this);
    m_plots = new QTabWidget(this);
    m_plots->setDocumentMode(true);
    m_plots->addTab(m_history, tr("History"));
    m_intermediate = new IntermediatePlot(this);
    m_plots->addTab(m_intermediate, tr("Curves"));
    m_plots->addTab(m_importance, tr("Importance"));
    m_pareto = new ParetoPlot(this);
    m_pareto->hide();

    m_topSplitter = new QSplitter(Qt::Horizontal, this);
    m_topSplitter->setChildrenCollapsible(false);
    m_topSplitter->addWidget(buildTrialSide());
    m_topSplitter->addWidget(m_plots);
    m_topSplitter->setStretchFactor(0, 1);
    m_topSplitter->setStretchFactor(1, 1);
    m_topSplitter->setSizes({640, 480});

    m_splitter = new QSplitter(Qt::Vertical, this);
    m_splitter->setChildrenCollapsible(false);
    m_splitter->addWidget(m_topSplitter);
    m_splitter->addWidget(m_parallel);
    m_splitter->setSizes({380, 380});

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    layout->addWidget(buildControls());
    layout->addWidget(m_splitter, 1);

    connect(m_runner, &ms::JobRunner::progress, this, &OptimizePanel::onJobProgress);
    connect(m_runner, &ms::JobRunner::event, this, &OptimizePanel::onJobEvent);
    connect(m_runner, &ms::JobRunner::pausedChanged, this, &OptimizePanel::onJobPaused);
    connect(m_runner, &ms::JobRunner::finished, this, &OptimizePanel::onJobFinished);
    connect(m_parallel, &ParallelCoordinates::filterChanged, this, [this] {
        const std::optional<QSet<int>> visible = m_parallel->visibleTrials();
        m_proxy->setVisibleTrials(visible);
        m_filterLabel->setText(visible ? tr("%1 of %2 trials inside the brushed ranges (click "
                                            "the plot's background to clear)")
                                             .arg(m_proxy->rowCount())
                                             .arg(m_model->rowCount())
                                       : brushHint());
    });
    connect(m_sweeps, &QComboBox::activated, this, [this](int index) {
        showSweep(m_sweeps->itemData(index).toLongLong());
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] {
                m_parallel->setHighlightedTrial(selectedTrial().value_or(-1));
                m_intermediate->setHighlightedTrial(selectedTrial().value_or(-1));
                updateControls();
            });
    // Polling, not a file watcher: the registry is SQLite in WAL mode, whose files change on
    // every write of every process, and a sweep writes a few rows per trial epoch.
    m_poll = new QTimer(this);
    m_poll->setInterval(2000);
    connect(m_poll, &QTimer::timeout, this, [this] {
        const QString before = m_shownStatus;
        refreshTrials();
        if (m_shownStatus != before)
            reloadSweeps();   // the combo says how it ended
    });

    reloadSweeps();
    if (m_sweeps->count() > 0 && showSweep(m_sweeps->itemData(0).toLongLong()))
        m_status->setStatus(tr("Showing sweep %1 (%2). Open a sweep file to start "
                               "another, or pick a past sweep.")
                                .arg(m_shownSweep)
                                .arg(m_shownStatus),
                            Tone::Info);
    else
        m_status->setStatus(tr("Open a sweep file (JSON, as `modelstudio-cli sweep --config` "
                               "takes), then Start."),
                            Tone::Info);
    updateControls();
}

OptimizePanel::~OptimizePanel() = default;

QIcon OptimizePanel::icon() const
{
    return optimizeIcon(palette().color(QPalette::WindowText));
}

QList<QAction *> OptimizePanel::jobActions() const
{
    return {m_startAction, m_pauseAction, m_stopAction};
}

void OptimizePanel::createActions()
{
    m_openAction = new QAction(style()->standardIcon(QStyle::SP_DialogOpenButton),
                               tr("Open sweep file…"), this);
    // No shortcut: Ctrl+O is the window's Open Workspace.
    connect(m_openAction, &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Sweep file"), QFileInfo(m_filePath).absolutePath(),
            tr("Sweep files (*.json);;All files (*)"));
        if (!path.isEmpty())
            openSweepFile(path);
    });

    m_newAction = new QAction(style()->standardIcon(QStyle::SP_FileDialogNewFolder),
                              tr("New sweep…"), this);
    m_newAction->setStatusTip(tr("Build a training sweep's space in a form"));
    connect(m_newAction, &QAction::triggered, this, [this] {
        SweepDialog dialog(this);
        if (dialog.exec() == QDialog::Accepted && dialog.spec())
            useSpec(*dialog.spec());
    });

    m_startAction = new QAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("Start"), this);
    m_startAction->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Return),
                                 QKeySequence(Qt::CTRL | Qt::Key_Enter)});
    m_startAction->setStatusTip(tr("Run the opened sweep file"));
    connect(m_startAction, &QAction::triggered, this, [this] { start(); });

    m_pauseAction = new QAction(style()->standardIcon(QStyle::SP_MediaPause), tr("Pause"), this);
    m_pauseAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_P));
    m_pauseAction->setStatusTip(tr("Pause or resume the sweep and its running trials"));
    connect(m_pauseAction, &QAction::triggered, this, [this] { togglePause(); });

    m_stopAction = new QAction(style()->standardIcon(QStyle::SP_MediaStop), tr("Stop"), this);
    m_stopAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));
    m_stopAction->setStatusTip(tr("Stop the sweep; Resume continues it later"));
    connect(m_stopAction, &QAction::triggered, this, [this] { stop(); });

    m_resumeAction = new QAction(style()->standardIcon(QStyle::SP_BrowserReload),
                                 tr("Resume"), this);
    m_resumeAction->setStatusTip(tr("Continue the stopped or interrupted sweep shown"));
    connect(m_resumeAction, &QAction::triggered, this, [this] { resumeShown(); });

    m_curvesAction = new QAction(tr("Curves…"), this);
    m_curvesAction->setStatusTip(tr("Open the selected trial's run in the Compare panel (also: "
                                    "double-click a trial)"));
    connect(m_curvesAction, &QAction::triggered, this, [this] { showSelectedCurves(); });

    m_registerAction = new QAction(tr("Register trial"), this);
    m_registerAction->setStatusTip(tr("Make the selected trial's model a version"));
    connect(m_registerAction, &QAction::triggered, this, [this] { registerSelected(); });

    // Added to the panel so their shortcuts live and die with the panel's visibility.
    addActions({m_newAction, m_openAction, m_startAction, m_pauseAction, m_stopAction});
}

QWidget *OptimizePanel::buildControls()
{
    auto *box = new QWidget(this);
    m_openButton = buttonFor(m_openAction, box);
    m_newButton = buttonFor(m_newAction, box);
    m_startButton = buttonFor(m_startAction, box);
    m_pauseButton = buttonFor(m_pauseAction, box);
    m_stopButton = buttonFor(m_stopAction, box);
    m_resumeButton = buttonFor(m_resumeAction, box);
    qobject_cast<QPushButton *>(m_startButton)->setDefault(true);
    m_fileLabel = new QLabel(tr("No sweep file"), box);
    m_fileLabel->setTextFormat(Qt::PlainText);
    m_fileLabel->setMinimumWidth(80);
    m_fileLabel->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);

    m_sweeps = new QComboBox(box);
    m_sweeps->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_sweeps->setMinimumContentsLength(10);
    m_sweeps->setToolTip(tr("The workspace's sweeps, newest first"));
    auto *sweepLabel = new QLabel(tr("Sweep"), box);
    sweepLabel->setBuddy(m_sweeps);

    m_progress = new QProgressBar(box);
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setTextVisible(true);
    m_progress->setFormat(QString());
    m_status = new StatusLine(box, 1);

    auto *row = new QHBoxLayout;
    row->addWidget(m_newButton);
    row->addWidget(m_openButton);
    row->addWidget(m_fileLabel, 1);
    row->addWidget(m_startButton);
    row->addWidget(m_pauseButton);
    row->addWidget(m_stopButton);
    row->addSpacing(16);
    row->addWidget(sweepLabel);
    row->addWidget(m_sweeps, 1);
    row->addWidget(m_resumeButton);

    auto *layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 4);
    layout->addLayout(row);
    layout->addWidget(m_progress);
    layout->addWidget(m_status);
    return box;
}

QWidget *OptimizePanel::buildTrialSide()
{
    auto *side = new QWidget(this);
    m_table = new QTableView(side);
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(TrialTableModel::NumberColumn, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->setVisible(false);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_registerButton = buttonFor(m_registerAction, side);
    m_curvesButton = buttonFor(m_curvesAction, side);
    connect(m_table, &QTableView::doubleClicked, this, [this] { showSelectedCurves(); });
    m_filterLabel = new QLabel(side);
    m_filterLabel->setWordWrap(true);
    m_filterLabel->setText(brushHint());

    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_filterLabel, 1);
    buttons->addWidget(m_curvesButton);
    buttons->addWidget(m_registerButton);
    auto *layout = new QVBoxLayout(side);
    layout->setContentsMargins(0, 0, 4, 0);
    layout->addWidget(sectionTitle(tr("Trials"), side));
    layout->addWidget(m_table, 1);
    layout->addLayout(buttons);
    return side;
}

bool OptimizePanel::openSweepFile(const QString &path)
{
    const auto refuse = [this, &path](const QString &why) {
        m_status->setStatus(tr("Cannot use %1: %2").arg(QDir::toNativeSeparators(path), why),
                            Tone::Error);
        return false;
    };
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return refuse(file.errorString());
    if (file.size() > kMaxSweepFileBytes)
        return refuse(tr("%1 is too large for a sweep file.").arg(formatSize(file.size())));
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parseError);
    if (parseError.error != QJsonParseError::NoError)
        return refuse(tr("not JSON (%1 at character %2).")
                          .arg(parseError.errorString())
                          .arg(parseError.offset));
    if (!doc.isObject())
        return refuse(tr("a sweep file is one JSON object ({\"name\": …, \"space\": …})."));
    try {
        m_fileSpec = ms::SweepSpec::fromJson(doc.object());
    } catch (const std::exception &e) {
        return refuse(errorMessage(e));
    }
    m_filePath = path;
    m_fileLabel->setText(QFileInfo(path).fileName());
    m_fileLabel->setToolTip(QDir::toNativeSeparators(path));
    announceSpec();
    return true;
}

void OptimizePanel::useSpec(const ms::SweepSpec &spec)
{
    m_fileSpec = spec;
    m_fileLabel->setText(tr("\"%1\", built in the form").arg(spec.name));
    m_fileLabel->setToolTip(QString());
    announceSpec();
}

void OptimizePanel::announceSpec()
{
    m_status->setStatus(tr("Sweep \"%1\": %2 trials, %3 at a time, over %4. Start "
                           "(Ctrl+Return) to run it.")
                            .arg(m_fileSpec->name, QString::number(m_fileSpec->trials),
                                 QString::number(m_fileSpec->parallel),
                                 paramPaths(*m_fileSpec).join(QStringLiteral(", "))),
                        Tone::Info);
    updateControls();
}

void OptimizePanel::start()
{
    if (isRunning() || !m_runner)
        return;
    if (!m_fileSpec) {
        m_status->setStatus(tr("Open a sweep file first."), Tone::Warning);
        return;
    }
    startJob(std::make_unique<ms::SweepJob>(m_workspace, *m_fileSpec, m_cli),
             tr("Sweep \"%1\"").arg(m_fileSpec->name));
}

void OptimizePanel::resumeShown()
{
    if (isRunning() || !m_runner || m_shownSweep == 0)
        return;
    std::unique_ptr<ms::SweepJob> job;
    try {
        job.reset(ms::SweepJob::resume(m_workspace, m_shownSweep, m_cli));
    } catch (const std::exception &e) {
        m_status->setStatus(tr("Cannot resume: %1").arg(errorMessage(e)), Tone::Error);
        return;
    }
    startJob(std::move(job), tr("Sweep %1 (resumed)").arg(m_shownSweep));
}

void OptimizePanel::startJob(std::unique_ptr<ms::Job> job, const QString &what)
{
    // The trials are processes of the CLI: without it every trial would fail one by one.
    if (!QFileInfo(m_cli).isExecutable()) {
        m_status->setStatus(tr("Cannot start: the trials run modelstudio-cli, which is not at "
                               "%1. Reinstall ModelStudio (the studio and the CLI ship "
                               "together).")
                                .arg(QDir::toNativeSeparators(m_cli)),
                            Tone::Error);
        return;
    }
    m_paused = false;
    m_stopping = false;
    m_progress->setValue(0);
    m_progress->setFormat(QString());
    m_jobId = m_runner->start(std::move(job));
    m_status->setStatus(tr("%1: starting the first trials…").arg(what), Tone::Busy);
    updateControls();
}

void OptimizePanel::stop()
{
    if (!isRunning() || m_stopping)
        return;
    m_stopping = true;
    m_runner->cancel(m_jobId);
    m_status->setStatus(tr("Stopping: the running trials record their last epoch…"),
                        Tone::Warning);
    updateControls();
}

void OptimizePanel::togglePause()
{
    if (!isRunning() || m_stopping)
        return;
    if (m_paused)
        m_runner->resume(m_jobId);
    else
        m_runner->pause(m_jobId);
}

void OptimizePanel::onJobProgress(ms::JobId id, double fraction, const QString &text)
{
    if (id != m_jobId)
        return;
    m_progress->setValue(int(std::lround(std::clamp(fraction, 0.0, 1.0) * 1000)));
    m_progress->setFormat(text);
}

void OptimizePanel::onJobEvent(ms::JobId id, const QJsonObject &event)
{
    if (id != m_jobId)
        return;
    const QString kind = event.value(QStringLiteral("event")).toString();
    if (kind == QLatin1String("sweep")) {
        // The job made (or reopened) its registry row: show it as it fills.
        reloadSweeps();
        showSweep(event.value(QStringLiteral("sweep")).toInteger());
        if (!m_paused && !m_stopping)
            m_status->setStatus(tr("Running sweep %1.").arg(m_shownSweep), Tone::Busy);
    } else if (kind == QLatin1String("trial") || kind == QLatin1String("trial_epoch")) {
        refreshTrials();
    }
}

void OptimizePanel::onJobPaused(ms::JobId id, bool paused)
{
    if (id != m_jobId || paused == m_paused)
        return;
    m_paused = paused;
    m_status->setStatus(paused ? tr("Paused, with its running trials. Resume with Ctrl+P.")
                               : tr("Running sweep %1.").arg(m_shownSweep),
                        paused ? Tone::Warning : Tone::Busy);
    updateControls();
}

void OptimizePanel::onJobFinished(ms::JobId id, const ms::JobResult &result)
{
    if (id != m_jobId)
        return;
    m_jobId = 0;
    m_paused = false;
    m_stopping = false;
    m_lastResult = result;
    reloadSweeps();
    if (m_shownSweep != 0)
        showSweep(m_shownSweep);
    const QJsonObject best = result.output.value(QStringLiteral("best")).toObject();
    switch (result.status) {
    case ms::JobStatus::Finished:
        m_progress->setValue(m_progress->maximum());
        m_status->setStatus(
            tr("Finished: best trial %1, %2 = %3%4.")
                .arg(best.value(QStringLiteral("trial")).toInt())
                .arg(m_model->headerData(TrialTableModel::ValueColumn, Qt::Horizontal).toString(),
                     formatValue(best.value(QStringLiteral("value")).toDouble()),
                     best.contains(QStringLiteral("version"))
                         ? tr(", registered as %1")
                               .arg(best.value(QStringLiteral("version")).toString())
                         : QString()),
            Tone::Ok);
        break;
    case ms::JobStatus::Cancelled:
        m_status->setStatus(tr("Stopped. Resume continues it without repeating a finished "
                               "trial."),
                            Tone::Warning);
        break;
    case ms::JobStatus::Diverged:
    case ms::JobStatus::Failed:
        m_status->setStatus(tr("Failed: %1").arg(result.message), Tone::Error);
        break;
    }
    updateControls();
    Q_EMIT versionsChanged();
}

void OptimizePanel::updateControls()
{
    const bool running = isRunning();
    m_openAction->setEnabled(!running);
    m_newAction->setEnabled(!running);
    m_startAction->setEnabled(!running && m_fileSpec.has_value());
    m_pauseAction->setEnabled(running && !m_stopping);
    m_stopAction->setEnabled(running && !m_stopping);
    m_pauseAction->setText(m_paused ? tr("Resume") : tr("Pause"));
    m_pauseAction->setIcon(style()->standardIcon(m_paused ? QStyle::SP_MediaPlay
                                                          : QStyle::SP_MediaPause));
    m_resumeAction->setEnabled(!running && m_shownSweep != 0
                               && (m_shownStatus == QLatin1String("cancelled")
                                   || m_shownStatus == QLatin1String("interrupted")));
    m_sweeps->setEnabled(!running);
    m_progress->setVisible(running);
    const bool elsewhere = !running && m_shownStatus == QLatin1String("running");
    if (elsewhere && !m_poll->isActive())
        m_poll->start();
    else if (!elsewhere)
        m_poll->stop();
    bool canRegister = false;
    bool hasRun = false;
    if (const std::optional<int> trial = selectedTrial()) {
        const ms::TrialRecord &t = m_model->trials().at(m_model->rowOf(*trial));
        hasRun = t.runId != 0;
        canRegister = hasRun && (t.status == QLatin1String("finished")
                                 || t.status == QLatin1String("pruned"));
    }
    m_registerAction->setEnabled(canRegister);
    m_curvesAction->setEnabled(hasRun);
}

void OptimizePanel::showEvent(QShowEvent *event)
{
    Panel::showEvent(event);
    // Sweeps started from the command line since the panel was last looked at.
    if (isRunning())
        return;
    reloadSweeps();
    if (m_shownSweep == 0 && m_sweeps->count() > 0)
        showSweep(m_sweeps->itemData(0).toLongLong());
}

void OptimizePanel::saveState(QSettings &settings) const
{
    settings.setValue(QStringLiteral("splitter"), m_splitter->saveState());
    settings.setValue(QStringLiteral("topSplitter"), m_topSplitter->saveState());
    settings.setValue(QStringLiteral("sweepFile"), m_filePath);
}

void OptimizePanel::restoreState(QSettings &settings)
{
    m_splitter->restoreState(settings.value(QStringLiteral("splitter")).toByteArray());
    m_topSplitter->restoreState(settings.value(QStringLiteral("topSplitter")).toByteArray());
    const QString path = settings.value(QStringLiteral("sweepFile")).toString();
    // A file moved or changed since is not an error worth a red line at start-up.
    if (!path.isEmpty() && QFileInfo::exists(path) && !isRunning()) {
        const QString status = m_status->statusText();
        const Tone tone = m_status->tone();
        if (!openSweepFile(path))
            m_status->setStatus(status, tone);
    }
}

} // namespace ms::ui
