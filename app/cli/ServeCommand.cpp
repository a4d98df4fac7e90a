// modelstudio-cli serve: registry versions on a local HTTP endpoint (Open Inference Protocol v2,
// TorchServe-style routes, Prometheus metrics), with dynamic batching, until Ctrl-C.

#include "Command.h"
#include "Output.h"
#include "RegistryOutput.h"

#include "common/Error.h"
#include "common/ShapeText.h"
#include "common/Workspace.h"
#include "InferenceService.h"
#include "ServeToken.h"

#include <QCoreApplication>
#include <QDir>
#include <QHostAddress>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryFile>
#include <QTimer>
#include <QUrl>

#include <atomic>
#include <csignal>

namespace cli {

namespace {

std::atomic<int> g_interrupts{0};

void onInterrupt(int)
{
    g_interrupts.fetch_add(1);
}

qint64 intOption(const QCommandLineParser &parser, const QString &name, qint64 min, qint64 max)
{
    bool ok = false;
    const QString text = parser.value(name);
    const qint64 value = text.toLongLong(&ok);
    if (!ok || value < min || value > max)
        throw ms::Error(QStringLiteral("--%1 takes a whole number from %2 to %3, not \"%4\".")
                            .arg(name, QString::number(min), QString::number(max), text));
    return value;
}

// Request paths, methods and names come from clients and the registry: a control character
// printed raw could forge a log line or drive the terminal. Each is shown as \xNN.
QString escapeControls(const QString &text)
{
    QString out;
    out.reserve(text.size());
    for (const QChar c : text) {
        const char16_t u = c.unicode();
        if (u < 0x20 || u == 0x7f || (u >= 0x80 && u < 0xa0) || u == 0x2028 || u == 0x2029)
            out += QStringLiteral("\\x%1").arg(u, 2, 16, QLatin1Char('0'));
        else if (u == '\\')
            out += QStringLiteral("\\\\");
        else
            out += c;
    }
    return out;
}

// The token from --token, --token-file or MODELSTUDIO_TOKEN (in that order; two of them is a
// mistake). Empty when none is given.
QString tokenOption(const QCommandLineParser &parser)
{
    const bool inline_ = parser.isSet(QStringLiteral("token"));
    const bool file = parser.isSet(QStringLiteral("token-file"));
    if (inline_ && file)
        throw ms::Error(QStringLiteral("--token and --token-file both give the token: keep one "
                                       "(--token-file keeps it out of the process list)."));
    QString token;
    QString problem;
    if (inline_) {
        token = parser.value(QStringLiteral("token"));
        problem = ms::serve::tokenProblem(token, QStringLiteral("--token"));
    } else if (file) {
        token = ms::serve::readTokenFile(parser.value(QStringLiteral("token-file")));
    } else if (qEnvironmentVariableIsSet(ms::serve::kTokenVariable)) {
        token = qEnvironmentVariable(ms::serve::kTokenVariable);
        problem = ms::serve::tokenProblem(token, QString::fromLatin1(ms::serve::kTokenVariable));
    }
    if (!problem.isEmpty())
        throw ms::Error(problem);
    return token;
}

bool isLoopback(const QString &host)
{
    if (host.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
        return true;
    const QHostAddress address(host);
    return !address.isNull() && address.isLoopback();
}

// Past this many values the example's body goes to a file (curl -d @FILE): spelled out on the
// command line, a 3x224x224 sample (150,528 values) is over the kernel's limit for one
// argument ("Argument list too long").
constexpr qint64 kInlineExampleValues = 4096;

// One request of a zero-filled sample, ready to paste. A small sample is built by the shell
// (printf/seq: a 1x28x28 image spelled out is 1,600 characters of "0,"); a large one is
// written to a temporary file that curl sends.
QString curlExample(const QString &url, const ms::ServedModel &model, const QString &token)
{
    qint64 count = 1;
    QStringList dims{QStringLiteral("1")};
    // A dynamic sequence is sent at the length the version was checked with; token ids are
    // zeros, an id every vocabulary holds.
    const QString datatype = model.inputDtype == QLatin1String("float32")
                                 ? QStringLiteral("FP32")
                                 : model.inputDtype.toUpper();
    for (qint64 d : model.exampleShape) {
        count *= d;
        dims << QString::number(d);
    }
    // Tokens are visible ASCII but may hold a quote: single-quoted with '\'' for each.
    QString quoted = QStringLiteral("Authorization: Bearer ") + token;
    quoted.replace(QLatin1Char('\''), QLatin1String("'\\''"));
    const QString auth = token.isEmpty() ? QString()
                                         : QStringLiteral(" -H '%1'").arg(quoted);
    const QString path =
        QStringLiteral("%1/v2/models/%2/infer")
            .arg(url, QString::fromLatin1(QUrl::toPercentEncoding(model.name)));
    if (count > kInlineExampleValues) {
        QTemporaryFile file(
            QDir::temp().filePath(QStringLiteral("modelstudio-request-XXXXXX.json")));
        file.setAutoRemove(false);
        if (file.open()) {
            QByteArray json = "{\"inputs\":[{\"name\":\"input\",\"shape\":["
                              + dims.join(QLatin1Char(',')).toLatin1()
                              + "],\"datatype\":\"" + datatype.toLatin1() + "\",\"data\":[";
            json.reserve(json.size() + count * 2 + 8);
            for (qint64 i = 0; i < count; ++i)
                json += i == 0 ? "0" : ",0";
            json += "]}]}";
            if (file.write(json) == json.size() && file.flush()) {
                return QStringLiteral("curl -s %1%2 -H 'Content-Type: application/json' -d @%3")
                    .arg(path, auth, file.fileName());
            }
        }
    }
    const QString data = count > 16
                             ? QStringLiteral("$(printf '0,%.0s' $(seq %1))0").arg(count - 1)
                             : QStringList(int(count), QStringLiteral("0")).join(QLatin1Char(','));
    return QStringLiteral("curl -s %1%2 -H 'Content-Type: application/json' "
                          "-d \"{\\\"inputs\\\": [{\\\"name\\\": \\\"input\\\", \\\"shape\\\": "
                          "[%3], \\\"datatype\\\": \\\"%4\\\", \\\"data\\\": [%5]}]}\"")
        .arg(path, auth, dims.join(QStringLiteral(", ")), datatype, data);
}

// A language model's example: a completion of a short prompt, the body built as JSON (the
// model's name escaped) and single-quoted for the shell.
QString curlCompletion(const QString &url, const ms::ServedModel &model, const QString &token)
{
    const auto shellQuoted = [](QString text) {
        text.replace(QLatin1Char('\''), QLatin1String("'\\''"));
        return QLatin1Char('\'') + text + QLatin1Char('\'');
    };
    const QString auth = token.isEmpty()
                             ? QString()
                             : QStringLiteral(" -H %1").arg(
                                   shellQuoted(QStringLiteral("Authorization: Bearer ") + token));
    const QJsonObject body{{QStringLiteral("model"), model.name},
                           {QStringLiteral("prompt"), QStringLiteral("The")},
                           {QStringLiteral("max_tokens"), 32}};
    return QStringLiteral("curl -s %1/v1/completions%2 -H 'Content-Type: application/json' -d %3")
        .arg(url, auth,
             shellQuoted(QString::fromUtf8(
                 QJsonDocument(body).toJson(QJsonDocument::Compact))));
}

QJsonArray shapeJson(const std::vector<qint64> &shape)
{
    QJsonArray dims;
    for (qint64 d : shape)
        dims.append(d);
    return dims;
}

// The path is logged as sent (percent-encoded): a client's %0A stays three characters.
QString logLine(const ms::RequestRecord &r)
{
    QString line = QStringLiteral("%1  %2 %3  %4  %5 ms")
                       .arg(r.time.toLocalTime().toString(
                                QStringLiteral("yyyy-MM-dd hh:mm:ss.zzz")),
                            escapeControls(r.method), escapeControls(r.path),
                            QString::number(r.status),
                            QString::number(r.latency_us / 1000.0, 'f', 2));
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
         QStringLiteral("Require \"Authorization: Bearer TOKEN\" on every request but health "
                        "checks. Other users can read it in the process list: prefer "
                        "--token-file or the %1 environment variable.")
             .arg(QString::fromLatin1(ms::serve::kTokenVariable)),
         QStringLiteral("TOKEN")},
        {QStringLiteral("token-file"),
         QStringLiteral("Read the token from FILE (its first line)."), QStringLiteral("FILE")},
        {QStringLiteral("max-queue"),
         QStringLiteral("Most samples waiting per model; past it requests get 503 with "
                        "Retry-After (default %1).")
             .arg(defaults.maxQueuedSamples),
         QStringLiteral("N")},
        {QStringLiteral("max-tokens-cap"),
         QStringLiteral("Language models: the largest max_tokens a /v1 request may ask for, "
                        "and a chat answer's default (default %1).")
             .arg(defaults.maxTokensCap),
         QStringLiteral("N")},
        {QStringLiteral("max-streams"),
         QStringLiteral("Language models: generations in progress per model; past it "
                        "requests get 503 with Retry-After (default %1).")
             .arg(defaults.maxStreamsPerModel),
         QStringLiteral("N")},
        {QStringLiteral("no-batch-generations"),
         QStringLiteral("Language models: run concurrent generations one at a time per decode "
                        "step instead of batching their steps (for comparison).")},
        {QStringLiteral("request-timeout-ms"),
         QStringLiteral("Longest an inference request may take from arrival to reply before it "
                        "gets 504 (default %1; 0 = no limit).")
             .arg(defaults.requestTimeout_ms),
         QStringLiteral("MS")},
        {QStringLiteral("max-connections"),
         QStringLiteral("Most open client connections (default %1, lowered to fit the "
                        "descriptor limit); at the cap the longest-idle one is closed, else the "
                        "newcomer gets 503.")
             .arg(defaults.maxConnections),
         QStringLiteral("N")},
        {QStringLiteral("max-body-bytes"),
         QStringLiteral("Largest request body, refused from its Content-Length with 413 "
                        "(default %1).")
             .arg(defaults.maxBodyBytes),
         QStringLiteral("BYTES")},
        {QStringLiteral("idle-timeout-ms"),
         QStringLiteral("A kept-alive connection with nothing in progress closes after this "
                        "(default %1). Headers must arrive within %2 ms and a body within %3 "
                        "ms (408); headers are limited to %4 bytes and %5 fields (431). "
                        "docs/security.md lists every limit.")
             .arg(QString::number(defaults.idleTimeout_ms),
                  QString::number(defaults.headerTimeout_ms),
                  QString::number(defaults.bodyTimeout_ms),
                  QString::number(defaults.maxHeaderBytes),
                  QString::number(defaults.maxHeaderCount)),
         QStringLiteral("MS")},
        {QStringLiteral("log"),
         QStringLiteral("Print one line per request: time, method, path, status, latency, "
                        "batch size.")},
    });
    int code = Ok;
    if (!parse(parser, QStringLiteral("serve"),
               QStringLiteral("Serve registry versions on a local HTTP endpoint (Open Inference "
                              "Protocol v2, TorchServe-style /predictions, Prometheus /metrics) "
                              "with dynamic batching; language models also on the "
                              "OpenAI-compatible /v1/completions and /v1/chat/completions, "
                              "streamed with continuous batching. Ctrl-C stops it."),
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
        options.maxBatchSize = int(intOption(parser, QStringLiteral("max-batch-size"), 1, 4096));
    if (parser.isSet(QStringLiteral("max-delay-us")))
        options.maxQueueDelay_us =
            int(intOption(parser, QStringLiteral("max-delay-us"), 0, 10000000));
    if (parser.isSet(QStringLiteral("threads")))
        options.threadsPerModel = int(intOption(parser, QStringLiteral("threads"), 1, 256));
    if (parser.isSet(QStringLiteral("max-queue")))
        options.maxQueuedSamples = int(intOption(parser, QStringLiteral("max-queue"), 1, 1 << 24));
    if (parser.isSet(QStringLiteral("max-tokens-cap")))
        options.maxTokensCap =
            int(intOption(parser, QStringLiteral("max-tokens-cap"), 1, 1 << 20));
    if (parser.isSet(QStringLiteral("max-streams")))
        options.maxStreamsPerModel =
            int(intOption(parser, QStringLiteral("max-streams"), 1, 1 << 16));
    options.batchGenerations = !parser.isSet(QStringLiteral("no-batch-generations"));
    if (parser.isSet(QStringLiteral("request-timeout-ms")))
        options.requestTimeout_ms =
            int(intOption(parser, QStringLiteral("request-timeout-ms"), 0, 86400000));
    if (parser.isSet(QStringLiteral("max-connections")))
        options.maxConnections = int(intOption(parser, QStringLiteral("max-connections"), 1,
                                               1 << 20));
    if (parser.isSet(QStringLiteral("max-body-bytes")))
        options.maxBodyBytes = intOption(parser, QStringLiteral("max-body-bytes"), 1,
                                         qint64(1) << 40);
    if (parser.isSet(QStringLiteral("idle-timeout-ms")))
        options.idleTimeout_ms = int(intOption(parser, QStringLiteral("idle-timeout-ms"), 1,
                                               86400000));
    options.token = tokenOption(parser);
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
    // Every version asked for is served, two versions of one model included.
    for (const QString &ref : parser.positionalArguments())
        served << service.serve(ref, ms::InferenceService::ServeMode::Alongside);
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
                                      {QStringLiteral("input_dtype"), m.inputDtype},
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
            rows << QStringList{escapeControls(m.name), m.versionRef,
                                ms::shapeText(shape, ms::ShapeStyle::Batch)
                                    + (m.inputDtype == QLatin1String("float32")
                                           ? QString()
                                           : QLatin1Char(' ') + m.inputDtype),
                                QString::number(m.numOutputs),
                                m.task == QLatin1String("lm")
                                    ? QStringLiteral("%1/v1/completions (model \"%2\")")
                                          .arg(url, escapeControls(m.versionRef))
                                    : QStringLiteral("%1/v2/models/%2/versions/%3/infer")
                                          .arg(url,
                                               QString::fromLatin1(
                                                   QUrl::toPercentEncoding(m.name)),
                                               QString::number(m.version))};
        }
        printLine(table({QStringLiteral("MODEL"), QStringLiteral("VERSION"),
                         QStringLiteral("INPUT"), QStringLiteral("OUTPUTS"),
                         QStringLiteral("ENDPOINT")},
                        rows));
        const ms::ServedModel &first = served.first();
        printLine(QStringLiteral("Try:\n  %1")
                      .arg(first.task == QLatin1String("lm")
                               ? curlCompletion(url, first, options.token)
                               : curlExample(url, first, options.token)));
        if (parser.isSet(QStringLiteral("token")))
            printLine(QStringLiteral("note: --token is visible to other users in the process "
                                     "list; --token-file or %1 keep it out of it.")
                          .arg(QString::fromLatin1(ms::serve::kTokenVariable)));
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
