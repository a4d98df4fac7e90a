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

private:
    QCustomPlot *m_plot = nullptr;
    QCPBarsGroup *m_group = nullptr;
    QVector<QCPBars *> m_bars;
};

} // namespace ms::ui
