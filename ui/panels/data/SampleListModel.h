#pragma once

#include <QAbstractListModel>
#include <QImage>
#include <QPixmap>
#include <QStringList>
#include <QVector>

#include <vector>

namespace ms::ui {

// Sample images of a dataset split for a QListView in IconMode: the thumbnail (made from the
// float features here, in the UI layer, and cached once drawn) as the decoration and the class
// name as the text. Images are C x H x W with one (grey) or three (RGB) channels.
class SampleListModel final : public QAbstractListModel
{
    Q_OBJECT

public:
    static constexpr int LabelRole = Qt::UserRole + 1;   // the label index (qint64)
    static constexpr int ImageRole = Qt::UserRole + 2;   // the thumbnail as a QImage

    explicit SampleListModel(QObject *parent = nullptr);

    // `features` holds labels.size() samples of `shape`, row-major.
    void setSamples(std::vector<float> features, std::vector<qint64> labels,
                    std::vector<qint64> shape, QStringList classNames);
    void clear();
    // Thumbnails are drawn `scale` times the image size (nearest neighbour: pixels stay crisp).
    void setScale(int scale);
    // The decoration is the thumbnail centred on a transparent strip this wide: an icon-mode
    // view wraps a label to the decoration's width, and 56 px cannot hold "Ankle boot".
    void setDecorationWidth(int width_px);
    // Thumbnails larger than this on either side are shrunk (smoothly, keeping the aspect) to
    // fit: a 224x224 image must not spill over its grid cell and the label under it. 0: no limit.
    void setMaxSide(int side_px);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;

    // One sample as an image, values in [0, 1] mapped to 0..255; a sample outside [0, 1] is
    // stretched from its own minimum to its maximum so that it still shows.
    static QImage sampleImage(const float *values, const std::vector<qint64> &shape);

private:
    std::vector<float> m_features;
    std::vector<qint64> m_labels;
    std::vector<qint64> m_shape;
    QStringList m_classNames;
    qint64 m_sampleSize = 0;
    int m_scale = 2;
    int m_decorationWidth_px = 0;
    int m_maxSide_px = 0;
    const QImage &thumbnail(int row) const;

    mutable QVector<QImage> m_cache;   // drawn on first request: only visible rows cost
    mutable QVector<QPixmap> m_decorations;
};

} // namespace ms::ui
