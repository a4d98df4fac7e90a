// Serving a model of token ids over v2 (issue 19, item 1): the text classifier of
// tests/TextClassifierFixture.h, imported with an int64 signature, answers INT64 and INT32
// requests of any length with Python's outputs; its metadata says INT64 with -1 for the
// dynamic sequence; an FP32 request, an id outside the vocabulary and a TorchServe body are
// refused with 400 and words that say what to send, and the server goes on answering.

#include "InferenceService.h"

#include "TestSupport.h"
#include "TextClassifierFixture.h"

#include "registry/ModelImport.h"
#include "registry/Registry.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace ms;
using namespace ms::test;

namespace {

struct Reply
{
    int status = 0;
    QByteArray body;
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    QString error() const { return json().value(QStringLiteral("error")).toString(); }
};

QByteArray inferBody(const QJsonArray &data, qint64 batch, qint64 length, const char *datatype)
{
    const QJsonObject input{{QStringLiteral("name"), QStringLiteral("input")},
                            {QStringLiteral("shape"), QJsonArray{batch, length}},
                            {QStringLiteral("datatype"), QLatin1String(datatype)},
                            {QStringLiteral("data"), data}};
    return QJsonDocument(QJsonObject{{QStringLiteral("inputs"), QJsonArray{input}}})
        .toJson(QJsonDocument::Compact);
}

std::vector<float> outputData(const QJsonObject &reply)
{
    std::vector<float> out;
    const QJsonObject o = reply.value(QStringLiteral("outputs")).toArray().first().toObject();
    for (const QJsonValue &v : o.value(QStringLiteral("data")).toArray())
        out.push_back(float(v.toDouble()));
    return out;
}

} // namespace

class TestServeTokens final : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_ws;
    QJsonArray m_ids;               // Python's fixed batch, 3 x 16
    std::vector<float> m_expected;  // Python's outputs on it
    std::unique_ptr<InferenceService> m_service;
    quint16 m_port = 0;
    QNetworkAccessManager m_nam;

    Reply call(const QByteArray &method, const QString &path, const QByteArray &body = {})
    {
        QNetworkRequest request(
            QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(path)));
        request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        QNetworkReply *reply = m_nam.sendCustomRequest(request, method, body);
        QSignalSpy finished(reply, &QNetworkReply::finished);
        if (!reply->isFinished())
            finished.wait(30000);
        Reply out;
        out.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        out.body = reply->readAll();
        reply->deleteLater();
        return out;
    }

    Reply infer(const QByteArray &body)
    {
        return call("POST", QStringLiteral("/v2/models/textcls/infer"), body);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        m_ws = m_dir.filePath(QStringLiteral("ws"));
        QByteArray out;
        QVERIFY2(runPython(m_dir.path(), QString::fromLatin1(kMakeTextClassifier),
                           {m_dir.path()}, &out),
                 "/usr/bin/python3 with torch (scripts/setup.sh) makes the text classifier");
        const QJsonObject json = QJsonDocument::fromJson(out).object();
        m_ids = json.value(QStringLiteral("ids")).toArray();
        for (const QJsonValue &v : json.value(QStringLiteral("out")).toArray())
            m_expected.push_back(float(v.toDouble()));
        QCOMPARE(m_ids.size(), kTextBatch * kTextLength);

        ImportOptions o;
        o.path = m_dir.filePath(QStringLiteral("textcls.pt"));
        o.modelName = QStringLiteral("textcls");
        o.exampleShape = {1, kTextLength};
        o.inputDtype = QStringLiteral("int64");
        Registry(m_ws).addVersion(prepareImport(o).version);

        ServeOptions options;
        options.port = 0;
        m_service = std::make_unique<InferenceService>(m_ws, options);
        m_port = m_service->listen();
        QVERIFY(m_port > 0);
        const ServedModel served = m_service->serve(QStringLiteral("textcls"));
        QCOMPARE(served.inputDtype, QStringLiteral("int64"));
        QCOMPARE(served.inputShape, std::vector<qint64>{-1});
        QCOMPARE(served.numOutputs, kTextClasses);
    }

    void metadataSaysInt64()
    {
        const QJsonObject input = call("GET", QStringLiteral("/v2/models/textcls"))
                                      .json()
                                      .value(QStringLiteral("inputs"))
                                      .toArray()
                                      .first()
                                      .toObject();
        QCOMPARE(input.value(QStringLiteral("datatype")).toString(), QStringLiteral("INT64"));
        QCOMPARE(input.value(QStringLiteral("shape")).toArray(), (QJsonArray{-1, -1}));
    }

    void int64RequestGivesPythonsOutputs()
    {
        const Reply reply = infer(inferBody(m_ids, kTextBatch, kTextLength, "INT64"));
        QCOMPARE(reply.status, 200);
        const std::vector<float> got = outputData(reply.json());
        QCOMPARE(got.size(), m_expected.size());
        QVERIFY2(maxScaledDiff(got, m_expected) < 1e-4,
                 qPrintable(QString::number(maxScaledDiff(got, m_expected))));
        // INT32 data of another length goes too; its first row is Python's first row's ids cut
        // short, so only its size is known here.
        const QJsonArray five = QJsonArray::fromVariantList(m_ids.toVariantList().mid(0, 5));
        const Reply shorter = infer(inferBody(five, 1, 5, "INT32"));
        QCOMPARE(shorter.status, 200);
        QCOMPARE(outputData(shorter.json()).size(), size_t(kTextClasses));
    }

    void floatRequestIsRefused()
    {
        const Reply reply = infer(inferBody(m_ids, kTextBatch, kTextLength, "FP32"));
        QCOMPARE(reply.status, 400);
        QVERIFY2(reply.error().contains(QStringLiteral("INT64"))
                     && reply.error().contains(QStringLiteral("FP32")),
                 reply.body.constData());
        // A TorchServe body has no datatype: refused, pointing at v2.
        const Reply torchServe =
            call("POST", QStringLiteral("/predictions/textcls"), QByteArrayLiteral("[1, 2, 3]"));
        QCOMPARE(torchServe.status, 400);
        QVERIFY2(torchServe.error().contains(QStringLiteral("INT64")), torchServe.body.constData());
    }

    void idOutsideTheVocabularyIsRefused()
    {
        QJsonArray ids = m_ids;
        ids[7] = kTextVocab;   // one past the embedding
        const Reply reply = infer(inferBody(ids, kTextBatch, kTextLength, "INT64"));
        QCOMPARE(reply.status, 400);
        QVERIFY2(reply.error().contains(QStringLiteral("vocabulary"))
                     && reply.error().contains(QStringLiteral("element 7")),
                 reply.body.constData());
        ids[7] = -1;
        QCOMPARE(infer(inferBody(ids, kTextBatch, kTextLength, "INT64")).status, 400);
        ids[7] = 1.5;
        QCOMPARE(infer(inferBody(ids, kTextBatch, kTextLength, "INT64")).status, 400);
        // And the server still answers.
        QCOMPARE(infer(inferBody(m_ids, kTextBatch, kTextLength, "INT64")).status, 200);
    }
};

QTEST_GUILESS_MAIN(TestServeTokens)
#include "tst_serve_tokens.moc"
