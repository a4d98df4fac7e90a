// InferenceService over real HTTP: routes, results equal to Model::predict, errors followed by
// valid requests, token, body limit, metrics, a version swap under traffic and a mixed load of
// malformed and valid requests from several threads.

#include "InferenceService.h"

#include "TestSupport.h"

#include "bench/ProcessMemory.h"
#include "common/Error.h"
#include "models/ArchitectureRegistry.h"
#include "models/Model.h"
#include "registry/Registry.h"

#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMutex>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <atomic>
#include <cmath>

using namespace ms;

namespace {

constexpr int kSampleSize = 784;

struct Reply
{
    int status = 0;
    QByteArray body;
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
};

QStringList classNames()
{
    QStringList names;
    for (int i = 0; i < 10; ++i)
        names << QStringLiteral("class %1").arg(i);
    return names;
}

std::vector<float> samples(int count, quint32 seed)
{
    QRandomGenerator rng(seed);
    std::vector<float> x(size_t(count) * kSampleSize, 0.0f);
    for (float &v : x)
        v = float(rng.generateDouble());
    return x;
}

QJsonArray toArray(const float *data, size_t count)
{
    QJsonArray array;
    for (size_t i = 0; i < count; ++i)
        array.append(double(data[i]));
    return array;
}

QByteArray inferBody(const std::vector<float> &data, int n, const QString &id = QString())
{
    QJsonObject body{{QStringLiteral("inputs"),
                      QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("input")},
                                             {QStringLiteral("shape"), QJsonArray{n, 1, 28, 28}},
                                             {QStringLiteral("datatype"), QStringLiteral("FP32")},
                                             {QStringLiteral("data"),
                                              toArray(data.data(), data.size())}}}}};
    if (!id.isEmpty())
        body.insert(QStringLiteral("id"), id);
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

std::vector<float> outputData(const QJsonObject &reply)
{
    std::vector<float> out;
    const QJsonObject o = reply.value(QStringLiteral("outputs")).toArray().first().toObject();
    for (const QJsonValue &v : o.value(QStringLiteral("data")).toArray())
        out.push_back(float(v.toDouble()));
    return out;
}

bool near(const std::vector<float> &a, const std::vector<float> &b)
{
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (std::abs(a[i] - b[i]) > 1e-5f)
            return false;
    }
    return true;
}

// A blocking HTTP/1.1 keep-alive client for worker threads (no event loop needed there).
class BlockingClient
{
public:
    explicit BlockingClient(quint16 port)
        : m_port(port)
    {}

    Reply request(const QByteArray &method, const QByteArray &path, const QByteArray &body)
    {
        for (int attempt = 0; attempt < 2; ++attempt) {
            if (m_socket.state() != QAbstractSocket::ConnectedState) {
                m_socket.abort();
                m_socket.connectToHost(QStringLiteral("127.0.0.1"), m_port);
                if (!m_socket.waitForConnected(5000))
                    continue;
            }
            QByteArray head = method + ' ' + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                              + "Content-Type: application/json\r\nContent-Length: "
                              + QByteArray::number(body.size()) + "\r\n\r\n";
            m_socket.write(head + body);
            Reply reply;
            if (read(reply))
                return reply;
            m_socket.abort();
        }
        return Reply{};
    }

private:
    bool read(Reply &reply)
    {
        QByteArray buffer;
        int headerEnd = -1;
        while ((headerEnd = buffer.indexOf("\r\n\r\n")) < 0) {
            if (!m_socket.waitForReadyRead(30000))
                return false;
            buffer += m_socket.readAll();
        }
        const QList<QByteArray> lines = buffer.left(headerEnd).split('\n');
        reply.status = lines.first().split(' ').value(1).toInt();
        qint64 length = 0;
        for (const QByteArray &line : lines) {
            if (line.toLower().startsWith("content-length:"))
                length = line.mid(15).trimmed().toLongLong();
        }
        QByteArray body = buffer.mid(headerEnd + 4);
        while (body.size() < length) {
            if (!m_socket.waitForReadyRead(30000))
                return false;
            body += m_socket.readAll();
        }
        reply.body = body;
        return true;
    }

    quint16 m_port;
    QTcpSocket m_socket;
};

} // namespace

class TestInferenceService final : public QObject
{
    Q_OBJECT

private:
    Reply call(const QByteArray &method, const QString &path, const QByteArray &body = {},
               const QByteArray &token = {}, quint16 port = 0)
    {
        QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:%1%2")
                                         .arg(port ? port : m_port)
                                         .arg(path)));
        request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        if (!token.isEmpty())
            request.setRawHeader("Authorization", "Bearer " + token);
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

    QTemporaryDir m_dir;
    QString m_ws;
    Model m_v1;
    Model m_v2;
    std::unique_ptr<InferenceService> m_service;
    quint16 m_port = 0;
    QNetworkAccessManager m_nam;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_ws = m_dir.filePath(QStringLiteral("ws"));
        Registry registry(m_ws);
        for (quint64 seed : {1, 2}) {
            const ModelDataInfo info{{1, 28, 28}, {0.5f}, {0.25f}, classNames()};
            const QJsonObject spec =
                ArchitectureRegistry::instance().resolve(QStringLiteral("mlp"), {1, 28, 28}, 10);
            const Model model = Model::build(spec, info, seed);
            const QString path = m_dir.filePath(QStringLiteral("m%1.pt").arg(seed));
            model.save(path);
            NewVersion version;
            version.modelName = QStringLiteral("mnist");
            version.artifactPath = path;
            version.inputs = {TensorSignature{QStringLiteral("input"), QStringLiteral("float32"),
                                              {-1, 1, 28, 28}}};
            version.outputs = {TensorSignature{QStringLiteral("output"),
                                               QStringLiteral("float32"), {-1, 10}}};
            version.classNames = classNames();
            registry.addVersion(version);
            (seed == 1 ? m_v1 : m_v2) = Model::load(path);
        }
        ServeOptions options;
        options.port = 0;
        options.maxQueueDelay_us = 1000;
        m_service = std::make_unique<InferenceService>(m_ws, options);
        m_port = m_service->listen();
        QVERIFY(m_port > 0);
        QVERIFY(m_service->isListening());
        const ServedModel served = m_service->serve(QStringLiteral("mnist"));
        QCOMPARE(served.version, 2);
        QCOMPARE(served.numOutputs, 10);
        QCOMPARE(served.inputShape, (std::vector<qint64>{1, 28, 28}));
    }

    void healthAndMetadata()
    {
        QCOMPARE(call("GET", QStringLiteral("/v2/health/live")).status, 200);
        QCOMPARE(call("GET", QStringLiteral("/v2/health/ready")).status, 200);
        const Reply server = call("GET", QStringLiteral("/v2"));
        QCOMPARE(server.json().value(QStringLiteral("name")).toString(),
                 QStringLiteral("modelstudio"));
        for (const QString &path : {QStringLiteral("/v2/models/mnist"),
                                    QStringLiteral("/v2/models/mnist/versions/2")}) {
            const QJsonObject meta = call("GET", path).json();
            QCOMPARE(meta.value(QStringLiteral("platform")).toString(),
                     QStringLiteral("pytorch_torchscript"));
            QCOMPARE(meta.value(QStringLiteral("inputs")).toArray().first().toObject().value(
                         QStringLiteral("shape")).toArray(),
                     (QJsonArray{-1, 1, 28, 28}));
            QCOMPARE(meta.value(QStringLiteral("outputs")).toArray().first().toObject().value(
                         QStringLiteral("shape")).toArray(),
                     (QJsonArray{-1, 10}));
        }
        QCOMPARE(call("GET", QStringLiteral("/v2/models/mnist/ready")).status, 200);
        QCOMPARE(call("GET", QStringLiteral("/v2/models/mnist/versions/2/ready")).status, 200);
        const Reply wrongVersion = call("GET", QStringLiteral("/v2/models/mnist/versions/1"));
        QCOMPARE(wrongVersion.status, 404);
        QVERIFY(wrongVersion.json().value(QStringLiteral("error")).toString().contains(
            QStringLiteral("version 2")));
        const Reply unknown = call("GET", QStringLiteral("/v2/models/nope"));
        QCOMPARE(unknown.status, 404);
        QVERIFY(unknown.json().value(QStringLiteral("error")).toString().contains(
            QStringLiteral("mnist")));
        QCOMPARE(call("GET", QStringLiteral("/nowhere")).status, 404);
        QCOMPARE(call("GET", QStringLiteral("/ping")).json().value(QStringLiteral("status")),
                 QJsonValue(QStringLiteral("Healthy")));
    }

    void inferMatchesModel()
    {
        QSignalSpy finished(m_service.get(), &InferenceService::requestFinished);
        const std::vector<float> one = samples(1, 7);
        const Reply reply = call("POST", QStringLiteral("/v2/models/mnist/infer"),
                                 inferBody(one, 1, QStringLiteral("abc")));
        QCOMPARE(reply.status, 200);
        const QJsonObject json = reply.json();
        QCOMPARE(json.value(QStringLiteral("id")).toString(), QStringLiteral("abc"));
        QCOMPARE(json.value(QStringLiteral("model_name")).toString(), QStringLiteral("mnist"));
        QCOMPARE(json.value(QStringLiteral("model_version")).toString(), QStringLiteral("2"));
        QVERIFY(near(outputData(json), m_v2.predict(one, {1, 1, 28, 28})));
        QTRY_VERIFY(!finished.isEmpty());
        const auto record = finished.last().first().value<RequestRecord>();
        QCOMPARE(record.status, 200);
        QCOMPARE(record.model, QStringLiteral("mnist"));
        QVERIFY(record.batchSize >= 1);

        // Three samples in one request, nested data, on the version route.
        const std::vector<float> three = samples(3, 8);
        QJsonArray nested;
        for (int s = 0; s < 3; ++s) {
            QJsonArray rows;
            for (int r = 0; r < 28; ++r)
                rows.append(toArray(three.data() + s * kSampleSize + r * 28, 28));
            nested.append(QJsonArray{rows});
        }
        const QByteArray body = QJsonDocument(QJsonObject{
            {QStringLiteral("inputs"),
             QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("input")},
                                    {QStringLiteral("shape"), QJsonArray{3, 1, 28, 28}},
                                    {QStringLiteral("datatype"), QStringLiteral("FP64")},
                                    {QStringLiteral("data"), nested}}}}}).toJson();
        const Reply multi = call("POST", QStringLiteral("/v2/models/mnist/versions/2/infer"), body);
        QCOMPARE(multi.status, 200);
        const QJsonObject out =
            multi.json().value(QStringLiteral("outputs")).toArray().first().toObject();
        QCOMPARE(out.value(QStringLiteral("shape")).toArray(), (QJsonArray{3, 10}));
        QVERIFY(near(outputData(multi.json()), m_v2.predict(three, {3, 1, 28, 28})));
        QCOMPARE(call("POST", QStringLiteral("/v2/models/mnist/versions/1/infer"), body).status,
                 404);
    }

    void torchServe()
    {
        const std::vector<float> one = samples(1, 9);
        const Reply reply = call("POST", QStringLiteral("/predictions/mnist"),
                                 QJsonDocument(toArray(one.data(), one.size())).toJson());
        QCOMPARE(reply.status, 200);
        const QJsonObject json = reply.json();
        const QJsonArray top = json.value(QStringLiteral("top")).toArray();
        QCOMPARE(top.size(), 5);
        const std::vector<float> logits = m_v2.predict(one, {1, 1, 28, 28});
        const int best = int(std::max_element(logits.begin(), logits.end()) - logits.begin());
        QCOMPARE(top.first().toObject().value(QStringLiteral("label")).toString(),
                 QStringLiteral("class %1").arg(best));
        QCOMPARE(json.value(QStringLiteral("probabilities")).toArray().size(), 10);

        const std::vector<float> two = samples(2, 10);
        const QJsonArray list{toArray(two.data(), kSampleSize),
                              toArray(two.data() + kSampleSize, kSampleSize)};
        const Reply listReply =
            call("POST", QStringLiteral("/predictions/mnist/2"), QJsonDocument(list).toJson());
        QCOMPARE(listReply.status, 200);
        QCOMPARE(QJsonDocument::fromJson(listReply.body).array().size(), 2);
        QCOMPARE(call("POST", QStringLiteral("/predictions/mnist/1"), "[1]").status, 404);
        QCOMPARE(call("POST", QStringLiteral("/predictions/mnist"), "[1,2]").status, 400);
    }

    void badInputThenValid_data()
    {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("fragment");
        const QByteArray infer("/v2/models/mnist/infer");
        QByteArray wrongType = inferBody(samples(1, 1), 1);
        wrongType.replace("\"FP32\"", "\"FP16\"");
        QByteArray wrongShape = inferBody(samples(1, 1), 1);
        wrongShape.replace("[1,1,28,28]", "[1,784]");
        QByteArray wrongLength = inferBody(samples(1, 1), 1);
        wrongLength.replace("[1,1,28,28]", "[2,1,28,28]");
        QTest::newRow("malformed") << infer << QByteArray("{\"inputs\": [") << 400 << "malformed";
        QTest::newRow("empty") << infer << QByteArray() << 400 << "empty body";
        QTest::newRow("datatype") << infer << wrongType << 400 << "FP16";
        QTest::newRow("shape") << infer << wrongShape << 400 << "expects [-1, 1, 28, 28]";
        QTest::newRow("length") << infer << wrongLength << 400 << "needs 1568";
        QTest::newRow("model") << QByteArray("/v2/models/x/infer") << wrongShape << 404
                               << "not served";
    }
    void badInputThenValid()
    {
        QFETCH(QByteArray, path);
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        QFETCH(QString, fragment);
        const Reply bad = call("POST", QString::fromUtf8(path), body);
        QCOMPARE(bad.status, status);
        const QString error = bad.json().value(QStringLiteral("error")).toString();
        QVERIFY2(error.contains(fragment), qPrintable(error));
        const std::vector<float> one = samples(1, 11);
        const Reply good =
            call("POST", QStringLiteral("/v2/models/mnist/infer"), inferBody(one, 1));
        QCOMPARE(good.status, 200);
        QVERIFY(near(outputData(good.json()), m_v2.predict(one, {1, 1, 28, 28})));
    }

    void tokenAndBodyLimit()
    {
        ServeOptions options;
        options.port = 0;
        options.token = QStringLiteral("s3cret");
        options.maxBodyBytes = 20000;
        InferenceService service(m_ws, options);
        const quint16 port = service.listen();
        service.serve(QStringLiteral("mnist:1"));
        const QByteArray body = inferBody(samples(1, 12), 1);
        const QString path = QStringLiteral("/v2/models/mnist/infer");
        QCOMPARE(call("POST", path, body, {}, port).status, 401);
        QCOMPARE(call("POST", path, body, "wrong", port).status, 401);
        QCOMPARE(call("GET", QStringLiteral("/metrics"), {}, {}, port).status, 401);
        QCOMPARE(call("GET", QStringLiteral("/v2/health/ready"), {}, {}, port).status, 200);
        QCOMPARE(call("GET", QStringLiteral("/ping"), {}, {}, port).status, 200);
        const Reply ok = call("POST", path, body, "s3cret", port);
        QCOMPARE(ok.status, 200);
        QVERIFY(near(outputData(ok.json()), m_v1.predict(samples(1, 12), {1, 1, 28, 28})));
        const Reply big = call("POST", path, inferBody(samples(3, 12), 3), "s3cret", port);
        QCOMPARE(big.status, 413);
        QVERIFY(big.json().value(QStringLiteral("error")).toString().contains(
            QStringLiteral("20000")));
        QCOMPARE(call("POST", path, body, "s3cret", port).status, 200);
    }

    void metrics()
    {
        const Reply reply = call("GET", QStringLiteral("/metrics"));
        QCOMPARE(reply.status, 200);
        const QByteArray text = reply.body;
        for (const char *line :
             {"# TYPE modelstudio_requests_total counter",
              "modelstudio_requests_total{model=\"mnist\",code=\"200\"}",
              "modelstudio_requests_total{model=\"mnist\",code=\"400\"}",
              "# TYPE modelstudio_request_duration_seconds histogram",
              "modelstudio_request_duration_seconds_bucket{model=\"mnist\",le=\"+Inf\"}",
              "modelstudio_queue_duration_seconds_sum{model=\"mnist\"}",
              "modelstudio_batch_size_count{model=\"mnist\"}",
              "# TYPE modelstudio_models_loaded gauge", "modelstudio_models_loaded 1"}) {
            QVERIFY2(text.contains(line), line);
        }
    }

    void listenErrors()
    {
        ServeOptions remote;
        remote.host = QStringLiteral("0.0.0.0");
        try {
            InferenceService(m_ws, remote).listen();
            QFAIL("listened on a non-loopback address");
        } catch (const Error &e) {
            QVERIFY2(e.message().contains(QStringLiteral("allowNonLoopback")),
                     qPrintable(e.message()));
        }
        ServeOptions taken;
        taken.port = m_port;
        try {
            InferenceService(m_ws, taken).listen();
            QFAIL("listened on a port in use");
        } catch (const Error &e) {
            const quint16 free = InferenceService::nextFreePort(QStringLiteral("127.0.0.1"),
                                                                quint16(m_port + 1));
            QVERIFY2(e.message().contains(QStringLiteral("port %1 on 127.0.0.1 is in use")
                                              .arg(m_port)),
                     qPrintable(e.message()));
            QVERIFY2(e.message().contains(QStringLiteral("--port %1").arg(free)),
                     qPrintable(e.message()));
        }
    }

    void swapUnderTraffic()
    {
        const std::vector<float> x = samples(1, 13);
        const QByteArray body = inferBody(x, 1);
        const std::vector<float> expected1 = m_v1.predict(x, {1, 1, 28, 28});
        const std::vector<float> expected2 = m_v2.predict(x, {1, 1, 28, 28});
        std::atomic<bool> stop{false};
        std::atomic<int> ok{0}, failed{0};
        const quint16 port = m_port;
        std::vector<std::unique_ptr<QThread>> threads;
        for (int t = 0; t < 3; ++t) {
            threads.emplace_back(QThread::create([&, port] {
                BlockingClient client(port);
                while (!stop.load()) {
                    const Reply r = client.request("POST", "/v2/models/mnist/infer", body);
                    const std::vector<float> got = outputData(r.json());
                    if (r.status == 200 && (near(got, expected1) || near(got, expected2)))
                        ++ok;
                    else
                        ++failed;
                }
            }));
            threads.back()->start();
        }
        for (const QString &ref : {QStringLiteral("mnist:1"), QStringLiteral("mnist:2"),
                                   QStringLiteral("mnist:1"), QStringLiteral("mnist")}) {
            // Swap only once the clients have had answers from the version being replaced.
            const int answered = ok.load() + failed.load();
            QTRY_VERIFY_WITH_TIMEOUT(ok.load() + failed.load() >= answered + 3, 30000);
            QCOMPARE(m_service->serve(ref).name, QStringLiteral("mnist"));
        }
        const int answered = ok.load() + failed.load();
        QTRY_VERIFY_WITH_TIMEOUT(ok.load() + failed.load() >= answered + 3, 30000);
        stop = true;
        for (auto &thread : threads)
            QTRY_VERIFY_WITH_TIMEOUT(thread->isFinished(), 60000);
        QCOMPARE(failed.load(), 0);
        QVERIFY(ok.load() > 10);
        QCOMPARE(m_service->models().size(), 1);
        QCOMPARE(m_service->models().first().version, 2);
    }

    void mixedLoadFromThreads()
    {
        std::vector<QByteArray> bodies;
        std::vector<std::vector<float>> expected;
        for (int i = 0; i < 6; ++i) {
            const int n = 1 + i % 3;
            const std::vector<float> x = samples(n, quint32(100 + i));
            bodies.push_back(inferBody(x, n));
            expected.push_back(m_v2.predict(x, {n, 1, 28, 28}));
        }
        QByteArray badShape = bodies[0];
        badShape.replace("[1,1,28,28]", "[1,28,28]");
        const QList<QPair<QByteArray, QByteArray>> bad{
            {"/v2/models/mnist/infer", "{\"inputs\": ["}, {"/v2/models/mnist/infer", ""},
            {"/v2/models/mnist/infer", badShape}, {"/v2/models/ghost/infer", bodies[0]},
            {"/predictions/mnist", "[1,2,3]"}, {"/v2/models/mnist/infer", "[]"}};
        std::atomic<int> valid{0}, invalid{0};
        QMutex mutex;
        QStringList problems;
        const quint16 port = m_port;
        std::vector<std::unique_ptr<QThread>> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back(QThread::create([&, t, port] {
                BlockingClient client(port);
                for (int i = 0; i < 150; ++i) {
                    const int k = (i * 7 + t) % 12;
                    if (k < 6) {
                        const Reply r = client.request("POST", "/v2/models/mnist/infer",
                                                       bodies[size_t(k)]);
                        if (r.status == 200 && near(outputData(r.json()), expected[size_t(k)])) {
                            ++valid;
                        } else {
                            QMutexLocker lock(&mutex);
                            problems << QStringLiteral("valid %1: %2 %3").arg(k).arg(r.status)
                                            .arg(QString::fromUtf8(r.body.left(200)));
                        }
                    } else {
                        const auto &b = bad[k - 6];
                        const Reply r = client.request("POST", b.first, b.second);
                        const bool expectedStatus =
                            r.status == (b.first.contains("ghost") ? 404 : 400);
                        if (expectedStatus && r.json().contains(QStringLiteral("error"))) {
                            ++invalid;
                        } else {
                            QMutexLocker lock(&mutex);
                            problems << QStringLiteral("bad %1: %2").arg(k).arg(r.status);
                        }
                    }
                }
            }));
            threads.back()->start();
        }
        for (auto &thread : threads)
            QTRY_VERIFY_WITH_TIMEOUT(thread->isFinished(), 120000);
        QVERIFY2(problems.isEmpty(), qPrintable(problems.mid(0, 5).join(QLatin1Char('\n'))));
        QCOMPARE(valid.load() + invalid.load(), 600);
        QCOMPARE(call("GET", QStringLiteral("/v2/health/ready")).status, 200);
        QCOMPARE(call("POST", QStringLiteral("/v2/models/mnist/infer"), bodies[1]).status, 200);
    }

    void stopAnswersEveryQueuedRequest()
    {
        // A 10 s batch delay keeps requests parked in the queue until stop() drains them.
        ServeOptions options;
        options.port = 0;
        options.maxBatchSize = 64;
        options.maxQueueDelay_us = 10000000;
        InferenceService service(m_ws, options);
        const quint16 port = service.listen();
        service.serve(QStringLiteral("mnist"));
        const int count = 6;
        std::vector<std::vector<float>> inputs;
        QList<QNetworkReply *> replies;
        for (int i = 0; i < count; ++i) {
            inputs.push_back(samples(1, 100 + i));
            QNetworkRequest request(
                QUrl(QStringLiteral("http://127.0.0.1:%1/v2/models/mnist/infer").arg(port)));
            request.setHeader(QNetworkRequest::ContentTypeHeader,
                              QStringLiteral("application/json"));
            replies << m_nam.post(request, inferBody(inputs.back(), 1));
        }
        QTRY_COMPARE_WITH_TIMEOUT(service.queuedSamples(), count, 10000);
        for (QNetworkReply *reply : std::as_const(replies))
            QVERIFY(!reply->isFinished());   // parked, not answered yet

        service.stop();   // must answer the queued requests before it closes
        QVERIFY(!service.isListening());
        for (int i = 0; i < count; ++i) {
            QNetworkReply *reply = replies.at(i);
            QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 10000);
            QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
            const QJsonObject body = QJsonDocument::fromJson(reply->readAll()).object();
            QVERIFY(near(outputData(body), m_v2.predict(inputs[size_t(i)], {1, 1, 28, 28})));
            reply->deleteLater();
        }
        QCOMPARE(service.queuedSamples(), 0);
    }

    void versionsSideBySide()
    {
        // Two versions of one model, both served (issue 15): each version route answers with
        // its own weights; the bare name goes to the newest, or to the production one.
        ServeOptions options;
        options.port = 0;
        options.maxQueueDelay_us = 0;
        InferenceService service(m_ws, options);
        const quint16 port = service.listen();
        service.serve(QStringLiteral("mnist:1"), InferenceService::ServeMode::Alongside);
        service.serve(QStringLiteral("mnist:2"), InferenceService::ServeMode::Alongside);
        QCOMPARE(service.models().size(), 2);
        const std::vector<float> x = samples(1, 21);
        const QByteArray body = inferBody(x, 1);
        const auto answer = [&](const QString &path) {
            const Reply r = call("POST", path, body, {}, port);
            return r.status == 200 ? outputData(r.json()) : std::vector<float>{};
        };
        QVERIFY(near(answer(QStringLiteral("/v2/models/mnist/versions/1/infer")),
                     m_v1.predict(x, {1, 1, 28, 28})));
        QVERIFY(near(answer(QStringLiteral("/v2/models/mnist/versions/2/infer")),
                     m_v2.predict(x, {1, 1, 28, 28})));
        QVERIFY(near(answer(QStringLiteral("/v2/models/mnist/infer")),
                     m_v2.predict(x, {1, 1, 28, 28})));
        const Reply ts = call("POST", QStringLiteral("/predictions/mnist/1"),
                              QJsonDocument(toArray(x.data(), x.size())).toJson(), {}, port);
        QCOMPARE(ts.status, 200);
        const QJsonObject meta =
            call("GET", QStringLiteral("/v2/models/mnist"), {}, {}, port).json();
        QCOMPARE(meta.value(QStringLiteral("versions")).toArray(),
                 (QJsonArray{QStringLiteral("1"), QStringLiteral("2")}));
        const Reply missing = call("POST", QStringLiteral("/v2/models/mnist/versions/3/infer"),
                                   body, {}, port);
        QCOMPARE(missing.status, 404);
        QVERIFY2(missing.json().value(QStringLiteral("error")).toString().contains(
                     QStringLiteral("versions 1, 2")),
                 missing.body.constData());

        // The production alias decides what the bare name answers with.
        {
            Registry registry(m_ws);
            registry.setAlias(QStringLiteral("mnist"), QStringLiteral("production"),
                              registry.resolve(QStringLiteral("mnist:1")).id);
        }
        service.serve(QStringLiteral("mnist:1"), InferenceService::ServeMode::Alongside);
        QVERIFY(near(answer(QStringLiteral("/v2/models/mnist/infer")),
                     m_v1.predict(x, {1, 1, 28, 28})));
        {
            Registry registry(m_ws);
            registry.removeAlias(QStringLiteral("mnist"), QStringLiteral("production"));
        }
    }

    void queueBoundAndDeadline()
    {
        // Requests stay queued (10 s batch delay): 4 samples fit, the rest get 503 with
        // Retry-After; the queued ones get 504 at their deadline, not after the batch.
        ServeOptions options;
        options.port = 0;
        options.maxBatchSize = 64;
        options.maxQueueDelay_us = 10000000;
        options.maxQueuedSamples = 4;
        options.requestTimeout_ms = 400;
        InferenceService service(m_ws, options);
        const quint16 port = service.listen();
        service.serve(QStringLiteral("mnist"));
        QList<QNetworkReply *> replies;
        for (int i = 0; i < 10; ++i) {
            QNetworkRequest request(
                QUrl(QStringLiteral("http://127.0.0.1:%1/v2/models/mnist/infer").arg(port)));
            request.setHeader(QNetworkRequest::ContentTypeHeader,
                              QStringLiteral("application/json"));
            replies << m_nam.post(request, inferBody(samples(1, 200 + i), 1));
        }
        int busy = 0, timedOut = 0;
        for (QNetworkReply *reply : std::as_const(replies)) {
            QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 20000);
            const int status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            if (status == 503) {
                ++busy;
                QCOMPARE(reply->rawHeader("Retry-After"), QByteArray("1"));
            } else if (status == 504) {
                ++timedOut;
                QVERIFY(reply->readAll().contains("400 ms"));
            } else {
                QFAIL(qPrintable(QStringLiteral("status %1").arg(status)));
            }
            reply->deleteLater();
        }
        QVERIFY2(timedOut >= 4 && busy >= 1, qPrintable(QStringLiteral("%1 x 503, %2 x 504")
                                                            .arg(busy).arg(timedOut)));
        QCOMPARE(busy + timedOut, 10);
        const QByteArray text = call("GET", QStringLiteral("/metrics"), {}, {}, port).body;
        QVERIFY(text.contains("modelstudio_rejected_total{reason=\"queue_full\"} "
                              + QByteArray::number(busy)));
        QVERIFY(text.contains("modelstudio_rejected_total{reason=\"request_timeout\"} "
                              + QByteArray::number(timedOut)));
        // Timed-out requests do not run: the queue empties without waiting for the batch.
        service.stop();
        QCOMPARE(service.queuedSamples(), 0);
    }

    void abandonedRequestsLeaveNothing()
    {
        // 10,000 clients that send an infer request and leave before the answer (issue 16,
        // item 8): each round parks 200 requests (the batch waits for a 201st), their clients
        // leave, then one more request runs the batch. Every one is accounted for (499: the
        // client left), none of the abandoned ones is computed (the 201st runs alone), no
        // connection is left, and memory stays flat.
        constexpr int kRound = 200;
        ServeOptions options;
        options.port = 0;
        options.maxBatchSize = kRound + 1;
        options.maxQueueDelay_us = 60000000;
        InferenceService service(m_ws, options);
        const quint16 port = service.listen();
        service.serve(QStringLiteral("mnist"));
        int gone = 0;
        int answered = 0;
        int largestBatch = 0;
        connect(&service, &InferenceService::requestFinished, this, [&](const RequestRecord &r) {
            ++(r.status == 499 ? gone : answered);
            largestBatch = std::max(largestBatch, r.batchSize);
        });
        const QByteArray body = inferBody(samples(1, 31), 1);
        const QByteArray request = "POST /v2/models/mnist/infer HTTP/1.1\r\nHost: x\r\n"
                                   "Content-Length: " + QByteArray::number(body.size())
                                   + "\r\n\r\n" + body;
        const auto round = [&] {
            std::vector<std::unique_ptr<QTcpSocket>> clients;
            for (int i = 0; i < kRound; ++i) {
                clients.push_back(std::make_unique<QTcpSocket>());
                clients.back()->connectToHost(QHostAddress::LocalHost, port);
                clients.back()->write(request);
            }
            QTRY_COMPARE_WITH_TIMEOUT(service.queuedSamples(), kRound, 30000);
            clients.clear();   // they leave before their answers
            QTRY_COMPARE_WITH_TIMEOUT(service.openConnections(), 0, 30000);
            BlockingClient last(port);   // the 201st sample runs the batch
            std::unique_ptr<QThread> thread(QThread::create(
                [&] { last.request("POST", "/v2/models/mnist/infer", body); }));
            thread->start();
            QTRY_VERIFY_WITH_TIMEOUT(thread->isFinished(), 30000);
        };
        for (int r = 0; r < 5; ++r)   // warm-up: allocator pools, the batch's buffers
            round();
        QTRY_COMPARE(gone, 5 * kRound);
        ProcessMemory::releaseFreedMemory();
        const qint64 before = ProcessMemory::currentResident_bytes();
        for (int r = 0; r < 50; ++r)
            round();
        QTRY_COMPARE(gone, 55 * kRound);
        QCOMPARE(answered, 55);
        QCOMPARE(largestBatch, 1);
        QCOMPARE(service.queuedSamples(), 0);
        QTRY_COMPARE(service.openConnections(), 0);
        QVERIFY(call("GET", QStringLiteral("/metrics"), {}, {}, port)
                    .body.contains("modelstudio_rejected_total{reason=\"client_gone\"} 11000"));
        ProcessMemory::releaseFreedMemory();
        const qint64 after = ProcessMemory::currentResident_bytes();
        qInfo("resident: %lld KiB before, %lld KiB after 10,000 abandoned requests",
              before / 1024, after / 1024);
        QVERIFY2(after - before < 24 * 1024 * 1024,
                 qPrintable(QStringLiteral("grew by %1 KiB").arg((after - before) / 1024)));
    }

    void modelThatMixesTheBatch()
    {
        // An imported model whose output has one row whatever the batch (it sums over it):
        // two requests batched together must not get each other's data (issue 16, item 9).
        const QString path = m_dir.filePath(QStringLiteral("mixer.pt"));
        QByteArray out;
        QVERIFY(ms::test::runPython(m_dir.path(), QStringLiteral(R"(
import sys, torch
class Mixer(torch.nn.Module):
    def forward(self, x):
        return x.flatten(1).sum(0, keepdim=True)[:, :10]
torch.jit.script(Mixer()).save(sys.argv[1])
)"),
                                    {path}, &out));
        {
            Registry registry(m_ws);
            NewVersion version;
            version.modelName = QStringLiteral("mixer");
            version.artifactPath = path;
            version.inputs = {TensorSignature{QStringLiteral("input"), QStringLiteral("float32"),
                                              {-1, 1, 28, 28}}};
            registry.addVersion(version);
        }
        ServeOptions options;
        options.port = 0;
        options.maxQueueDelay_us = 300000;   // both requests land in one batch
        InferenceService service(m_ws, options);
        const quint16 port = service.listen();
        service.serve(QStringLiteral("mixer"));
        const auto pair = [&] {
            QList<QNetworkReply *> replies;
            for (int i = 0; i < 2; ++i) {
                QNetworkRequest request(QUrl(
                    QStringLiteral("http://127.0.0.1:%1/v2/models/mixer/infer").arg(port)));
                request.setHeader(QNetworkRequest::ContentTypeHeader,
                                  QStringLiteral("application/json"));
                std::vector<float> x(size_t(kSampleSize), float(i + 1));
                replies << m_nam.post(request, inferBody(x, 1));
            }
            QList<Reply> out;
            for (QNetworkReply *reply : replies) {
                QSignalSpy done(reply, &QNetworkReply::finished);
                if (!reply->isFinished())
                    done.wait(20000);
                out << Reply{reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(),
                             reply->readAll()};
                reply->deleteLater();
            }
            return out;
        };
        const QList<Reply> mixed = pair();
        for (const Reply &r : mixed) {
            QCOMPARE(r.status, 500);
            QVERIFY2(r.json().value(QStringLiteral("error")).toString().contains(
                         QStringLiteral("cannot be split")),
                     r.body.constData());
        }
        // From now on one request at a time: each gets the sums of its own sample only.
        const QList<Reply> serial = pair();
        for (int i = 0; i < 2; ++i) {
            QCOMPARE(serial[i].status, 200);
            const std::vector<float> got = outputData(serial[i].json());
            QCOMPARE(got.size(), size_t(10));
            for (float v : got)
                QVERIFY(std::abs(v - float(i + 1)) < 1e-5f);
        }
    }

    void loadsOffTheCallersThread()
    {
        // serveAsync: the event loop keeps turning while the model loads and warms up.
        ServeOptions options;
        options.port = 0;
        InferenceService service(m_ws, options);
        service.listen();
        QSignalSpy served(&service, &InferenceService::modelServed);
        int ticksWhileLoading = 0;
        QTimer ticker;
        ticker.setInterval(0);
        connect(&ticker, &QTimer::timeout, this, [&] {
            if (service.loadsInProgress() > 0)
                ++ticksWhileLoading;
        });
        ticker.start();
        service.serveAsync(QStringLiteral("mnist:1"));
        QCOMPARE(service.loadsInProgress(), 1);
        QVERIFY(service.models().isEmpty());   // not installed yet: the call did not block
        QVERIFY(served.wait(30000));
        QVERIFY(ticksWhileLoading > 0);
        QCOMPARE(service.models().size(), 1);
        QCOMPARE(served.first().first().value<ServedModel>().versionRef, QStringLiteral("mnist:1"));
        QSignalSpy failed(&service, &InferenceService::serveFailed);
        service.serveAsync(QStringLiteral("nope"));
        QVERIFY(failed.wait(30000));
        QVERIFY(failed.first().at(1).toString().contains(QStringLiteral("nope")));
    }

    void bearerTokenChecks()
    {
        ServeOptions options;
        options.port = 0;
        options.token = QStringLiteral("s3cret");
        InferenceService service(m_ws, options);
        const quint16 port = service.listen();
        service.serve(QStringLiteral("mnist"));
        const auto status = [&](const QByteArray &authorization) {
            QNetworkRequest request(
                QUrl(QStringLiteral("http://127.0.0.1:%1/v2/models/mnist").arg(port)));
            request.setRawHeader("Authorization", authorization);
            QNetworkReply *reply = m_nam.get(request);
            QSignalSpy done(reply, &QNetworkReply::finished);
            if (!reply->isFinished())
                done.wait(20000);
            const int code = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
            reply->deleteLater();
            return code;
        };
        QCOMPARE(status("Bearer s3cret"), 200);
        QCOMPARE(status("bearer s3cret"), 200);   // RFC 7235: the scheme ignores case
        QCOMPARE(status("BEARER  s3cret"), 200);
        QCOMPARE(status("Bearer s3cre"), 401);
        QCOMPARE(status("Bearer s3cret2"), 401);
        QCOMPARE(status("Basic s3cret"), 401);
        QCOMPARE(status("s3cret"), 401);
    }

    void stopFinishesAndRefuses()
    {
        m_service->stop();
        QVERIFY(!m_service->isListening());
        QCOMPARE(call("GET", QStringLiteral("/v2/health/live")).status, 0);
        // listen() again serves the same models.
        m_port = m_service->listen();
        QCOMPARE(call("POST", QStringLiteral("/v2/models/mnist/infer"),
                      inferBody(samples(1, 3), 1)).status,
                 200);
    }
};

QTEST_GUILESS_MAIN(TestInferenceService)
#include "tst_inferenceservice.moc"
