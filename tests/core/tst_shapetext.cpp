// ms::shapeText: the one writer of shapes, in each of its styles, for the shapes the studio
// meets (a sample, a batch of any size, a scalar's empty shape).
#include "common/ShapeText.h"

#include <QtTest>

using ms::ShapeStyle;

Q_DECLARE_METATYPE(ms::ShapeStyle)
Q_DECLARE_METATYPE(std::vector<qint64>)

class TestShapeText final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void styles_data()
    {
        QTest::addColumn<std::vector<qint64>>("shape");
        QTest::addColumn<ShapeStyle>("style");
        QTest::addColumn<QString>("text");
        const std::vector<qint64> sample{1, 28, 28};
        const std::vector<qint64> batch{-1, 1, 28, 28};
        QTest::newRow("compact") << sample << ShapeStyle::Compact << QStringLiteral("1x28x28");
        QTest::newRow("window") << sample << ShapeStyle::Window
                                << QStringLiteral("1\u00D728\u00D728");
        QTest::newRow("list") << batch << ShapeStyle::List << QStringLiteral("[-1, 1, 28, 28]");
        QTest::newRow("batch") << batch << ShapeStyle::Batch << QStringLiteral("[N, 1, 28, 28]");
        QTest::newRow("token batch") << std::vector<qint64>{-1, -1} << ShapeStyle::Batch
                                     << QStringLiteral("[N, T]");
        QTest::newRow("arguments") << batch << ShapeStyle::Arguments
                                   << QStringLiteral("N, 1, 28, 28");
        QTest::newRow("arguments, fixed batch")
            << std::vector<qint64>{8, 4} << ShapeStyle::Arguments << QStringLiteral("8, 4");
        // Only the styles that say "N" turn a negative dimension into it.
        QTest::newRow("compact keeps -1")
            << batch << ShapeStyle::Compact << QStringLiteral("-1x1x28x28");
        QTest::newRow("empty list") << std::vector<qint64>{} << ShapeStyle::List
                                    << QStringLiteral("[]");
        QTest::newRow("empty compact") << std::vector<qint64>{} << ShapeStyle::Compact
                                       << QString();
        QTest::newRow("one dimension") << std::vector<qint64>{784} << ShapeStyle::Window
                                       << QStringLiteral("784");
    }
    void styles()
    {
        QFETCH(std::vector<qint64>, shape);
        QFETCH(ShapeStyle, style);
        QFETCH(QString, text);
        QCOMPARE(ms::shapeText(shape, style), text);
    }
};

QTEST_GUILESS_MAIN(TestShapeText)
#include "tst_shapetext.moc"
