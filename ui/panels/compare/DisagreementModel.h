#pragma once

#include <QAbstractListModel>
#include <QImage>
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>

namespace ms::ui {

// The test samples two versions disagree on, one item each, from a DisagreementJob's output
// (what `modelstudio-cli disagree --json` prints, with thumbnails): the grid of the Compare
// panel's disagreement explorer. DisplayRole is "#index", DecorationRole the thumbnail (null
// when the samples are no images or beyond the job's thumbnail cap), ToolTipRole all of it.
class DisagreementModel final : public QAbstractListModel
{
    Q_OBJECT

public:
    enum Role {
        SampleRole = Qt::UserRole + 1, // qint64: index in the test split, file order
        LabelRole, // int: true class
        PredictionARole, // int
        PredictionBRole,
        ConfidenceARole, // double in [0, 1]
        ConfidenceBRole,
    };

    explicit DisagreementModel(QObject *parent = nullptr);

    // Replaces the items with the samples of `output`; an empty object clears them.
    void setResult(const QJsonObject &output);
    void clear() { setResult({}); }

    QString versionA() const { return m_a; }
    QString versionB() const { return m_b; }
    QString source() const { return m_source; }
    // "3 Dress" when the dataset names its classes, else "3".
    QString classText(int index) const;
    QVector<qint64> sampleIndices() const;

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;

private:
    struct Item
    {
        qint64 sample = 0;
        int label = -1;
        int predictedA = -1;
        int predictedB = -1;
        double confidenceA = 0.0;
        double confidenceB = 0.0;
        QImage thumbnail;
    };

    QString m_a;
    QString m_b;
    QString m_source;
    QStringList m_classNames;
    QVector<Item> m_items;
};

} // namespace ms::ui
