// InferProtocol: decoding and validating v2 and TorchServe bodies, building replies, without a
// server.

#include "InferProtocol.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace ms;
using namespace ms::protocol;

namespace {

const std::vector<qint64> kSample{1, 2, 2};

QByteArray v2Body(const QJsonValue &shape, const QString &datatype, const QJsonValue &data)
{
    return QJsonDocument(QJsonObject{
                             {QStringLiteral("id"), QStringLiteral("req-1")},
                             {QStringLiteral("inputs"),
                              QJsonArray{QJsonObject{{QStringLiteral("name"),
                                                      QStringLiteral("input")},
                                                     {QStringLiteral("shape"), shape},
                                                     {QStringLiteral("datatype"), datatype},
                                                     {QStringLiteral("data"), data}}}}})
        .toJson(QJsonDocument::Compact);
}

} // namespace

class TestInferProtocol final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void flatAndNested()
    {
        const InferInput flat = parseV2Infer(
            v2Body(QJsonArray{1, 1, 2, 2}, QStringLiteral("FP32"), QJsonArray{1, 2, 3, 4.5}),
            kSample);
        QCOMPARE(flat.shape, (std::vector<qint64>{1, 1, 2, 2}));
        QCOMPARE(flat.data, (std::vector<float>{1, 2, 3, 4.5f}));
        QVERIFY(flat.hasId);
        QCOMPARE(flat.id, QStringLiteral("req-1"));

        const QJsonArray nested{QJsonArray{QJsonArray{QJsonArray{1, 2}, QJsonArray{3, 4}}},
                                QJsonArray{QJsonArray{QJsonArray{5, 6}, QJsonArray{7, 8}}}};
        const InferInput two =
            parseV2Infer(v2Body(QJsonArray{2, 1, 2, 2}, QStringLiteral("FP32"), nested), kSample);
        QCOMPARE(two.batch(), qint64(2));
        QCOMPARE(two.data, (std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8}));
    }

    void datatypes_data()
    {
        QTest::addColumn<QString>("datatype");
        QTest::addColumn<QJsonArray>("data");
        QTest::addColumn<bool>("valid");
        QTest::newRow("FP32") << "FP32" << QJsonArray{0.5, 1, 2, 3} << true;
        QTest::newRow("FP64") << "FP64" << QJsonArray{0.25, 1, 2, 3} << true;
        QTest::newRow("INT64") << "INT64" << QJsonArray{-5, 1, 2, 3} << true;
        QTest::newRow("INT32") << "INT32" << QJsonArray{7, 1, 2, 3} << true;
        QTest::newRow("UINT8") << "UINT8" << QJsonArray{0, 255, 2, 3} << true;
        QTest::newRow("INT64 fraction") << "INT64" << QJsonArray{0.5, 1, 2, 3} << false;
        QTest::newRow("UINT8 range") << "UINT8" << QJsonArray{256, 1, 2, 3} << false;
        QTest::newRow("UINT8 negative") << "UINT8" << QJsonArray{-1, 1, 2, 3} << false;
        QTest::newRow("string element") << "FP32" << QJsonArray{"a", 1, 2, 3} << false;
        QTest::newRow("BYTES") << "BYTES" << QJsonArray{1, 1, 2, 3} << false;
    }
    void datatypes()
    {
        QFETCH(QString, datatype);
        QFETCH(QJsonArray, data);
        QFETCH(bool, valid);
        const QByteArray body = v2Body(QJsonArray{1, 1, 2, 2}, datatype, data);
        try {
            const InferInput in = parseV2Infer(body, kSample);
            QVERIFY2(valid, "accepted an invalid body");
            QCOMPARE(in.data.front(), float(data.first().toDouble()));
        } catch (const ProtocolError &e) {
            QVERIFY2(!valid, qPrintable(e.message));
            QCOMPARE(e.status, 400);
        }
    }

    void malformed_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QString>("fragment");
        const QJsonArray four{1, 2, 3, 4};
        QTest::newRow("empty") << QByteArray("  ") << "empty body";
        QTest::newRow("bad json") << QByteArray("{\"inputs\": [") << "malformed JSON";
        QTest::newRow("array") << QByteArray("[1,2]") << "must be a JSON object";
        QTest::newRow("no inputs") << QByteArray("{}") << "\"inputs\" must be";
        QTest::newRow("two inputs")
            << QByteArray("{\"inputs\":[{},{}]}") << "takes one input; the request has 2";
        QTest::newRow("no shape")
            << QByteArray("{\"inputs\":[{\"datatype\":\"FP32\",\"data\":[1]}]}") << "\"shape\"";
        QTest::newRow("wrong shape")
            << v2Body(QJsonArray{1, 4}, QStringLiteral("FP32"), four)
            << "expects [-1, 1, 2, 2] (batch first), got [1, 4]";
        QTest::newRow("length")
            << v2Body(QJsonArray{2, 1, 2, 2}, QStringLiteral("FP32"), four)
            << "data has 4 values but shape [2, 1, 2, 2] needs 8";
        QTest::newRow("batch 0") << v2Body(QJsonArray{0, 1, 2, 2}, QStringLiteral("FP32"),
                                           QJsonArray()) << "is 0";
        QTest::newRow("data not array")
            << v2Body(QJsonArray{1, 1, 2, 2}, QStringLiteral("FP32"), QJsonValue(3))
            << "\"data\" must be an array";
        QTest::newRow("datatype") << v2Body(QJsonArray{1, 1, 2, 2}, QStringLiteral("FP16"), four)
                                  << "unsupported datatype \"FP16\"";
        QTest::newRow("id") << QByteArray("{\"id\":3,\"inputs\":[{}]}") << "\"id\" must be";
        QTest::newRow("output name")
            << QByteArray("{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,2,2],\"datatype\":"
                          "\"FP32\",\"data\":[1,2,3,4]}],\"outputs\":[{\"name\":\"x\"}]}")
            << "unknown output \"x\"";
        // Past float32's range: the model would see inf and answer null (issue 16, item 10).
        QTest::newRow("FP32 overflow")
            << QByteArray("{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,2,2],\"datatype\":"
                          "\"FP32\",\"data\":[1,1e300,3,4]}]}")
            << "element 1 of the data (1e+300) is out of range for the model's float32 input";
        QTest::newRow("FP64 overflow")
            << QByteArray("{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,2,2],\"datatype\":"
                          "\"FP64\",\"data\":[1,2,3,-4e38]}]}")
            << "out of range";
        QTest::newRow("input name with %1")
            << QByteArray("{\"inputs\":[{\"name\":\"a%1b\",\"shape\":[2,1,2,2],\"datatype\":"
                          "\"FP32\",\"data\":[1,2,3,4]}]}")
            << "input \"a%1b\": data has 4 values";
    }
    void malformed()
    {
        QFETCH(QByteArray, body);
        QFETCH(QString, fragment);
        try {
            parseV2Infer(body, kSample);
            QFAIL("accepted a malformed body");
        } catch (const ProtocolError &e) {
            QCOMPARE(e.status, 400);
            QVERIFY2(e.message.contains(fragment), qPrintable(e.message));
        }
    }

    void fastPathMatchesQJsonDocument_data()
    {
        QTest::addColumn<QByteArray>("data");
        QTest::addColumn<QString>("datatype");
        QTest::newRow("plain") << QByteArray("[0.1, 0.25, -3, 4e-3]") << "FP32";
        QTest::newRow("nested") << QByteArray("[[[ 1 , 2 ],[3,\n4]]]") << "FP32";
        QTest::newRow("extremes")
            << QByteArray("[-0, 5e-324, 1e-320, 3.4028234663852886e38]") << "FP64";
        QTest::newRow("long digits")
            << QByteArray("[0.1000000000000000055511151231257827, "
                          "123456789012345678901234567890e-30, 1E2, 2e+0]")
            << "FP32";
        QTest::newRow("integers") << QByteArray("[0, 255, 7, 1e2]") << "UINT8";
        QTest::newRow("trailing comma") << QByteArray("[1, 2, 3, 4,]") << "FP32";
        QTest::newRow("leading zero") << QByteArray("[01, 2, 3, 4]") << "FP32";
        QTest::newRow("bare dot") << QByteArray("[1., 2, 3, 4]") << "FP32";
        QTest::newRow("plus") << QByteArray("[+1, 2, 3, 4]") << "FP32";
        QTest::newRow("too large for float") << QByteArray("[1, 2, 3, 1e39]") << "FP32";
        QTest::newRow("too large for double") << QByteArray("[1, 2, 3, 1e400]") << "FP32";
        QTest::newRow("fraction as int") << QByteArray("[1, 2, 3, 4.5]") << "INT32";
        QTest::newRow("too few") << QByteArray("[1, 2, 3]") << "FP32";
        QTest::newRow("unclosed") << QByteArray("[1, 2, 3, 4") << "FP32";
    }
    void fastPathMatchesQJsonDocument()
    {
        // "d\u0061ta" is the same key to JSON but not to the fast path's scanner: the two
        // bodies go the two ways, and must give the same values or the same error.
        QFETCH(QByteArray, data);
        QFETCH(QString, datatype);
        const QByteArray body = "{\"id\":\"a\",\"inputs\":[{\"name\":\"input\",\"shape\":"
                                "[1,1,2,2],\"datatype\":\"" + datatype.toLatin1()
                                + "\",\"data\":" + data + "}]}";
        QByteArray slowBody = body;
        slowBody.replace("\"data\"", "\"d\\u0061ta\"");
        QString fastError, slowError;
        std::vector<float> fast, slow;
        try {
            fast = parseV2Infer(body, kSample).data;
        } catch (const ProtocolError &e) {
            fastError = e.message;
        }
        try {
            slow = parseV2Infer(slowBody, kSample).data;
        } catch (const ProtocolError &e) {
            slowError = e.message;
        }
        if (!slowError.isEmpty()) {
            // The offset of a JSON error differs by the escape's length; the rest must match.
            QCOMPARE(fastError.section(QStringLiteral(" at offset"), 0, 0),
                     slowError.section(QStringLiteral(" at offset"), 0, 0));
            return;
        }
        QVERIFY2(fastError.isEmpty(), qPrintable(fastError));
        QCOMPARE(fast.size(), slow.size());
        for (size_t i = 0; i < fast.size(); ++i)
            QCOMPARE(fast[i], slow[i]);   // the same text, so the same float, bit for bit
    }

    void torchServeOverflow()
    {
        try {
            parseTorchServe("[1, 1e300, 3, 4]", kSample);
            QFAIL("accepted a value past float32's range");
        } catch (const ProtocolError &e) {
            QCOMPARE(e.status, 400);
            QVERIFY2(e.message.contains(QStringLiteral("out of range")), qPrintable(e.message));
        }
    }

    void unknownShapeTakesAnyPerSampleShape()
    {
        const InferInput in =
            parseV2Infer(v2Body(QJsonArray{2, 3}, QStringLiteral("FP32"),
                                QJsonArray{1, 2, 3, 4, 5, 6}),
                         {});
        QCOMPARE(in.shape, (std::vector<qint64>{2, 3}));
    }

    void torchServe()
    {
        // One sample, flat or nested as a sample.
        InferInput one = parseTorchServe("[1,2,3,4]", kSample);
        QCOMPARE(one.shape, (std::vector<qint64>{1, 1, 2, 2}));
        QVERIFY(one.singleSample);
        one = parseTorchServe("[[[1,2],[3,4]]]", kSample);
        QVERIFY(one.singleSample);
        // A list of samples, flat or nested; a list of one stays a list.
        InferInput list = parseTorchServe("[[1,2,3,4],[5,6,7,8]]", kSample);
        QCOMPARE(list.shape, (std::vector<qint64>{2, 1, 2, 2}));
        QVERIFY(!list.singleSample);
        list = parseTorchServe("[[1,2,3,4]]", kSample);
        QVERIFY(!list.singleSample);

        const QList<QByteArray> bad{"", "{\"a\":1}", "[1,2,3]", "[1,\"x\",3,4]", "[[1,2"};
        for (const QByteArray &body : bad) {
            try {
                parseTorchServe(body, kSample);
                QFAIL(body.constData());
            } catch (const ProtocolError &e) {
                QCOMPARE(e.status, 400);
                QVERIFY(!e.message.isEmpty());
            }
        }
    }

    void responses()
    {
        InferInput in;
        in.shape = {2, 3};
        in.id = QStringLiteral("abc");
        in.hasId = true;
        const std::vector<float> logits{1, 2, 3, 0, 0, 5};
        const QJsonObject v2 = v2InferResponse(QStringLiteral("m"), 4, in, logits);
        QCOMPARE(v2.value(QStringLiteral("id")).toString(), QStringLiteral("abc"));
        QCOMPARE(v2.value(QStringLiteral("model_version")).toString(), QStringLiteral("4"));
        const QJsonObject out = v2.value(QStringLiteral("outputs")).toArray().first().toObject();
        QCOMPARE(out.value(QStringLiteral("shape")).toArray(), (QJsonArray{2, 3}));
        QCOMPARE(out.value(QStringLiteral("data")).toArray().size(), 6);

        const QJsonValue ts = torchServeResponse(logits, 2, {QStringLiteral("a"),
                                                             QStringLiteral("b"),
                                                             QStringLiteral("c")},
                                                 false, 2);
        QVERIFY(ts.isArray());
        const QJsonObject second = ts.toArray().at(1).toObject();
        const QJsonArray top = second.value(QStringLiteral("top")).toArray();
        QCOMPARE(top.size(), 2);
        QCOMPARE(top.first().toObject().value(QStringLiteral("label")).toString(),
                 QStringLiteral("c"));
        double sum = 0;
        for (const QJsonValue &p : second.value(QStringLiteral("probabilities")).toArray())
            sum += p.toDouble();
        QVERIFY(qAbs(sum - 1.0) < 1e-5);
        // No class names: the index as text; one sample: an object.
        const QJsonValue single = torchServeResponse({0, 9}, 1, {}, true);
        QCOMPARE(single.toObject()
                     .value(QStringLiteral("top"))
                     .toArray()
                     .first()
                     .toObject()
                     .value(QStringLiteral("label"))
                     .toString(),
                 QStringLiteral("1"));
    }

    void metadata()
    {
        ServedModel m;
        m.name = QStringLiteral("cnn");
        m.version = 3;
        m.inputShape = {1, 28, 28};
        m.numOutputs = 10;
        const QJsonObject meta = modelMetadata(m);
        QCOMPARE(meta.value(QStringLiteral("versions")).toArray(), (QJsonArray{"3"}));
        QCOMPARE(meta.value(QStringLiteral("inputs")).toArray().first().toObject().value(
                     QStringLiteral("shape")).toArray(),
                 (QJsonArray{-1, 1, 28, 28}));
        QCOMPARE(meta.value(QStringLiteral("outputs")).toArray().first().toObject().value(
                     QStringLiteral("shape")).toArray(),
                 (QJsonArray{-1, 10}));
        QCOMPARE(serverMetadata(QStringLiteral("1.0")).value(QStringLiteral("name")).toString(),
                 QStringLiteral("modelstudio"));
    }
};

QTEST_GUILESS_MAIN(TestInferProtocol)
#include "tst_inferprotocol.moc"
