// The Serve panel end to end: a registry version (built, not trained) -> Start -> a real v2
// infer request over HTTP -> request log and live plots -> Stop; plus a port already taken and
// an unknown model. Offscreen, isolated workspace.
#include "panels/serve/RequestLogModel.h"
#include "panels/serve/ServeExample.h"
#include "panels/serve/ServePanel.h"
#include "plots/MetricPlot.h"
#include "ui/TinyModel.h"

#include "models/ArchitectureRegistry.h"
#include "models/Model.h"
#include "registry/Registry.h"
#include "serve/InferProtocol.h"

#include <QAbstractButton>
#include <QComboBox>
#include <QFile>
#include <QLineEdit>
#include <QTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QtTest>

using ms::ui::ServePanel;

namespace {

const QString kModelName = QStringLiteral("tiny-mlp");

quint16 freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

QJsonObject inferBody()
{
    QJsonArray data;
    for (int i = 0; i < 28 * 28; ++i)
        data.append((i % 7) / 7.0);
    return QJsonObject{
        {QStringLiteral("id"), QStringLiteral("tst-1")},
        {QStringLiteral("inputs"),
         QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("input")},
                                {QStringLiteral("shape"), QJsonArray{1, 1, 28, 28}},
                                {QStringLiteral("datatype"), QStringLiteral("FP32")},
                                {QStringLiteral("data"), data}}}}};
}

} // namespace

class TestServePanel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void servesAnswersAndStops();
    void portTakenSuggestsAFreePort();
    void unknownModelIsRefused();
    void requestLogIsCapped();
    void curlExampleCarriesTheSample();
    void largeSampleGoesToAFile();
    void loadingKeepsTheWindowResponsive();
    void tokenFromFile();

private:
    static void pickModel(ServePanel &panel, const QString &ref);

    QTemporaryDir m_workspace;
};

void TestServePanel::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_workspace.isValid());

    const ms::NewVersion version = ms::test::tinyImageVersion(
        kModelName, m_workspace.filePath(QStringLiteral("tiny.pt")));
    ms::Registry(m_workspace.path()).addVersion(version);
}

void TestServePanel::pickModel(ServePanel &panel, const QString &ref)
{
    panel.refreshModels();
    QComboBox *combo = panel.modelCombo();
    const int index = combo->findData(ref);
    QVERIFY2(index >= 0, qPrintable(QStringLiteral("no %1 in the picker").arg(ref)));
    combo->setCurrentIndex(index);
}

void TestServePanel::servesAnswersAndStops()
{
    ServePanel panel(m_workspace.path());
    panel.resize(1200, 800);
    panel.show();
    pickModel(panel, kModelName + QStringLiteral(":1"));
    QTest::mouseClick(panel.addButton(), Qt::LeftButton);
    QCOMPARE(panel.modelRefs(), QStringList{kModelName + QStringLiteral(":1")});

    const quint16 port = freePort();
    QVERIFY(port != 0);
    panel.setPort(port);
    QTest::mouseClick(panel.startButton(), Qt::LeftButton);
    QVERIFY2(!panel.statusIsError(), qPrintable(panel.statusText()));
    QVERIFY(panel.isListening());
    QVERIFY2(panel.urlLabel()->text().contains(QString::number(port)),
             qPrintable(panel.urlLabel()->text()));
    // The model loads on a worker thread, then shows up.
    QTRY_COMPARE(panel.modelsTable()->rowCount(), 1);
    QVERIFY2(!panel.statusIsError(), qPrintable(panel.statusText()));
    QCOMPARE(panel.modelsTable()->item(0, 0)->text(), kModelName);
    QCOMPARE(panel.modelsTable()->item(0, 1)->text(), kModelName + QStringLiteral(":1"));
    QTRY_VERIFY(panel.curlText().contains(QStringLiteral("/v2/models/%1/infer").arg(kModelName)));

    QNetworkAccessManager network;
    QNetworkRequest request(QUrl(panel.url() + QStringLiteral("/v2/models/%1/infer")
                                                   .arg(kModelName)));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    QNetworkReply *reply =
        network.post(request, QJsonDocument(inferBody()).toJson(QJsonDocument::Compact));
    QSignalSpy finished(reply, &QNetworkReply::finished);
    QVERIFY(finished.wait(20000));
    const QByteArray answer = reply->readAll();
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    const QJsonObject json = QJsonDocument::fromJson(answer).object();
    QCOMPARE(json.value(QStringLiteral("id")).toString(), QStringLiteral("tst-1"));
    QCOMPARE(json.value(QStringLiteral("outputs")).toArray().first().toObject()
                 .value(QStringLiteral("data")).toArray().size(), 10);
    reply->deleteLater();

    QTRY_VERIFY(panel.requestLog()->rowCount() >= 1);
    const ms::RequestRecord &record = panel.requestLog()->record(0);
    QCOMPARE(record.status, 200);
    QCOMPARE(record.method, QStringLiteral("POST"));
    QVERIFY(record.path.contains(kModelName));
    QTRY_VERIFY(panel.requestRatePlot()->pointCount(QStringLiteral("rps")) >= 1);
    QTRY_VERIFY(panel.latencyPlot()->pointCount(QStringLiteral("p50")) >= 1);
    QVERIFY(panel.latencyPlot()->point(QStringLiteral("p99"), 0).y() > 0.0);

    QTest::mouseClick(panel.stopButton(), Qt::LeftButton);
    QVERIFY(!panel.isListening());
    QVERIFY(panel.service() == nullptr);
    QCOMPARE(panel.modelsTable()->item(0, 3)->text(), QStringLiteral("on Start"));

    // A fresh manager: the first one's kept-alive connection would only report a close.
    QNetworkAccessManager after;
    QNetworkReply *refused =
        after.get(QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1/v2/health/live")
                                           .arg(port))));
    QSignalSpy refusedDone(refused, &QNetworkReply::finished);
    QVERIFY(refusedDone.wait(10000));
    QCOMPARE(refused->error(), QNetworkReply::ConnectionRefusedError);
    refused->deleteLater();
}

void TestServePanel::portTakenSuggestsAFreePort()
{
    QTcpServer holder;
    QVERIFY(holder.listen(QHostAddress(QStringLiteral("127.0.0.1")), 0));
    const quint16 taken = holder.serverPort();

    ServePanel panel(m_workspace.path());
    pickModel(panel, kModelName);
    panel.setPort(taken);
    QTest::mouseClick(panel.startButton(), Qt::LeftButton);
    QVERIFY(!panel.isListening());
    QVERIFY(panel.statusIsError());
    QVERIFY2(panel.statusText().contains(QString::number(taken)),
             qPrintable(panel.statusText()));
    const quint16 suggested = ms::InferenceService::nextFreePort(QStringLiteral("127.0.0.1"),
                                                                 taken);
    QVERIFY(suggested != taken);
    QVERIFY2(panel.statusText().contains(QString::number(suggested)),
             qPrintable(panel.statusText()));
    QVERIFY(panel.startButton()->isEnabled());
}

void TestServePanel::unknownModelIsRefused()
{
    ServePanel panel(m_workspace.path());
    QVERIFY(!panel.addModel(QStringLiteral("no-such-model:7")));
    QVERIFY(panel.statusIsError());
    QVERIFY(panel.modelRefs().isEmpty());

    // While listening too: the server keeps running and keeps its other models.
    pickModel(panel, kModelName);
    panel.setPort(freePort());
    panel.start();
    QVERIFY2(panel.isListening(), qPrintable(panel.statusText()));
    QTRY_COMPARE(panel.modelsTable()->rowCount(), 1);
    QVERIFY(!panel.addModel(QStringLiteral("no-such-model")));
    QVERIFY(panel.statusIsError());
    QVERIFY(panel.isListening());
    QCOMPARE(panel.modelsTable()->rowCount(), 1);
    panel.stop();
}

void TestServePanel::requestLogIsCapped()
{
    ms::ui::RequestLogModel log(5);
    for (int i = 0; i < 12; ++i) {
        ms::RequestRecord record;
        record.time = QDateTime::currentDateTimeUtc();
        record.method = QStringLiteral("GET");
        record.path = QStringLiteral("/ping");
        record.status = 200 + i;
        record.latency_us = 1500.0;
        log.append(record);
    }
    QCOMPARE(log.rowCount(), 5);
    QCOMPARE(log.record(0).status, 211);   // newest first
    QCOMPARE(log.data(log.index(0, ms::ui::RequestLogModel::Latency)).toString(),
             QStringLiteral("1.50"));
}

void TestServePanel::curlExampleCarriesTheSample()
{
    const ms::ui::ServeSample zeros = ms::ui::sampleFor({3, 4});
    QCOMPARE(zeros.values.size(), size_t(12));
    ms::ui::CurlRequest request;
    request.url = QStringLiteral("http://127.0.0.1:8765");
    request.modelName = QStringLiteral("it's");
    request.token = QStringLiteral("abc");
    const QString command = ms::ui::curlCommand(request, zeros);
    QVERIFY(command.contains(QStringLiteral("/v2/models/it%27s/infer")));
    QVERIFY(command.contains(QStringLiteral("Authorization: Bearer abc")));
    QVERIFY(command.contains(QStringLiteral("\"shape\": [1, 3, 4]")));

    // 784 values for an image model: a Fashion-MNIST test image when installed, else zeros.
    const ms::ui::ServeSample image = ms::ui::sampleFor({1, 28, 28});
    QCOMPARE(image.values.size(), size_t(784));
    qInfo("28x28 sample: %s", qPrintable(image.description));

    // A model that carries its tokenizer gets text, which the server's own v2 parser reads as
    // BYTES (a prompt with a newline and a quote in it survives the shell and JSON quoting).
    ms::ui::ServeSample text = ms::ui::textSampleFor(QStringLiteral("lm"), QStringLiteral("spm-bpe"));
    QVERIFY(text.description.contains(QStringLiteral("spm-bpe")));
    text.texts = QStringList{QStringLiteral("Q: it's \"x\"\nA:")};
    const QByteArray body = ms::ui::requestBody(QStringLiteral("input"), text);
    const ms::protocol::InferInput parsed = ms::protocol::parseV2Infer(body, {-1}, QStringLiteral("INT64"),
                                                                       true);
    QVERIFY(parsed.text);
    QCOMPARE(int(parsed.texts.size()), 1);
    QCOMPARE(QString::fromUtf8(parsed.texts.front()), text.texts.front());
    const QString textCommand = ms::ui::curlCommand(request, text);
    QVERIFY2(textCommand.contains(QStringLiteral("BYTES")) && textCommand.contains(QStringLiteral("'\\''")),
             qPrintable(textCommand));
}

void TestServePanel::largeSampleGoesToAFile()
{
    // 3x224x224 spelled out on the command line is "Argument list too long": the body goes to
    // a file and curl sends it with -d @FILE.
    const ms::ui::ServeSample big = ms::ui::sampleFor({3, 224, 224});
    QCOMPARE(qint64(big.values.size()), qint64(150528));
    QVERIFY(qint64(big.values.size()) > ms::ui::kInlineSampleValues);
    QTemporaryDir dir;
    const QString file = dir.filePath(QStringLiteral("body.json"));
    QFile out(file);
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(ms::ui::requestBody(QStringLiteral("input"), big));
    out.close();
    ms::ui::CurlRequest request;
    request.url = QStringLiteral("http://127.0.0.1:8765");
    request.modelName = QStringLiteral("resnet18");
    const QString command = ms::ui::curlCommand(request, big, file);
    QVERIFY2(command.contains(QStringLiteral("-d @'%1'").arg(file)), qPrintable(command));
    QVERIFY(command.size() < 1000);
    QFile in(file);
    QVERIFY(in.open(QIODevice::ReadOnly));
    const QJsonObject body = QJsonDocument::fromJson(in.readAll()).object();
    const QJsonObject input = body.value(QStringLiteral("inputs")).toArray().first().toObject();
    QCOMPARE(input.value(QStringLiteral("shape")).toArray(), (QJsonArray{1, 3, 224, 224}));
    QCOMPARE(input.value(QStringLiteral("data")).toArray().size(), 150528);
}

void TestServePanel::loadingKeepsTheWindowResponsive()
{
    // Loading and warming up run on a worker: the event loop turns while the model loads.
    ServePanel panel(m_workspace.path());
    pickModel(panel, kModelName + QStringLiteral(":1"));
    panel.setPort(freePort());
    int ticksWhileLoading = 0;
    QTimer ticker;
    ticker.setInterval(0);
    connect(&ticker, &QTimer::timeout, &panel, [&] {
        if (panel.service() && panel.service()->loadsInProgress() > 0)
            ++ticksWhileLoading;
    });
    ticker.start();
    panel.start();
    QVERIFY(panel.isListening());
    QCOMPARE(panel.service()->loadsInProgress(), 1);   // start() returned before the load
    QTRY_COMPARE(panel.modelsTable()->rowCount(), 1);
    QVERIFY(ticksWhileLoading > 0);
    QVERIFY2(!panel.statusIsError(), qPrintable(panel.statusText()));
    QVERIFY2(panel.statusText().contains(QStringLiteral("serving")),
             qPrintable(panel.statusText()));
    panel.stop();
}

void TestServePanel::tokenFromFile()
{
    ServePanel panel(m_workspace.path());
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("token"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("abc123\n");
    file.close();
    QVERIFY(panel.loadTokenFile(path));
    QCOMPARE(panel.tokenEdit()->text(), QStringLiteral("abc123"));
    QFile empty(dir.filePath(QStringLiteral("empty")));
    QVERIFY(empty.open(QIODevice::WriteOnly));
    empty.close();
    QVERIFY(!panel.loadTokenFile(empty.fileName()));
    QVERIFY(panel.statusIsError());
    QVERIFY(!panel.loadTokenFile(dir.filePath(QStringLiteral("missing"))));
    // A token a header cannot carry is refused at Start, before listening.
    panel.tokenEdit()->setText(QStringLiteral("two words"));
    pickModel(panel, kModelName);
    panel.setPort(freePort());
    panel.start();
    QVERIFY(!panel.isListening());
    QVERIFY(panel.statusIsError());
}

QTEST_MAIN(TestServePanel)
#include "tst_servepanel.moc"
