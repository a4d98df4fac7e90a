#include "panels/compare/DisagreementModel.h"

#include <QJsonArray>

namespace ms::ui {

namespace {

// A C x H x W picture of bytes (DisagreementJob's thumbnail) as an image; null when the shape
// is no picture or the bytes do not fill it.
QImage imageOf(const QByteArray &bytes, const QJsonArray &shape)
{
    if (shape.size() != 3)
        return {};
    const int c = shape.at(0).toInt();
    const int h = shape.at(1).toInt();
    const int w = shape.at(2).toInt();
    if ((c != 1 && c != 3) || h <= 0 || w <= 0 || bytes.size() != qsizetype(c) * h * w)
        return {};
    QImage image(w, h, c == 1 ? QImage::Format_Grayscale8 : QImage::Format_RGB888);
    const auto *in = reinterpret_cast<const uchar *>(bytes.constData());
    for (int y = 0; y < h; ++y) {
        uchar *row = image.scanLine(y);
        for (int x = 0; x < w; ++x) {
            if (c == 1)
                row[x] = in[y * w + x];
            else
                for (int k = 0; k < 3; ++k)
                    row[3 * x + k] = in[(k * h + y) * w + x];
        }
    }
    return image;
}

} // namespace

DisagreementModel::DisagreementModel(QObject *parent)
    : QAbstractListModel(parent)
{ }

void DisagreementModel::setResult(const QJsonObject &output)
{
    beginResetModel();
    m_a = output.value(QStringLiteral("a")).toString();
    m_b = output.value(QStringLiteral("b")).toString();
    m_source = output.value(QStringLiteral("source")).toString();
    m_classNames.clear();
    for (const QJsonValue &v : output.value(QStringLiteral("class_names")).toArray())
        m_classNames << v.toString();
    m_items.clear();
    const QJsonArray samples = output.value(QStringLiteral("samples")).toArray();
    const QJsonArray thumbnails = output.value(QStringLiteral("thumbnails")).toArray();
    const QJsonArray shape = output.value(QStringLiteral("sample_shape")).toArray();
    m_items.reserve(samples.size());
    for (qsizetype i = 0; i < samples.size(); ++i) {
        const QJsonObject s = samples.at(i).toObject();
        const QJsonObject a = s.value(QStringLiteral("a")).toObject();
        const QJsonObject b = s.value(QStringLiteral("b")).toObject();
        Item item;
        item.sample = s.value(QStringLiteral("index")).toInteger();
        item.label = s.value(QStringLiteral("label")).toInt();
        item.predictedA = a.value(QStringLiteral("prediction")).toInt();
        item.predictedB = b.value(QStringLiteral("prediction")).toInt();
        item.confidenceA = a.value(QStringLiteral("confidence")).toDouble();
        item.confidenceB = b.value(QStringLiteral("confidence")).toDouble();
        if (i < thumbnails.size())
            item.thumbnail = imageOf(
                QByteArray::fromBase64(thumbnails.at(i).toString().toLatin1()), shape);
        m_items << item;
    }
    endResetModel();
}

QString DisagreementModel::classText(int index) const
{
    const QString name = m_classNames.value(index);
    return name.isEmpty() || name == QString::number(index)
               ? QString::number(index)
               : QStringLiteral("%1 %2").arg(QString::number(index), name);
}

QVector<qint64> DisagreementModel::sampleIndices() const
{
    QVector<qint64> out;
    out.reserve(m_items.size());
    for (const Item &item : m_items)
        out << item.sample;
    return out;
}

int DisagreementModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_items.size());
}

QVariant DisagreementModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_items.size())
        return {};
    const Item &item = m_items.at(index.row());
    const auto percent = [](double p) { return QString::number(100.0 * p, 'f', 0); };
    switch (role) {
    case Qt::DisplayRole:
        return QStringLiteral("#%1").arg(item.sample);
    case Qt::DecorationRole:
        return item.thumbnail;
    case Qt::ToolTipRole:
        return tr("Test sample %1, true class %2\n%3: %4 (%5 %)\n%6: %7 (%8 %)\n"
                  "Double-click to try it with both versions.")
            .arg(QString::number(item.sample), classText(item.label), m_a,
                 classText(item.predictedA), percent(item.confidenceA), m_b,
                 classText(item.predictedB), percent(item.confidenceB));
    case SampleRole:
        return item.sample;
    case LabelRole:
        return item.label;
    case PredictionARole:
        return item.predictedA;
    case PredictionBRole:
        return item.predictedB;
    case ConfidenceARole:
        return item.confidenceA;
    case ConfidenceBRole:
        return item.confidenceB;
    default:
        return {};
    }
}

} // namespace ms::ui
