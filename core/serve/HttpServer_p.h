#pragma once

// The HTTP layer's insides, shared by its three source files (HttpServer.cpp: the server and
// Responder; HttpConnection.cpp: one connection's reply slots, writing and deadlines;
// HttpRequestReader.cpp: framing a request as its bytes arrive). Not installed, not included
// outside core/serve.

#include "HttpServer.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <algorithm>
#include <deque>

namespace ms::http {

// Qt reads at most this much ahead of the parser; past it the kernel's window closes and the
// client waits (back-pressure instead of memory).
constexpr qint64 kSocketReadBuffer = 256 * 1024;
constexpr qint64 kMaxChunkLine = 1024;
// After a reply that closes the connection, the rest of what the client sends is read and
// dropped for a moment, so that closing with unread data (a TCP reset) cannot destroy the
// reply before the client has read it.
constexpr int kLinger_ms = 2000;
constexpr qint64 kLingerDiscardBytes = 8 * 1024 * 1024;

inline qint64 msSince(Clock::time_point since, Clock::time_point now)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(now - since).count();
}

inline bool isTokenChar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+': case '-':
    case '.': case '^': case '_': case '`': case '|': case '~':
        return true;
    default:
        return false;
    }
}

inline bool isToken(const QByteArray &text)
{
    return !text.isEmpty() && std::all_of(text.begin(), text.end(), isTokenChar);
}

// Comma-separated list header values, lower-cased and trimmed ("keep-alive, Upgrade").
inline bool listContains(const QByteArray &value, const char *token)
{
    for (const QByteArray &part : value.split(','))
        if (part.trimmed().toLower() == token)
            return true;
    return false;
}

inline QByteArray errorBody(const QString &message)
{
    return QJsonDocument(QJsonObject{{QStringLiteral("error"), message}})
        .toJson(QJsonDocument::Compact);
}

// One client connection: frames its requests as bytes arrive, keeps their reply slots in
// request order, and enforces the per-connection limits. Lives on the server's thread.
class Connection final : public QObject
{
public:
    Connection(HttpServer::Private *server, QTcpSocket *socket);

    // Responder entry points (see Responder).
    bool slotOpen(quint64 seq) const;
    void reply(quint64 seq, int status, const QByteArray &body, const QByteArray &contentType,
               const HeaderList &headers);
    bool beginStream(quint64 seq, int status, const QByteArray &contentType,
                     const HeaderList &headers);
    bool writeChunk(quint64 seq, const QByteArray &data);
    void endStream(quint64 seq);
    void setOnClosed(quint64 seq, std::function<void()> onClosed);
    // The application is going (HttpServer::detach): its callbacks must not run any more.
    void dropOnClosed();

    // The server's periodic check of this connection's deadlines.
    void sweep(Clock::time_point now);
    // Nothing in progress: no request being read, no reply owed or unsent.
    bool isIdle() const;
    // Idle and safe to close to make room: quiet for a while (a quarter of the idle timeout,
    // at most a second) since its last reply, or since it connected without sending anything.
    // A connection accepted a moment ago, whose request may be on its way, is not, nor a
    // client between two requests.
    bool isEvictable(Clock::time_point now) const;
    // Its headers have been arriving for a while (a slow client).
    bool isSlowHead(Clock::time_point now) const;
    bool isReadingHead() const { return m_phase == Phase::Head && m_headStarted; }
    bool isPaused() const { return m_paused; }
    Clock::time_point lastActivity() const { return m_lastActivity; }
    Clock::time_point headStartedAt() const { return m_headStartedAt; }
    // Closed by the server to make room (idle) or for a slow head (408).
    void evict();
    // The server is shutting down: close once the replies owed are out.
    void closeWhenDone();
    void abort(const QByteArray &reason);

private:
    enum class Phase { Head, Body, ChunkSize, ChunkData, ChunkEnd, Trailer, Draining, Closing };
    struct Slot
    {
        quint64 seq = 0;
        QByteArray out;           // bytes ready, waiting for the slots ahead of it
        bool started = false;     // the status line is written
        bool done = false;
        bool chunked = false;     // a stream with chunked framing
        bool closeAfter = false;
        bool headOnly = false;    // a HEAD request: no body bytes
        bool wantsContinue = false;
        int minorVersion = 1;
        std::function<void()> onClosed;   // the client went away before the reply was done
    };

    void onReadable();
    void process();
    bool parseHead();
    bool parseRequestLine(const QByteArray &line);
    bool parseHeaderLine(const QByteArray &line);
    // A request's head is read: its framing checked, the application asked, its body admitted.
    void headComplete();
    struct Framing
    {
        bool chunked = false;
        qint64 length = 0;
        bool lengthTooLarge = false;   // a Content-Length of more digits than any limit
        bool wantsContinue = false;
        bool hasBody() const { return chunked || length > 0; }
    };
    // False when the head's framing was refused.
    bool readFraming(Framing &framing);
    // The application's handler for the body, or none when it answered from the head.
    HttpServer::BodyHandler askApplication();
    // False when the body was refused: over the limit, or over the server's body budget.
    bool admitBody(const Framing &framing);
    void refuseBody(int status, const QByteArray &reason, const QByteArray &body,
                    const HeaderList &headers = {});
    void startBody(HttpServer::BodyHandler handler, const Framing &framing);
    bool readBody();
    bool readChunked();
    void dispatch();
    void refuse(int status, const QByteArray &reason, const QString &message,
                const HeaderList &headers = {});
    Slot *slot(quint64 seq);
    const Slot *slot(quint64 seq) const;
    quint64 openSlot();
    QByteArray statusHead(const Slot &s, int status, const QByteArray &contentType,
                          const HeaderList &headers, qint64 contentLength) const;
    void queue(Slot &s, const QByteArray &bytes);
    void flush();
    void startClosing();
    void onBytesWritten();
    void gone();
    qint64 unsent() const;
    bool overWriteLimits() const;
    void report(int status, const QByteArray &reason);
    bool reserveBody(qint64 bytes);
    void releaseBody();

    HttpServer::Private *m_server = nullptr;
    QTcpSocket *m_socket = nullptr;
    Phase m_phase = Phase::Head;
    bool m_gone = false;
    bool m_shutdownSent = false;
    bool m_processQueued = false;
    bool m_paused = false;   // not reading: over the unsent-reply or pipelining limit

    QByteArray m_in;        // received, not parsed yet
    qsizetype m_pos = 0;    // parse position in m_in
    qsizetype m_headStart = 0;
    bool m_headStarted = false;
    bool m_sawRequestLine = false;
    Request m_request;      // the request being read
    HttpServer::BodyHandler m_handler;
    quint64 m_requestSeq = 0;
    bool m_closeAfterRequest = false;
    qint64 m_bodyRemaining = 0;   // Content-Length left, or the current chunk's
    qint64 m_bodyReserved = 0;    // bytes of the server's body budget held by this request
    qint64 m_discarded = 0;

    std::deque<Slot> m_slots;
    quint64 m_firstSeq = 1;      // seq of m_slots.front()
    quint64 m_nextSeq = 1;
    qint64 m_queuedBytes = 0;    // in slots behind the head

    Clock::time_point m_created;
    Clock::time_point m_lastActivity;
    Clock::time_point m_lastWriteProgress;
    quint64 m_answered = 0;       // replies completed
    Clock::time_point m_headStartedAt;
    Clock::time_point m_bodyStartedAt;
    Clock::time_point m_closingSince;
};

struct HttpServer::Private
{
    HttpServer *q = nullptr;
    ServeOptions options;
    HeadHandler onHead;
    RefusalObserver onRefusal;
    bool detached = false;
    QTcpServer *tcp = nullptr;
    QTimer sweepTimer;
    std::vector<Connection *> connections;
    int cap = 0;
    qint64 bufferedBodyBytes = 0;
    bool shuttingDown = false;

    void acceptAll();
    void refuseOverCap(QTcpSocket *socket);
    void sweep();
    void remove(Connection *connection)
    {
        connections.erase(std::remove(connections.begin(), connections.end(), connection),
                          connections.end());
        if (shuttingDown && connections.empty())
            q->deleteLater();
    }
    void report(const Refusal &refusal)
    {
        if (onRefusal)
            onRefusal(refusal);
    }
};

} // namespace ms::http
