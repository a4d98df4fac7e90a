#include "HttpServer_p.h"

#include <sys/socket.h>

namespace ms::http {

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

void Connection::setOnClosed(quint64 seq, std::function<void()> onClosed)
{
    if (Slot *s = slot(seq))
        s->onClosed = std::move(onClosed);
}

void Connection::dropOnClosed()
{
    for (Slot &s : m_slots)
        s.onClosed = nullptr;
}

void Connection::gone()
{
    if (m_gone)
        return;
    m_gone = true;
    releaseBody();
    std::vector<std::function<void()>> owed;
    for (Slot &s : m_slots) {
        if (!s.done && s.onClosed)
            owed.push_back(std::move(s.onClosed));
    }
    m_slots.clear();
    m_queuedBytes = 0;
    m_in.clear();
    m_server->remove(this);
    deleteLater();
    for (const auto &closed : owed)
        closed();
}


} // namespace ms::http
