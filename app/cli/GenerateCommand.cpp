// modelstudio-cli generate: continue a prompt with a language model of the registry, the text
// streamed to stdout as it comes (or JSON lines with --json).

#include "Command.h"
#include "Output.h"
#include "RegistryOutput.h"

#include "common/Error.h"
#include "common/Printable.h"
#include "common/Runtime.h"
#include "models/LanguageModel.h"
#include "models/Model.h"
#include "registry/Registry.h"

#include <QStringDecoder>

#include <cstdio>

namespace cli {

namespace {

double number(const QCommandLineParser &parser, const QString &flag, double fallback)
{
    if (!parser.isSet(flag))
        return fallback;
    bool ok = false;
    const double value = parser.value(flag).toDouble(&ok);
    if (!ok)
        throw ms::Error(QStringLiteral("--%1 takes a number, not \"%2\".")
                            .arg(flag, ms::printable(parser.value(flag))));
    return value;
}

qint64 integer(const QCommandLineParser &parser, const QString &flag, qint64 fallback)
{
    if (!parser.isSet(flag))
        return fallback;
    bool ok = false;
    const qint64 value = parser.value(flag).toLongLong(&ok);
    if (!ok)
        throw ms::Error(QStringLiteral("--%1 takes a whole number, not \"%2\".")
                            .arg(flag, ms::printable(parser.value(flag))));
    return value;
}

ms::GenerateOptions readOptions(const QCommandLineParser &parser)
{
    ms::GenerateOptions o;
    const qint64 maxTokens = integer(parser, QStringLiteral("max-tokens"), 256);
    o.maxTokens = int(std::clamp<qint64>(maxTokens, -1, 1 << 30));
    o.temperature = number(parser, QStringLiteral("temperature"), 0.8);
    o.topK = int(std::clamp<qint64>(integer(parser, QStringLiteral("top-k"), 0), -1, 1 << 30));
    o.topP = number(parser, QStringLiteral("top-p"), 1.0);
    const qint64 seed = integer(parser, QStringLiteral("seed"), 0);
    if (seed < 0)
        throw ms::Error(QStringLiteral("--seed must not be negative (got %1).").arg(seed));
    o.seed = quint64(seed);
    o.stop = parser.value(QStringLiteral("stop")).toUtf8();
    o.useCache = !parser.isSet(QStringLiteral("no-cache"));
    o.cropPrompt = parser.isSet(QStringLiteral("crop-prompt"));
    return o;
}

void addOptions(QCommandLineParser &parser)
{
    parser.addPositionalArgument(QStringLiteral("REF"),
                                 QStringLiteral("A language-model version: NAME:N, NAME@ALIAS "
                                                "or NAME."));
    parser.addOptions({
        {QStringLiteral("prompt"), QStringLiteral("The text to continue (required)."),
         QStringLiteral("TEXT")},
        {QStringLiteral("max-tokens"), QStringLiteral("Tokens to generate (default 256)."),
         QStringLiteral("N")},
        {QStringLiteral("temperature"),
         QStringLiteral("Sampling temperature; 0 is greedy (default 0.8)."), QStringLiteral("T")},
        {QStringLiteral("top-k"),
         QStringLiteral("Sample from the K most likely tokens only; 0 = all (default)."),
         QStringLiteral("K")},
        {QStringLiteral("top-p"),
         QStringLiteral("Sample from the smallest set of tokens whose probability reaches P "
                        "(default 1: all)."),
         QStringLiteral("P")},
        {QStringLiteral("seed"), QStringLiteral("Sampling seed: the same seed gives the same "
                                                "text (default 0)."),
         QStringLiteral("S")},
        {QStringLiteral("stop"), QStringLiteral("End the text before this string."),
         QStringLiteral("STR")},
        {QStringLiteral("crop-prompt"),
         QStringLiteral("Keep the last tokens of a prompt longer than the model's context "
                        "instead of refusing it.")},
        {QStringLiteral("no-cache"),
         QStringLiteral("Recompute the whole context for every token instead of using the "
                        "key/value cache (slower; for comparison).")},
        {QStringLiteral("threads"), QStringLiteral("Compute threads (default 1: one token at "
                                                   "a time gains little from more)."),
         QStringLiteral("N")},
    });
}

int runGenerate(const QStringList &arguments)
{
    QCommandLineParser parser;
    addOptions(parser);
    int code = Ok;
    if (!parse(parser, QStringLiteral("generate"),
               QStringLiteral("Continue a prompt with a language model (a version trained with "
                              "--task lm). The text streams to stdout as it comes; --json "
                              "prints JSON lines: {\"event\": \"text\"} chunks, then "
                              "\"finished\" with the whole text and the timings."),
               arguments, &code))
        return code;
    if (!expectArguments(parser, QStringLiteral("generate"),
                         QStringLiteral("generate REF --prompt TEXT"), 1, 1, &code))
        return code;
    if (!parser.isSet(QStringLiteral("prompt")))
        return fail(QStringLiteral("generate needs --prompt TEXT. See: modelstudio-cli generate "
                                   "--help"), Usage);
    ms::GenerateOptions options;
    int threads = 1;
    try {
        options = readOptions(parser);
        threads = int(integer(parser, QStringLiteral("threads"), 1));
        ms::Runtime::checkThreads(threads, QStringLiteral("Threads (--threads)"));
    } catch (const ms::Error &e) {
        return fail(e.message(), Usage);
    }
    const QByteArray prompt = parser.value(QStringLiteral("prompt")).toUtf8();

    const ms::Registry registry = openRegistry(parser);
    const ms::VersionRecord version = registry.resolve(parser.positionalArguments().first());
    const ms::LanguageModel lm(ms::Model::load(registry.verifiedArtifactPath(version)),
                               version.ref());
    lm.check(prompt, options);   // refused before any work
    ms::Model::setComputeThreads(threads);

    const bool json = parser.isSet(QStringLiteral("json"));
    QStringDecoder utf8(QStringDecoder::Utf8);
    if (!json) {
        std::fputs(ms::printableLines(QString::fromUtf8(prompt)).toUtf8().constData(), stdout);
        std::fflush(stdout);
    }
    const ms::GenerateResult result = lm.generate(prompt, options, [&](const QByteArray &chunk) {
        if (json) {
            printJsonLine(QJsonObject{{QStringLiteral("event"), QStringLiteral("text")},
                                      {QStringLiteral("text"), QString(utf8(chunk))}});
        } else {
            // Model output is untrusted text: control characters shown escaped.
            std::fputs(ms::printableLines(utf8(chunk)).toUtf8().constData(), stdout);
            std::fflush(stdout);
        }
        return true;
    });
    if (!json) {
        std::fputs("\n", stdout);
        std::fprintf(stderr, "%s: %zu tokens in %.2f s, %.1f tokens/s (first after %.0f ms), "
                             "%s%s\n",
                     qPrintable(version.ref()), result.tokens.size(), result.total_s,
                     result.tokensPerSecond(), result.firstToken_s * 1000.0,
                     qPrintable(result.finishReason),
                     result.promptCropped ? ", prompt cropped to the context" : "");
        return Ok;
    }
    printJsonLine(QJsonObject{
        {QStringLiteral("event"), QStringLiteral("finished")},
        {QStringLiteral("version"), version.ref()},
        {QStringLiteral("prompt"), QString::fromUtf8(prompt)},
        {QStringLiteral("text"), QString::fromUtf8(result.text)},
        {QStringLiteral("finish_reason"), result.finishReason},
        {QStringLiteral("prompt_tokens"), qint64(result.promptTokens.size())},
        {QStringLiteral("completion_tokens"), qint64(result.tokens.size())},
        {QStringLiteral("prompt_cropped"), result.promptCropped},
        {QStringLiteral("kv_cache"), options.useCache},
        {QStringLiteral("seed"), QString::number(options.seed)},
        {QStringLiteral("tokens_per_s"), result.tokensPerSecond()},
        {QStringLiteral("first_token_s"), result.firstToken_s},
        {QStringLiteral("total_s"), result.total_s},
        {QStringLiteral("threads"), threads}});
    return Ok;
}

} // namespace

QList<Command> generateCommands()
{
    return {{QStringLiteral("generate"),
             QStringLiteral("Continue a prompt with a language model (streamed, or --json)"),
             runGenerate}};
}

} // namespace cli
