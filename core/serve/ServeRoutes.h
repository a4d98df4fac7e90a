#pragma once

#include "HttpServer.h"

#include <QByteArray>
#include <QHash>
#include <QString>
#include <QStringList>

#include <vector>

namespace ms::serve {

// One request on its way through a route's handler.
struct Exchange
{
    http::Request request;          // with its body
    http::Responder responder;
    QHash<QString, QString> params; // the pattern's {name} segments, percent-decoded
    QString method;                 // "POST"
    QString path;                   // as sent (percent-encoded): safe to log
    QString model;                  // set by model routes, for metrics and the log
    http::Clock::time_point start{};
};

// The server's endpoints. InferenceService implements them; the table below says which
// method and path reach which.
class RouteHandlers
{
public:
    virtual ~RouteHandlers() = default;
    virtual void serverMetadata(Exchange &exchange) = 0;
    virtual void healthLive(Exchange &exchange) = 0;
    virtual void healthReady(Exchange &exchange) = 0;
    virtual void modelMetadata(Exchange &exchange) = 0;
    virtual void modelReady(Exchange &exchange) = 0;
    virtual void v2Infer(Exchange &exchange) = 0;
    virtual void ping(Exchange &exchange) = 0;
    virtual void torchServePredict(Exchange &exchange) = 0;
    virtual void metrics(Exchange &exchange) = 0;
    virtual void openAiModels(Exchange &exchange) = 0;
    virtual void openAiCompletions(Exchange &exchange) = 0;
    virtual void openAiChat(Exchange &exchange) = 0;
    virtual void v2Explain(Exchange &exchange) = 0;
    virtual void torchServeExplain(Exchange &exchange) = 0;
};

struct Route
{
    QByteArray method;
    QString pattern;                // "/v2/models/{model}/versions/{version}/infer"
    void (RouteHandlers::*handler)(Exchange &) = nullptr;
    bool open = false;              // answered without the token (health checks)
};

// Open Inference Protocol v2 (KServe/Triton REST), TorchServe's inference and explanations
// APIs, the OpenAI-compatible completions API and Prometheus, in one table.
const std::vector<Route> &routes();

struct RouteMatch
{
    const Route *route = nullptr;   // the route, or null with status 404 or 405
    int status = 404;
    QStringList allowed;            // methods the path takes, for 405 and Allow
    QHash<QString, QString> params;
    bool open = false;              // the path is an open route's (for any method)
};

// `encodedPath`: the request's path as sent; each segment is percent-decoded on its own, so a
// name holding "%2F" stays one segment.
RouteMatch matchRoute(const QByteArray &method, const QByteArray &encodedPath);

} // namespace ms::serve
