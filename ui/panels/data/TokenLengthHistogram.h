#pragma once

#include <QString>
#include <QVector>
#include <QWidget>

#include <vector>

class QCustomPlot;
class QCPBars;

namespace ms::ui {

// How many records of a text dataset are how many tokens long, as QCustomPlot bars over equal
// bins of length: a glance says whether a model's context (block_size) holds the records or
// cuts most of them.
class TokenLengthHistogram final : public QWidget
{
    Q_OBJECT

public:
    explicit TokenLengthHistogram(QWidget *parent = nullptr);

    // Bin i counts the records with edges[i] <= length < edges[i + 1] (edges has one more
    // entry than counts); with `overflow`, the last bin counts the longer ones too (the axis
    // says so). `tokenizer` names the unit on the axis ("byte").
    void setData(const std::vector<qint64> &edges, const std::vector<qint64> &counts,
                 const QString &tokenizer, bool overflow = false);
    void clear();

    // The records counted (the bars' sum) and the bars' heights, for tests.
    qint64 total() const;
    QVector<double> values() const;
    QCustomPlot *customPlot() const { return m_plot; }

private:
    QCustomPlot *m_plot = nullptr;
    QCPBars *m_bars = nullptr;
};

} // namespace ms::ui
