// OptimizePanel: what it reads from and writes to the registry (the sweeps combo, the shown
// sweep's trials, Register).

#include "panels/optimize/OptimizePanel.h"

#include "panels/optimize/HistoryPlot.h"
#include "panels/optimize/ImportancePlot.h"
#include "panels/optimize/IntermediatePlot.h"
#include "panels/optimize/ParallelCoordinates.h"
#include "panels/optimize/ParetoPlot.h"
#include "panels/optimize/TrialTableModel.h"

#include "common/Error.h"
#include "optimize/SweepJob.h"
#include "registry/Registry.h"

#include <QComboBox>
#include <QItemSelectionModel>
#include <QLocale>
#include <QSignalBlocker>
#include <QTableView>

namespace ms::ui {

void OptimizePanel::reloadSweeps()
{
    QVector<ms::SweepRecord> sweeps;
    try {
        sweeps = ms::Registry(m_workspace).sweeps();
    } catch (const std::exception &e) {
        m_status->setStatus(tr("Cannot read the workspace's sweeps: %1").arg(errorMessage(e)),
                            Tone::Error);
        return;
    }
    const QSignalBlocker blocker(m_sweeps);
    m_sweeps->clear();
    for (const ms::SweepRecord &s : sweeps) {
        const QString when = QLocale().toString(s.started.toLocalTime(), QLocale::ShortFormat);
        // Status and date first: a long sweep name is what the combo cuts.
        m_sweeps->addItem(tr("#%1 · %2 · %3 · %4").arg(s.id).arg(s.status, when, s.name), s.id);
        m_sweeps->setItemData(m_sweeps->count() - 1, s.name, Qt::ToolTipRole);
    }
    const int shown = m_sweeps->findData(m_shownSweep);
    m_sweeps->setCurrentIndex(shown >= 0 ? shown : (m_sweeps->count() > 0 ? 0 : -1));
}

void OptimizePanel::showSpec(const ms::SweepSpec &spec)
{
    QStringList paths;
    for (const ms::ParamDomain &d : spec.space)
        paths << d.path;
    m_model->setSweep(paths, spec.objective.metric);
    m_history->setObjective(spec.objective.metric, spec.objective.maximize);
    m_importance->setSweep(spec);
    m_intermediate->setObjective(spec.objective.metric);
    m_parallel->setSweep(spec.space, spec.objective.metric, spec.objective.maximize);
    m_pareto->setSweep(spec);
    const int tab = m_plots->indexOf(m_pareto);
    if (spec.hasSeveralObjectives() && tab < 0)
        m_plots->setCurrentIndex(m_plots->addTab(m_pareto, tr("Pareto front")));
    else if (!spec.hasSeveralObjectives() && tab >= 0)
        m_plots->removeTab(tab);
}

bool OptimizePanel::showSweep(qint64 sweepId)
{
    ms::SweepRecord record;
    std::optional<ms::SweepSpec> spec;
    try {
        record = ms::Registry(m_workspace).sweep(sweepId);
        spec = ms::SweepSpec::fromJson(record.spec);
    } catch (const std::exception &e) {
        m_status->setStatus(tr("Cannot show sweep %1: %2").arg(sweepId).arg(errorMessage(e)),
                            Tone::Error);
        return false;
    }
    if (sweepId != m_shownSweep) {
        m_shownSweep = sweepId;
        showSpec(*spec);
    }
    m_shownStatus = record.status;
    m_model->setTrials(record.trials);
    showTrialsInPlots();
    const QSignalBlocker blocker(m_sweeps);
    m_sweeps->setCurrentIndex(m_sweeps->findData(sweepId));
    updateControls();
    return true;
}

// Every plot draws the trials the table holds.
void OptimizePanel::showTrialsInPlots()
{
    const QVector<ms::TrialRecord> &trials = m_model->trials();
    m_history->setTrials(trials);
    m_importance->setTrials(trials);
    m_intermediate->setTrials(trials);
    m_parallel->setTrials(trials);
    m_pareto->setTrials(trials);
}

void OptimizePanel::refreshTrials()
{
    if (m_shownSweep == 0)
        return;
    try {
        const ms::SweepRecord record = ms::Registry(m_workspace).sweep(m_shownSweep);
        m_shownStatus = record.status;
        m_model->setTrials(record.trials);
    } catch (const std::exception &) {
        // The job holds the registry's write lock a moment: the next event reads it again.
        return;
    }
    showTrialsInPlots();
    updateControls();
}

std::optional<int> OptimizePanel::selectedTrial() const
{
    const QModelIndexList rows = m_table->selectionModel()->selectedRows(
        TrialTableModel::NumberColumn);
    if (rows.isEmpty())
        return std::nullopt;
    return rows.first().data(Qt::UserRole).toInt();
}

bool OptimizePanel::showSelectedCurves()
{
    const std::optional<int> trial = selectedTrial();
    if (!trial)
        return false;
    const ms::TrialRecord &t = m_model->trials().at(m_model->rowOf(*trial));
    if (t.runId == 0) {
        m_status->setStatus(tr("Trial %1 has no run to show (it did not start, or its run was "
                               "removed).").arg(*trial),
                            Tone::Warning);
        return false;
    }
    Q_EMIT curvesRequested(t.runId);
    return true;
}

bool OptimizePanel::registerSelected()
{
    const std::optional<int> trial = selectedTrial();
    if (!trial || m_shownSweep == 0) {
        m_status->setStatus(tr("Select a trial that trained to register it."), Tone::Warning);
        return false;
    }
    // On the GUI thread on purpose: registering copies one model file into the store and
    // writes a few rows (no training, no evaluation), well under a second.
    try {
        const ms::VersionRecord version =
            ms::registerSweepTrial(m_workspace, m_shownSweep, *trial);
        m_status->setStatus(tr("Trial %1 is now version %2 (see the Versions panel).")
                                .arg(*trial)
                                .arg(version.ref()),
                            Tone::Ok);
    } catch (const std::exception &e) {
        m_status->setStatus(tr("Cannot register trial %1: %2").arg(*trial).arg(errorMessage(e)),
                            Tone::Error);
        return false;
    }
    Q_EMIT versionsChanged();
    return true;
}

} // namespace ms::ui
