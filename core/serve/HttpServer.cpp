#include "HttpServer.h"

#include <QDir>
#include <QHostAddress>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

#include <algorithm>
#include <deque>

#include <sys/resource.h>
#include <sys/socket.h>

namespace ms::http {

namespace {

// Qt reads at most this much ahead of the parser; past it the kernel's window closes and the
// client waits (back-pressure instead of memory).
constexpr qint64 kSocketReadBuffer = 256 * 1024;
constexpr qint64 kMaxChunkLine = 1024;
// After a reply that closes the connection, the rest of what the client sends is read and
// dropped for a moment, so that closing with unread data (a TCP reset) cannot destroy the
// reply before the client has read it.
constexpr int kLinger_ms = 2000;
constexpr qint64 kLingerDiscardBytes = 8 * 1024 * 1024;

qint64 msSince(Clock::time_point since, Clock::time_point now)
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(now - since).count();
}

bool isTokenChar(char c)
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

bool isToken(const QByteArray &text)
{
    return !text.isEmpty() && std::all_of(text.begin(), text.end(), isTokenChar);
}

// Comma-separated list header values, lower-cased and trimmed ("keep-alive, Upgrade").
bool listContains(const QByteArray &value, const char *token)
{
    for (const QByteArray &part : value.split(','))
        if (part.trimmed().toLower() == token)
            return true;
    return false;
}

QByteArray errorBody(const QString &message)
{
    return QJsonDocument(QJsonObject{{QStringLiteral("error"), message}})
        .toJson(QJsonDocument::Compact);
}

// How many descriptors this process may still open, from RLIMIT_NOFILE and /proc/self/fd.
int descriptorHeadroom()
{
    struct rlimit limit {};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
        return 1 << 20;
    const qsizetype open =
        QDir(QStringLiteral("/proc/self/fd")).entryList(QDir::AllEntries | QDir::NoDotAndDotDot)
            .size();
    return int(qint64(limit.rlim_cur) - qint64(open));
}

} // namespace

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 100: return QByteArrayLiteral("Continue");
    case 200: return QByteArrayLiteral("OK");
    case 400: return QByteArrayLiteral("Bad Request");
    case 401: return QByteArrayLiteral("Unauthorized");
    case 403: return QByteArrayLiteral("Forbidden");
    case 404: return QByteArrayLiteral("Not Found");
    case 405: return QByteArrayLiteral("Method Not Allowed");
    case 408: return QByteArrayLiteral("Request Timeout");
    case 411: return QByteArrayLiteral("Length Required");
    case 413: return QByteArrayLiteral("Content Too Large");
    case 414: return QByteArrayLiteral("URI Too Long");
    case 417: return QByteArrayLiteral("Expectation Failed");
    case 431: return QByteArrayLiteral("Request Header Fields Too Large");
    case 500: return QByteArrayLiteral("Internal Server Error");
    case 501: return QByteArrayLiteral("Not Implemented");
    case 503: return QByteArrayLiteral("Service Unavailable");
    case 504: return QByteArrayLiteral("Gateway Timeout");
    case 505: return QByteArrayLiteral("HTTP Version Not Supported");
    default: return QByteArrayLiteral("Status");
    }
}

QByteArray Request::header(const char *lowerName) const
{
    for (const auto &field : headers) {
        if (field.first == lowerName)
            return field.second;
    }
    return {};
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

// --- Responder ---

bool Responder::isOpen() const
{
    const auto *c = static_cast<const Connection *>(m_connection.data());
    return c && c->slotOpen(m_seq);
}

void Responder::write(int status, const QByteArray &body, const QByteArray &contentType,
                      const HeaderList &headers)
{
    if (auto *c = static_cast<Connection *>(m_connection.data()))
        c->reply(m_seq, status, body, contentType, headers);
}

bool Responder::beginStream(int status, const QByteArray &contentType, const HeaderList &headers)
{
    auto *c = static_cast<Connection *>(m_connection.data());
    return c && c->beginStream(m_seq, status, contentType, headers);
}

bool Responder::writeChunk(const QByteArray &data)
{
    auto *c = static_cast<Connection *>(m_connection.data());
    return c && c->writeChunk(m_seq, data);
}

void Responder::endStream()
{
    if (auto *c = static_cast<Connection *>(m_connection.data()))
        c->endStream(m_seq);
}

// --- Connection ---

Connection::Connection(HttpServer::Private *server, QTcpSocket *socket)
    : QObject(server->q)
    , m_server(server)
    , m_socket(socket)
{
    socket->setParent(this);
    socket->setReadBufferSize(kSocketReadBuffer);
    socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    m_created = m_lastActivity = m_lastWriteProgress = Clock::now();
    connect(socket, &QTcpSocket::readyRead, this, [this] { onReadable(); });
    connect(socket, &QTcpSocket::bytesWritten, this, [this] { onBytesWritten(); });
    connect(socket, &QTcpSocket::disconnected, this, [this] { gone(); });
    connect(socket, &QTcpSocket::errorOccurred, this, [this] {
        if (m_socket->state() == QAbstractSocket::UnconnectedState)
            gone();
    });
}

Connection::Slot *Connection::slot(quint64 seq)
{
    if (m_gone || seq < m_firstSeq || seq >= m_firstSeq + m_slots.size())
        return nullptr;
    return &m_slots[size_t(seq - m_firstSeq)];
}

const Connection::Slot *Connection::slot(quint64 seq) const
{
    return const_cast<Connection *>(this)->slot(seq);
}

bool Connection::slotOpen(quint64 seq) const
{
    const Slot *s = slot(seq);
    return s && !s->done;
}

quint64 Connection::openSlot()
{
    Slot s;
    s.seq = m_nextSeq++;
    s.minorVersion = m_request.minorVersion;
    s.headOnly = m_request.method == "HEAD";
    s.closeAfter = m_closeAfterRequest;
    m_slots.push_back(std::move(s));
    return m_slots.back().seq;
}

QByteArray Connection::statusHead(const Slot &s, int status, const QByteArray &contentType,
                                  const HeaderList &headers, qint64 contentLength) const
{
    QByteArray out;
    out.reserve(160);
    out += "HTTP/1.1 ";
    out += QByteArray::number(status);
    out += ' ';
    out += reasonPhrase(status);
    out += "\r\n";
    if (!contentType.isEmpty()) {
        out += "Content-Type: ";
        out += contentType;
        out += "\r\n";
    }
    if (contentLength >= 0) {
        out += "Content-Length: ";
        out += QByteArray::number(contentLength);
        out += "\r\n";
    } else if (s.chunked) {
        out += "Transfer-Encoding: chunked\r\n";
    }
    if (s.closeAfter)
        out += "Connection: close\r\n";
    else if (s.minorVersion == 0)
        out += "Connection: keep-alive\r\n";
    for (const auto &header : headers) {
        out += header.first;
        out += ": ";
        out += header.second;
        out += "\r\n";
    }
    out += "\r\n";
    return out;
}

void Connection::reply(quint64 seq, int status, const QByteArray &body,
                       const QByteArray &contentType, const HeaderList &headers)
{
    Slot *s = slot(seq);
    if (!s || s->started)
        return;
    s->started = true;
    s->done = true;
    s->wantsContinue = false;
    QByteArray bytes = statusHead(*s, status, contentType, headers, body.size());
    if (!s->headOnly)
        bytes += body;
    queue(*s, bytes);
    flush();
}

bool Connection::beginStream(quint64 seq, int status, const QByteArray &contentType,
                             const HeaderList &headers)
{
    Slot *s = slot(seq);
    if (!s || s->started)
        return false;
    s->started = true;
    s->wantsContinue = false;
    // HTTP/1.0 has no chunked framing: the body ends where the connection does.
    s->chunked = s->minorVersion >= 1;
    if (!s->chunked)
        s->closeAfter = true;
    queue(*s, statusHead(*s, status, contentType, headers, -1));
    flush();
    return true;
}

bool Connection::writeChunk(quint64 seq, const QByteArray &data)
{
    Slot *s = slot(seq);
    if (!s || !s->started || s->done)
        return false;
    if (data.isEmpty())
        return true;   // an empty chunk would end the stream
    if (s->chunked)
        queue(*s, QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n");
    else
        queue(*s, data);
    flush();
    return true;
}

void Connection::endStream(quint64 seq)
{
    Slot *s = slot(seq);
    if (!s || !s->started || s->done)
        return;
    s->done = true;
    if (s->chunked)
        queue(*s, QByteArrayLiteral("0\r\n\r\n"));
    flush();
}

void Connection::queue(Slot &s, const QByteArray &bytes)
{
    s.out += bytes;
    m_queuedBytes += bytes.size();
}

qint64 Connection::unsent() const
{
    return (m_socket ? m_socket->bytesToWrite() : 0) + m_queuedBytes;
}

bool Connection::overWriteLimits() const
{
    return unsent() > m_server->options.maxUnsentReplyBytes
           || qint64(m_slots.size()) >= m_server->options.maxPipelinedRequests;
}

void Connection::flush()
{
    if (m_gone)
        return;
    bool wrote = false;
    while (!m_slots.empty()) {
        Slot &head = m_slots.front();
        if (head.wantsContinue && !head.started && m_requestSeq == head.seq
            && (m_phase == Phase::Body || m_phase == Phase::ChunkSize)
            && m_request.body.isEmpty()) {
            m_socket->write(QByteArrayLiteral("HTTP/1.1 100 Continue\r\n\r\n"));
            head.wantsContinue = false;
            wrote = true;
        }
        if (!head.out.isEmpty()) {
            m_queuedBytes -= head.out.size();
            m_socket->write(head.out);
            head.out.clear();
            wrote = true;
        }
        if (!head.done)
            break;
        const bool close = head.closeAfter;
        m_slots.pop_front();
        ++m_firstSeq;
        ++m_answered;
        if (close) {
            startClosing();
            return;
        }
    }
    if (wrote)
        m_lastActivity = Clock::now();
    // A reply may have made room for the next pipelined request.
    if (!m_processQueued && m_phase == Phase::Head && !overWriteLimits()
        && (m_paused || m_pos < m_in.size() || m_socket->bytesAvailable() > 0)) {
        m_processQueued = true;
        QMetaObject::invokeMethod(this, [this] {
            m_processQueued = false;
            process();
        }, Qt::QueuedConnection);
    }
}

void Connection::onBytesWritten()
{
    m_lastWriteProgress = m_lastActivity = Clock::now();
    if (m_phase == Phase::Closing) {
        startClosing();
        return;
    }
    // Reading stopped while the client's unread replies were over the limit.
    if (m_phase == Phase::Head && !overWriteLimits())
        process();
}

void Connection::startClosing()
{
    if (m_phase != Phase::Closing) {
        m_phase = Phase::Closing;
        m_closingSince = Clock::now();
        releaseBody();
        m_in.clear();
        m_pos = 0;
    }
    if (m_gone || m_shutdownSent || m_socket->bytesToWrite() > 0)
        return;
    // Every reply byte is out: half-close, then drop what the client still sends until it
    // closes too (or kLinger_ms passes).
    m_socket->flush();
    ::shutdown(int(m_socket->socketDescriptor()), SHUT_WR);
    m_shutdownSent = true;
}

void Connection::onReadable()
{
    if (m_gone)
        return;
    m_lastActivity = Clock::now();
    if (m_phase == Phase::Closing || m_phase == Phase::Draining) {
        m_discarded += m_socket->readAll().size();
        if (m_discarded > kLingerDiscardBytes)
            abort(QByteArray());
        return;
    }
    process();
}

void Connection::process()
{
    if (m_gone)
        return;
    for (;;) {
        if (m_phase == Phase::Closing || m_phase == Phase::Draining) {
            m_in.clear();
            m_pos = 0;
            return;
        }
        // Replies the client has not read, or requests read ahead of their replies, over
        // the limits: stop reading (its data waits in the kernel) until it catches up.
        m_paused = m_phase == Phase::Head && !m_headStarted && overWriteLimits();
        if (m_paused)
            return;
        // Drop what is parsed (all of it, or a large prefix: never quadratic).
        const qsizetype keepFrom = m_phase == Phase::Head && m_headStarted ? m_headStart : m_pos;
        if (keepFrom > 0 && (keepFrom >= m_in.size() || keepFrom > 16 * 1024)) {
            m_in.remove(0, keepFrom);
            m_pos -= keepFrom;
            if (m_phase == Phase::Head && m_headStarted)
                m_headStart = 0;
        }
        if (m_socket->bytesAvailable() > 0)
            m_in += m_socket->readAll();
        if (m_pos >= m_in.size())
            return;
        bool progressed = false;
        switch (m_phase) {
        case Phase::Head:
            progressed = parseHead();
            break;
        case Phase::Body:
            progressed = readBody();
            break;
        case Phase::ChunkSize:
        case Phase::ChunkData:
        case Phase::ChunkEnd:
        case Phase::Trailer:
            progressed = readChunked();
            break;
        case Phase::Draining:
        case Phase::Closing:
            break;
        }
        if (!progressed)
            return;
    }
}

// True when the head was completed (or refused): the caller loops for what follows.
bool Connection::parseHead()
{
    const ServeOptions &o = m_server->options;
    if (!m_headStarted) {
        m_headStarted = true;
        m_headStart = m_pos;
        m_headStartedAt = Clock::now();
        m_sawRequestLine = false;
        m_request = Request();
        m_closeAfterRequest = false;
    }
    for (;;) {
        const qsizetype newline = m_in.indexOf('\n', m_pos);
        const qint64 headBytes = qint64((newline < 0 ? m_in.size() : newline + 1) - m_headStart);
        if (headBytes > o.maxHeaderBytes) {
            if (!m_sawRequestLine) {
                refuse(414, "uri_too_long",
                       QStringLiteral("the request line is over %1 bytes").arg(o.maxHeaderBytes));
            } else {
                refuse(431, "header_too_large",
                       QStringLiteral("the request's headers are over %1 bytes")
                           .arg(o.maxHeaderBytes));
            }
            return true;
        }
        if (newline < 0)
            return false;   // wait for the rest of the line
        QByteArray line = m_in.mid(m_pos, newline - m_pos);
        m_pos = newline + 1;
        if (line.endsWith('\r'))
            line.chop(1);
        if (!m_sawRequestLine) {
            if (line.isEmpty()) {
                // RFC 9112 2.2: empty lines before a request line are ignored (and do not
                // start one: the connection stays idle).
                if (m_pos >= m_in.size()) {
                    m_headStarted = false;
                    return false;
                }
                continue;
            }
            if (!parseRequestLine(line))
                return true;
            m_sawRequestLine = true;
            continue;
        }
        if (line.isEmpty()) {
            headComplete();
            return true;
        }
        if (!parseHeaderLine(line))
            return true;
        if (int(m_request.headers.size()) > o.maxHeaderCount) {
            refuse(431, "header_too_large",
                   QStringLiteral("the request has more than %1 header fields")
                       .arg(o.maxHeaderCount));
            return true;
        }
    }
}

bool Connection::parseRequestLine(const QByteArray &line)
{
    const QList<QByteArray> parts = line.split(' ');
    if (parts.size() != 3 || !isToken(parts[0]) || parts[1].isEmpty()) {
        refuse(400, "malformed", QStringLiteral("malformed request line"));
        return false;
    }
    m_request.method = parts[0];
    m_request.target = parts[1];
    for (char c : parts[1]) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte >= 0x7f) {
            m_request.target.clear();
            refuse(400, "malformed",
                   QStringLiteral("the request target holds a byte that must be "
                                  "percent-encoded"));
            return false;
        }
    }
    const QByteArray &version = parts[2];
    if (version == "HTTP/1.1") {
        m_request.minorVersion = 1;
    } else if (version == "HTTP/1.0") {
        m_request.minorVersion = 0;
    } else {
        m_request.minorVersion = 0;
        m_closeAfterRequest = true;
        if (version.startsWith("HTTP/"))
            refuse(505, "malformed", QStringLiteral("only HTTP/1.0 and HTTP/1.1 are served"));
        else
            refuse(400, "malformed", QStringLiteral("malformed request line"));
        return false;
    }
    QByteArray path = m_request.target;
    // Absolute form ("http://host/path") as proxies send it: keep the path.
    if (path.startsWith("http://") || path.startsWith("https://")) {
        const qsizetype slash = path.indexOf('/', path.indexOf("//") + 2);
        path = slash < 0 ? QByteArrayLiteral("/") : path.mid(slash);
    }
    const qsizetype query = path.indexOf('?');
    if (query >= 0)
        path.truncate(query);
    const qsizetype fragment = path.indexOf('#');
    if (fragment >= 0)
        path.truncate(fragment);
    m_request.path = path;
    return true;
}

bool Connection::parseHeaderLine(const QByteArray &line)
{
    const qsizetype colon = line.indexOf(':');
    if (line.startsWith(' ') || line.startsWith('\t') || colon <= 0) {
        // Folded lines (obsolete) and lines without a name are refused (RFC 9112 5.2).
        refuse(400, "malformed", QStringLiteral("malformed header line"));
        return false;
    }
    const QByteArray name = line.left(colon);
    if (!isToken(name)) {
        refuse(400, "malformed", QStringLiteral("malformed header name"));
        return false;
    }
    const QByteArray value = line.mid(colon + 1).trimmed();
    for (char c : value) {
        const auto byte = static_cast<unsigned char>(c);
        if ((byte < 0x20 && byte != '\t') || byte == 0x7f) {
            refuse(400, "malformed", QStringLiteral("a header value holds a control character"));
            return false;
        }
    }
    m_request.headers.emplace_back(name.toLower(), value);
    return true;
}

void Connection::headComplete()
{
    Request &r = m_request;
    r.received = Clock::now();
    const QByteArray connection = r.header("connection");
    m_closeAfterRequest = r.minorVersion == 0 ? !listContains(connection, "keep-alive")
                                              : listContains(connection, "close");
    Framing framing;
    if (!readFraming(framing))
        return;

    // The application's checks first (token, route), while the body is still unread: a
    // refusal there closes the connection after the reply when a body would follow.
    const bool keepAlive = !m_closeAfterRequest;
    m_closeAfterRequest = m_closeAfterRequest || framing.hasBody();
    HttpServer::BodyHandler handler = askApplication();
    if (m_gone)
        return;
    if (!handler) {
        if (Slot *s = slot(m_requestSeq); s && !keepAlive)
            s->closeAfter = true;
        m_headStarted = false;
        if (m_closeAfterRequest && m_phase != Phase::Closing)
            m_phase = Phase::Draining;
        flush();
        return;
    }
    if (Slot *s = slot(m_requestSeq))
        s->closeAfter = !keepAlive;
    m_closeAfterRequest = !keepAlive;
    if (admitBody(framing))
        startBody(std::move(handler), framing);
}

bool Connection::readFraming(Framing &f)
{
    // Framing (RFC 9112 6): a request with both Content-Length and Transfer-Encoding is how
    // request smuggling starts; refuse it, and any Content-Length that is not one number.
    const Request &r = m_request;
    bool hasLength = false;
    for (const auto &field : r.headers) {
        if (field.first == "transfer-encoding") {
            const QList<QByteArray> codings = field.second.toLower().split(',');
            if (r.minorVersion == 0 || codings.size() != 1
                || codings.first().trimmed() != "chunked") {
                m_closeAfterRequest = true;
                refuse(501, "malformed",
                       QStringLiteral("only the chunked transfer coding is supported"));
                return false;
            }
            f.chunked = true;
        } else if (field.first == "content-length") {
            const QByteArray text = field.second;
            const bool digits = !text.isEmpty()
                                && std::all_of(text.begin(), text.end(),
                                               [](char c) { return c >= '0' && c <= '9'; });
            qint64 value = 0;
            if (digits && text.size() > 15) {
                f.lengthTooLarge = true;
                value = std::numeric_limits<qint64>::max();
            } else {
                value = text.toLongLong();
            }
            if (!digits || (hasLength && value != f.length)) {
                m_closeAfterRequest = true;
                refuse(400, "malformed", QStringLiteral("invalid Content-Length"));
                return false;
            }
            hasLength = true;
            f.length = value;
        }
    }
    if (f.chunked && hasLength) {
        m_closeAfterRequest = true;
        refuse(400, "malformed",
               QStringLiteral("a request cannot have both Content-Length and "
                              "Transfer-Encoding"));
        return false;
    }
    const QByteArray expect = r.header("expect");
    if (!expect.isEmpty()) {
        if (expect.toLower() != "100-continue") {
            m_closeAfterRequest = m_closeAfterRequest || f.hasBody();
            refuse(417, "malformed",
                   QStringLiteral("unsupported expectation \"%1\"; only 100-continue is")
                       .arg(QString::fromLatin1(expect.left(64))));
            return false;
        }
        f.wantsContinue = r.minorVersion >= 1 && f.hasBody();
    }
    return true;
}

HttpServer::BodyHandler Connection::askApplication()
{
    m_requestSeq = openSlot();
    Responder responder(this, m_requestSeq);
    HttpServer::BodyHandler handler;
    if (m_server->detached || !m_server->onHead) {
        responder.write(503, errorBody(QStringLiteral("the server has stopped")));
    } else {
        handler = m_server->onHead(m_request, responder);
        if (!handler && slotOpen(m_requestSeq))
            responder.write(500, errorBody(QStringLiteral("the request was not answered")));
    }
    return handler;
}

bool Connection::admitBody(const Framing &f)
{
    const ServeOptions &o = m_server->options;
    if (f.lengthTooLarge || f.length > o.maxBodyBytes) {
        refuseBody(413, "body_too_large",
                   errorBody(QStringLiteral("the body has %1 bytes, over the limit of %2 bytes")
                                 .arg(f.lengthTooLarge ? QStringLiteral("too many")
                                                       : QString::number(f.length))
                                 .arg(o.maxBodyBytes)));
        return false;
    }
    if (f.length > 0 && !reserveBody(f.length)) {
        refuseBody(503, "body_budget",
                   errorBody(QStringLiteral("the server is receiving too many request bodies "
                                            "at once; retry shortly")),
                   {{"Retry-After", "1"}});
        return false;
    }
    return true;
}

void Connection::refuseBody(int status, const QByteArray &reason, const QByteArray &body,
                            const HeaderList &headers)
{
    if (Slot *s = slot(m_requestSeq))
        s->closeAfter = true;
    m_phase = Phase::Draining;
    m_headStarted = false;
    Responder(this, m_requestSeq)
        .write(status, body, QByteArrayLiteral("application/json"), headers);
    report(status, reason);
}

void Connection::startBody(HttpServer::BodyHandler handler, const Framing &f)
{
    m_handler = std::move(handler);
    m_request.body.clear();
    m_headStarted = false;
    if (!f.hasBody()) {
        dispatch();
        return;
    }
    if (!f.chunked)
        m_request.body.reserve(f.length);
    m_bodyRemaining = f.length;
    m_bodyStartedAt = Clock::now();
    m_phase = f.chunked ? Phase::ChunkSize : Phase::Body;
    if (f.wantsContinue && m_pos >= m_in.size() && m_socket->bytesAvailable() == 0) {
        if (Slot *s = slot(m_requestSeq))
            s->wantsContinue = true;
        flush();
    }
}

bool Connection::reserveBody(qint64 bytes)
{
    if (m_server->bufferedBodyBytes + bytes > m_server->options.maxBufferedBodyBytes)
        return false;
    m_server->bufferedBodyBytes += bytes;
    m_bodyReserved += bytes;
    return true;
}

void Connection::releaseBody()
{
    m_server->bufferedBodyBytes -= m_bodyReserved;
    m_bodyReserved = 0;
}

bool Connection::readBody()
{
    const qint64 take = std::min<qint64>(m_bodyRemaining, qint64(m_in.size() - m_pos));
    if (take <= 0)
        return false;
    m_request.body.append(m_in.constData() + m_pos, take);
    m_pos += take;
    m_bodyRemaining -= take;
    if (m_bodyRemaining == 0) {
        m_phase = Phase::Head;
        dispatch();
    }
    return true;
}

bool Connection::readChunked()
{
    const ServeOptions &o = m_server->options;
    for (;;) {
        if (m_phase == Phase::ChunkData) {
            const qint64 take = std::min<qint64>(m_bodyRemaining, qint64(m_in.size() - m_pos));
            if (take <= 0)
                return false;
            m_request.body.append(m_in.constData() + m_pos, take);
            m_pos += take;
            m_bodyRemaining -= take;
            if (m_bodyRemaining == 0)
                m_phase = Phase::ChunkEnd;
            continue;
        }
        const qsizetype newline = m_in.indexOf('\n', m_pos);
        if (newline < 0) {
            if (m_in.size() - m_pos > kMaxChunkLine) {
                refuse(400, "malformed", QStringLiteral("malformed chunk"));
                return true;
            }
            return false;
        }
        QByteArray line = m_in.mid(m_pos, newline - m_pos);
        m_pos = newline + 1;
        if (line.endsWith('\r'))
            line.chop(1);
        if (m_phase == Phase::ChunkEnd) {
            if (!line.isEmpty()) {
                refuse(400, "malformed", QStringLiteral("malformed chunk"));
                return true;
            }
            m_phase = Phase::ChunkSize;
            continue;
        }
        if (m_phase == Phase::Trailer) {
            if (line.isEmpty()) {
                m_phase = Phase::Head;
                dispatch();
                return true;
            }
            continue;   // trailer fields are ignored (and bounded by kMaxChunkLine)
        }
        // Phase::ChunkSize: hex digits, maybe ";extensions".
        const qsizetype semicolon = line.indexOf(';');
        const QByteArray hex = (semicolon < 0 ? line : line.left(semicolon)).trimmed();
        bool ok = !hex.isEmpty() && hex.size() <= 15;
        const qint64 size = ok ? hex.toLongLong(&ok, 16) : 0;
        if (!ok || size < 0) {
            refuse(400, "malformed", QStringLiteral("malformed chunk size"));
            return true;
        }
        if (size == 0) {
            m_phase = Phase::Trailer;
            continue;
        }
        if (m_request.body.size() + size > o.maxBodyBytes) {
            refuse(413, "body_too_large",
                   QStringLiteral("the chunked body is over the limit of %1 bytes")
                       .arg(o.maxBodyBytes));
            return true;
        }
        if (!reserveBody(size)) {
            refuse(503, "body_budget",
                   QStringLiteral("the server is receiving too many request bodies at once; "
                                  "retry shortly"),
                   {{"Retry-After", "1"}});
            return true;
        }
        m_bodyRemaining = size;
        m_phase = Phase::ChunkData;
    }
}

void Connection::dispatch()
{
    releaseBody();
    m_phase = Phase::Head;
    m_headStarted = false;
    HttpServer::BodyHandler handler = std::move(m_handler);
    m_handler = nullptr;
    Request request = std::move(m_request);
    m_request = Request();
    request.received = Clock::now();
    const quint64 seq = m_requestSeq;
    if (m_closeAfterRequest)
        m_phase = Phase::Draining;   // nothing after a "Connection: close" request is read
    if (m_server->detached || !handler) {
        Responder(this, seq).write(503, errorBody(QStringLiteral("the server has stopped")));
        return;
    }
    handler(std::move(request), Responder(this, seq));
}

// Refuses the request being read: answers in its slot (opened now if the head was not
// complete), closes the connection after the reply and reads nothing more from it.
void Connection::refuse(int status, const QByteArray &reason, const QString &message,
                        const HeaderList &headers)
{
    // While a body is read the request has its slot; before its head is complete it has none.
    const bool inBody = m_phase != Phase::Head && m_phase != Phase::Draining
                        && m_phase != Phase::Closing && slotOpen(m_requestSeq);
    if (!inBody) {
        m_closeAfterRequest = true;
        m_requestSeq = openSlot();
    }
    if (Slot *s = slot(m_requestSeq))
        s->closeAfter = true;
    m_handler = nullptr;
    releaseBody();
    m_headStarted = false;
    m_phase = Phase::Draining;
    Responder(this, m_requestSeq)
        .write(status, errorBody(message), QByteArrayLiteral("application/json"), headers);
    report(status, reason);
}

void Connection::report(int status, const QByteArray &reason)
{
    Refusal refusal;
    refusal.status = status;
    refusal.reason = reason;
    refusal.method = m_request.method;
    refusal.path = m_request.path;
    refusal.received = m_headStarted ? m_headStartedAt : Clock::now();
    m_server->report(refusal);
}

bool Connection::isIdle() const
{
    return m_phase == Phase::Head && !m_headStarted && m_slots.empty() && unsent() == 0
           && m_pos >= m_in.size();
}

bool Connection::isEvictable(Clock::time_point now) const
{
    // A client a few milliseconds between two requests is about to send the next one.
    const qint64 quiet_ms = std::clamp(m_server->options.idleTimeout_ms / 4, 50, 1000);
    return isIdle() && !m_gone && m_socket->bytesAvailable() == 0
           && msSince(m_answered > 0 ? m_lastActivity : m_created, now) >= quiet_ms;
}

bool Connection::isSlowHead(Clock::time_point now) const
{
    constexpr qint64 kSlow_ms = 1000;
    return !m_gone && isReadingHead() && msSince(m_headStartedAt, now) >= kSlow_ms;
}

void Connection::sweep(Clock::time_point now)
{
    if (m_gone)
        return;
    const ServeOptions &o = m_server->options;
    switch (m_phase) {
    case Phase::Closing:
        if (msSince(m_closingSince, now) > kLinger_ms
            && (m_socket->bytesToWrite() == 0
                || msSince(m_lastWriteProgress, now) > o.idleTimeout_ms)) {
            abort(QByteArray());
        }
        return;
    case Phase::Body:
    case Phase::ChunkSize:
    case Phase::ChunkData:
    case Phase::ChunkEnd:
    case Phase::Trailer:
        if (msSince(m_bodyStartedAt, now) > o.bodyTimeout_ms) {
            refuse(408, "body_timeout",
                   QStringLiteral("the body did not arrive within %1 ms")
                       .arg(o.bodyTimeout_ms));
        }
        return;
    case Phase::Head:
        if (m_headStarted && !overWriteLimits()
            && msSince(m_headStartedAt, now) > o.headerTimeout_ms) {
            refuse(408, "header_timeout",
                   QStringLiteral("the request's headers did not arrive within %1 ms")
                       .arg(o.headerTimeout_ms));
            return;
        }
        break;
    case Phase::Draining:
        break;
    }
    if (unsent() > 0) {
        // A client that does not read its replies.
        if (msSince(m_lastWriteProgress, now) > o.idleTimeout_ms)
            abort("write_timeout");
        return;
    }
    if (m_slots.empty() && !m_headStarted && msSince(m_lastActivity, now) > o.idleTimeout_ms)
        abort("idle_timeout");
}

void Connection::evict()
{
    if (isReadingHead()) {
        refuse(408, "evicted",
               QStringLiteral("the server is at its connection limit and this request's "
                              "headers are late"));
        abort(QByteArray());
    } else {
        abort("evicted");
    }
}

void Connection::closeWhenDone()
{
    if (m_gone)
        return;
    if (m_slots.empty()) {
        if (m_phase == Phase::Head && !m_headStarted)
            startClosing();   // writes what is unsent first
        else
            abort(QByteArray());
        return;
    }
    m_slots.back().closeAfter = true;
    if (m_phase == Phase::Head)
        m_phase = Phase::Draining;
}

void Connection::abort(const QByteArray &reason)
{
    if (m_gone)
        return;
    if (!reason.isEmpty()) {
        Refusal refusal;
        refusal.reason = reason;
        refusal.received = Clock::now();
        m_server->report(refusal);
    }
    m_socket->abort();
    gone();
}

void Connection::gone()
{
    if (m_gone)
        return;
    m_gone = true;
    releaseBody();
    m_slots.clear();
    m_queuedBytes = 0;
    m_in.clear();
    m_server->remove(this);
    deleteLater();
}

// --- HttpServer ---

void HttpServer::Private::acceptAll()
{
    while (QTcpSocket *socket = tcp->nextPendingConnection()) {
        if (int(connections.size()) >= cap) {
            // Make room: the longest-idle kept-alive connection, else the one whose headers
            // have been arriving the longest (a slow client), else refuse the newcomer.
            const Clock::time_point now = Clock::now();
            Connection *victim = nullptr;
            for (Connection *c : connections) {
                if (c->isEvictable(now)
                    && (!victim || c->lastActivity() < victim->lastActivity()))
                    victim = c;
            }
            if (!victim) {
                for (Connection *c : connections) {
                    if (c->isSlowHead(now)
                        && (!victim || c->headStartedAt() < victim->headStartedAt()))
                        victim = c;
                }
            }
            if (victim) {
                victim->evict();
            } else {
                refuseOverCap(socket);
                continue;
            }
        }
        connections.push_back(new Connection(this, socket));
    }
}

void HttpServer::Private::refuseOverCap(QTcpSocket *socket)
{
    const QByteArray body = errorBody(
        QStringLiteral("the server is at its limit of %1 connections; retry shortly").arg(cap));
    socket->setParent(q);
    socket->write("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                  "Content-Length: "
                  + QByteArray::number(body.size())
                  + "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" + body);
    QObject::connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
    socket->disconnectFromHost();
    QTimer::singleShot(kLinger_ms, socket, [socket] { socket->abort(); socket->deleteLater(); });
    Refusal refusal;
    refusal.status = 503;
    refusal.reason = "connection_limit";
    refusal.received = Clock::now();
    report(refusal);
}

void HttpServer::Private::sweep()
{
    const Clock::time_point now = Clock::now();
    // Copy: a sweep may close connections (which removes them from the list).
    const std::vector<Connection *> all = connections;
    for (Connection *c : all) {
        if (std::find(connections.begin(), connections.end(), c) != connections.end())
            c->sweep(now);
    }
}

HttpServer::HttpServer(const ServeOptions &options, HeadHandler onHead,
                       RefusalObserver onRefusal, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<Private>())
{
    d->q = this;
    d->options = options;
    d->onHead = std::move(onHead);
    d->onRefusal = std::move(onRefusal);
    const int shortest = std::max(1, std::min({options.idleTimeout_ms, options.headerTimeout_ms,
                                               options.bodyTimeout_ms}));
    d->sweepTimer.setInterval(std::clamp(shortest / 4, 5, 250));
    connect(&d->sweepTimer, &QTimer::timeout, this, [this] { d->sweep(); });
}

HttpServer::~HttpServer()
{
    // While Private is alive: their responders turn null.
    const std::vector<Connection *> all = d->connections;
    d->connections.clear();
    for (Connection *c : all)
        delete c;
}

bool HttpServer::listen(const QHostAddress &address, quint16 port, QString *error, bool *inUse)
{
    auto *tcp = new QTcpServer(this);
    // Qt's default backlog (50) overflows when clients connect faster than one event-loop
    // turn accepts them; the kernel then drops SYNs and the client waits a second to retry.
    tcp->setListenBacklogSize(std::max(128, d->options.maxConnections));
    if (!tcp->listen(address, port)) {
        if (error)
            *error = tcp->errorString();
        if (inUse)
            *inUse = tcp->serverError() == QAbstractSocket::AddressInUseError;
        delete tcp;
        return false;
    }
    // Leave descriptors for models, the registry and the refusals themselves.
    const int headroom = descriptorHeadroom() - 32;
    d->cap = std::max(4, std::min(d->options.maxConnections, headroom));
    tcp->setMaxPendingConnections(std::max(30, d->cap));
    d->tcp = tcp;
    connect(tcp, &QTcpServer::newConnection, this, [this] { d->acceptAll(); });
    connect(tcp, &QTcpServer::acceptError, this, [this](QAbstractSocket::SocketError) {
        // Out of descriptors (EMFILE): accepting again at once would spin. Free an idle
        // connection and try again shortly.
        if (!d->tcp)
            return;
        d->tcp->pauseAccepting();
        const Clock::time_point now = Clock::now();
        for (Connection *c : d->connections) {
            if (c->isEvictable(now)) {
                c->evict();
                break;
            }
        }
        QTimer::singleShot(50, this, [this] {
            if (d->tcp)
                d->tcp->resumeAccepting();
        });
    });
    d->sweepTimer.start();
    return true;
}

void HttpServer::close()
{
    if (d->tcp) {
        d->tcp->close();
        d->tcp->deleteLater();
        d->tcp = nullptr;
    }
}

bool HttpServer::isListening() const
{
    return d->tcp && d->tcp->isListening();
}

quint16 HttpServer::port() const
{
    return d->tcp ? d->tcp->serverPort() : 0;
}

void HttpServer::detach()
{
    // The application may be gone once detached: nothing calls into it any more.
    d->detached = true;
    d->onHead = nullptr;
    d->onRefusal = nullptr;
}

void HttpServer::shutdown()
{
    close();
    detach();
    d->shuttingDown = true;
    const std::vector<Connection *> all = d->connections;
    for (Connection *c : all)
        c->closeWhenDone();
    if (d->connections.empty())
        deleteLater();
    else
        QTimer::singleShot(kLinger_ms + 1000, this, [this] { deleteLater(); });
}

int HttpServer::connectionCount() const
{
    return int(d->connections.size());
}

int HttpServer::pausedConnections() const
{
    return int(std::count_if(d->connections.begin(), d->connections.end(),
                             [](const Connection *c) { return c->isPaused(); }));
}

int HttpServer::connectionCap() const
{
    return d->cap;
}

} // namespace ms::http
