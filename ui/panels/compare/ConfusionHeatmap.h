#pragma once

#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>

#include <array>

class QCPAxis;
class QCPColorMap;
class QCustomPlot;

namespace ms::ui {

// A confusion matrix as a heat map: true class down the side (first at the top), predicted
// class along the bottom, class names on both axes, the count written in each cell while the
// matrix is small enough to read (in a tooltip otherwise). When the cells are smaller than a
// line of text, only every k-th class is named on an axis, so the names never overlap. The
// colour map holds the counts themselves, its scale running from 0 to the largest class's
// sample count.
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
    // Each class's tick label on that axis as drawn: the name, or empty where the cells are too
    // small for every name and only every k-th is shown.
    QStringList shownTickLabels(Qt::Orientation orientation) const;

protected:
    void resizeEvent(QResizeEvent *event) override;

private:
    // Every how many classes a name fits along the axis at its current length.
    int labelStep(const QCPAxis *axis) const;
    // Labels every class that has room (with `growOnly`, never more than now); true when that
    // changed.
    bool updateTickLabels(bool growOnly);

    QCustomPlot *m_plot = nullptr;
    QCPColorMap *m_map = nullptr;
    QString m_title;
    int m_classes = 0;
    QStringList m_classNames;
    std::array<int, 2> m_labelSteps{0, 0};   // x, y
    int m_relabelPasses = 0;                  // since the last matrix or resize
};

} // namespace ms::ui
