#include "panels/data/SampleListModel.h"

#include <QPainter>

#include <algorithm>

namespace ms::ui {

SampleListModel::SampleListModel(QObject *parent)
    : QAbstractListModel(parent)
{}

void SampleListModel::setSamples(std::vector<float> features, std::vector<qint64> labels,
                                 std::vector<qint64> shape, QStringList classNames)
{
    beginResetModel();
    m_features = std::move(features);
    m_labels = std::move(labels);
    m_shape = std::move(shape);
    m_classNames = std::move(classNames);
    m_sampleSize = 1;
    for (const qint64 dim : m_shape)
        m_sampleSize *= dim;
    if (m_shape.size() != 3 || m_sampleSize <= 0
        || qint64(m_features.size()) < m_sampleSize * qint64(m_labels.size())) {
        // Not images, or fewer values than samples: nothing to draw.
        m_labels.clear();
        m_features.clear();
    }
    m_cache = QVector<QImage>(qsizetype(m_labels.size()));
    m_decorations = QVector<QPixmap>(qsizetype(m_labels.size()));
    endResetModel();
}

void SampleListModel::clear()
{
    setSamples({}, {}, {}, {});
}

void SampleListModel::setScale(int scale)
{
    scale = std::max(1, scale);
    if (scale == m_scale)
        return;
    beginResetModel();
    m_scale = scale;
    m_cache = QVector<QImage>(qsizetype(m_labels.size()));
    m_decorations = QVector<QPixmap>(qsizetype(m_labels.size()));
    endResetModel();
}

void SampleListModel::setDecorationWidth(int width_px)
{
    if (width_px == m_decorationWidth_px)
        return;
    beginResetModel();
    m_decorationWidth_px = width_px;
    m_decorations = QVector<QPixmap>(qsizetype(m_labels.size()));
    endResetModel();
}

void SampleListModel::setMaxSide(int side_px)
{
    side_px = std::max(0, side_px);
    if (side_px == m_maxSide_px)
        return;
    beginResetModel();
    m_maxSide_px = side_px;
    m_cache = QVector<QImage>(qsizetype(m_labels.size()));
    m_decorations = QVector<QPixmap>(qsizetype(m_labels.size()));
    endResetModel();
}

int SampleListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_labels.size());
}

QVariant SampleListModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= int(m_labels.size()))
        return {};
    const int row = index.row();
    const qint64 label = m_labels[size_t(row)];
    const QString name = label >= 0 && label < m_classNames.size()
        ? m_classNames.at(label) : QString::number(label);
    switch (role) {
    case Qt::DisplayRole:
        return name;
    case Qt::ToolTipRole:
        return tr("Sample %1: %2 (label %3)")
            .arg(QString::number(row + 1), name, QString::number(label));
    case Qt::DecorationRole: {
        QPixmap &decoration = m_decorations[row];
        if (decoration.isNull()) {
            const QImage &image = thumbnail(row);
            decoration = QPixmap(qMax(image.width(), m_decorationWidth_px), image.height());
            decoration.fill(Qt::transparent);
            QPainter painter(&decoration);
            painter.drawImage((decoration.width() - image.width()) / 2, 0, image);
        }
        return decoration;
    }
    case ImageRole:
        return thumbnail(row);
    case LabelRole:
        return label;
    default:
        return {};
    }
}

const QImage &SampleListModel::thumbnail(int row) const
{
    QImage &image = m_cache[row];
    if (image.isNull()) {
        const QImage raw = sampleImage(m_features.data() + qint64(row) * m_sampleSize, m_shape);
        image = raw.scaled(raw.size() * m_scale, Qt::IgnoreAspectRatio, Qt::FastTransformation);
        if (m_maxSide_px > 0 && (image.width() > m_maxSide_px || image.height() > m_maxSide_px))
            image = image.scaled(m_maxSide_px, m_maxSide_px, Qt::KeepAspectRatio,
                                 Qt::SmoothTransformation);
    }
    return image;
}

QImage SampleListModel::sampleImage(const float *values, const std::vector<qint64> &shape)
{
    if (shape.size() != 3 || (shape[0] != 1 && shape[0] != 3) || shape[1] <= 0 || shape[2] <= 0)
        return {};
    const int channels = int(shape[0]);
    const int height = int(shape[1]);
    const int width = int(shape[2]);
    const qint64 plane = qint64(height) * width;
    const auto [lowest, highest] = std::minmax_element(values, values + channels * plane);
    float offset = 0.0f;
    float range = 1.0f;
    if (*lowest < 0.0f || *highest > 1.0f) {
        offset = *lowest;
        range = std::max(*highest - *lowest, 1e-6f);
    }
    const auto byte = [offset, range](float v) {
        return uchar(std::clamp((v - offset) / range, 0.0f, 1.0f) * 255.0f + 0.5f);
    };
    QImage image(width, height,
                 channels == 1 ? QImage::Format_Grayscale8 : QImage::Format_RGB888);
    for (int y = 0; y < height; ++y) {
        uchar *line = image.scanLine(y);
        for (int x = 0; x < width; ++x) {
            const qint64 at = qint64(y) * width + x;
            if (channels == 1) {
                line[x] = byte(values[at]);
            } else {
                for (int c = 0; c < 3; ++c)
                    line[3 * x + c] = byte(values[c * plane + at]);
            }
        }
    }
    return image;
}

} // namespace ms::ui
