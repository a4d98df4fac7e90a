#pragma once

#include <QStringList>
#include <QVector>
#include <QWidget>

#include <vector>

class QCustomPlot;
class QCPBars;
class QCPBarsGroup;

namespace ms::ui {

// Samples per class for each split of a dataset, as grouped QCustomPlot bars with the class
// names under the axis and the split sizes in the legend: a skewed split shows at a glance.
class ClassHistogram final : public QWidget
{
    Q_OBJECT

public:
    struct Split
    {
        QString name;
        std::vector<qint64> counts;   // one per class
    };

    explicit ClassHistogram(QWidget *parent = nullptr);

    // Empty splits (a CSV has no test split) are left out.
    void setData(const QStringList &classNames, const QVector<Split> &splits);
    void clear();

    // The split names shown, and one split's bar heights in class order (for tests).
    QStringList splitNames() const;
    QVector<double> values(const QString &split) const;

    QCustomPlot *customPlot() const { return m_plot; }
    // Each class's name under the axis as drawn: empty where the bars are too narrow for every
    // name and only every k-th is shown.
    QStringList shownTickLabels() const;

protected:
    void resizeEvent(QResizeEvent *event) override;

private:
    // Names every class that has room and leaves the margin the first tilted name reaches
    // into (QCustomPlot leaves out a label that would cross the plot's edge); true when that
    // changed. With `growOnly` it never names more classes than now.
    bool fitTickLabels(bool growOnly);

    QCustomPlot *m_plot = nullptr;
    QStringList m_classNames;
    int m_labelStep = 0;
    int m_relabelPasses = 0;   // since the last data or resize
    QCPBarsGroup *m_group = nullptr;
    QVector<QCPBars *> m_bars;
};

} // namespace ms::ui
