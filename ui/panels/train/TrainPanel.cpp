#include "panels/train/TrainPanel.h"

#include "common/Widgets.h"

#include "common/Format.h"
#include "common/Icons.h"
#include "common/ModelSummaryView.h"
#include "panels/train/TrainCharts.h"
#include "panels/train/TrainForm.h"

#include "common/Error.h"
#include "common/ShapeText.h"
#include "common/Workspace.h"
#include "data/Tokenizer.h"
#include "models/ArchSpec.h"
#include "models/ArchitectureRegistry.h"
#include "registry/Registry.h"
#include "train/TrainJob.h"

#include <QAction>
#include <QCheckBox>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QFontDatabase>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonDocument>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSplitter>
#include <QStyle>
#include <QVBoxLayout>

#include <cmath>
#include <exception>

namespace ms::ui {

namespace {

constexpr int kLogLines = 5000;   // the log is for a glance; the run folder keeps the rest

// "val_acc 0.873 · test_acc 0.861" from the job's final metrics.
QString finalMetricsText(const QJsonObject &output)
{
    const QJsonObject final = output.value(QStringLiteral("final")).toObject();
    QStringList parts;
    for (const char *key : {"train_acc", "val_acc", "test_acc", "val_loss"}) {
        const QString name = QString::fromLatin1(key);
        if (final.contains(name))
            parts << QStringLiteral("%1 %2").arg(name, formatValue(final.value(name).toDouble()));
    }
    return parts.join(QStringLiteral(" · "));
}

} // namespace

TrainPanel::TrainPanel(ms::JobRunner *runner, QString workspace, QWidget *parent)
    : Panel(parent)
    , m_runner(runner)
    , m_workspace(std::move(workspace))
    , m_probe(new DatasetProbe(this))
{
    createActions();

    m_splitter = new QSplitter(Qt::Horizontal, this);
    m_splitter->setChildrenCollapsible(false);
    m_splitter->addWidget(buildSetupSide());
    m_splitter->addWidget(buildPlotSide());
    m_splitter->setStretchFactor(0, 0);
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setSizes({440, 840});

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    layout->addWidget(m_splitter);

    connect(m_runner, &ms::JobRunner::progress, this, &TrainPanel::onJobProgress);
    connect(m_runner, &ms::JobRunner::metrics, this, &TrainPanel::onJobMetrics);
    connect(m_runner, &ms::JobRunner::logLine, this, &TrainPanel::onJobLog);
    connect(m_runner, &ms::JobRunner::pausedChanged, this, &TrainPanel::onJobPaused);
    connect(m_runner, &ms::JobRunner::finished, this, &TrainPanel::onJobFinished);
    connect(m_runner, &ms::JobRunner::event, this, &TrainPanel::onJobEvent);

    connect(m_probe, &DatasetProbe::ready, this, &TrainPanel::onDatasetProbed);
    connect(m_form, &TrainForm::datasetChanged, this, [this] { refreshSummary(); });
    connect(m_form, &TrainForm::architectureChanged, this, [this] { refreshSummary(); });
    connect(m_form, &TrainForm::tokenizerChanged, this, [this] { refreshSummary(); });
    connect(m_form->replaceHeadCheck(), &QCheckBox::toggled, this, [this] { refreshSummary(); });

    m_status->setStatus(
        tr("Ready. Choose a dataset and an architecture, then Start (Ctrl+Return)."), Tone::Info);
    updateControls();
    reloadVersions();
    refreshSummary();
}

void TrainPanel::reloadVersions()
{
    QStringList refs;
    try {
        const ms::Registry registry(m_workspace);
        for (const ms::ModelRecord &model : registry.models()) {
            for (const ms::VersionRecord &v :
                 registry.versions(model.name, ms::Registry::Detail::Listing))
                refs << v.ref();
        }
    } catch (const std::exception &) {
        // A registry that cannot be read offers no versions; the Versions panel says why.
    }
    m_form->setVersions(refs);
}

QString TrainPanel::versionSummary(const QString &ref, bool *fits) const
{
    *fits = true;
    const ms::VersionRecord v = ms::Registry(m_workspace).resolve(ref);
    QString text = tr("Fine-tunes %1 (%2, %3 parameters)")
                       .arg(v.ref(), ms::versionKindName(v.kind), formatCount(v.parameterCount));
    if (!v.inputs.isEmpty())
        text += tr("\nInput %1").arg(shapeText(v.inputs.first().shape, ShapeStyle::Window));
    if (!v.outputs.isEmpty())
        text += tr(", output %1").arg(shapeText(v.outputs.first().shape, ShapeStyle::Window));
    if (m_datasetInfo && !m_datasetInfo->sampleShape.empty() && !v.inputs.isEmpty()) {
        const std::vector<qint64> &signature = v.inputs.first().shape;
        const std::vector<qint64> sample(signature.begin() + 1, signature.end());
        if (sample != m_datasetInfo->sampleShape) {
            *fits = false;
            text += tr("\nThe dataset's samples are %1, the model takes %2: choose data of its "
                       "shape (an image folder's imagefolder.json sets the size and colour).")
                        .arg(shapeText(m_datasetInfo->sampleShape, ShapeStyle::Window), shapeText(sample, ShapeStyle::Window));
        }
    }
    if (m_datasetInfo && m_datasetInfo->numClasses > 0 && !v.outputs.isEmpty()
        && v.outputs.first().shape.size() == 2
        && v.outputs.first().shape.back() != m_datasetInfo->numClasses) {
        const bool replace = m_form->replaceHeadCheck()->isChecked();
        *fits = *fits && replace;
        text += (replace ? tr("\nThe dataset has %1 classes and the model %2 outputs: its "
                              "classifier is re-initialised for %1 classes.")
                         : tr("\nThe dataset has %1 classes and the model %2 outputs: tick "
                              "Replace head to re-initialise its classifier."))
                    .arg(m_datasetInfo->numClasses)
                    .arg(v.outputs.first().shape.back());
    }
    text += tr("\nIts layers are in the Versions panel's Layers tab.");
    return text;
}

TrainPanel::~TrainPanel() = default;

QIcon TrainPanel::icon() const
{
    return trainIcon(palette().color(QPalette::WindowText));
}

MetricPlot *TrainPanel::lossPlot() const
{
    return m_charts->lossPlot();
}

MetricPlot *TrainPanel::accuracyPlot() const
{
    return m_charts->accuracyPlot();
}

QList<QAction *> TrainPanel::jobActions() const
{
    return {m_startAction, m_pauseAction, m_stopAction};
}

void TrainPanel::createActions()
{
    m_startAction = new QAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("Start"), this);
    m_startAction->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_Return),
                                 QKeySequence(Qt::CTRL | Qt::Key_Enter)});
    m_startAction->setStatusTip(tr("Train with the settings on the left"));
    connect(m_startAction, &QAction::triggered, this, [this] { start(); });

    m_pauseAction = new QAction(style()->standardIcon(QStyle::SP_MediaPause), tr("Pause"), this);
    m_pauseAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_P));
    m_pauseAction->setStatusTip(tr("Pause or resume the run between two steps"));
    connect(m_pauseAction, &QAction::triggered, this, [this] { togglePause(); });

    m_stopAction = new QAction(style()->standardIcon(QStyle::SP_MediaStop), tr("Stop"), this);
    m_stopAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));
    m_stopAction->setStatusTip(tr("Stop the run; the last finished epoch stays checkpointed"));
    connect(m_stopAction, &QAction::triggered, this, [this] { stop(); });

    // Added to the panel so their shortcuts live and die with the panel's visibility.
    addActions({m_startAction, m_pauseAction, m_stopAction});
}

QWidget *TrainPanel::buildSetupSide()
{
    auto *side = new QWidget(this);
    m_form = new TrainForm(side);
    auto *setupBox = new QGroupBox(tr("Run setup"), side);
    auto *setupLayout = new QVBoxLayout(setupBox);
    setupLayout->addWidget(m_form);

    m_summary = new ModelSummaryView(side);
    auto *modelBox = new QGroupBox(tr("Model"), side);
    auto *modelLayout = new QVBoxLayout(modelBox);
    modelLayout->addWidget(m_summary);

    m_startButton = buttonFor(m_startAction, side);
    m_pauseButton = buttonFor(m_pauseAction, side);
    m_stopButton = buttonFor(m_stopAction, side);
    qobject_cast<QPushButton *>(m_startButton)->setDefault(true);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_startButton);
    buttons->addWidget(m_pauseButton);
    buttons->addWidget(m_stopButton);
    buttons->addStretch(1);

    m_progress = new QProgressBar(side);
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setFormat(QStringLiteral("%p%"));
    m_progressText = new QLabel(side);
    m_progressText->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_status = new StatusLine(side, 2);

    auto *runBox = new QGroupBox(tr("Run"), side);
    auto *runLayout = new QVBoxLayout(runBox);
    runLayout->addLayout(buttons);
    runLayout->addWidget(m_progress);
    runLayout->addWidget(m_progressText);
    runLayout->addWidget(m_status);

    auto *layout = new QVBoxLayout(side);
    layout->setContentsMargins(0, 0, 4, 0);
    layout->addWidget(setupBox);
    layout->addWidget(modelBox, 1);
    layout->addWidget(runBox);
    side->setMinimumWidth(380);
    return side;
}

QWidget *TrainPanel::buildPlotSide()
{
    m_plotSplitter = new QSplitter(Qt::Vertical, this);
    m_plotSplitter->setChildrenCollapsible(false);
    m_charts = new TrainCharts(m_plotSplitter);

    auto *logSection = new QWidget(m_plotSplitter);
    m_log = new QPlainTextEdit(logSection);
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(kLogLines);
    m_log->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_log->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_log->setPlaceholderText(tr("The run's log appears here."));
    auto *logLayout = new QVBoxLayout(logSection);
    logLayout->setContentsMargins(0, 4, 0, 0);
    logLayout->addWidget(sectionTitle(tr("Log"), logSection));
    logLayout->addWidget(m_log, 1);

    m_plotSplitter->addWidget(m_charts);
    m_plotSplitter->addWidget(logSection);
    m_plotSplitter->setStretchFactor(0, 1);
    m_plotSplitter->setStretchFactor(1, 0);
    m_plotSplitter->setSizes({640, 120});
    return m_plotSplitter;
}

void TrainPanel::start()
{
    if (isRunning() || !m_runner)
        return;
    const ms::TrainConfig config = m_form->config();
    QString runDir;
    try {
        config.validate();
        runDir = ms::Workspace(m_workspace).newRunDir(config.label());
    } catch (const ms::Error &e) {
        m_status->setStatus(e.message(), Tone::Error);
        return;
    } catch (const std::exception &e) {
        m_status->setStatus(tr("Cannot start: %1").arg(errorMessage(e)), Tone::Error);
        return;
    }

    m_log->clear();
    m_progress->setValue(0);
    m_progressText->clear();
    m_paused = false;
    m_stopping = false;
    m_pausedTotal_ms = 0;
    m_clock.start();

    auto job = std::make_unique<ms::TrainJob>(config, runDir);
    // The run and its curves go into the workspace's registry; the model becomes a version.
    job->recordIn(m_workspace);
    // More processes: this job is rank 0 (its curves are the plots'), the others are
    // modelstudio-cli workers it starts beside it.
    m_processes = m_form->processes();
    job->runLocalWorkers(m_processes, QDir(QCoreApplication::applicationDirPath())
                                          .filePath(QStringLiteral("modelstudio-cli")));
    const QString title = job->title();
    // The previous run's curves stay on the plots, in their own colour, until cleared.
    m_charts->beginRun(title);
    m_jobId = m_runner->start(std::move(job));
    appendLog(tr("%1 → %2").arg(title, runDir));
    m_status->setStatus(tr("Running: %1").arg(title), Tone::Busy);
    updateControls();
}

bool TrainPanel::loadRecipe(const QJsonObject &recipe, const QString &fromRef)
{
    if (isRunning()) {
        m_status->setStatus(tr("A run is in progress: stop it before re-running %1.").arg(fromRef),
                            Tone::Warning);
        return false;
    }
    if (recipe.isEmpty()) {
        m_status->setStatus(
            tr("%1 has no recipe (it was imported, not trained here): nothing to re-run.")
                .arg(fromRef),
            Tone::Error);
        return false;
    }
    try {
        m_form->setConfig(ms::TrainConfig::fromJson(recipe));
    } catch (const std::exception &e) {
        m_status->setStatus(tr("Cannot re-run %1: %2").arg(fromRef, errorMessage(e)), Tone::Error);
        return false;
    }
    m_status->setStatus(
        tr("Recipe of %1 loaded. Start (Ctrl+Return) to train it again.").arg(fromRef), Tone::Info);
    return true;
}

void TrainPanel::stop()
{
    if (!isRunning() || m_stopping)
        return;
    m_stopping = true;
    m_runner->cancel(m_jobId);
    m_status->setStatus(tr("Stopping after the current step…"), Tone::Warning);
    updateControls();
}

void TrainPanel::togglePause()
{
    if (!isRunning() || m_stopping)
        return;
    if (m_paused)
        m_runner->resume(m_jobId);
    else
        m_runner->pause(m_jobId);
}

void TrainPanel::onJobProgress(ms::JobId id, double fraction, const QString &text)
{
    if (id != m_jobId)
        return;
    m_progress->setValue(int(std::lround(std::clamp(fraction, 0.0, 1.0) * 1000)));
    const double elapsed_s = activeSeconds();
    QStringList parts;
    if (!text.isEmpty())
        parts << text;
    parts << tr("%1 elapsed").arg(formatDuration(elapsed_s));
    // Below 1 % the estimate is mostly start-up cost (reading the data, compiling the model).
    if (fraction > 0.01 && fraction < 1.0)
        parts << tr("ETA %1").arg(formatDuration(elapsed_s * (1.0 - fraction) / fraction));
    m_progressText->setText(parts.join(QStringLiteral(" · ")));
}

void TrainPanel::onJobMetrics(ms::JobId id, const ms::MetricBatch &points)
{
    if (id != m_jobId)
        return;
    m_charts->appendBatch(points);
}

void TrainPanel::onJobEvent(ms::JobId id, const QJsonObject &event)
{
    if (id != m_jobId)
        return;
    const QString kind = event.value(QStringLiteral("event")).toString();
    if (kind == QLatin1String("start")) {
        m_charts->setLanguageModel(event.value(QStringLiteral("task")).toString()
                                   == QLatin1String("lm"));
        m_charts->setStepsPerEpoch(event.value(QStringLiteral("steps_per_epoch")).toInteger());
        const int world = event.value(QStringLiteral("world_size")).toInt(1);
        if (world > 1)
            m_status->setStatus(tr("Running on %1 processes × %n thread(s) each.", nullptr,
                                   event.value(QStringLiteral("threads")).toInt())
                                    .arg(world),
                                Tone::Busy);
    } else if (kind == QLatin1String("epoch") && event.contains(QStringLiteral("tokens_per_s"))
               && !m_paused) {
        // A language model's speed is in tokens: what lm_peer.py and nanoGPT report.
        m_status->setStatus(
            tr("Epoch %1: %2 tokens/s, validation perplexity %3.")
                .arg(event.value(QStringLiteral("epoch")).toInt())
                .arg(QLocale().toString(qRound(event.value(QStringLiteral("tokens_per_s"))
                                                   .toDouble())),
                     formatValue(event.value(QStringLiteral("val_ppl")).toDouble())),
            Tone::Busy);
    } else if (kind == QLatin1String("contention") && !m_paused) {
        // Why a run is slower than the last one: other programs hold the cores.
        const int threads = event.value(QStringLiteral("threads")).toInt();
        if (event.value(QStringLiteral("contended")).toBool()) {
            const double pressure = event.value(QStringLiteral("cpu_pressure_pct")).toDouble();
            const QString load =
                pressure >= 0 ? tr("CPU pressure %1 %").arg(qRound(pressure))
                              : tr("%1 cores busy elsewhere")
                                    .arg(event.value(QStringLiteral("others_runnable"))
                                             .toDouble(), 0, 'f', 1);
            m_status->setStatus(
                tr("Running, slowed by other programs (%1): training on %n thread(s).", nullptr,
                   threads)
                    .arg(load),
                Tone::Warning);
        } else if (m_processes > 1) {
            m_status->setStatus(tr("Running on %1 processes × %n thread(s) each.", nullptr,
                                   threads).arg(m_processes),
                                Tone::Busy);
        } else {
            m_status->setStatus(tr("Running on %n thread(s).", nullptr, threads), Tone::Busy);
        }
    }
}

void TrainPanel::onJobLog(ms::JobId id, const QString &line)
{
    if (id == m_jobId)
        appendLog(line);
}

void TrainPanel::onJobPaused(ms::JobId id, bool paused)
{
    if (id != m_jobId || paused == m_paused)
        return;
    m_paused = paused;
    if (paused) {
        m_pauseClock.start();
        m_status->setStatus(tr("Paused. Resume with Ctrl+P."), Tone::Warning);
    } else {
        m_pausedTotal_ms += m_pauseClock.elapsed();
        m_status->setStatus(tr("Running"), Tone::Busy);
    }
    updateControls();
}

void TrainPanel::onJobFinished(ms::JobId id, const ms::JobResult &result)
{
    if (id != m_jobId)
        return;
    const double elapsed_s = activeSeconds();
    m_jobId = 0;
    m_paused = false;
    m_stopping = false;
    m_lastResult = result;
    // The last points arrived just before this signal; show them now, not a tick later.
    m_charts->replotNow();

    const QString duration = formatDuration(elapsed_s);
    const QString metrics = finalMetricsText(result.output);
    switch (result.status) {
    case ms::JobStatus::Finished:
        m_progress->setValue(m_progress->maximum());
        m_status->setStatus(metrics.isEmpty() ? tr("Finished in %1.").arg(duration)
                                              : tr("Finished in %1 · %2").arg(duration, metrics),
                            Tone::Ok);
        break;
    case ms::JobStatus::Cancelled:
        m_status->setStatus(
            tr("Stopped after %1.").arg(duration)
                + (result.message.isEmpty() ? QString() : QLatin1Char(' ') + result.message),
            Tone::Warning);
        break;
    case ms::JobStatus::Diverged:
        m_status->setStatus(tr("Diverged: %1").arg(result.message), Tone::Error);
        break;
    case ms::JobStatus::Failed:
        m_status->setStatus(tr("Failed: %1").arg(result.message), Tone::Error);
        break;
    }
    const QString modelPath = result.output.value(QStringLiteral("model_path")).toString();
    appendLog(tr("%1 (%2)").arg(ms::jobStatusName(result.status), duration));
    if (!modelPath.isEmpty())
        appendLog(tr("model: %1").arg(modelPath));
    updateControls();
    reloadVersions();
    Q_EMIT runFinished();
}

void TrainPanel::refreshSummary()
{
    const QString source = m_form->dataset();
    if (m_form->isTextDataset() && m_form->startFrom().isEmpty()) {
        showLanguageModelSummary();
        return;
    }
    if (source != m_probedSource || !m_datasetInfo) {
        m_probedSource = source;
        m_datasetInfo.reset();
        m_summary->showMessage(tr("Reading the dataset to learn its input shape…"));
        // Answers through onDatasetProbed, which comes back here; built-ins answer at once.
        m_probe->probe(source);
        return;
    }
    const DatasetProbe::Info &info = *m_datasetInfo;
    if (!m_form->startFrom().isEmpty()) {
        try {
            bool fits = true;
            const QString text = versionSummary(m_form->startFrom(), &fits);
            if (fits)
                m_summary->showMessage(text);
            else
                m_summary->showError(text);   // the run would be refused: say so now
        } catch (const std::exception &e) {
            const auto *error = dynamic_cast<const ms::Error *>(&e);
            m_summary->showError(error ? error->message() : QString::fromUtf8(e.what()));
        }
        Q_EMIT summaryUpdated();
        return;
    }
    if (info.sampleShape.empty()) {
        m_summary->showError(info.error);
        Q_EMIT summaryUpdated();
        return;
    }
    try {
        const QJsonObject spec = ms::ArchitectureRegistry::instance().resolve(
            m_form->architecture(), info.sampleShape, info.numClasses,
            m_form->config().archParams);
        const ms::ModelSummary summary = ms::ArchSpec::fromJson(spec).summary();
        QString note = tr("Input %1, %2 classes%3")
                           .arg(shapeText(info.sampleShape, ShapeStyle::Window))
                           .arg(info.numClasses)
                           .arg(info.assumed ? tr(" (the built-in dataset's shape)") : QString());
        if (!info.error.isEmpty())
            note += QLatin1Char('\n') + info.error;
        m_summary->showSummary(summary, note);
    } catch (const ms::Error &e) {
        m_summary->showError(e.message());
    } catch (const std::exception &e) {
        m_summary->showError(tr("Cannot summarise this architecture: %1").arg(errorMessage(e)));
    }
    Q_EMIT summaryUpdated();
}

// Text trains a language model: no shape to probe; the tokenizer's vocabulary is the model's
// input and output alphabet.
void TrainPanel::showLanguageModelSummary()
{
    const ms::TrainConfig config = m_form->config();
    try {
        // A trained tokenizer (spm-bpe, spm-unigram) exists only once the run trains it: its size is
        // the recipe's.
        const int vocab = ms::Tokenizer::isTrained(config.tokenizer)
                              ? config.vocabSize
                              : ms::Tokenizer::named(config.tokenizer)->vocabSize();
        const QJsonObject spec = ms::ArchitectureRegistry::instance().resolve(
            m_form->architecture(), {}, vocab, config.archParams);
        const ms::ArchSpec arch = ms::ArchSpec::fromJson(spec);
        if (spec.value(QStringLiteral("family")).toString() == QLatin1String("text-classifier")) {
            m_summary->showMessage(tr("A text classifier on %1 (%2 tokenizer): its head gets "
                                      "one output per class the run reads.")
                                       .arg(m_form->dataset(), config.tokenizer));
        } else if (!arch.isGpt()) {
            m_summary->showError(tr("%1 is text: it trains a language model (gpt) or a text "
                                    "classifier (text-classifier). Pick one of them.")
                                     .arg(m_form->dataset()));
        } else {
            m_summary->showSummary(arch.summary(),
                                   tr("A language model on %1: %2 tokenizer, %3 symbols; "
                                      "perplexity is plotted per epoch")
                                       .arg(m_form->dataset(), config.tokenizer)
                                       .arg(vocab));
        }
    } catch (const std::exception &e) {
        m_summary->showError(errorMessage(e));
    }
    Q_EMIT summaryUpdated();
}

void TrainPanel::onDatasetProbed(const QString &source, const DatasetProbe::Info &info)
{
    if (source != m_probedSource || m_datasetInfo)
        return;   // an answer to a question nobody asks any more
    m_datasetInfo = info;
    refreshSummary();
}

void TrainPanel::updateControls()
{
    const bool running = isRunning();
    m_startAction->setEnabled(!running);
    // The other processes would wait for a paused rank 0 and give up after the timeout.
    m_pauseAction->setEnabled(running && !m_stopping && m_processes <= 1);
    m_stopAction->setEnabled(running && !m_stopping);
    m_pauseAction->setText(m_paused ? tr("Resume") : tr("Pause"));
    m_pauseAction->setIcon(style()->standardIcon(m_paused ? QStyle::SP_MediaPlay
                                                          : QStyle::SP_MediaPause));
    m_form->setEnabled(!running);
}

void TrainPanel::appendLog(const QString &line)
{
    const QString stamp = m_clock.isValid() ? formatDuration(m_clock.elapsed() / 1000.0)
                                            : QStringLiteral("--:--");
    m_log->appendPlainText(QStringLiteral("[%1] %2").arg(stamp, line));
}

double TrainPanel::activeSeconds() const
{
    if (!m_clock.isValid())
        return 0.0;
    qint64 paused_ms = m_pausedTotal_ms;
    if (m_paused && m_pauseClock.isValid())
        paused_ms += m_pauseClock.elapsed();
    return (m_clock.elapsed() - paused_ms) / 1000.0;
}

void TrainPanel::saveState(QSettings &settings) const
{
    settings.setValue(QStringLiteral("splitter"), m_splitter->saveState());
    settings.setValue(QStringLiteral("plotSplitter"), m_plotSplitter->saveState());
    m_charts->saveState(settings);
    settings.setValue(QStringLiteral("config"),
                      QJsonDocument(m_form->config().toJson()).toJson(QJsonDocument::Compact));
}

void TrainPanel::restoreState(QSettings &settings)
{
    m_splitter->restoreState(settings.value(QStringLiteral("splitter")).toByteArray());
    m_plotSplitter->restoreState(settings.value(QStringLiteral("plotSplitter")).toByteArray());
    m_charts->restoreState(settings);
    const QJsonObject json =
        QJsonDocument::fromJson(settings.value(QStringLiteral("config")).toByteArray()).object();
    if (json.isEmpty())
        return;
    try {
        m_form->setConfig(ms::TrainConfig::fromJson(json));
    } catch (const std::exception &) {
        // A config from an older version that no longer parses: start from the defaults.
    }
}

} // namespace ms::ui
