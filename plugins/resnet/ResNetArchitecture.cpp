#include "ResNetArchitecture.h"

#include "common/Error.h"
#include "models/ArchSpec.h"

#include <QJsonArray>
#include <QLocale>
#include <QStringList>

namespace msplugin {

namespace {

QJsonObject conv3x3(qint64 out, qint64 stride)
{
    // No bias: the batch norm that follows has its own shift.
    return QJsonObject{{QStringLiteral("type"), QStringLiteral("conv2d")},
                       {QStringLiteral("out"), out},
                       {QStringLiteral("kernel"), 3},
                       {QStringLiteral("stride"), stride},
                       {QStringLiteral("padding"), 1},
                       {QStringLiteral("bias"), false}};
}

QJsonObject plain(const char *type)
{
    return QJsonObject{{QStringLiteral("type"), QLatin1String(type)}};
}

QJsonObject basicBlock(qint64 out, qint64 stride)
{
    return QJsonObject{
        {QStringLiteral("type"), QStringLiteral("residual")},
        {QStringLiteral("layers"),
         QJsonArray{conv3x3(out, stride), plain("batchnorm"), plain("relu"), conv3x3(out, 1),
                    plain("batchnorm")}}};
}

// A 3x3 conv with padding 1 keeps the size at stride 1 and halves it (rounding up) at 2.
qint64 afterStride(qint64 size, qint64 stride)
{
    return (size + 2 - 3) / stride + 1;
}

} // namespace

ResNetArchitecture::ResNetArchitecture(QString name, int depth, int width)
    : m_name(std::move(name)), m_depth(depth), m_width(width)
{
    Q_ASSERT((depth - 2) % 6 == 0 && depth >= 8 && width >= 1);
}

QString ResNetArchitecture::description() const
{
    QLocale locale = QLocale::c();
    locale.setNumberOptions(QLocale::DefaultNumberOptions);
    const qint64 params = ms::ArchSpec::fromJson(makeSpec({1, 28, 28}, 10)).summary().totalParams;
    return QStringLiteral("ResNet-%1, width %2: 3 stages of %3 residual block(s) at %2/%4/%5 "
                          "channels, global average pool (%6 params on 1x28x28 with 10 "
                          "classes; resnet plugin); needs image input (CxHxW).")
        .arg(m_depth).arg(m_width).arg((m_depth - 2) / 6).arg(2 * m_width).arg(4 * m_width)
        .arg(locale.toString(params));
}

QJsonObject ResNetArchitecture::makeSpec(const std::vector<qint64> &inputShape,
                                         int numClasses) const
{
    if (inputShape.size() != 3) {
        QStringList dims;
        for (qint64 d : inputShape)
            dims << QString::number(d);
        throw ms::Error(QStringLiteral("The \"%1\" architecture needs images (channels x "
                                       "height x width), not samples of shape [%2]; use "
                                       "\"mlp\" for tables.")
                            .arg(m_name, dims.join(QLatin1String(", "))));
    }
    const int blocks = (m_depth - 2) / 6;
    QJsonArray layers{conv3x3(m_width, 1), plain("batchnorm"), plain("relu")};
    qint64 height = inputShape[1];
    qint64 width = inputShape[2];
    for (int stage = 0; stage < 3; ++stage) {
        const qint64 channels = qint64(m_width) << stage;
        for (int block = 0; block < blocks; ++block) {
            const qint64 stride = stage > 0 && block == 0 ? 2 : 1;
            layers.append(basicBlock(channels, stride));
            height = afterStride(height, stride);
            width = afterStride(width, stride);
        }
    }
    // Global average pooling as one avgpool2d over the whole last feature map: the spec has
    // no adaptive pool, and the shape is known once the spec is bound to the data.
    layers.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("avgpool2d")},
                              {QStringLiteral("kernel"), QJsonArray{height, width}}});
    layers.append(plain("flatten"));
    layers.append(QJsonObject{{QStringLiteral("type"), QStringLiteral("linear")},
                              {QStringLiteral("out"), QStringLiteral("num_classes")}});
    const QJsonObject spec{{QStringLiteral("name"), m_name}, {QStringLiteral("layers"), layers}};
    return ms::ArchSpec::fromJson(spec).boundTo(inputShape, numClasses).toJson();
}

} // namespace msplugin
