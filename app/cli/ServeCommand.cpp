// modelstudio-cli serve: registry versions on a local HTTP endpoint (Open Inference Protocol v2,
// TorchServe-style routes, Prometheus metrics), with dynamic batching, until Ctrl-C.

#include "Command.h"
#include "Output.h"
#include "RegistryOutput.h"

#include "common/Error.h"
#include "common/Workspace.h"
#include "InferenceService.h"

#include <QCoreApplication>
#include <QHostAddress>
#include <QJsonArray>
#include <QTimer>

#include <atomic>
#include <csignal>

namespace cli {

namespace {

std::atomic<int> g_interrupts{0};

void onInterrupt(int)
{
    g_interrupts.fetch_add(1);
}

int intOption(const QCommandLineParser &parser, const QString &name, int min, int max)
{
    bool ok = false;
    const QString text = parser.value(name);
    const int value = text.toInt(&ok);
    if (!ok || value < min || value > max)
        throw ms::Error(QStringLiteral("--%1 takes a whole number from %2 to %3, not \"%4\".")
                            .arg(name).arg(min).arg(max).arg(text));
    return value;
}

bool isLoopback(const QString &host)
{
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
        return true;
    const QHostAddress address(host);
    return !address.isNull() && address.isLoopback();
}

// One request of a zero-filled sample, ready to paste. The sample is built by the shell
// (printf/seq) because a 1x28x28 image spelled out is 1,600 characters of "0,".
QString curlExample(const QString &url, const ms::ServedModel &model, const QString &token)
{
    qint64 count = 1;
    QStringList dims{QStringLiteral("1")};
    for (qint64 d : model.inputShape) {
        count *= d;
        dims << QString::number(d);
    }
    const QString data = count > 16
                             ? QStringLiteral("$(printf '0,%.0s' $(seq %1))0").arg(count - 1)
                             : QStringList(int(count), QStringLiteral("0")).join(QLatin1Char(','));
    const QString auth = token.isEmpty()
                             ? QString()
                             : QStringLiteral(" -H 'Authorization: Bearer %1'").arg(token);
    return QStringLiteral("curl -s %1/v2/models/%2/infer%3 -H 'Content-Type: application/json' "
                          "-d \"{\\\"inputs\\\": [{\\\"name\\\": \\\"input\\\", \\\"shape\\\": "
                          "[%4], \\\"datatype\\\": \\\"FP32\\\", \\\"data\\\": [%5]}]}\"")
        .arg(url, model.name, auth, dims.join(QStringLiteral(", ")), data);
}

QJsonArray shapeJson(const std::vector<qint64> &shape)
{
    QJsonArray dims;
    for (qint64 d : shape)
        dims.append(d);
    return dims;
}

QString logLine(const ms::RequestRecord &r)
{
    QString line = QStringLiteral("%1  %2 %3  %4  %5 ms")
                       .arg(r.time.toString(QStringLiteral("yyyy-MM-dd hh:mm:ss.zzz")), r.method,
                            r.path)
                       .arg(r.status)
                       .arg(r.latency_us / 1000.0, 0, 'f', 2);
    if (r.batchSize > 0)
        line += QStringLiteral("  batch %1").arg(r.batchSize);
    return line;
}

QJsonObject logJson(const ms::RequestRecord &r)
{
    return QJsonObject{{QStringLiteral("event"), QStringLiteral("request")},
                       {QStringLiteral("time"), r.time.toUTC().toString(Qt::ISODateWithMs)},
                       {QStringLiteral("method"), r.method},
                       {QStringLiteral("path"), r.path},
                       {QStringLiteral("model"), r.model},
                       {QStringLiteral("status"), r.status},
                       {QStringLiteral("latency_ms"), r.latency_us / 1000.0},
                       {QStringLiteral("queue_ms"), r.queue_us / 1000.0},
                       {QStringLiteral("batch_size"), r.batchSize}};
}

int runServe(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addPositionalArgument(QStringLiteral("REF"),
                                 QStringLiteral("A version to serve, under its model's name: ")
                                     + refHelp(),
                                 QStringLiteral("REF..."));
    const ms::ServeOptions defaults;
    parser.addOptions({
        {QStringLiteral("port"),
         QStringLiteral("Port (default %1; when taken, the error names a free one).")
             .arg(defaults.port),
         QStringLiteral("N")},
        {QStringLiteral("host"),
         QStringLiteral("Address to bind (default %1).").arg(defaults.host),
         QStringLiteral("ADDRESS")},
        {QStringLiteral("allow-remote"),
         QStringLiteral("Allow binding an address other machines can reach (no TLS: use with "
                        "--token on a trusted network).")},
        {QStringLiteral("max-batch-size"),
         QStringLiteral("Most requests run together in one forward pass (default %1).")
             .arg(defaults.maxBatchSize),
         QStringLiteral("N")},
        {QStringLiteral("max-delay-us"),
         QStringLiteral("Longest a request waits for others to batch with, in microseconds "
                        "(default %1; 0 = run what is queued at once).")
             .arg(defaults.maxQueueDelay_us),
         QStringLiteral("US")},
        {QStringLiteral("threads"),
         QStringLiteral("Intra-op threads of each model's worker (default %1).")
             .arg(defaults.threadsPerModel),
         QStringLiteral("N")},
        {QStringLiteral("token"),
         QStringLiteral("Require \"Authorization: Bearer TOKEN\" on every request."),
         QStringLiteral("TOKEN")},
        {QStringLiteral("log"),
         QStringLiteral("Print one line per request: time, method, path, status, latency, "
                        "batch size.")},
    });
    int code = Ok;
    if (!parse(parser, QStringLiteral("serve"),
               QStringLiteral("Serve registry versions on a local HTTP endpoint (Open Inference "
                              "Protocol v2, TorchServe-style /predictions, Prometheus /metrics) "
                              "with dynamic batching. Ctrl-C stops it."),
               arguments, &code)
        || !expectArguments(parser, QStringLiteral("serve"), QStringLiteral("REF..."), 1, -1,
                            &code))
        return code;

    ms::ServeOptions options;
    if (parser.isSet(QStringLiteral("host")))
        options.host = parser.value(QStringLiteral("host"));
    if (parser.isSet(QStringLiteral("port")))
        options.port = quint16(intOption(parser, QStringLiteral("port"), 1, 65535));
    if (parser.isSet(QStringLiteral("max-batch-size")))
        options.maxBatchSize = intOption(parser, QStringLiteral("max-batch-size"), 1, 4096);
    if (parser.isSet(QStringLiteral("max-delay-us")))
        options.maxQueueDelay_us = intOption(parser, QStringLiteral("max-delay-us"), 0, 10000000);
    if (parser.isSet(QStringLiteral("threads")))
        options.threadsPerModel = intOption(parser, QStringLiteral("threads"), 1, 256);
    options.token = parser.value(QStringLiteral("token"));
    options.allowNonLoopback = parser.isSet(QStringLiteral("allow-remote"));
    const bool remote = !isLoopback(options.host);
    if (remote && !options.allowNonLoopback)
        return fail(QStringLiteral("%1 is not a loopback address: other machines could call the "
                                   "models. Add --allow-remote to mean it, or bind 127.0.0.1.")
                        .arg(options.host),
                    Usage);

    const QString root = ms::Workspace::resolve(parser.value(QStringLiteral("workspace")));
    ms::Workspace(root).ensure();
    ms::InferenceService service(root, options);
    // Models first: a typo in a ref should not leave a port bound even for a moment.
    QVector<ms::ServedModel> served;
    for (const QString &ref : parser.positionalArguments())
        served << service.serve(ref);
    if (remote)
        std::fputs(QStringLiteral("warning: serving on %1, reachable from other machines, "
                                  "without TLS%2.\n")
                       .arg(options.host,
                            options.token.isEmpty() ? QStringLiteral(" and without a token")
                                                    : QString())
                       .toLocal8Bit()
                       .constData(),
                   stderr);
    service.listen();
    const QString url = service.url();

    const bool json = wantsJson(parser);
    if (json) {
        QJsonArray models;
        for (const ms::ServedModel &m : served)
            models.append(QJsonObject{{QStringLiteral("name"), m.name},
                                      {QStringLiteral("version"), m.versionRef},
                                      {QStringLiteral("input_shape"), shapeJson(m.inputShape)},
                                      {QStringLiteral("outputs"), m.numOutputs}});
        printJsonLine(QJsonObject{{QStringLiteral("event"), QStringLiteral("listening")},
                                  {QStringLiteral("url"), url},
                                  {QStringLiteral("models"), models}});
    } else {
        printLine(QStringLiteral("Serving on %1").arg(url));
        QList<QStringList> rows;
        for (const ms::ServedModel &m : served) {
            std::vector<qint64> shape{-1};
            shape.insert(shape.end(), m.inputShape.begin(), m.inputShape.end());
            rows << QStringList{m.name, m.versionRef, shapeText(shape),
                                QString::number(m.numOutputs),
                                QStringLiteral("%1/v2/models/%2/infer").arg(url, m.name)};
        }
        printLine(table({QStringLiteral("MODEL"), QStringLiteral("VERSION"),
                         QStringLiteral("INPUT"), QStringLiteral("OUTPUTS"),
                         QStringLiteral("ENDPOINT")},
                        rows));
        printLine(QStringLiteral("Try:\n  %1").arg(curlExample(url, served.first(),
                                                                options.token)));
        printLine(QStringLiteral("Metrics: %1/metrics   Ctrl-C stops.").arg(url));
    }

    if (parser.isSet(QStringLiteral("log"))) {
        QObject::connect(&service, &ms::InferenceService::requestFinished, &service,
                         [json](const ms::RequestRecord &record) {
                             if (json)
                                 printJsonLine(logJson(record));
                             else
                                 printLine(logLine(record));
                         });
    }

    // Ctrl-C / SIGTERM: finish the requests in flight, then exit 0. A second one quits at once.
    g_interrupts.store(0);
    std::signal(SIGINT, onInterrupt);
    std::signal(SIGTERM, onInterrupt);
    QTimer interruptPoll;
    bool stopping = false;
    QObject::connect(&interruptPoll, &QTimer::timeout, &service, [&] {
        const int interrupts = g_interrupts.load();
        if (interrupts > 1)
            std::_Exit(Interrupted);
        if (interrupts == 1 && !stopping) {
            stopping = true;
            if (!json)
                std::fputs("stopping: finishing the requests in flight\n", stderr);
            service.stop();
            QCoreApplication::quit();
        }
    });
    interruptPoll.start(100);
    QCoreApplication::exec();
    interruptPoll.stop();
    if (json)
        printJsonLine(QJsonObject{{QStringLiteral("event"), QStringLiteral("stopped")}});
    return Ok;
}

} // namespace

QList<Command> serveCommands()
{
    return {{QStringLiteral("serve"),
             QStringLiteral("Serve versions over HTTP (v2 inference protocol, dynamic batching)"),
             runServe}};
}

} // namespace cli
