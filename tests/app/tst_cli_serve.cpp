// modelstudio-cli serve as a user and a client see it: a freshly trained version answers a v2
// infer request over HTTP, /metrics counts it, Ctrl-C stops the server with exit code 0, and
// the failures (unknown model, port taken) are one error line.
//
// The slots run in order on one workspace with one trained model.

#include "app/CliRun.h"

#include <QFile>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QProcess>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

#include <signal.h>

namespace {

using Run = ms::test::CliRun;
using ms::test::cliPath;

Run cli(const QStringList &args, int timeout_ms = 240000)
{
    return ms::test::runCli(args, timeout_ms);
}

// A port nothing listens on right now: bind port 0, read what the kernel chose, let it go.
quint16 freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    const quint16 port = probe.serverPort();
    probe.close();
    return port;
}

// A running `modelstudio-cli serve`, its output collected as it comes.
class Server
{
public:
    void start(const QStringList &args)
    {
        QObject::connect(&m_process, &QProcess::readyReadStandardOutput, &m_process,
                         [this] { m_out += QString::fromUtf8(m_process.readAllStandardOutput()); });
        QObject::connect(&m_process, &QProcess::readyReadStandardError, &m_process,
                         [this] { m_err += QString::fromUtf8(m_process.readAllStandardError()); });
        m_process.start(cliPath(), args);
        m_process.waitForStarted();
    }
    bool isRunning() const { return m_process.state() != QProcess::NotRunning; }
    QString out() const { return m_out; }
    QString err() const { return m_err; }
    qint64 pid() const { return m_process.processId(); }
    QProcess &process() { return m_process; }
    ~Server()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }

private:
    QProcess m_process;
    QString m_out;
    QString m_err;
};

} // namespace

class TestCliServe : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    quint16 m_port = 0;
    std::unique_ptr<Server> m_server;
    QNetworkAccessManager m_network;

    QString ws() const { return m_dir.filePath(QStringLiteral("workspace")); }
    QString base() const { return QStringLiteral("http://127.0.0.1:%1").arg(m_port); }

    // Sends a request and waits for its reply; the caller owns the reply.
    QNetworkReply *send(QNetworkReply *reply)
    {
        QSignalSpy finished(reply, &QNetworkReply::finished);
        if (!reply->isFinished())
            finished.wait(30000);
        return reply;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        const Run train = cli({QStringLiteral("train"), QStringLiteral("--arch"),
                               QStringLiteral("mlp"), QStringLiteral("--epochs"),
                               QStringLiteral("1"), QStringLiteral("--limit"),
                               QStringLiteral("300"), QStringLiteral("--name"),
                               QStringLiteral("fm"), QStringLiteral("--workspace"), ws()});
        QVERIFY2(train.exitCode == 0, qPrintable(train.err));
    }

    void startsAndPrintsUrl()
    {
        m_port = freePort();
        QVERIFY(m_port != 0);
        m_server = std::make_unique<Server>();
        m_server->start({QStringLiteral("serve"), QStringLiteral("fm"), QStringLiteral("--port"),
                         QString::number(m_port), QStringLiteral("--workspace"), ws()});
        QTRY_VERIFY2_WITH_TIMEOUT(m_server->out().contains(base()) || !m_server->isRunning(),
                                  qPrintable(m_server->err()), 60000);
        QVERIFY2(m_server->isRunning(), qPrintable(m_server->err()));
        // The listing names the version and the per-sample input shape; a curl line follows.
        QVERIFY2(m_server->out().contains(QStringLiteral("fm:1")), qPrintable(m_server->out()));
        QVERIFY2(m_server->out().contains(QStringLiteral("curl ")), qPrintable(m_server->out()));
    }

    void infersOverHttp()
    {
        QVERIFY(m_server && m_server->isRunning());
        QJsonArray zeros;
        for (int i = 0; i < 28 * 28; ++i)
            zeros.append(0.0);
        const QJsonObject body{
            {QStringLiteral("id"), QStringLiteral("t1")},
            {QStringLiteral("inputs"),
             QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("input")},
                                    {QStringLiteral("shape"), QJsonArray{1, 1, 28, 28}},
                                    {QStringLiteral("datatype"), QStringLiteral("FP32")},
                                    {QStringLiteral("data"), zeros}}}}};
        QNetworkRequest request(QUrl(base() + QStringLiteral("/v2/models/fm/infer")));
        request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        std::unique_ptr<QNetworkReply> reply(
            send(m_network.post(request, QJsonDocument(body).toJson(QJsonDocument::Compact))));
        QVERIFY(reply->isFinished());
        const QByteArray answer = reply->readAll();
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        const QJsonObject json = QJsonDocument::fromJson(answer).object();
        QCOMPARE(json.value(QStringLiteral("id")).toString(), QStringLiteral("t1"));
        const QJsonObject output =
            json.value(QStringLiteral("outputs")).toArray().first().toObject();
        QCOMPARE(output.value(QStringLiteral("shape")).toArray(), (QJsonArray{1, 10}));
        QCOMPARE(output.value(QStringLiteral("data")).toArray().size(), 10);
    }

    void countsInMetrics()
    {
        QVERIFY(m_server && m_server->isRunning());
        std::unique_ptr<QNetworkReply> reply(
            send(m_network.get(QNetworkRequest(QUrl(base() + QStringLiteral("/metrics"))))));
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        const QByteArray text = reply->readAll();
        QVERIFY2(text.contains("modelstudio_requests_total"), text.left(2000).constData());
    }

    void refusesUnknownModel()
    {
        const Run run = cli({QStringLiteral("serve"), QStringLiteral("nope"),
                             QStringLiteral("--port"), QString::number(freePort()),
                             QStringLiteral("--workspace"), ws()},
                            60000);
        QVERIFY(run.exitCode != 0);
        QVERIFY2(!run.errorLine().isEmpty(), qPrintable(run.err));
        QVERIFY2(run.errorLine().contains(QStringLiteral("nope")), qPrintable(run.err));
    }

    void refusesRemoteWithoutFlag()
    {
        const Run run = cli({QStringLiteral("serve"), QStringLiteral("fm"),
                             QStringLiteral("--host"), QStringLiteral("0.0.0.0"),
                             QStringLiteral("--workspace"), ws()},
                            60000);
        QVERIFY(run.exitCode != 0);
        QVERIFY2(run.errorLine().contains(QStringLiteral("--allow-remote")), qPrintable(run.err));
    }

    void namesFreePortWhenTaken()
    {
        QVERIFY(m_server && m_server->isRunning());
        const Run run = cli({QStringLiteral("serve"), QStringLiteral("fm"),
                             QStringLiteral("--port"), QString::number(m_port),
                             QStringLiteral("--workspace"), ws()},
                            60000);
        QVERIFY(run.exitCode != 0);
        const QString line = run.errorLine();
        QVERIFY2(!line.isEmpty(), qPrintable(run.err));
        // It says which port failed and offers another one.
        QVERIFY2(line.contains(QString::number(m_port)), qPrintable(line));
        bool offersOther = false;
        QRegularExpressionMatchIterator numbers =
            QRegularExpression(QStringLiteral("\\b(\\d{2,5})\\b")).globalMatch(line);
        while (numbers.hasNext()) {
            const int n = numbers.next().captured(1).toInt();
            offersOther = offersOther || (n != m_port && n > 1024 && n < 65536);
        }
        QVERIFY2(offersOther, qPrintable(line));
    }

    void refusesAnEmptyToken()
    {
        // --token "" used to mean no authentication at all.
        const Run run = cli({QStringLiteral("serve"), QStringLiteral("fm"),
                             QStringLiteral("--token"), QString(), QStringLiteral("--port"),
                             QString::number(freePort()), QStringLiteral("--workspace"), ws()},
                            60000);
        QCOMPARE(run.exitCode, 1);
        QVERIFY2(run.errorLine().contains(QStringLiteral("--token is empty")), qPrintable(run.err));
        QTemporaryDir dir;
        const QString emptyFile = dir.filePath(QStringLiteral("token"));
        QFile(emptyFile).open(QIODevice::WriteOnly);
        const Run fromFile = cli({QStringLiteral("serve"), QStringLiteral("fm"),
                                  QStringLiteral("--token-file"), emptyFile,
                                  QStringLiteral("--port"), QString::number(freePort()),
                                  QStringLiteral("--workspace"), ws()},
                                 60000);
        QCOMPARE(fromFile.exitCode, 1);
        QVERIFY2(fromFile.errorLine().contains(QStringLiteral("is empty")),
                 qPrintable(fromFile.err));
    }

    void tokenFileAndEscapedLog()
    {
        // The token from a file (not on the command line), and a request log a client cannot
        // forge lines into: its %0A stays encoded.
        QTemporaryDir dir;
        const QString tokenFile = dir.filePath(QStringLiteral("token"));
        QFile file(tokenFile);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("t0ken-from-file\n");
        file.close();
        const quint16 port = freePort();
        Server server;
        server.start({QStringLiteral("serve"), QStringLiteral("fm"), QStringLiteral("--port"),
                      QString::number(port), QStringLiteral("--token-file"), tokenFile,
                      QStringLiteral("--log"), QStringLiteral("--workspace"), ws()});
        const QString url = QStringLiteral("http://127.0.0.1:%1").arg(port);
        QTRY_VERIFY2_WITH_TIMEOUT(server.out().contains(url) || !server.isRunning(),
                                  qPrintable(server.err()), 60000);
        QVERIFY(!server.process().arguments().join(QLatin1Char(' ')).contains(
            QStringLiteral("t0ken-from-file")));
        const auto status = [&](const QString &path, const QByteArray &token) {
            QNetworkRequest request(QUrl(url + path));
            if (!token.isEmpty())
                request.setRawHeader("Authorization", "bearer " + token);
            std::unique_ptr<QNetworkReply> reply(send(m_network.get(request)));
            return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        };
        QCOMPARE(status(QStringLiteral("/v2/models/fm"), {}), 401);
        QCOMPARE(status(QStringLiteral("/v2/models/fm"), "t0ken-from-file"), 200);
        QCOMPARE(status(QStringLiteral("/v2/health/live"), {}), 200);
        QCOMPARE(status(QStringLiteral("/v2/models/fm%0Aforged%20line"), "t0ken-from-file"),
                 404);
        QTRY_VERIFY_WITH_TIMEOUT(server.out().contains(QStringLiteral("%0Aforged%20line")),
                                 10000);
        for (const QString &line : server.out().split(QLatin1Char('\n')))
            QVERIFY2(!line.startsWith(QStringLiteral("forged")), qPrintable(server.out()));
    }

    void tokenFromTheEnvironment()
    {
        const quint16 port = freePort();
        Server server;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("MODELSTUDIO_TOKEN"), QStringLiteral("env-t0ken"));
        server.process().setProcessEnvironment(env);
        server.start({QStringLiteral("serve"), QStringLiteral("fm"), QStringLiteral("--port"),
                      QString::number(port), QStringLiteral("--workspace"), ws()});
        const QString url = QStringLiteral("http://127.0.0.1:%1").arg(port);
        QTRY_VERIFY2_WITH_TIMEOUT(server.out().contains(url) || !server.isRunning(),
                                  qPrintable(server.err()), 60000);
        // The ready-made curl line carries it, so that it works as printed.
        QVERIFY2(server.out().contains(QStringLiteral("Bearer env-t0ken")),
                 qPrintable(server.out()));
        const auto status = [&](const QByteArray &token) {
            QNetworkRequest request(QUrl(url + QStringLiteral("/v2/models/fm")));
            if (!token.isEmpty())
                request.setRawHeader("Authorization", "Bearer " + token);
            std::unique_ptr<QNetworkReply> reply(send(m_network.get(request)));
            return reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        };
        QCOMPARE(status({}), 401);
        QCOMPARE(status("env-t0ken"), 200);
    }

    void stopsOnInterrupt()
    {
        QVERIFY(m_server && m_server->isRunning());
        QVERIFY(::kill(pid_t(m_server->pid()), SIGINT) == 0);
        QVERIFY(m_server->process().waitForFinished(10000));
        QCOMPARE(m_server->process().exitStatus(), QProcess::NormalExit);
        QVERIFY2(m_server->process().exitCode() == 0, qPrintable(m_server->err()));
    }
};

QTEST_GUILESS_MAIN(TestCliServe)
#include "tst_cli_serve.moc"
