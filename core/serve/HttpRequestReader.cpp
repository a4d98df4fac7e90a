#include "HttpServer_p.h"

namespace ms::http {

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


} // namespace ms::http
