// The connection layer under hostile clients (issue 16, items 5 and 6; issue 15's Expect:
// 100-continue): every limit is checked on raw sockets with limits shrunk to milliseconds and
// a few connections, and each answer is what a well-behaved client would then see again.

#include "HttpServer.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>

#include <memory>
#include <vector>

using namespace ms;

namespace {

struct Reply
{
    int status = 0;
    QByteArray head;
    QByteArray body;
};

// Splits what a connection received into replies (Content-Length or chunked bodies).
std::vector<Reply> parseReplies(const QByteArray &bytes, QByteArray *rest = nullptr)
{
    std::vector<Reply> out;
    qsizetype pos = 0;
    for (;;) {
        const qsizetype end = bytes.indexOf("\r\n\r\n", pos);
        if (end < 0)
            break;
        Reply r;
        r.head = bytes.mid(pos, end - pos);
        r.status = r.head.mid(9, 3).toInt();
        qsizetype bodyStart = end + 4;
        const QByteArray lower = r.head.toLower();
        const qsizetype cl = lower.indexOf("content-length: ");
        if (r.status == 100) {
            out.push_back(r);
            pos = bodyStart;
            continue;
        }
        if (cl >= 0) {
            const qint64 length =
                lower.mid(cl + 16, lower.indexOf("\r\n", cl) - cl - 16).toLongLong();
            if (bytes.size() < bodyStart + length)
                break;
            r.body = bytes.mid(bodyStart, length);
            pos = bodyStart + length;
        } else if (lower.contains("transfer-encoding: chunked")) {
            qsizetype p = bodyStart;
            bool complete = false;
            while (true) {
                const qsizetype nl = bytes.indexOf("\r\n", p);
                if (nl < 0)
                    break;
                const qint64 size = bytes.mid(p, nl - p).toLongLong(nullptr, 16);
                if (size == 0) {
                    if (bytes.size() >= nl + 4) {
                        p = nl + 4;
                        complete = true;
                    }
                    break;
                }
                if (bytes.size() < nl + 2 + size + 2)
                    break;
                r.body += bytes.mid(nl + 2, size);
                p = nl + 2 + size + 2;
            }
            if (!complete)
                break;
            pos = p;
        } else {
            pos = bodyStart;
        }
        out.push_back(r);
    }
    if (rest)
        *rest = bytes.mid(pos);
    return out;
}

// A client socket on the test's thread (the server shares its event loop): everything it
// receives is collected; the test waits on conditions with QTRY_*.
class Client
{
public:
    explicit Client(quint16 port)
    {
        QObject::connect(&socket, &QTcpSocket::readyRead, &socket,
                         [this] { received += socket.readAll(); });
        QObject::connect(&socket, &QTcpSocket::disconnected, &socket, [this] { closed = true; });
        socket.connectToHost(QHostAddress::LocalHost, port);
    }
    bool waitConnected() { return socket.waitForConnected(5000); }
    void send(const QByteArray &bytes) { socket.write(bytes); }
    std::vector<Reply> replies() const { return parseReplies(received); }

    QTcpSocket socket;
    QByteArray received;
    bool closed = false;
};

QByteArray get(const QByteArray &path, const QByteArray &extra = {})
{
    return "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n";
}

QByteArray post(const QByteArray &path, const QByteArray &body, const QByteArray &extra = {})
{
    return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: "
           + QByteArray::number(body.size()) + "\r\n" + extra + "\r\n" + body;
}

} // namespace

class TestHttpServer final : public QObject
{
    Q_OBJECT

private:
    // A server with small limits and a few test routes:
    // /echo (the body back), /big (64 KiB), /key (401 at the head without "x-key: k"),
    // /park (answered by the test), /stream (three chunks).
    std::unique_ptr<http::HttpServer> makeServer(const ServeOptions &options)
    {
        auto server = std::make_unique<http::HttpServer>(
            options,
            [this](const http::Request &head, http::Responder &responder)
                -> http::HttpServer::BodyHandler {
                ++m_heads;
                if (head.path == "/key" && head.header("x-key") != "k") {
                    responder.write(401, "{\"error\":\"key\"}");
                    return {};
                }
                return [this](http::Request &&request, http::Responder r) {
                    ++m_handled;
                    m_lastBody = request.body;
                    if (request.path == "/big") {
                        r.write(200, QByteArray(64 * 1024, 'x'), "text/plain");
                    } else if (request.path == "/park") {
                        m_parked.push_back(r);
                    } else if (request.path == "/stream") {
                        r.beginStream(200, "text/event-stream");
                        r.writeChunk("data: 1\n\n");
                        r.writeChunk("data: 2\n\n");
                        r.writeChunk("data: 3\n\n");
                        r.endStream();
                    } else {
                        r.write(200, request.path + ":" + request.body, "text/plain");
                    }
                };
            },
            [this](const http::Refusal &refusal) { m_refusals << refusal.reason; });
        QString error;
        bool inUse = false;
        if (!server->listen(QHostAddress::LocalHost, 0, &error, &inUse))
            qFatal("cannot listen: %s", qPrintable(error));
        return server;
    }
    static ServeOptions smallLimits()
    {
        ServeOptions o;
        o.maxHeaderBytes = 2048;
        o.maxHeaderCount = 20;
        o.maxBodyBytes = 1000;
        o.maxConnections = 4;
        o.idleTimeout_ms = 400;
        o.headerTimeout_ms = 300;
        o.bodyTimeout_ms = 300;
        o.maxUnsentReplyBytes = 128 * 1024;
        o.maxPipelinedRequests = 8;
        return o;
    }

    int m_heads = 0;
    int m_handled = 0;
    QByteArray m_lastBody;
    std::vector<http::Responder> m_parked;
    QList<QByteArray> m_refusals;

private Q_SLOTS:
    void init()
    {
        m_heads = m_handled = 0;
        m_parked.clear();
        m_refusals.clear();
    }

    void keepAliveAndPipelinedOrder()
    {
        auto server = makeServer(smallLimits());
        Client c(server->port());
        QVERIFY(c.waitConnected());
        // Three requests in one write; the first is answered last.
        c.send(get("/park") + post("/echo", "abc") + get("/x"));
        QTRY_COMPARE(m_handled, 3);
        QCOMPARE(c.replies().size(), size_t(0));   // all wait for the parked one
        m_parked.front().write(200, "first", "text/plain");
        QTRY_COMPARE(c.replies().size(), size_t(3));
        const std::vector<Reply> r = c.replies();
        QCOMPARE(r[0].body, QByteArray("first"));
        QCOMPARE(r[1].body, QByteArray("/echo:abc"));
        QCOMPARE(r[2].body, QByteArray("/x:"));
        QVERIFY(!c.closed);
    }

    void headerLimits_data()
    {
        QTest::addColumn<QByteArray>("request");
        QTest::addColumn<int>("status");
        QTest::newRow("header bytes")
            << get("/x", "X-Big: " + QByteArray(4000, 'a') + "\r\n") << 431;
        QByteArray many;
        for (int i = 0; i < 30; ++i)
            many += "X-" + QByteArray::number(i) + ": v\r\n";
        QTest::newRow("header count") << get("/x", many) << 431;
        QTest::newRow("request line") << get("/" + QByteArray(3000, 'a')) << 414;
        QTest::newRow("control byte in target") << QByteArray("GET /a\x01 HTTP/1.1\r\n\r\n") << 400;
        QTest::newRow("both lengths")
            << QByteArray("POST /x HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: "
                          "chunked\r\n\r\n")
            << 400;
        QTest::newRow("version") << QByteArray("GET /x HTTP/2.0\r\n\r\n") << 505;
        QTest::newRow("expectation") << post("/echo", "abc", "Expect: magic\r\n") << 417;
    }
    void headerLimits()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        auto server = makeServer(smallLimits());
        Client c(server->port());
        QVERIFY(c.waitConnected());
        c.send(request);
        QTRY_COMPARE(c.replies().size(), size_t(1));
        QCOMPARE(c.replies()[0].status, status);
        QVERIFY(c.replies()[0].head.contains("Connection: close"));
        QTRY_VERIFY(c.closed);
        QCOMPARE(m_handled, 0);
        // The server is still fine for the next client.
        Client next(server->port());
        QVERIFY(next.waitConnected());
        next.send(get("/ok"));
        QTRY_COMPARE(next.replies().size(), size_t(1));
        QCOMPARE(next.replies()[0].status, 200);
    }

    void hugeHeaderIsNotBuffered()
    {
        // 20 MB of one header: refused after the limit's worth, the rest never stored.
        ServeOptions o = smallLimits();
        auto server = makeServer(o);
        Client c(server->port());
        QVERIFY(c.waitConnected());
        c.send("GET /x HTTP/1.1\r\nX-Flood: ");
        const QByteArray block(1 << 20, 'a');
        for (int i = 0; i < 20 && !c.closed && c.socket.state() == QAbstractSocket::ConnectedState;
             ++i) {
            c.send(block);
            QTest::qWait(0);
            if (!c.replies().empty())
                break;
        }
        QTRY_COMPARE(c.replies().size(), size_t(1));
        QCOMPARE(c.replies()[0].status, 431);
        QVERIFY(m_refusals.contains("header_too_large"));
    }

    void bodyRefusedByLengthBeforeItArrives()
    {
        auto server = makeServer(smallLimits());
        Client c(server->port());
        QVERIFY(c.waitConnected());
        // Headers only: the 413 must come without the body (nothing else is sent).
        c.send("POST /echo HTTP/1.1\r\nContent-Length: 1073741824\r\n\r\n");
        QTRY_COMPARE(c.replies().size(), size_t(1));
        QCOMPARE(c.replies()[0].status, 413);
        QVERIFY(c.replies()[0].body.contains("1000"));
        QCOMPARE(m_handled, 0);
    }

    void headChecksComeBeforeTheLength()
    {
        // Unauthenticated and too large: 401, the length is not even looked at.
        auto server = makeServer(smallLimits());
        Client c(server->port());
        QVERIFY(c.waitConnected());
        c.send("POST /key HTTP/1.1\r\nContent-Length: 1073741824\r\n\r\n");
        QTRY_COMPARE(c.replies().size(), size_t(1));
        QCOMPARE(c.replies()[0].status, 401);
        QVERIFY(c.replies()[0].head.contains("Connection: close"));
    }

    void chunkedBodies()
    {
        auto server = makeServer(smallLimits());
        Client c(server->port());
        QVERIFY(c.waitConnected());
        c.send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
               "3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\n\r\n");
        QTRY_COMPARE(c.replies().size(), size_t(1));
        QCOMPARE(c.replies()[0].body, QByteArray("/echo:abcdefg"));
        // Over the limit by running size: 413 as soon as a chunk would pass it.
        c.send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
               "200\r\n" + QByteArray(512, 'a') + "\r\n200\r\n");
        QTRY_COMPARE(c.replies().size(), size_t(2));
        QCOMPARE(c.replies()[1].status, 413);
        QTRY_VERIFY(c.closed);
    }

    void expectContinue()
    {
        auto server = makeServer(smallLimits());
        Client c(server->port());
        QVERIFY(c.waitConnected());
        c.send("POST /echo HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        QTRY_COMPARE(c.replies().size(), size_t(1));
        QCOMPARE(c.replies()[0].status, 100);
        c.send("hello");
        QTRY_COMPARE(c.replies().size(), size_t(2));
        QCOMPARE(c.replies()[1].status, 200);
        QCOMPARE(c.replies()[1].body, QByteArray("/echo:hello"));

        // Refused at the head: the final status instead of 100, and no body read.
        Client refused(server->port());
        QVERIFY(refused.waitConnected());
        refused.send("POST /key HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        QTRY_COMPARE(refused.replies().size(), size_t(1));
        QCOMPARE(refused.replies()[0].status, 401);
        Client tooLarge(server->port());
        QVERIFY(tooLarge.waitConnected());
        tooLarge.send("POST /echo HTTP/1.1\r\nContent-Length: 5000\r\n"
                      "Expect: 100-continue\r\n\r\n");
        QTRY_COMPARE(tooLarge.replies().size(), size_t(1));
        QCOMPARE(tooLarge.replies()[0].status, 413);
    }

    void connectionCloseAndHttp10()
    {
        auto server = makeServer(smallLimits());
        Client c(server->port());
        QVERIFY(c.waitConnected());
        c.send(get("/a", "Connection: close\r\n") + get("/never"));
        QTRY_VERIFY(c.closed);
        QCOMPARE(c.replies().size(), size_t(1));
        QVERIFY(c.replies()[0].head.contains("Connection: close"));
        QCOMPARE(m_handled, 1);

        Client old(server->port());
        QVERIFY(old.waitConnected());
        old.send("GET /b HTTP/1.0\r\n\r\n");
        QTRY_VERIFY(old.closed);
        QCOMPARE(old.replies().size(), size_t(1));
        QCOMPARE(old.replies()[0].status, 200);

        Client keep(server->port());
        QVERIFY(keep.waitConnected());
        keep.send("GET /c HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        QTRY_COMPARE(keep.replies().size(), size_t(1));
        QVERIFY(keep.replies()[0].head.contains("Connection: keep-alive"));
        QVERIFY(!keep.closed);
    }

    void timeouts()
    {
        auto server = makeServer(smallLimits());
        Client slowHead(server->port());
        Client slowBody(server->port());
        Client idle(server->port());
        QVERIFY(slowHead.waitConnected() && slowBody.waitConnected() && idle.waitConnected());
        slowHead.send("GET /x HTTP/1.1\r\nX-A: ");   // never finished
        slowBody.send("POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
        idle.send(get("/x"));
        QTRY_VERIFY(slowHead.closed && slowBody.closed && idle.closed);
        QCOMPARE(slowHead.replies().size(), size_t(1));
        QCOMPARE(slowHead.replies()[0].status, 408);
        QCOMPARE(slowBody.replies().size(), size_t(1));
        QCOMPARE(slowBody.replies()[0].status, 408);
        QCOMPARE(idle.replies().size(), size_t(1));   // its answer, then closed when idle
        QCOMPARE(idle.replies()[0].status, 200);
        QVERIFY(m_refusals.contains("header_timeout"));
        QVERIFY(m_refusals.contains("body_timeout"));
        QVERIFY(m_refusals.contains("idle_timeout"));
    }

    void connectionCapKeepsAnswering()
    {
        ServeOptions o = smallLimits();
        o.idleTimeout_ms = 800;   // quiet for 200 ms: evictable; closed at 800 ms anyway
        o.headerTimeout_ms = 60000;
        auto server = makeServer(o);
        QCOMPARE(server->connectionCap(), 4);
        // Four kept-alive clients between requests fill the cap.
        std::vector<std::unique_ptr<Client>> idle;
        for (int i = 0; i < 4; ++i) {
            idle.push_back(std::make_unique<Client>(server->port()));
            QVERIFY(idle.back()->waitConnected());
            idle.back()->send(get("/x"));
            QTRY_COMPARE(idle.back()->replies().size(), size_t(1));
        }
        QCOMPARE(server->connectionCount(), 4);
        // A health check gets through once one of them has been quiet for a moment: the
        // longest-idle connection makes room (before that, the newcomer gets 503).
        const auto healthCheck = [&] {
            Client health(server->port());
            if (!health.waitConnected())
                return 0;
            health.send(get("/health"));
            QElapsedTimer waited;
            waited.start();
            while (health.replies().empty() && !health.closed && waited.elapsed() < 5000)
                QTest::qWait(10);
            return health.replies().empty() ? 0 : health.replies()[0].status;
        };
        QTRY_COMPARE(healthCheck(), 200);
        QVERIFY(server->connectionCount() <= 4);
        QVERIFY(m_refusals.contains("evicted"));
        int stillOpen = 0;
        for (const auto &c : idle)
            stillOpen += c->closed ? 0 : 1;
        QVERIFY(stillOpen < 4);
    }

    void freshConnectionsAreNotEvicted()
    {
        // A burst of new connections must not push each other out before their requests are
        // read: at the cap, with nothing safe to close, the newcomer gets 503.
        ServeOptions o = smallLimits();
        o.idleTimeout_ms = 60000;
        o.headerTimeout_ms = 60000;
        auto server = makeServer(o);
        std::vector<std::unique_ptr<Client>> fresh;
        for (int i = 0; i < 4; ++i) {
            fresh.push_back(std::make_unique<Client>(server->port()));
            QVERIFY(fresh.back()->waitConnected());
        }
        QTRY_COMPARE(server->connectionCount(), 4);
        Client late(server->port());
        QVERIFY(late.waitConnected());
        QTRY_COMPARE(late.replies().size(), size_t(1));
        QCOMPARE(late.replies()[0].status, 503);
        QVERIFY(late.replies()[0].head.contains("Retry-After: 1"));
        QVERIFY(m_refusals.contains("connection_limit"));
        // The four are still there, and are served.
        for (auto &c : fresh)
            c->send(get("/y"));
        for (auto &c : fresh) {
            QTRY_COMPARE(c->replies().size(), size_t(1));
            QCOMPARE(c->replies()[0].status, 200);
        }
    }

    void unreadRepliesPauseReading()
    {
        ServeOptions o = smallLimits();
        o.maxPipelinedRequests = 1000;
        o.idleTimeout_ms = 60000;
        auto server = makeServer(o);
        Client c(server->port());
        c.socket.setReadBufferSize(4096);
        QVERIFY(c.waitConnected());
        // The client stops reading: Qt's buffer of 4 KiB fills, then the kernel's.
        QObject::disconnect(&c.socket, &QTcpSocket::readyRead, nullptr, nullptr);
        QByteArray requests;
        const int count = 2000;   // 2000 x 64 KiB = 125 MiB of replies if nothing stopped it
        for (int i = 0; i < count; ++i)
            requests += get("/big");
        c.send(requests);
        QTRY_COMPARE(server->pausedConnections(), 1);
        const int handledWhilePaused = m_handled;
        qInfo("requests read while the client read nothing: %d of %d", handledWhilePaused, count);
        QVERIFY2(handledWhilePaused < count / 4, qPrintable(QString::number(handledWhilePaused)));
        // Reading again: every reply arrives, in order and whole.
        QObject::connect(&c.socket, &QTcpSocket::readyRead, &c.socket,
                         [&c] { c.received += c.socket.readAll(); });
        c.received += c.socket.readAll();
        QTRY_COMPARE_WITH_TIMEOUT(m_handled, count, 60000);
        QTRY_COMPARE_WITH_TIMEOUT(c.replies().size(), size_t(count), 60000);
        for (const Reply &r : c.replies())
            QCOMPARE(r.body.size(), 64 * 1024);
    }

    void streamedReply()
    {
        auto server = makeServer(smallLimits());
        Client c(server->port());
        QVERIFY(c.waitConnected());
        c.send(get("/stream") + get("/after"));
        QTRY_COMPARE(c.replies().size(), size_t(2));
        QVERIFY(c.replies()[0].head.contains("Transfer-Encoding: chunked"));
        QCOMPARE(c.replies()[0].body, QByteArray("data: 1\n\ndata: 2\n\ndata: 3\n\n"));
        QCOMPARE(c.replies()[1].body, QByteArray("/after:"));
    }

    void responderOfAGoneClientIsDropped()
    {
        auto server = makeServer(smallLimits());
        auto c = std::make_unique<Client>(server->port());
        QVERIFY(c->waitConnected());
        c->send(get("/park"));
        QTRY_COMPARE(int(m_parked.size()), 1);
        QVERIFY(m_parked.front().isOpen());
        c.reset();   // the client leaves before its answer
        QTRY_VERIFY(!m_parked.front().isOpen());
        m_parked.front().write(200, "late");   // nothing to write to: dropped, no crash
        QTRY_COMPARE(server->connectionCount(), 0);
    }
};

QTEST_GUILESS_MAIN(TestHttpServer)
#include "tst_httpserver.moc"
