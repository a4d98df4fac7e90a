#pragma once

#include "bench/Comparison.h"

#include <QAbstractTableModel>
#include <QColor>
#include <QVector>

namespace ms::ui {

// The Compare panel's table of benchmarked variants: exactly the rows of an ms::Comparison
// (what `modelstudio-cli compare` prints), one per version, the first being the baseline. A
// cell shows the value with its delta against the baseline, as the CLI's text table does; the
// delta is coloured green when better and red when worse, which the CLI cannot do.
class VariantTableModel final : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Role {
        ValueRole = Qt::UserRole,   // the raw value (number, text or null)
        DiffRole,                   // value - baseline's, invalid for the baseline or no delta
        RatioRole,                  // value / baseline's
        BetterRole,                 // +1 better than the baseline, -1 worse, 0 same or n/a
    };

    explicit VariantTableModel(QObject *parent = nullptr);

    // `colors`: one per row of `comparison`, for the version column's swatch.
    void setComparison(ms::Comparison comparison, QVector<QColor> colors);
    const ms::Comparison &comparison() const { return m_comparison; }

    // The column of a Comparison key ("test_acc") among those the comparison shows (a
    // language model's differ from a classifier's), -1 when there is none.
    int columnOf(const QString &key) const;
    // +1 when a larger value of `key` is better (accuracy, throughput, tokens/s), -1 when
    // smaller is (latency, size, memory, loss, perplexity), 0 when neither (thread count).
    static int direction(const QString &key);

    // +1, -1 or 0 for a ratio against the baseline of a key whose direction is `direction`:
    // within half a percent counts as the same, as the two decimals shown would say "1.00".
    static int ratioVerdict(double ratio, int direction);
    // The same for an accuracy difference (a fraction): under 0.005 points is the same.
    static int pointsVerdict(double diff);
    // The same for a loss difference (nats): under 0.0005 is the same.
    static int differenceVerdict(double diff, int direction);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    int columnCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    ms::Comparison m_comparison;
    QList<ms::Comparison::Column> m_columns;
    QList<QStringList> m_text;   // Comparison::textRows(), computed once
    QVector<QColor> m_colors;
};

} // namespace ms::ui
