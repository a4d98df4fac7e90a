// The Serve panel's traffic view on its own: requests per second and latency p50/p99 from the
// records it is fed, and a layout that keeps the latency legend off the curves (it sat in the
// plot's lower right corner, over the newest points). Offscreen.
#include "panels/serve/ServeTraffic.h"
#include "plots/MetricPlot.h"

#include <qcustomplot.h>

#include <QtTest>

using ms::ui::ServeTraffic;

class TestServeTraffic final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void latencyLegendIsOutsideTheData_data();
    void latencyLegendIsOutsideTheData();
};

void TestServeTraffic::latencyLegendIsOutsideTheData_data()
{
    QTest::addColumn<QSize>("size");
    QTest::newRow("default window") << QSize(760, 520);
    QTest::newRow("small window") << QSize(520, 360);
}

void TestServeTraffic::latencyLegendIsOutsideTheData()
{
    QFETCH(QSize, size);
    ServeTraffic traffic;
    traffic.resize(size);
    traffic.show();
    QVERIFY(QTest::qWaitForWindowExposed(&traffic));
    traffic.start();
    for (int i = 0; i < 40; ++i) {
        ms::RequestRecord record;
        record.time = QDateTime::currentDateTime();
        record.method = QStringLiteral("POST");
        record.path = QStringLiteral("/v2/models/resnet18-finetuned-cifar/infer");
        record.status = 200;
        record.latency_us = 1000.0 + 100.0 * i;
        traffic.record(record);
    }
    traffic.stop();   // plots the partial second

    QCustomPlot *plot = traffic.latencyPlot()->customPlot();
    QCOMPARE(traffic.latencyPlot()->pointCount(QStringLiteral("p99")), 1);
    QVERIFY(plot->legend->visible());
    QCOMPARE(plot->legend->itemCount(), 2);   // p50, p99
    const QRect legend = plot->legend->outerRect();
    const QRect data = plot->axisRect()->rect();
    QVERIFY(!legend.isEmpty());
    QVERIFY2(!legend.intersects(data),
             qPrintable(QStringLiteral("legend (%1,%2 %3x%4) over the data (%5,%6 %7x%8)")
                            .arg(legend.x()).arg(legend.y()).arg(legend.width())
                            .arg(legend.height()).arg(data.x()).arg(data.y())
                            .arg(data.width()).arg(data.height())));
    // Both entries are drawn in full inside the plot.
    for (int i = 0; i < plot->legend->itemCount(); ++i)
        QVERIFY(plot->rect().contains(plot->legend->item(i)->outerRect()));
}

QTEST_MAIN(TestServeTraffic)
#include "tst_servetraffic.moc"
