#pragma once

#include "ServeTypes.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>
#include <QPointer>

#include <chrono>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

class QHostAddress;

namespace ms::http {

using Clock = std::chrono::steady_clock;
using HeaderList = QList<QPair<QByteArray, QByteArray>>;

// One request as the connection layer framed it.
struct Request
{
    QByteArray method;        // "GET", as sent (methods are case-sensitive)
    QByteArray target;        // the request target as sent: "/v2/models/a%2Fb/infer?x=1"
    QByteArray path;          // the target's path, still percent-encoded
    int minorVersion = 1;     // HTTP/1.x
    std::vector<std::pair<QByteArray, QByteArray>> headers;   // names lower-case
    QByteArray body;          // empty until the body handler runs
    Clock::time_point received{};   // when the headers (handler: the whole request) were in

    // The first value of a header, by its lower-case name; empty when absent.
    QByteArray header(const char *lowerName) const;
};

// A weak handle on the reply slot of one request. Copyable and cheap; every call is made on
// the server's thread. A reply for a connection that is gone, or a slot already answered, is
// dropped: holding a Responder never keeps a connection, a socket or a buffer alive.
// Replies leave in request order (pipelining): a reply written early waits for the ones ahead.
class Responder final
{
public:
    Responder() = default;

    // The connection is there and the reply not finished.
    bool isOpen() const;
    // The whole reply at once (Content-Length).
    void write(int status, const QByteArray &body,
               const QByteArray &contentType = QByteArrayLiteral("application/json"),
               const HeaderList &headers = {});
    // A streamed reply (chunked transfer encoding; close-delimited for HTTP/1.0 clients), for
    // replies produced piece by piece such as server-sent events: beginStream() once, then
    // writeChunk() any number of times, then endStream(). False when the slot is gone.
    bool beginStream(int status, const QByteArray &contentType, const HeaderList &headers = {});
    bool writeChunk(const QByteArray &data);
    void endStream();
    // Called once, on the server's thread, if the connection closes before this reply is
    // finished (the client disconnected, or the server aborted it): the application stops the
    // work it was doing for the reply. Called at once when the slot is already gone.
    void onClosed(std::function<void()> callback);

private:
    friend class Connection;
    Responder(QObject *connection, quint64 seq)
        : m_connection(connection)
        , m_seq(seq)
    {}
    QPointer<QObject> m_connection;   // a Connection (internal to HttpServer.cpp)
    quint64 m_seq = 0;
};

// Why the connection layer refused or dropped a request itself (for metrics and the log).
struct Refusal
{
    int status = 0;           // the status sent; 0 when the connection was only closed
    QByteArray reason;        // a metric label: "header_too_large", "idle_timeout", ...
    QByteArray method;        // empty when the request line never arrived
    QByteArray path;
    Clock::time_point received{};
};

// An HTTP/1.1 server over QTcpServer that enforces its limits as bytes arrive.
//
// Why our own and not QAbstractHttpServer: Qt 6.4's (qhttpserverrequest.cpp, checked against
// the 6.4.2 sources) reads each request inside a socket transaction and hands it over only
// once the whole body is buffered, with no limit on the header size, the body size, the
// number of connections, idle or slow clients, or unread replies; it ignores Expect:
// 100-continue and Connection: close, and replies parked for later can leave out of request
// order on a pipelined connection. Later Qt versions only add rate limiting. The framing here
// is small (request line, headers, Content-Length and chunked bodies), and every limit of
// ServeOptions is checked on the bytes as they come, before anything is buffered for them.
class HttpServer final : public QObject
{
public:
    // Called with the request's body; answers through the responder, now or later.
    using BodyHandler = std::function<void(Request &&request, Responder responder)>;
    // Called once a request's headers are in, before its body is read. Returns the handler for
    // the body, or an empty one after answering (a refusal: the body is never read).
    using HeadHandler = std::function<BodyHandler(const Request &head, Responder &responder)>;
    using RefusalObserver = std::function<void(const Refusal &refusal)>;

    HttpServer(const ServeOptions &options, HeadHandler onHead, RefusalObserver onRefusal,
               QObject *parent = nullptr);
    ~HttpServer() override;

    // False with the reason (and whether the address was in use) when it cannot listen.
    bool listen(const QHostAddress &address, quint16 port, QString *error, bool *inUse);
    // Stops accepting; open connections stay until they close or the server is deleted.
    void close();
    bool isListening() const;
    quint16 port() const;
    // After detach() requests are answered 503 without reaching the application.
    void detach();
    // Stops accepting and detaches; idle connections close now, the others once the replies
    // they are owed are out. Deletes itself when no connection is left, at the latest after
    // a few seconds.
    void shutdown();

    int connectionCount() const;
    // Connections whose reading is paused: their client has not read its replies (past
    // maxUnsentReplyBytes) or has maxPipelinedRequests requests waiting for replies.
    int pausedConnections() const;
    // maxConnections lowered to what the process's descriptor limit leaves room for.
    int connectionCap() const;

    struct Private;

private:
    std::unique_ptr<Private> d;
};

// The reason phrase of a status code ("Not Found").
QByteArray reasonPhrase(int status);

} // namespace ms::http
