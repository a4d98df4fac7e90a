#pragma once

#include <QAbstractHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QJsonDocument>
#include <QJsonObject>

#include <functional>

namespace ms {

// QHttpServer's router answers unknown routes with an empty 404 and, in 6.4, has no way to
// replace that; one dispatcher over QAbstractHttpServer gives every route, unknown ones
// included, the same JSON errors and lets handlers park the responder.
class HttpFrontend final : public QAbstractHttpServer
{
public:
    using Handler =
        std::function<void(const QHttpServerRequest &, QTcpSocket *, QHttpServerResponder &&)>;
    explicit HttpFrontend(Handler handler)
        : m_handler(std::move(handler))
    {}

    // After stop(): connections kept alive may still send requests until the frontend is
    // deleted (later, on the event loop); they get 503 without reaching the service.
    void detach() { m_handler = nullptr; }

protected:
    bool handleRequest(const QHttpServerRequest &request, QTcpSocket *socket) override
    {
        if (m_handler) {
            m_handler(request, socket, makeResponder(request, socket));
        } else {
            makeResponder(request, socket)
                .write(QJsonDocument(QJsonObject{
                           {QStringLiteral("error"), QStringLiteral("the server has stopped")}}),
                       QHttpServerResponder::StatusCode::ServiceUnavailable);
        }
        return true;
    }
    void missingHandler(const QHttpServerRequest &, QTcpSocket *) override {}

private:
    Handler m_handler;
};

} // namespace ms
