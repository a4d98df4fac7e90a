// MetricPlot's layout on its own: the text shown in an empty plot is wrapped to the plot's
// width, however narrow the plot (it ran past both edges of the Train panel's accuracy plot in
// a 1024-pixel window). Offscreen.
#include "plots/MetricPlot.h"

#include <qcustomplot.h>

#include <QtTest>

using ms::ui::MetricPlot;

class TestMetricPlot final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void placeholderStaysInsideThePlot_data();
    void placeholderStaysInsideThePlot();
};

void TestMetricPlot::placeholderStaysInsideThePlot_data()
{
    QTest::addColumn<int>("width");
    QTest::newRow("narrow") << 220;
    QTest::newRow("wide") << 700;
}

void TestMetricPlot::placeholderStaysInsideThePlot()
{
    QFETCH(int, width);
    const QString text = QStringLiteral("Accuracy appears at the end of each epoch");
    MetricPlot plot;
    plot.setAxisLabels(QStringLiteral("epoch"), QStringLiteral("accuracy"));
    plot.setPlaceholderText(text);
    plot.resize(width, 240);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    plot.replotNow();

    QCPItemText *placeholder = plot.placeholderItem();
    QVERIFY(placeholder->visible());
    const QStringList lines = placeholder->text().split(QLatin1Char('\n'));
    QCOMPARE(lines.join(QLatin1Char(' ')), text);   // all of it, only broken into lines
    const QFontMetrics metrics(placeholder->font());
    const int room_px = plot.customPlot()->axisRect()->width();
    for (const QString &line : lines)
        QVERIFY2(metrics.horizontalAdvance(line) <= room_px,
                 qPrintable(QStringLiteral("\"%1\" is %2 px in a %3 px plot")
                                .arg(line).arg(metrics.horizontalAdvance(line)).arg(room_px)));
    if (width > 600)
        QCOMPARE(lines.size(), 1);
}

QTEST_MAIN(TestMetricPlot)
#include "tst_metricplot.moc"
