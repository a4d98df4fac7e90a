#pragma once

#include "Panel.h"

#include <QColor>
#include <QString>

class QComboBox;
class QLabel;
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

class BenchmarkTableModel;
class CompareSelectionModel;
class CompareTableModel;
class MetricPlot;

// Several runs or versions side by side: check them in a tree grouped by model (filterable),
// pick a metric from the union of their metric keys, and see their curves overlaid (one colour
// per item, legend) over a table of final and best values. The "Variants" tab shows the stored
// benchmark results (Registry::benchmarks) of the checked versions, so compressed variants and
// their accuracy, latency, size and memory land here once benchmarked.
class ComparePanel final : public Panel
{
    Q_OBJECT

public:
    enum class XAxis { Auto, Step, Epoch, WallTime };

    explicit ComparePanel(QString workspace, QWidget *parent = nullptr);
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
    // Checks or unchecks one item by ref ("cnn:3") or key ("v:12", "r:7").
    bool setChecked(const QString &keyOrRef, bool checked);
    // False when none of the checked runs logs that key.
    bool setMetric(const QString &key);
    QString metric() const;
    void setXAxis(XAxis axis);

    QString statusText() const { return m_statusPlain; }
    bool statusIsError() const { return m_statusError; }

    // The colour of the i-th checked item: distinct for the first ten, then repeating.
    static QColor colorFor(int index);

    // The ids of the plot's series (the checked items' keys that have points), in draw order.
    QStringList seriesIds() const { return m_seriesIds; }
    CompareSelectionModel *selectionModel() const { return m_selection; }
    CompareTableModel *tableModel() const { return m_table; }
    BenchmarkTableModel *benchmarkModel() const { return m_benchmarks; }
    MetricPlot *plot() const { return m_plot; }
    QComboBox *metricCombo() const { return m_metric; }
    QTabWidget *tabs() const { return m_tabs; }

protected:
    void showEvent(QShowEvent *event) override;

private:
    void refresh();          // the metric list, then the curves and tables
    void refreshCurves(const ms::Registry &registry);
    void refreshBenchmarks(const ms::Registry &registry);
    void setStatus(const QString &text, bool error);

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
    BenchmarkTableModel *m_benchmarks = nullptr;
    QTableView *m_benchmarkView = nullptr;
    QLabel *m_benchmarkEmpty = nullptr;
    QTabWidget *m_tabs = nullptr;
    QSplitter *m_splitter = nullptr;
    QSplitter *m_rightSplitter = nullptr;
    QLabel *m_status = nullptr;
    QString m_statusPlain;
    bool m_statusError = false;
};

} // namespace ms::ui
