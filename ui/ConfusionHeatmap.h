#pragma once

#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>

class QCPColorMap;
class QCustomPlot;

namespace ms::ui {

// A confusion matrix as a heat map: true class down the side (first at the top), predicted
// class along the bottom, class names on both axes, the count written in each cell while the
// matrix is small enough to read (in a tooltip otherwise). The colour map holds the counts
// themselves, its scale running from 0 to the largest class's sample count.
class ConfusionHeatmap final : public QWidget
{
    Q_OBJECT

public:
    explicit ConfusionHeatmap(QWidget *parent = nullptr);

    // `matrix[t][p]`: how many test samples of true class t were predicted as p. Rows must
    // have the same length; an empty matrix shows `title` and a note instead.
    void setMatrix(const QString &title, const QStringList &classNames,
                   const QVector<QVector<double>> &matrix);

    QString title() const { return m_title; }
    int classCount() const { return m_classes; }
    // The count drawn at (true, predicted), read back from the colour map's data.
    double cellCount(int trueClass, int predictedClass) const;
    QCustomPlot *customPlot() const { return m_plot; }

private:
    QCustomPlot *m_plot = nullptr;
    QCPColorMap *m_map = nullptr;
    QString m_title;
    int m_classes = 0;
    QStringList m_classNames;
};

} // namespace ms::ui
