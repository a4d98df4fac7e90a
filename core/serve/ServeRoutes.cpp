#include "ServeRoutes.h"

namespace ms::serve {

namespace {

using H = RouteHandlers;

std::vector<QStringView> patternSegments(const QString &pattern)
{
    std::vector<QStringView> out;
    for (const QStringView part : QStringView(pattern).split(QLatin1Char('/'), Qt::SkipEmptyParts))
        out.push_back(part);
    return out;
}

bool isParam(QStringView segment)
{
    return segment.startsWith(QLatin1Char('{')) && segment.endsWith(QLatin1Char('}'));
}

} // namespace

const std::vector<Route> &routes()
{
    static const std::vector<Route> table{
        {"GET", QStringLiteral("/v2"), &H::serverMetadata, false},
        {"GET", QStringLiteral("/v2/health/live"), &H::healthLive, true},
        {"GET", QStringLiteral("/v2/health/ready"), &H::healthReady, true},
        {"GET", QStringLiteral("/v2/models/{model}"), &H::modelMetadata, false},
        {"GET", QStringLiteral("/v2/models/{model}/versions/{version}"), &H::modelMetadata,
         false},
        {"GET", QStringLiteral("/v2/models/{model}/ready"), &H::modelReady, false},
        {"GET", QStringLiteral("/v2/models/{model}/versions/{version}/ready"), &H::modelReady,
         false},
        {"POST", QStringLiteral("/v2/models/{model}/infer"), &H::v2Infer, false},
        {"POST", QStringLiteral("/v2/models/{model}/versions/{version}/infer"), &H::v2Infer,
         false},
        {"GET", QStringLiteral("/ping"), &H::ping, true},
        {"POST", QStringLiteral("/predictions/{model}"), &H::torchServePredict, false},
        {"POST", QStringLiteral("/predictions/{model}/{version}"), &H::torchServePredict, false},
        {"GET", QStringLiteral("/metrics"), &H::metrics, false},
        {"GET", QStringLiteral("/v1/models"), &H::openAiModels, false},
        {"POST", QStringLiteral("/v1/completions"), &H::openAiCompletions, false},
        {"POST", QStringLiteral("/v1/chat/completions"), &H::openAiChat, false},
        // Attribution maps (core/explain): TorchServe's route, and v2's shape of it.
        {"POST", QStringLiteral("/explanations/{model}"), &H::torchServeExplain, false},
        {"POST", QStringLiteral("/explanations/{model}/{version}"), &H::torchServeExplain,
         false},
        {"POST", QStringLiteral("/v2/models/{model}/explain"), &H::v2Explain, false},
        {"POST", QStringLiteral("/v2/models/{model}/versions/{version}/explain"),
         &H::v2Explain, false},
    };
    return table;
}

RouteMatch matchRoute(const QByteArray &method, const QByteArray &encodedPath)
{
    QStringList segments;
    for (const QByteArray &part : encodedPath.split('/')) {
        if (!part.isEmpty())
            segments << QString::fromUtf8(QByteArray::fromPercentEncoding(part));
    }
    RouteMatch match;
    for (const Route &route : routes()) {
        const std::vector<QStringView> pattern = patternSegments(route.pattern);
        if (pattern.size() != size_t(segments.size()))
            continue;
        QHash<QString, QString> params;
        bool matches = true;
        for (size_t i = 0; i < pattern.size() && matches; ++i) {
            if (isParam(pattern[i]))
                params.insert(pattern[i].mid(1, pattern[i].size() - 2).toString(),
                              segments[int(i)]);
            else
                matches = pattern[i] == segments[int(i)];
        }
        if (!matches)
            continue;
        match.open = match.open || route.open;
        if (route.method == method) {
            match.route = &route;
            match.status = 200;
            match.params = std::move(params);
        } else if (!match.allowed.contains(QString::fromLatin1(route.method))) {
            match.allowed << QString::fromLatin1(route.method);
        }
    }
    if (!match.route && !match.allowed.isEmpty())
        match.status = 405;
    return match;
}

} // namespace ms::serve
