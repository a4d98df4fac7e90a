// The OpenAI-compatible routes over real HTTP, on a small gpt trained in the test: answer
// shapes and usage, a streamed answer equal to the whole one for the same seed, the stop text,
// the refusals (400/404/401 in OpenAI's error shape, before any work), a client that
// disconnects mid-stream stopping its generation, and concurrent streams sharing decode steps.

#include "InferenceService.h"
#include "OpenAiProtocol.h"

#include "TestSupport.h"

#include "jobs/JobContext.h"
#include "models/ArchitectureRegistry.h"
#include "models/Model.h"
#include "registry/Registry.h"
#include "train/TrainJob.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSet>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace ms;

namespace {

const QByteArray kToken("s3cret");
constexpr int kBlock = 64;

struct Reply
{
    int status = 0;
    QByteArray body;
    QByteArray contentType;
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    QJsonObject error() const { return json().value(QStringLiteral("error")).toObject(); }
};

// The events of a server-sent-events body: each "data: ..." payload, in order.
QList<QByteArray> events(const QByteArray &body)
{
    QList<QByteArray> out;
    for (const QByteArray &block : body.split('\n')) {
        if (block.startsWith("data: "))
            out << block.mid(6);
    }
    return out;
}

double metric(const QByteArray &exposition, const QByteArray &series)
{
    for (const QByteArray &line : exposition.split('\n')) {
        if (line.startsWith(series + ' '))
            return line.mid(series.size() + 1).toDouble();
    }
    return -1.0;
}

TrainConfig tinyLm()
{
    TrainConfig c;
    c.dataset = QStringLiteral("fortunes");
    c.task = QStringLiteral("lm");
    c.arch = QStringLiteral("gpt");
    c.archParams = QJsonObject{{QStringLiteral("n_layer"), 1},
                               {QStringLiteral("n_head"), 2},
                               {QStringLiteral("n_embd"), 32},
                               {QStringLiteral("block_size"), kBlock}};
    c.epochs = 1;
    c.stepsPerEpoch = 40;
    c.batchSize = 16;
    c.lr = 3e-3;
    c.optimizer = QStringLiteral("adamw");
    c.threads = 1;
    c.seed = 5;
    return c;
}

} // namespace

class TestOpenAi final : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_ws;
    std::unique_ptr<InferenceService> m_service;
    quint16 m_port = 0;
    QNetworkAccessManager m_nam;

    QNetworkReply *send(const QByteArray &method, const QString &path, const QByteArray &body,
                        bool withToken = true)
    {
        QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(path)));
        request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        if (withToken)
            request.setRawHeader("Authorization", "Bearer " + kToken);
        return m_nam.sendCustomRequest(request, method, body);
    }
    static Reply collect(QNetworkReply *reply)
    {
        if (!reply->isFinished()) {
            QSignalSpy finished(reply, &QNetworkReply::finished);
            finished.wait(60000);
        }
        Reply out;
        out.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        out.body = reply->readAll();
        out.contentType = reply->header(QNetworkRequest::ContentTypeHeader).toByteArray();
        reply->deleteLater();
        return out;
    }
    Reply call(const QByteArray &method, const QString &path, const QByteArray &body = {},
               bool withToken = true)
    {
        return collect(send(method, path, body, withToken));
    }
    Reply post(const QString &path, const QJsonObject &body)
    {
        return call("POST", path, QJsonDocument(body).toJson(QJsonDocument::Compact));
    }
    QByteArray metrics() { return call("GET", QStringLiteral("/metrics")).body; }
    double activeStreams()
    {
        return metric(metrics(), "modelstudio_active_streams{model=\"tiny-lm\"}");
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        m_ws = m_dir.filePath(QStringLiteral("ws"));
        TrainJob job(tinyLm(), m_dir.filePath(QStringLiteral("run")));
        job.recordIn(m_ws, QStringLiteral("tiny-lm"));
        JobContext context;
        QCOMPARE(jobStatusName(job.run(context).status), QStringLiteral("finished"));

        // A classifier beside it: the /v1 routes refuse it for what it is.
        const ModelDataInfo info{{4}, {}, {}, {QStringLiteral("a"), QStringLiteral("b")}};
        const Model mlp = Model::build(
            ArchitectureRegistry::instance().resolve(QStringLiteral("mlp"), {4}, 2), info, 1);
        const QString path = m_dir.filePath(QStringLiteral("mlp.pt"));
        mlp.save(path);
        NewVersion version;
        version.modelName = QStringLiteral("classifier");
        version.artifactPath = path;
        Registry(m_ws).addVersion(version);

        ServeOptions options;
        options.port = 0;
        options.token = QString::fromLatin1(kToken);
        options.maxTokensCap = 100000;   // the disconnect test asks for a long answer
        m_service = std::make_unique<InferenceService>(m_ws, options);
        m_port = m_service->listen();
        const ServedModel lm = m_service->serve(QStringLiteral("tiny-lm"));
        QCOMPARE(lm.task, QStringLiteral("lm"));
        QCOMPARE(lm.contextTokens, kBlock);
        m_service->serve(QStringLiteral("classifier"));
    }

    void modelsAndToken()
    {
        const Reply models = call("GET", QStringLiteral("/v1/models"));
        QCOMPARE(models.status, 200);
        QCOMPARE(models.json().value(QStringLiteral("object")).toString(),
                 QStringLiteral("list"));
        QStringList ids;
        for (const QJsonValue &m : models.json().value(QStringLiteral("data")).toArray()) {
            ids << m.toObject().value(QStringLiteral("id")).toString();
            QCOMPARE(m.toObject().value(QStringLiteral("object")).toString(),
                     QStringLiteral("model"));
        }
        QCOMPARE(ids, (QStringList{QStringLiteral("tiny-lm"), QStringLiteral("tiny-lm:1")}));

        const Reply refused = call("GET", QStringLiteral("/v1/models"), {}, false);
        QCOMPARE(refused.status, 401);
        QCOMPARE(refused.error().value(QStringLiteral("type")).toString(),
                 QStringLiteral("authentication_error"));
        QVERIFY(refused.error().value(QStringLiteral("message")).toString().contains(
            QStringLiteral("Bearer")));
    }

    void completionShapeAndUsage()
    {
        const QJsonObject body{{QStringLiteral("model"), QStringLiteral("tiny-lm")},
                               {QStringLiteral("prompt"), QStringLiteral("Hello")},
                               {QStringLiteral("max_tokens"), 12},
                               {QStringLiteral("seed"), 3}};
        const Reply reply = post(QStringLiteral("/v1/completions"), body);
        QCOMPARE(reply.status, 200);
        const QJsonObject json = reply.json();
        QVERIFY(json.value(QStringLiteral("id")).toString().startsWith(QStringLiteral("cmpl-")));
        QCOMPARE(json.value(QStringLiteral("object")).toString(),
                 QStringLiteral("text_completion"));
        QVERIFY(json.value(QStringLiteral("created")).toDouble() > 1.6e9);
        QCOMPARE(json.value(QStringLiteral("model")).toString(), QStringLiteral("tiny-lm:1"));
        const QJsonObject choice =
            json.value(QStringLiteral("choices")).toArray().first().toObject();
        QCOMPARE(choice.value(QStringLiteral("index")).toInt(), 0);
        QCOMPARE(choice.value(QStringLiteral("finish_reason")).toString(),
                 QStringLiteral("length"));
        QVERIFY(choice.value(QStringLiteral("text")).isString());
        const QJsonObject usage = json.value(QStringLiteral("usage")).toObject();
        QCOMPARE(usage.value(QStringLiteral("prompt_tokens")).toInt(), 5);   // bytes
        QCOMPARE(usage.value(QStringLiteral("completion_tokens")).toInt(), 12);
        QCOMPARE(usage.value(QStringLiteral("total_tokens")).toInt(), 17);

        // The seed makes it reproducible; another seed samples another text.
        const Reply again = post(QStringLiteral("/v1/completions"), body);
        QCOMPARE(again.json().value(QStringLiteral("choices")), json.value(QStringLiteral("choices")));
        QJsonObject other = body;
        other.insert(QStringLiteral("seed"), 4);
        QVERIFY(post(QStringLiteral("/v1/completions"), other).json().value(
                    QStringLiteral("choices")) != json.value(QStringLiteral("choices")));
    }

    void chatShapeAndTemplate()
    {
        const QJsonArray messages{
            QJsonObject{{QStringLiteral("role"), QStringLiteral("system")},
                        {QStringLiteral("content"), QStringLiteral("Be brief.")}},
            QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                        {QStringLiteral("content"), QStringLiteral("Hi")}}};
        QCOMPARE(openai::renderChat(messages),
                 QByteArray("system: Be brief.\nuser: Hi\nassistant:"));
        const Reply reply = post(QStringLiteral("/v1/chat/completions"),
                                 QJsonObject{{QStringLiteral("model"), QStringLiteral("tiny-lm:1")},
                                             {QStringLiteral("messages"), messages},
                                             {QStringLiteral("max_tokens"), 6},
                                             {QStringLiteral("stop"), QJsonArray()}});
        QCOMPARE(reply.status, 200);
        const QJsonObject json = reply.json();
        QVERIFY(json.value(QStringLiteral("id")).toString().startsWith(
            QStringLiteral("chatcmpl-")));
        QCOMPARE(json.value(QStringLiteral("object")).toString(),
                 QStringLiteral("chat.completion"));
        const QJsonObject choice =
            json.value(QStringLiteral("choices")).toArray().first().toObject();
        const QJsonObject message = choice.value(QStringLiteral("message")).toObject();
        QCOMPARE(message.value(QStringLiteral("role")).toString(), QStringLiteral("assistant"));
        QVERIFY(message.value(QStringLiteral("content")).isString());
        const QJsonObject usage = json.value(QStringLiteral("usage")).toObject();
        QCOMPARE(usage.value(QStringLiteral("prompt_tokens")).toInt(),
                 int(openai::renderChat(messages).size()));
    }

    void streamEqualsWhole_data()
    {
        QTest::addColumn<bool>("chat");
        QTest::newRow("completion") << false;
        QTest::newRow("chat") << true;
    }

    void streamEqualsWhole()
    {
        QFETCH(bool, chat);
        QJsonObject body{{QStringLiteral("model"), QStringLiteral("tiny-lm")},
                         {QStringLiteral("max_tokens"), 40},
                         {QStringLiteral("temperature"), 0.9},
                         {QStringLiteral("top_p"), 0.95},
                         {QStringLiteral("seed"), 11}};
        if (chat)
            body.insert(QStringLiteral("messages"),
                        QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                               {QStringLiteral("content"),
                                                QStringLiteral("Tell me a fortune.")}}});
        else
            body.insert(QStringLiteral("prompt"), QStringLiteral("A fortune: "));
        const QString path = chat ? QStringLiteral("/v1/chat/completions")
                                  : QStringLiteral("/v1/completions");
        const Reply whole = post(path, body);
        QCOMPARE(whole.status, 200);
        const QJsonObject choice =
            whole.json().value(QStringLiteral("choices")).toArray().first().toObject();
        const QString wholeText =
            chat ? choice.value(QStringLiteral("message")).toObject().value(
                       QStringLiteral("content")).toString()
                 : choice.value(QStringLiteral("text")).toString();

        body.insert(QStringLiteral("stream"), true);
        body.insert(QStringLiteral("stream_options"),
                    QJsonObject{{QStringLiteral("include_usage"), true}});
        const Reply streamed = post(path, body);
        QCOMPARE(streamed.status, 200);
        QVERIFY2(streamed.contentType.startsWith("text/event-stream"), streamed.contentType);
        const QList<QByteArray> data = events(streamed.body);
        QVERIFY(data.size() >= 4);
        QCOMPARE(data.last(), QByteArray("[DONE]"));
        QString text;
        QString finish;
        QSet<QString> ids;
        QJsonObject usage;
        for (int i = 0; i + 1 < data.size(); ++i) {
            const QJsonObject chunk = QJsonDocument::fromJson(data[i]).object();
            QCOMPARE(chunk.value(QStringLiteral("object")).toString(),
                     chat ? QStringLiteral("chat.completion.chunk")
                          : QStringLiteral("text_completion"));
            ids << chunk.value(QStringLiteral("id")).toString();
            if (chunk.contains(QStringLiteral("usage"))) {
                usage = chunk.value(QStringLiteral("usage")).toObject();
                continue;
            }
            const QJsonObject c =
                chunk.value(QStringLiteral("choices")).toArray().first().toObject();
            text += chat ? c.value(QStringLiteral("delta")).toObject().value(
                               QStringLiteral("content")).toString()
                         : c.value(QStringLiteral("text")).toString();
            if (!c.value(QStringLiteral("finish_reason")).isNull())
                finish = c.value(QStringLiteral("finish_reason")).toString();
        }
        QCOMPARE(ids.size(), 1);
        QCOMPARE(text, wholeText);
        QCOMPARE(finish, choice.value(QStringLiteral("finish_reason")).toString());
        QCOMPARE(usage, whole.json().value(QStringLiteral("usage")).toObject());
    }

    // The stop text ends the answer before its first occurrence (greedy: the same text).
    void stopText()
    {
        QJsonObject body{{QStringLiteral("model"), QStringLiteral("tiny-lm")},
                         {QStringLiteral("prompt"), QStringLiteral("The ")},
                         {QStringLiteral("max_tokens"), 24},
                         {QStringLiteral("temperature"), 0}};
        const QString text = post(QStringLiteral("/v1/completions"), body)
                                 .json().value(QStringLiteral("choices")).toArray().first()
                                 .toObject().value(QStringLiteral("text")).toString();
        const QString stop = text.mid(6, 2);
        QVERIFY2(stop.size() == 2 && stop.at(0).unicode() < 0x80 && stop.at(1).unicode() < 0x80,
                 qPrintable(text));
        body.insert(QStringLiteral("stop"), stop);
        const QJsonObject choice = post(QStringLiteral("/v1/completions"), body)
                                       .json().value(QStringLiteral("choices")).toArray()
                                       .first().toObject();
        QCOMPARE(choice.value(QStringLiteral("text")).toString(), text.left(text.indexOf(stop)));
        QCOMPARE(choice.value(QStringLiteral("finish_reason")).toString(),
                 QStringLiteral("stop"));
    }

    void refusals_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("param");
        QTest::addColumn<QString>("expected");
        const QString c = QStringLiteral("/v1/completions");
        QTest::newRow("max_tokens 0")
            << c << QByteArray(R"({"model":"tiny-lm","prompt":"a","max_tokens":0})") << 400
            << "max_tokens" << "from 1 to 100000";
        QTest::newRow("max_tokens over the cap")
            << c << QByteArray(R"({"model":"tiny-lm","prompt":"a","max_tokens":100001})")
            << 400 << "max_tokens" << "cap";
        QTest::newRow("negative temperature")
            << c << QByteArray(R"({"model":"tiny-lm","prompt":"a","temperature":-0.5})") << 400
            << "temperature" << "from 0";
        QTest::newRow("top_p 0")
            << c << QByteArray(R"({"model":"tiny-lm","prompt":"a","top_p":0})") << 400
            << "top_p" << "above 0";
        QTest::newRow("top_p above 1")
            << c << QByteArray(R"({"model":"tiny-lm","prompt":"a","top_p":1.5})") << 400
            << "top_p" << "at most 1";
        QTest::newRow("not UTF-8")
            << c << QByteArray("{\"model\":\"tiny-lm\",\"prompt\":\"a\xff\"}") << 400 << ""
            << "UTF-8";
        QTest::newRow("prompt longer than the context")
            << c
            << QByteArray(R"({"model":"tiny-lm","prompt":")") + QByteArray(kBlock + 1, 'x')
                   + QByteArray(R"("})")
            << 400 << "prompt" << "context";
        QTest::newRow("unknown model")
            << c << QByteArray(R"({"model":"nope","prompt":"a"})") << 404 << "model"
            << "tiny-lm:1";
        QTest::newRow("a classifier")
            << c << QByteArray(R"({"model":"classifier","prompt":"a"})") << 400 << "model"
            << "not a language model";
        QTest::newRow("no messages")
            << QStringLiteral("/v1/chat/completions")
            << QByteArray(R"({"model":"tiny-lm","prompt":"a"})") << 400 << "messages"
            << "messages";
        QTest::newRow("unknown role")
            << QStringLiteral("/v1/chat/completions")
            << QByteArray(R"({"model":"tiny-lm","messages":[{"role":"bot","content":"a"}]})")
            << 400 << "messages[0].role" << "\"user\"";
        QTest::newRow("n 2")
            << c << QByteArray(R"({"model":"tiny-lm","prompt":"a","n":2})") << 400 << "n"
            << "not supported";
        QTest::newRow("not JSON") << c << QByteArray("{") << 400 << "" << "not JSON";
    }

    // Refused before any work: no token is generated for them.
    void refusals()
    {
        QFETCH(QString, path);
        QFETCH(QByteArray, body);
        QFETCH(int, status);
        QFETCH(QString, param);
        QFETCH(QString, expected);
        const double before =
            metric(metrics(), "modelstudio_generated_tokens_total{model=\"tiny-lm\"}");
        const Reply reply = call("POST", path, body);
        QCOMPARE(reply.status, status);
        const QJsonObject error = reply.error();
        QVERIFY2(error.value(QStringLiteral("message")).toString().contains(expected),
                 reply.body.constData());
        QCOMPARE(error.value(QStringLiteral("param")).toString(), param);
        QVERIFY(error.contains(QStringLiteral("type")));
        QCOMPARE(metric(metrics(), "modelstudio_generated_tokens_total{model=\"tiny-lm\"}"),
                 before);
    }

    // A client that disconnects mid-stream stops its generation: active streams drop to 0
    // long before the 100,000 tokens it asked for, and the log says 499.
    void disconnectStopsGeneration()
    {
        QSignalSpy log(m_service.get(), &InferenceService::requestFinished);
        const double tokensBefore =
            metric(metrics(), "modelstudio_generated_tokens_total{model=\"tiny-lm\"}");
        QTcpSocket socket;
        QByteArray received;
        connect(&socket, &QTcpSocket::readyRead, this, [&] { received += socket.readAll(); });
        socket.connectToHost(QStringLiteral("127.0.0.1"), m_port);
        QTRY_VERIFY(socket.state() == QAbstractSocket::ConnectedState);
        const QByteArray body =
            R"({"model":"tiny-lm","prompt":"Once","max_tokens":100000,"stream":true})";
        socket.write("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                     + kToken + "\r\nContent-Type: application/json\r\nContent-Length: "
                     + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QTRY_VERIFY_WITH_TIMEOUT(received.count("data: ") >= 2, 30000);
        QVERIFY(received.startsWith("HTTP/1.1 200"));
        QCOMPARE(activeStreams(), 1.0);
        socket.abort();
        QTRY_COMPARE_WITH_TIMEOUT(activeStreams(), 0.0, 30000);
        const double generated =
            metric(metrics(), "modelstudio_generated_tokens_total{model=\"tiny-lm\"}")
            - tokensBefore;
        QVERIFY2(generated >= 1 && generated < 100000, qPrintable(QString::number(generated)));
        bool logged499 = false;
        for (const QList<QVariant> &args : log)
            logged499 = logged499 || args.first().value<RequestRecord>().status == 499;
        QVERIFY(logged499);
    }

    // Streams at once share decode steps: some step ran more than one generation.
    void concurrentStreamsShareSteps()
    {
        const QByteArray before = metrics();
        QList<QNetworkReply *> replies;
        for (int i = 0; i < 4; ++i) {
            const QJsonObject body{{QStringLiteral("model"), QStringLiteral("tiny-lm")},
                                   {QStringLiteral("prompt"), QStringLiteral("x").repeated(i + 1)},
                                   {QStringLiteral("max_tokens"), 200},
                                   {QStringLiteral("stream"), true},
                                   {QStringLiteral("seed"), i}};
            replies << send("POST", QStringLiteral("/v1/completions"),
                            QJsonDocument(body).toJson(QJsonDocument::Compact));
        }
        for (QNetworkReply *reply : replies) {
            const Reply r = collect(reply);
            QCOMPARE(r.status, 200);
            QCOMPARE(events(r.body).last(), QByteArray("[DONE]"));
        }
        const QByteArray after = metrics();
        const QByteArray one = "modelstudio_decode_batch_rows_bucket{model=\"tiny-lm\",le=\"1\"}";
        const QByteArray all = "modelstudio_decode_batch_rows_count{model=\"tiny-lm\"}";
        const double single = metric(after, one) - metric(before, one);
        const double steps = metric(after, all) - metric(before, all);
        qInfo("decode steps %.0f, of one generation %.0f", steps, single);
        QVERIFY(steps > single);
        QVERIFY(steps < 4 * 200);   // shared steps: fewer calls than tokens
    }

    void cleanupTestCase()
    {
        m_service.reset();
    }
};

QTEST_MAIN(TestOpenAi)
#include "tst_openai.moc"
