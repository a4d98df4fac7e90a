#pragma once

#include "common/StatusLine.h"
#include "shell/Panel.h"

#include "jobs/JobRunner.h"

#include <QColor>
#include <QString>

class QComboBox;
class QLineEdit;
class QSortFilterProxyModel;
class QSplitter;
class QTabWidget;
class QTableView;
class QTreeView;

namespace ms {
class Registry;
}

namespace ms::ui {

class CompareSelectionModel;
class CompareTableModel;
class MetricPlot;
class VariantsView;

// Several runs or versions side by side: check them in a tree grouped by model (filterable),
// pick a metric from the union of their metric keys, and see their curves overlaid (one colour
// per item, legend) over a table of final and best values (the "Curves" tab). The "Variants" tab
// (VariantsView) compares the latest stored benchmark (Registry::benchmarks) of each checked
// version against the first checked: cards, an accuracy-latency scatter with its Pareto front,
// the table `modelstudio-cli compare` prints, and confusion matrices.
class ComparePanel final : public Panel
{
    Q_OBJECT

public:
    enum class XAxis { Auto, Step, Epoch, WallTime };

    enum Tab { CurvesTab, VariantsTab };

    // `runner`: where the Variants tab's Benchmark button runs its job (none: the tab names the
    // CLI command instead).
    explicit ComparePanel(QString workspace, ms::JobRunner *runner = nullptr,
                          QWidget *parent = nullptr);
    ~ComparePanel() override;

    QString id() const override { return QStringLiteral("compare"); }
    QString title() const override { return tr("Compare"); }
    QIcon icon() const override;
    void saveState(QSettings &settings) const override;
    void restoreState(QSettings &settings) override;

    // Re-reads the registry; checked items that still exist stay checked.
    void reload();
    // Checks the `count` newest versions that have curves; returns how many.
    int selectNewest(int count);
    // Checks the `count` newest versions that have a stored benchmark, the oldest of them
    // first (so it is the baseline), unchecking the rest; returns how many.
    int selectBenchmarked(int count);
    void showTab(Tab tab);
    // Checks or unchecks one item by ref ("cnn:3") or key ("v:12", "r:7").
    bool setChecked(const QString &keyOrRef, bool checked);
    // False when none of the checked runs logs that key.
    bool setMetric(const QString &key);
    QString metric() const;
    void setXAxis(XAxis axis);

    QString statusText() const { return m_status->statusText(); }
    bool statusIsError() const { return m_status->isError(); }

    // The colour of the i-th checked item: distinct for the first ten, then repeating.
    static QColor colorFor(int index);

    // The ids of the plot's series (the checked items' keys that have points), in draw order.
    QStringList seriesIds() const { return m_seriesIds; }
    CompareSelectionModel *selectionModel() const { return m_selection; }
    CompareTableModel *tableModel() const { return m_table; }
    VariantsView *variants() const { return m_variants; }
    MetricPlot *plot() const { return m_plot; }
    QComboBox *metricCombo() const { return m_metric; }
    QTabWidget *tabs() const { return m_tabs; }

Q_SIGNALS:
    // The Variants tab's disagreement explorer asks to try a test sample with two versions.
    void tryRequested(qint64 sample, const QStringList &versions, const QString &source);

protected:
    void showEvent(QShowEvent *event) override;

private:
    void refresh();          // the metric list, then the curves and tables
    void refreshCurves(const ms::Registry &registry);
    void refreshBenchmarks(const ms::Registry &registry);

    QString m_workspace;
    bool m_loaded = false;
    QString m_wantedMetric;   // the user's choice, kept while a selection lacks it
    QStringList m_seriesIds;

    CompareSelectionModel *m_selection = nullptr;
    QSortFilterProxyModel *m_proxy = nullptr;
    QTreeView *m_tree = nullptr;
    QLineEdit *m_filter = nullptr;
    QComboBox *m_metric = nullptr;
    QComboBox *m_xAxis = nullptr;
    MetricPlot *m_plot = nullptr;
    CompareTableModel *m_table = nullptr;
    QTableView *m_tableView = nullptr;
    VariantsView *m_variants = nullptr;
    QTabWidget *m_tabs = nullptr;
    QSplitter *m_splitter = nullptr;
    QSplitter *m_rightSplitter = nullptr;
    StatusLine *m_status = nullptr;
};

} // namespace ms::ui
