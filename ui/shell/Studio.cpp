#include "shell/Studio.h"

#include "panels/chat/ChatPanel.h"
#include "panels/compare/ComparePanel.h"
#include "panels/compare/DisagreementView.h"
#include "panels/compare/VariantsView.h"
#include "panels/data/DataPanel.h"
#include "panels/serve/ServePanel.h"
#include "panels/train/TrainForm.h"
#include "panels/train/TrainPanel.h"
#include "panels/try/TryPanel.h"
#include "panels/versions/VersionsPanel.h"
#include "shell/MainWindow.h"
#include "shell/StudioPanels.h"
#include "shell/StudioSettings.h"

#include "common/Error.h"
#include "common/Workspace.h"
#include "data/DatasetRegistry.h"
#include "data/TextDataset.h"
#include "jobs/JobRunner.h"
#include "plugins/PluginManager.h"
#include "train/TrainConfig.h"

#include <QDir>
#include <QFileInfo>
#include <QPixmap>
#include <QSpinBox>
#include <QStatusBar>
#include <QTimer>

namespace ms::ui {

namespace {

QStringList builtinDatasetNames()
{
    QStringList names;
    for (const auto &builtin : ms::DatasetRegistry::instance().builtins().all())
        names << builtin->name();
    for (const auto &builtin : ms::TextDatasetRegistry::instance().builtins().all())
        names << builtin->name();
    return names;
}

bool refuse(QString *error, const QString &why)
{
    if (error)
        *error = why;
    return false;
}

} // namespace

Studio::Studio(StartupOptions options, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
{}

Studio::~Studio() = default;

bool Studio::open(QString *error)
{
    QString flag = m_options.workspace;
    if (flag.isEmpty() && qEnvironmentVariableIsEmpty("MODELSTUDIO_WORKSPACE"))
        flag = StudioSettings::workspace();
    const QString workspace = ms::Workspace::resolve(flag);
    try {
        ms::Workspace(workspace).ensure();
    } catch (const ms::Error &e) {
        // The window still opens: the error shows again, in place, when a run needs the folder.
        m_workspaceError = e.message();
        Q_EMIT message(m_workspaceError);
    }
    // Before any panel asks the registries for architectures and readers. A broken plugin is
    // skipped and listed in Help > Plugins; it never keeps the window from opening.
    ms::PluginManager::instance().loadAll(workspace);

    m_window = std::make_unique<MainWindow>(workspace);
    m_window->setPanelFactory(&addStudioPanels);
    // A screenshot shows the defaults and must not overwrite the user's saved layout.
    if (m_options.screenshot.isEmpty())
        m_window->restoreSettings();
    if (!applyPanelOptions(error) || !applyDataOptions(error))
        return false;
    if (!m_workspaceError.isEmpty())
        m_window->statusBar()->showMessage(m_workspaceError);
    // Chosen before show(): a panel shown even for a moment does its first-show work (the Data
    // panel starts reading its dataset, whose job would end before the run and be taken for it).
    if (m_options.start)
        m_window->showPanel(m_window->panel<TrainPanel>()->id());
    // Before show(): the Data panel's first show reads its current source otherwise.
    if (!m_options.dataset.isEmpty())
        m_window->panel<DataPanel>()->load(m_options.dataset);
    return true;
}

bool Studio::applyPanelOptions(QString *error)
{
    MainWindow &window = *m_window;
    if (!m_options.panel.isEmpty() && !window.showPanel(m_options.panel))
        return refuse(error, QStringLiteral("no panel named \"%1\"; known panels: %2")
                                 .arg(m_options.panel,
                                      window.panelIds().join(QLatin1String(", "))));
    if (!m_options.compareTab.isEmpty())
        window.panel<ComparePanel>()->showTab(m_options.compareTab == QLatin1String("variants")
                                                  ? ComparePanel::VariantsTab
                                                  : ComparePanel::CurvesTab);
    if (!m_options.config.isEmpty()) {
        try {
            window.panel<TrainPanel>()->form()->setConfig(
                ms::TrainConfig::fromFile(m_options.config));
        } catch (const ms::Error &e) {
            return refuse(error, e.message());
        }
    }
    if (m_options.processes != 0)
        window.panel<TrainPanel>()->form()->processesSpin()->setValue(m_options.processes);
    if (m_options.port != 0)
        window.panel<ServePanel>()->setPort(m_options.port);
    if (m_options.windowSize.isValid())
        window.resize(m_options.windowSize);
    return true;
}

bool Studio::applyDataOptions(QString *error)
{
    MainWindow &window = *m_window;
    const QString &dataset = m_options.dataset;
    if (!dataset.isEmpty()) {
        const QStringList builtins = builtinDatasetNames();
        if (!builtins.contains(dataset) && !QFileInfo::exists(dataset))
            return refuse(error, QStringLiteral("--dataset: \"%1\" is neither a built-in dataset "
                                                "(%2) nor an existing file or folder")
                                     .arg(dataset, builtins.join(QLatin1String(", "))));
        if (m_options.panel.isEmpty())
            window.showPanel(window.panel<DataPanel>()->id());
    }
    if (!m_options.select.isEmpty() && !window.panel<VersionsPanel>()->selectRef(m_options.select))
        return refuse(error, QStringLiteral("--select: no version \"%1\" in this workspace; give "
                                            "NAME:N as the Versions panel lists it")
                                 .arg(m_options.select));
    if (!m_options.serve.isEmpty()) {
        auto *servePanel = window.panel<ServePanel>();
        // The models asked for, not the ones remembered from the last session.
        servePanel->clearModels();
        for (const QString &ref : m_options.serve) {
            if (!servePanel->addModel(ref))
                return refuse(error, servePanel->statusText());
        }
        window.showPanel(servePanel->id());
    }
    return true;
}

void Studio::show()
{
    m_window->show();
    if (m_options.start) {
        auto *trainPanel = m_window->panel<TrainPanel>();
        QTimer::singleShot(0, trainPanel, [trainPanel] { trainPanel->start(); });
    }
    if (!m_options.serve.isEmpty()) {
        auto *servePanel = m_window->panel<ServePanel>();
        QTimer::singleShot(0, servePanel, [this, servePanel] {
            servePanel->start();
            // A port in use or a model that fails to load shows in the panel; say it here too.
            Q_EMIT message(servePanel->statusIsError()
                               ? servePanel->statusText()
                               : QStringLiteral("serving on %1").arg(servePanel->url()));
        });
    }
    if (!m_options.screenshot.isEmpty())
        scheduleScreenshot();
}

void Studio::scheduleScreenshot()
{
    MainWindow *window = m_window.get();
    const int delay_ms = m_options.screenshotDelay_ms;
    const auto grabAndFinish = [this] { Q_EMIT finished(saveScreenshot() ? 0 : 1); };
    const QString shownPanel = !m_options.panel.isEmpty()
                                   ? m_options.panel
                                   : (!m_options.dataset.isEmpty() ? QStringLiteral("data")
                                                                   : QString());
    if (shownPanel == QLatin1String("compare") && m_options.compareTab == QLatin1String("variants"))
        window->panel<ComparePanel>()->selectBenchmarked(4);
    else if (shownPanel == QLatin1String("compare"))
        window->panel<ComparePanel>()->selectNewest(3);
    if (shownPanel == QLatin1String("compare")
        && m_options.compareTab == QLatin1String("variants") && !m_options.start) {
        // The disagreement explorer runs on a worker; the picture waits for its grid.
        DisagreementView *explorer = window->panel<ComparePanel>()->variants()->disagreements();
        const QMetaObject::Connection waiting = connect(
            explorer, &DisagreementView::found, this,
            [this, delay_ms](bool) {
                // A pair it cannot compare is pictured with its message.
                QTimer::singleShot(delay_ms, this, [this] {
                    Q_EMIT finished(saveScreenshot() ? 0 : 1);
                });
            },
            Qt::SingleShotConnection);
        if (explorer->findNow())
            return;
        disconnect(waiting); // nothing to compare: pictured as it is
    }
    if (m_options.start) {
        // The picture of a run is worth taking once its curves are complete.
        connect(window->jobRunner(), &ms::JobRunner::finished, this,
                [this, delay_ms, grabAndFinish] {
                    QTimer::singleShot(delay_ms, this, grabAndFinish);
                });
    } else if (shownPanel == QLatin1String("try")) {
        // The newest versions explain test sample 0 on a worker; the picture waits for them.
        auto *tryPanel = window->panel<TryPanel>();
        connect(
            tryPanel, &TryPanel::explained, this,
            [this, tryPanel, delay_ms](bool ok) {
                if (!ok)
                    Q_EMIT message(tryPanel->statusText());
                QTimer::singleShot(delay_ms, this, [this, ok] {
                    const bool saved = saveScreenshot();
                    Q_EMIT finished(saved && ok ? 0 : 1);
                });
            },
            Qt::SingleShotConnection);
        tryPanel->explainNewest();
    } else if (shownPanel == QLatin1String("chat")) {
        // A conversation is what the panel is for: the newest language model answers one
        // question, and the picture waits for the answer's end.
        auto *chatPanel = window->panel<ChatPanel>();
        connect(
            chatPanel, &ChatPanel::answerFinished, this,
            [this, delay_ms, grabAndFinish] { QTimer::singleShot(delay_ms, this, grabAndFinish); },
            Qt::SingleShotConnection);
        QTimer::singleShot(0, chatPanel, [this, chatPanel, grabAndFinish] {
            if (!chatPanel->send(QStringLiteral("What is the secret of a happy life?"))) {
                Q_EMIT message(chatPanel->statusText());   // no language model: said, pictured
                grabAndFinish();
            }
        });
    } else if (shownPanel == QLatin1String("data")) {
        // The samples and the histogram exist once the dataset is read (on a worker). A
        // dataset that cannot be read is pictured with its message, and said too.
        auto *dataPanel = window->panel<DataPanel>();
        connect(
            dataPanel, &DataPanel::loaded, this,
            [this, dataPanel, delay_ms](bool ok) {
                if (!ok)
                    Q_EMIT message(dataPanel->statusText());
                QTimer::singleShot(delay_ms, this, [this, ok] {
                    const bool saved = saveScreenshot();
                    Q_EMIT finished(saved && ok ? 0 : 1);
                });
            },
            Qt::SingleShotConnection);
    } else {
        QTimer::singleShot(delay_ms, this, grabAndFinish);
    }
}

bool Studio::saveScreenshot()
{
    const QPixmap pixmap = m_window->grab();
    if (pixmap.isNull() || !pixmap.save(m_options.screenshot, "PNG")) {
        Q_EMIT message(QStringLiteral("cannot write the screenshot to %1")
                           .arg(QDir::toNativeSeparators(m_options.screenshot)));
        return false;
    }
    return true;
}

} // namespace ms::ui
