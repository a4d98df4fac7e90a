#include "panels/compare/ComparePanel.h"

#include "common/ColumnFit.h"
#include "common/Icons.h"
#include "common/Widgets.h"
#include "panels/compare/CompareSelectionModel.h"
#include "panels/compare/CompareTableModel.h"
#include "panels/compare/VariantsView.h"
#include "plots/MetricPlot.h"

#include "common/Error.h"
#include "registry/Registry.h"

#include <QAction>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSet>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTreeView>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <exception>

namespace ms::ui {

namespace {

// Metrics worth showing first when a selection has them: accuracies before losses.
const char *const kPreferredMetrics[] = {"val_acc", "test_acc", "train_acc", "val_loss",
                                         "loss"};
constexpr int kMarkerLimit = 60;   // a dot per point while a series has this few

void styleTable(QTableView *view)
{
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setAlternatingRowColors(true);
    view->setWordWrap(false);
    view->verticalHeader()->setVisible(false);
    view->verticalHeader()->setDefaultSectionSize(view->fontMetrics().height() + 8);
    view->horizontalHeader()->setHighlightSections(false);
    view->horizontalHeader()->setStretchLastSection(true);
}

} // namespace

QColor ComparePanel::colorFor(int index)
{
    // Tableau 10: distinct for each other and for colour-blind readers, readable on white.
    static const QColor palette[] = {
        QColor(0x4e, 0x79, 0xa7), QColor(0xf2, 0x8e, 0x2b), QColor(0xe1, 0x57, 0x59),
        QColor(0x76, 0xb7, 0xb2), QColor(0x59, 0xa1, 0x4f), QColor(0xed, 0xc9, 0x48),
        QColor(0xb0, 0x7a, 0xa1), QColor(0xff, 0x9d, 0xa7), QColor(0x9c, 0x75, 0x5f),
        QColor(0xba, 0xb0, 0xac)};
    return palette[index % 10];
}

ComparePanel::ComparePanel(QString workspace, ms::JobRunner *runner, QWidget *parent)
    : Panel(parent)
    , m_workspace(std::move(workspace))
{
    m_selection = new CompareSelectionModel(this);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_selection);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setRecursiveFilteringEnabled(true);   // a matching version keeps its model row
    m_proxy->setAutoAcceptChildRows(true);         // a matching model shows all its versions

    m_filter = new QLineEdit(this);
    m_filter->setPlaceholderText(tr("Filter by model or version…"));
    m_filter->setClearButtonEnabled(true);
    connect(m_filter, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_proxy->setFilterFixedString(text);
        m_tree->expandAll();
    });

    m_tree = new QTreeView(this);
    m_tree->setModel(m_proxy);
    m_tree->setUniformRowHeights(true);
    m_tree->setAlternatingRowColors(true);
    m_tree->setSelectionMode(QAbstractItemView::NoSelection);
    // "resnet18-fin…cifar:3" keeps its version number when the tree is narrow.
    m_tree->setTextElideMode(Qt::ElideMiddle);
    m_tree->header()->setStretchLastSection(false);
    m_tree->header()->setSectionResizeMode(CompareSelectionModel::VersionColumn,
                                           QHeaderView::Stretch);
    m_tree->header()->setSectionResizeMode(CompareSelectionModel::KindColumn,
                                           QHeaderView::ResizeToContents);
    m_tree->header()->setSectionResizeMode(CompareSelectionModel::AccuracyColumn,
                                           QHeaderView::ResizeToContents);
    // A click anywhere on a version's row toggles it: the check box alone is a small target.
    connect(m_tree, &QTreeView::clicked, this, [this](const QModelIndex &index) {
        const QModelIndex first =
            m_proxy->mapToSource(index.siblingAtColumn(CompareSelectionModel::VersionColumn));
        QStandardItem *item = m_selection->itemFromIndex(first);
        if (!item || !item->isCheckable() || index.column() == 0)
            return;   // column 0 has the check box, which toggles by itself
        item->setCheckState(item->checkState() == Qt::Checked ? Qt::Unchecked : Qt::Checked);
    });

    auto *newest = new QPushButton(tr("Newest 3"), this);
    newest->setToolTip(tr("Check the three newest trained versions (those with curves)"));
    connect(newest, &QPushButton::clicked, this, [this] { selectNewest(3); });
    auto *clear = new QPushButton(tr("Clear"), this);
    clear->setToolTip(tr("Uncheck everything"));
    connect(clear, &QPushButton::clicked, this, [this] { m_selection->clearChecks(); });
    auto *reloadButton = new QPushButton(tr("Reload"), this);
    reloadButton->setToolTip(tr("Read the registry again"));
    connect(reloadButton, &QPushButton::clicked, this, [this] { reload(); });
    auto *selectionButtons = new QHBoxLayout;
    selectionButtons->addWidget(newest);
    selectionButtons->addWidget(clear);
    selectionButtons->addStretch(1);
    selectionButtons->addWidget(reloadButton);

    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(sectionTitle(tr("Runs and versions"), left));
    leftLayout->addWidget(m_filter);
    leftLayout->addWidget(m_tree, 1);
    leftLayout->addLayout(selectionButtons);

    m_metric = new QComboBox(this);
    m_metric->setMinimumContentsLength(14);
    m_metric->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_metric->setToolTip(tr("Every metric key any checked run logged"));
    connect(m_metric, &QComboBox::activated, this, [this] {
        m_wantedMetric = m_metric->currentText();
        refresh();
    });
    m_xAxis = new QComboBox(this);
    m_xAxis->addItem(tr("Epoch or step (auto)"), int(XAxis::Auto));
    m_xAxis->addItem(tr("Step"), int(XAxis::Step));
    m_xAxis->addItem(tr("Epoch"), int(XAxis::Epoch));
    m_xAxis->addItem(tr("Wall time"), int(XAxis::WallTime));
    m_xAxis->setToolTip(tr("Auto: epochs for metrics logged once an epoch, steps otherwise"));
    connect(m_xAxis, &QComboBox::activated, this, [this] { refresh(); });

    auto *plotBar = new QHBoxLayout;
    auto *metricLabel = new QLabel(tr("&Metric"), this);
    metricLabel->setBuddy(m_metric);
    plotBar->addWidget(metricLabel);
    plotBar->addWidget(m_metric);
    plotBar->addSpacing(12);
    auto *xLabel = new QLabel(tr("&X axis"), this);
    xLabel->setBuddy(m_xAxis);
    plotBar->addWidget(xLabel);
    plotBar->addWidget(m_xAxis);
    plotBar->addStretch(1);

    m_plot = new MetricPlot(this);
    m_plot->setLegendVisible(true);
    m_plot->setPlaceholderText(tr("Check runs or versions on the left to overlay their curves"));

    m_table = new CompareTableModel(this);
    m_tableView = new QTableView(this);
    m_tableView->setModel(m_table);
    styleTable(m_tableView);
    // Columns as wide as their text; a long run or version name gives way (elided in the
    // middle, whole in the tooltip) before a number is cut.
    auto *columns = new ColumnFitter(m_tableView);
    columns->setElidable(CompareTableModel::Item, Qt::ElideMiddle);

    auto *plotSide = new QWidget(this);
    auto *plotLayout = new QVBoxLayout(plotSide);
    plotLayout->setContentsMargins(0, 0, 0, 0);
    plotLayout->addLayout(plotBar);
    plotLayout->addWidget(m_plot, 1);

    m_rightSplitter = new QSplitter(Qt::Vertical, this);
    m_rightSplitter->setChildrenCollapsible(false);
    m_rightSplitter->addWidget(plotSide);
    m_rightSplitter->addWidget(m_tableView);
    m_rightSplitter->setStretchFactor(0, 3);
    m_rightSplitter->setStretchFactor(1, 1);
    m_rightSplitter->setSizes({540, 170});

    // --- Variants: where benchmark results of compressed versions land ---
    m_variants = new VariantsView(this);
    m_variants->setJobRunner(runner, m_workspace);
    connect(m_variants, &VariantsView::benchmarksStored, this, [this] { reload(); });
    connect(m_variants, &VariantsView::tryRequested, this, &ComparePanel::tryRequested);

    m_tabs = new QTabWidget(this);
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(m_rightSplitter, tr("Curves"));
    m_tabs->addTab(m_variants, tr("Variants"));

    m_splitter = new QSplitter(Qt::Horizontal, this);
    m_splitter->setChildrenCollapsible(false);
    m_splitter->addWidget(left);
    m_splitter->addWidget(m_tabs);
    m_splitter->setStretchFactor(0, 0);
    m_splitter->setStretchFactor(1, 1);
    m_splitter->setSizes({320, 880});

    m_status = new StatusLine(this);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 8, 8, 8);
    layout->addWidget(m_splitter, 1);
    layout->addWidget(m_status);

    // Panel-local shortcuts: only while this panel (or a child) has the focus.
    auto *reloadAction = new QAction(tr("Reload"), this);
    reloadAction->setShortcut(QKeySequence::Refresh);
    reloadAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(reloadAction, &QAction::triggered, this, [this] { reload(); });
    auto *findAction = new QAction(tr("Filter"), this);
    findAction->setShortcut(QKeySequence::Find);
    findAction->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(findAction, &QAction::triggered, this, [this] {
        m_filter->setFocus();
        m_filter->selectAll();
    });
    addActions({reloadAction, findAction});
    reloadButton->setToolTip(tr("Read the registry again (%1)")
                                 .arg(reloadAction->shortcut().toString(
                                     QKeySequence::NativeText)));

    connect(m_selection, &CompareSelectionModel::checkedChanged, this, [this] { refresh(); });
    reload();
}

ComparePanel::~ComparePanel() = default;

QIcon ComparePanel::icon() const
{
    return compareIcon(palette().color(QPalette::WindowText));
}

void ComparePanel::reload()
{
    m_loaded = true;
    try {
        const ms::Registry registry(m_workspace);
        m_selection->reload(registry);
    } catch (const std::exception &e) {
        m_status->setStatus(tr("Cannot read the registry: %1").arg(errorMessage(e)),
                            Tone::Error);
        return;
    }
    m_tree->expandAll();
    refresh();
}

int ComparePanel::selectNewest(int count)
{
    return m_selection->checkNewest(count);
}

int ComparePanel::selectBenchmarked(int count)
{
    QVector<qint64> ids;
    try {
        const ms::Registry registry(m_workspace);
        for (const ms::ModelRecord &model : registry.models()) {
            for (const ms::VersionRecord &v :
                 registry.versions(model.name, ms::Registry::Detail::Listing)) {
                if (!registry.benchmarks(v.id).isEmpty())
                    ids << v.id;
            }
        }
    } catch (const std::exception &e) {
        m_status->setStatus(tr("Cannot read the registry: %1").arg(errorMessage(e)),
                            Tone::Error);
        return 0;
    }
    std::sort(ids.begin(), ids.end());   // ids grow with time: the oldest first
    ids = ids.mid(std::max<qsizetype>(0, ids.size() - count));
    m_selection->clearChecks();
    int checked = 0;
    for (qint64 id : std::as_const(ids))
        checked += m_selection->setChecked(QStringLiteral("v:%1").arg(id), true) ? 1 : 0;
    return checked;
}

void ComparePanel::showTab(Tab tab)
{
    m_tabs->setCurrentIndex(int(tab));
}

bool ComparePanel::setChecked(const QString &keyOrRef, bool checked)
{
    return m_selection->setChecked(keyOrRef, checked);
}

bool ComparePanel::setMetric(const QString &key)
{
    if (m_metric->findText(key) < 0)
        return false;
    m_wantedMetric = key;
    refresh();
    return true;
}

QString ComparePanel::metric() const
{
    return m_metric->currentText();
}

void ComparePanel::setXAxis(XAxis axis)
{
    m_xAxis->setCurrentIndex(m_xAxis->findData(int(axis)));
    refresh();
}

void ComparePanel::refresh()
{
    const QVector<CompareItem> items = m_selection->checkedItems();
    try {
        const ms::Registry registry(m_workspace);
        QSet<QString> keys;
        for (const CompareItem &item : items) {
            if (item.runId == 0)
                continue;
            for (const QString &key : registry.metricKeys(item.runId))
                keys.insert(key);
        }
        QStringList sorted(keys.cbegin(), keys.cend());
        sorted.sort();
        QString chosen;
        if (sorted.contains(m_wantedMetric))
            chosen = m_wantedMetric;
        for (const char *preferred : kPreferredMetrics) {
            if (chosen.isEmpty() && sorted.contains(QLatin1String(preferred)))
                chosen = QLatin1String(preferred);
        }
        if (chosen.isEmpty() && !sorted.isEmpty())
            chosen = sorted.first();
        m_metric->clear();
        m_metric->addItems(sorted);
        m_metric->setCurrentIndex(sorted.indexOf(chosen));
        m_metric->setEnabled(!sorted.isEmpty());

        refreshCurves(registry);
        refreshBenchmarks(registry);
    } catch (const std::exception &e) {
        m_status->setStatus(tr("Cannot read the registry: %1").arg(errorMessage(e)),
                            Tone::Error);
        return;
    }
    int withRuns = 0;
    for (const CompareItem &item : items)
        withRuns += item.runId != 0 ? 1 : 0;
    if (items.isEmpty())
        m_status->setStatus(tr("Check runs or versions to compare. Versions without a run "
                               "(imports) bring their final metrics only."));
    else
        m_status->setStatus(tr("%1 checked, %2 with curves. Drag to pan, wheel to zoom, "
                               "double-click the plot to fit.")
                                .arg(items.size())
                                .arg(withRuns));
}

void ComparePanel::refreshCurves(const ms::Registry &registry)
{
    const QVector<CompareItem> items = m_selection->checkedItems();
    const QString key = m_metric->currentText();
    const bool lowerBetter = CompareTableModel::lowerIsBetter(key);

    QVector<QVector<ms::MetricSample>> series(items.size());
    bool onePerEpoch = true;   // every run logs this key once an epoch
    for (int i = 0; i < items.size(); ++i) {
        if (items[i].runId == 0 || key.isEmpty())
            continue;
        series[i] = registry.metrics(items[i].runId, key);
        for (int p = 1; p < series[i].size(); ++p) {
            if (series[i][p].epoch == series[i][p - 1].epoch)
                onePerEpoch = false;
        }
    }
    auto axis = XAxis(m_xAxis->currentData().toInt());
    if (axis == XAxis::Auto)
        axis = onePerEpoch ? XAxis::Epoch : XAxis::Step;

    m_plot->removeAllSeries();
    m_seriesIds.clear();
    m_plot->setIntegerXTicks(axis == XAxis::Epoch);
    m_plot->setAxisLabels(axis == XAxis::Epoch  ? tr("epoch")
                          : axis == XAxis::Step ? tr("step")
                                                : tr("wall time (s)"),
                          key);
    m_plot->setPlaceholderText(
        items.isEmpty() ? tr("Check runs or versions on the left to overlay their curves")
                        : tr("No checked run logs %1").arg(key.isEmpty() ? tr("any metric")
                                                                         : key));

    QVector<CompareTableModel::Row> rows;
    for (int i = 0; i < items.size(); ++i) {
        const CompareItem &item = items[i];
        CompareTableModel::Row row;
        row.label = item.label;
        row.color = colorFor(i);
        row.hasRun = item.runId != 0;
        row.parameterCount = item.parameterCount;
        row.sizeBytes = item.sizeBytes;
        const QJsonValue testAcc = item.metrics.value(QStringLiteral("test_acc"));
        if (testAcc.isDouble())
            row.testAcc = testAcc.toDouble();

        const QVector<ms::MetricSample> &samples = series[i];
        row.points = int(samples.size());
        QVector<double> xs;
        QVector<double> ys;
        xs.reserve(samples.size());
        ys.reserve(samples.size());
        for (const ms::MetricSample &s : samples) {
            xs << (axis == XAxis::Epoch  ? double(s.epoch)
                   : axis == XAxis::Step ? double(s.step)
                                         : s.wallTime_s);
            ys << s.value;
            if (!std::isfinite(s.value))
                continue;
            const bool better = !std::isfinite(row.best)
                || (lowerBetter ? s.value < row.best : s.value > row.best);
            if (better) {
                row.best = s.value;
                row.bestStep = s.step;
                row.bestEpoch = s.epoch;
            }
        }
        if (!samples.isEmpty())
            row.final = samples.last().value;
        if (!samples.isEmpty()) {
            MetricPlot::SeriesOptions options;
            options.color = row.color;
            options.markers = samples.size() <= kMarkerLimit;
            m_plot->addSeries(item.key, item.label, options);
            m_plot->append(item.key, xs, ys);
            m_seriesIds << item.key;
        }
        rows << row;
    }
    m_table->setRows(key, rows);
    m_plot->replotNow();
}

// The Variants tab: the latest benchmark of every checked version, the first checked being the
// baseline; an older result stays in the registry (and the Versions panel's detail pane).
void ComparePanel::refreshBenchmarks(const ms::Registry &registry)
{
    const QVector<CompareItem> items = m_selection->checkedItems();
    QVector<VariantsView::Entry> entries;
    for (int i = 0; i < items.size(); ++i) {
        if (items[i].versionId == 0)
            continue;   // a run without a version has nothing to benchmark
        const QVector<QJsonObject> results = registry.benchmarks(items[i].versionId);
        entries.append({items[i].label, colorFor(i),
                        results.isEmpty() ? QJsonObject() : results.last()});
    }
    m_variants->setEntries(entries);
    const int benchmarked = m_variants->benchmarkedCount();
    m_tabs->setTabText(VariantsTab, benchmarked == 0 ? tr("Variants")
                                                     : tr("Variants (%1)").arg(benchmarked));
}

void ComparePanel::showEvent(QShowEvent *event)
{
    Panel::showEvent(event);
    // Runs may have finished, or the CLI may have added versions, while another panel showed.
    if (m_loaded)
        reload();
}

void ComparePanel::saveState(QSettings &settings) const
{
    settings.setValue(QStringLiteral("splitter"), m_splitter->saveState());
    settings.setValue(QStringLiteral("rightSplitter"), m_rightSplitter->saveState());
    // Keys are registry ids: they mean something only in the workspace they came from.
    settings.setValue(QStringLiteral("checked"), m_selection->checkedKeys());
    settings.setValue(QStringLiteral("checkedWorkspace"), m_workspace);
    settings.setValue(QStringLiteral("metric"), m_metric->currentText());
    settings.setValue(QStringLiteral("xAxis"), m_xAxis->currentData());
    settings.setValue(QStringLiteral("tab"), m_tabs->currentIndex());
    settings.setValue(QStringLiteral("variantBatch"), m_variants->batch());
}

void ComparePanel::restoreState(QSettings &settings)
{
    m_splitter->restoreState(settings.value(QStringLiteral("splitter")).toByteArray());
    m_rightSplitter->restoreState(settings.value(QStringLiteral("rightSplitter")).toByteArray());
    m_wantedMetric = settings.value(QStringLiteral("metric")).toString();
    const int axis = m_xAxis->findData(settings.value(QStringLiteral("xAxis")));
    if (axis >= 0)
        m_xAxis->setCurrentIndex(axis);
    m_tabs->setCurrentIndex(settings.value(QStringLiteral("tab"), int(CurvesTab)).toInt());
    if (settings.value(QStringLiteral("checkedWorkspace")).toString() == m_workspace) {
        for (const QString &key : settings.value(QStringLiteral("checked")).toStringList())
            m_selection->setChecked(key, true);
    }
    refresh();
    const QVariant batch = settings.value(QStringLiteral("variantBatch"));
    if (batch.isValid())
        m_variants->setBatch(batch.toInt());
}

} // namespace ms::ui
