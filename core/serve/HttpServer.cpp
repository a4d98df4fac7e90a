#include "HttpServer_p.h"

#include <QDir>
#include <QHostAddress>

#include <sys/resource.h>
#include <sys/socket.h>

namespace ms::http {

namespace {

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

void Responder::onClosed(std::function<void()> callback)
{
    auto *c = static_cast<Connection *>(m_connection.data());
    if (c && c->slotOpen(m_seq))
        c->setOnClosed(m_seq, std::move(callback));
    else if (callback)
        callback();
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
    for (Connection *c : d->connections)
        c->dropOnClosed();
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
