// The gpt architecture: its spec and layer table, the TorchScript module built in C++ (shapes,
// the key/value-cache step against the full forward), the same outputs in Python after
// torch.jit.load, and generation (sampling options, stop text, refusals).

#include "TestSupport.h"

#include "data/Tokenizer.h"
#include "models/ArchSpec.h"
#include "models/ArchitectureRegistry.h"
#include "models/GptSpec.h"
#include "models/LanguageModel.h"
#include "models/Model.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace ms;
using ms::test::closeTo;
using ms::test::errorOf;

namespace {

// Two blocks of two heads, a context of 24 tokens: tiny, but every part of the architecture.
QJsonObject tinySpec(double dropout = 0.0)
{
    return QJsonObject{{QStringLiteral("name"), QStringLiteral("tiny-gpt")},
                       {QStringLiteral("family"), QStringLiteral("gpt")},
                       {QStringLiteral("block_size"), 24},
                       {QStringLiteral("n_layer"), 2},
                       {QStringLiteral("n_head"), 2},
                       {QStringLiteral("n_embd"), 32},
                       {QStringLiteral("dropout"), dropout}};
}

Model buildTiny(quint64 seed, const QJsonObject &spec = tinySpec())
{
    return Model::buildLanguageModel(spec, ByteTokenizer().toJson(), seed);
}

std::vector<qint64> tokensOf(const QByteArray &text)
{
    return ByteTokenizer().encode(text);
}

QJsonArray toJson(const std::vector<qint64> &ids)
{
    QJsonArray a;
    for (const qint64 id : ids)
        a.append(id);
    return a;
}

} // namespace

class TestGpt : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
    }

    // The provider's default is lm_peer.py's model: 875,264 parameters with 256 symbols.
    void specAndLayerTable()
    {
        const QJsonObject spec =
            ArchitectureRegistry::instance().resolve(QStringLiteral("gpt"), {}, 256);
        const ArchSpec arch = ArchSpec::fromJson(spec);
        QVERIFY(arch.isGpt());
        QCOMPARE(arch.numClasses(), 256);
        const ModelSummary summary = arch.summary();
        QCOMPARE(summary.totalParams, qint64(875264));
        QVERIFY(summary.macsPerToken);
        QCOMPARE(summary.layers.size(), 2 + 4 * 4 + 2);
        QCOMPARE(summary.layers.last().name, QStringLiteral("lm_head"));
        QCOMPARE(summary.layers.last().macs, qint64(128 * 256));
        QVERIFY(summary.table().contains(QStringLiteral("MACs/token")));

        const ArchSpec small = arch.withSettings(
            QJsonObject{{QStringLiteral("n_layer"), 1}, {QStringLiteral("block_size"), 64}});
        QCOMPARE(GptSpec::fromJson(small.toJson()).nLayer, 1);
        QCOMPARE(small.inputShape(), std::vector<qint64>{64});
        QCOMPARE(small.numClasses(), 256);   // the tokenizer's vocabulary stays bound
    }

    void specRefusals_data()
    {
        QTest::addColumn<QString>("what");
        QTest::addColumn<QString>("expected");
        QTest::newRow("heads do not divide") << "heads" << "must divide by n_head";
        QTest::newRow("unknown key") << "key" << "no setting \"n_layers\"";
        QTest::newRow("image data") << "images" << "--task lm";
        QTest::newRow("other vocabulary") << "vocab" << "vocab_size 100";
        QTest::newRow("vocab as a setting") << "setvocab" << "no parameter \"vocab_size\"";
        QTest::newRow("settings of an mlp") << "mlp" << "takes no parameters";
        QTest::newRow("no layer plan") << "plan" << "no layer list";
    }

    void specRefusals()
    {
        QFETCH(QString, what);
        QFETCH(QString, expected);
        QJsonObject spec = tinySpec();
        const QString message = errorOf([&] {
            if (what == QLatin1String("heads")) {
                spec.insert(QStringLiteral("n_head"), 3);
                ArchSpec::fromJson(spec);
            } else if (what == QLatin1String("key")) {
                spec.insert(QStringLiteral("n_layers"), 3);
                ArchSpec::fromJson(spec);
            } else if (what == QLatin1String("images")) {
                ArchitectureRegistry::instance().resolve(QStringLiteral("gpt"), {1, 28, 28}, 10);
            } else if (what == QLatin1String("vocab")) {
                spec.insert(QStringLiteral("vocab_size"), 100);
                ArchSpec::fromJson(spec).boundTo({}, 256);
            } else if (what == QLatin1String("setvocab")) {
                ArchSpec::fromJson(spec).withSettings({{QStringLiteral("vocab_size"), 9}});
            } else if (what == QLatin1String("mlp")) {
                ArchSpec::fromJson(ArchitectureRegistry::instance().resolve(
                                       QStringLiteral("mlp"), {4}, 3))
                    .withSettings({{QStringLiteral("n_layer"), 2}});
            } else {
                ArchSpec::fromJson(spec).boundTo({}, 256).plan();
            }
        });
        QVERIFY2(message.contains(expected), qPrintable(message));
    }

    // Logits for every position; the cached step equals the full forward; Python's
    // torch.jit.load gives the same logits and the same greedy continuation, cached or not.
    void forwardShapesAndPythonReload()
    {
        const Model model = buildTiny(11);
        QCOMPARE(model.task(), QStringLiteral("lm"));
        QCOMPARE(model.blockSize(), 24);
        const LanguageModel lm(model, QStringLiteral("tiny-gpt"));
        QCOMPARE(lm.vocabSize(), 256);
        QCOMPARE(model.parameterCount(),
                 ArchSpec::fromJson(model.spec()).summary().totalParams);

        const std::vector<qint64> tokens = tokensOf("The cat sat.The dog ran.");   // 2 x 12
        QCOMPARE(tokens.size(), size_t(24));
        const std::vector<float> logits = lm.logits(tokens, 2);
        QCOMPARE(logits.size(), size_t(2 * 12 * 256));

        GenerateOptions greedy;
        greedy.temperature = 0.0;
        greedy.maxTokens = 16;
        const GenerateResult cached = lm.generate("Q: why?", greedy);
        greedy.useCache = false;
        const GenerateResult full = lm.generate("Q: why?", greedy);
        QCOMPARE(cached.tokens.size(), size_t(16));
        QCOMPARE(cached.tokens, full.tokens);
        QCOMPARE(cached.promptTokens.size(), size_t(7));

        const QString path = m_dir.filePath(QStringLiteral("tiny-gpt.pt"));
        model.save(path);
        QByteArray out;
        QVERIFY(ms::test::runPython(m_dir.path(), QStringLiteral(R"(
import json, sys, torch
m = torch.jit.load(sys.argv[1])
training = m.training
m.eval()
args = json.loads(sys.argv[2])
x = torch.tensor(args["tokens"]).view(2, -1)
with torch.no_grad():
    logits = m(x)
    # the cache: the prompt, then one token at a time
    last, cache = m.step(x[:1, :-1], [])
    stepped, cache = m.step(x[:1, -1:], cache)
    idx, cache = torch.tensor([args["prompt"]]), []
    out = []
    for i in range(16):
        lg, cache = m.step(idx if i == 0 else idx[:, -1:], cache)
        idx = torch.cat([idx, lg.argmax(-1, keepdim=True)], 1)
        out.append(int(idx[0, -1]))
print(json.dumps({"shape": list(logits.shape), "logits": logits.flatten().tolist(),
                  "step_vs_forward": (stepped[0] - logits[0, -1]).abs().max().item(),
                  "cache_len": len(cache), "cache_shape": list(cache[0].shape),
                  "greedy": out, "task": m.task, "block_size": m.block_size,
                  "tokenizer": json.loads(m.tokenizer_json), "training": training}))
)"),
                                    {path, QString::fromUtf8(QJsonDocument(QJsonObject{
                                        {QStringLiteral("tokens"), toJson(tokens)},
                                        {QStringLiteral("prompt"),
                                         toJson(cached.promptTokens)}}).toJson(
                                        QJsonDocument::Compact))},
                                    &out));
        const QJsonObject py = QJsonDocument::fromJson(out).object();
        QCOMPARE(py.value(QStringLiteral("shape")).toArray(), QJsonArray({2, 12, 256}));
        const QJsonArray theirs = py.value(QStringLiteral("logits")).toArray();
        QCOMPARE(size_t(theirs.size()), logits.size());
        for (size_t i = 0; i < logits.size(); ++i)
            QVERIFY2(closeTo(theirs[int(i)].toDouble(), logits[i], 1e-4),
                     qPrintable(QStringLiteral("logit %1: %2 vs %3").arg(i)
                                    .arg(theirs[int(i)].toDouble()).arg(logits[i])));
        QVERIFY(py.value(QStringLiteral("step_vs_forward")).toDouble() < 1e-4);
        QCOMPARE(py.value(QStringLiteral("cache_len")).toInt(), 4);   // k and v per block
        QCOMPARE(py.value(QStringLiteral("cache_shape")).toArray(), QJsonArray({1, 2, 22, 16}));
        QCOMPARE(py.value(QStringLiteral("greedy")).toArray(), toJson(cached.tokens));
        QCOMPARE(py.value(QStringLiteral("task")).toString(), QStringLiteral("lm"));
        QCOMPARE(py.value(QStringLiteral("block_size")).toInt(), 24);
        QCOMPARE(py.value(QStringLiteral("tokenizer")).toObject(), ByteTokenizer().toJson());
        QCOMPARE(py.value(QStringLiteral("training")).toBool(), true);

        // What Python reads, C++ reads back: the attributes survive the file.
        const Model loaded = Model::load(path);
        QCOMPARE(loaded.task(), QStringLiteral("lm"));
        QCOMPARE(loaded.tokenizer(), ByteTokenizer().toJson());
        QVERIFY(LanguageModel(loaded, QStringLiteral("loaded")).logits(tokens, 2) == logits);
    }

    // step_rows(), the batched decode step of continuous batching: two sequences of different
    // lengths, the shorter one's cache left-padded, give the logits each gives alone with
    // step(), in Python (where a user calls it as the docs show).
    void stepRowsEqualsStepAlone()
    {
        const QString path = m_dir.filePath(QStringLiteral("rows-gpt.pt"));
        buildTiny(5).save(path);
        QByteArray out;
        QVERIFY(ms::test::runPython(m_dir.path(), QStringLiteral(R"(
import json, sys, torch
import torch.nn.functional as F
m = torch.jit.load(sys.argv[1]).eval()
a = torch.tensor([list(b"Hello, world")])
b = torch.tensor([list(b"Hi")])
with torch.no_grad():
    la, ca = m.step(a, [])
    lb, cb = m.step(b, [])
    na, nb = la.argmax(-1, keepdim=True), lb.argmax(-1, keepdim=True)
    alone_a, _ = m.step(na, ca)
    alone_b, _ = m.step(nb, cb)
    T = a.size(1)
    cache = [torch.cat([x, F.pad(y, (0, 0, T - y.size(2), 0))], 0) for x, y in zip(ca, cb)]
    pos = torch.tensor([a.size(1), b.size(1)])
    keep = torch.arange(T + 1).unsqueeze(0) >= (T - pos).unsqueeze(1)
    rows, new_cache = m.step_rows(torch.cat([na, nb]), pos, keep, cache)
print(json.dumps({"diff": max((rows[0] - alone_a[0]).abs().max().item(),
                              (rows[1] - alone_b[0]).abs().max().item()),
                  "scale": alone_a.abs().max().item(),
                  "cache_shape": list(new_cache[0].shape)}))
)"),
                                    {path}, &out));
        const QJsonObject py = QJsonDocument::fromJson(out).object();
        QVERIFY2(py.value(QStringLiteral("diff")).toDouble()
                     < 1e-5 * std::max(1.0, py.value(QStringLiteral("scale")).toDouble()),
                 out.constData());
        QCOMPARE(py.value(QStringLiteral("cache_shape")).toArray(), QJsonArray({2, 2, 13, 16}));
    }

    void seedsAndDropout()
    {
        const std::vector<qint64> tokens = tokensOf("abcdef");
        const auto a = LanguageModel(buildTiny(1), QStringLiteral("a")).logits(tokens, 1);
        const auto b = LanguageModel(buildTiny(1), QStringLiteral("b")).logits(tokens, 1);
        const auto c = LanguageModel(buildTiny(2), QStringLiteral("c")).logits(tokens, 1);
        QVERIFY(a == b);
        QVERIFY(a != c);
        // Dropout is off in eval mode: logits equal the dropout-free model's with the same seed.
        const auto d = LanguageModel(buildTiny(1, tinySpec(0.5)), QStringLiteral("d"))
                           .logits(tokens, 1);
        QVERIFY(a == d);
    }

    void sampling()
    {
        const LanguageModel lm(buildTiny(5), QStringLiteral("tiny"));
        GenerateOptions o;
        o.maxTokens = 20;
        o.seed = 42;
        const GenerateResult first = lm.generate("Hello", o);
        const GenerateResult again = lm.generate("Hello", o);
        QCOMPARE(first.tokens, again.tokens);
        o.seed = 43;
        QVERIFY(lm.generate("Hello", o).tokens != first.tokens);
        // top-k 1 and a tiny top-p both leave only the most likely token: greedy.
        o.topK = 1;
        const GenerateResult topOne = lm.generate("Hello", o);
        o.topK = 0;
        o.topP = 1e-6;
        const GenerateResult nucleus = lm.generate("Hello", o);
        GenerateOptions greedy;
        greedy.maxTokens = 20;
        greedy.temperature = 0.0;
        const GenerateResult expected = lm.generate("Hello", greedy);
        QCOMPARE(topOne.tokens, expected.tokens);
        QCOMPARE(nucleus.tokens, expected.tokens);
        QCOMPARE(expected.finishReason, QStringLiteral("length"));
        QVERIFY(expected.tokensPerSecond() > 0);

        // Past the context: the cache is refilled and generation goes on.
        greedy.maxTokens = 60;
        QCOMPARE(lm.generate("Hello", greedy).tokens.size(), size_t(60));

        // A stop text from the greedy continuation: the text ends before it, the chunks
        // streamed add up to the text, and nothing of the stop text was streamed.
        greedy.maxTokens = 20;
        const QByteArray stop = expected.text.mid(6, 3);
        greedy.stop = stop;
        QByteArray streamed;
        const GenerateResult stopped = lm.generate("Hello", greedy, [&](const QByteArray &t) {
            streamed += t;
            return true;
        });
        QCOMPARE(stopped.finishReason, QStringLiteral("stop"));
        QCOMPARE(stopped.text, expected.text.left(expected.text.indexOf(stop)));
        QCOMPARE(streamed, stopped.text);

        // The callback can end it.
        int calls = 0;
        const GenerateResult ended = lm.generate("Hello", o, [&](const QByteArray &) {
            return ++calls < 3;
        });
        QCOMPARE(ended.finishReason, QStringLiteral("cancelled"));
        QCOMPARE(ended.tokens.size(), size_t(3));
    }

    void refusals_data()
    {
        QTest::addColumn<QString>("what");
        QTest::addColumn<QString>("expected");
        QTest::newRow("empty prompt") << "empty" << "prompt is empty";
        QTest::newRow("not utf-8") << "latin1" << "not valid UTF-8";
        QTest::newRow("longer than the context") << "long" << "more than the context";
        QTest::newRow("no tokens") << "zero" << "at least 1";
        QTest::newRow("negative temperature") << "temperature" << "temperature";
        QTest::newRow("top-p zero") << "topp" << "top-p";
        QTest::newRow("top-k negative") << "topk" << "top-k";
        QTest::newRow("token outside the vocabulary") << "token" << "outside the vocabulary";
        QTest::newRow("sequence past the context") << "sequence" << "longer than the context";
        QTest::newRow("a classifier") << "classifier" << "not a language model";
    }

    void refusals()
    {
        QFETCH(QString, what);
        QFETCH(QString, expected);
        const LanguageModel lm(buildTiny(5), QStringLiteral("tiny"));
        GenerateOptions o;
        QByteArray prompt = "ok";
        const QString message = errorOf([&] {
            if (what == QLatin1String("empty"))
                prompt.clear();
            else if (what == QLatin1String("latin1"))
                prompt = "caf\xe9";
            else if (what == QLatin1String("long"))
                prompt = QByteArray(25, 'x');
            else if (what == QLatin1String("zero"))
                o.maxTokens = 0;
            else if (what == QLatin1String("temperature"))
                o.temperature = -1;
            else if (what == QLatin1String("topp"))
                o.topP = 0.0;
            else if (what == QLatin1String("topk"))
                o.topK = -2;
            else if (what == QLatin1String("token"))
                lm.logits({1, 2, 256}, 1);
            else if (what == QLatin1String("sequence"))
                lm.logits(std::vector<qint64>(25, 65), 1);
            else if (what == QLatin1String("classifier"))
                LanguageModel(Model::build(ArchitectureRegistry::instance().resolve(
                                               QStringLiteral("mlp"), {4}, 3),
                                           ModelDataInfo{{4}, {}, {}, {}}, 1),
                              QStringLiteral("mlp:1"));
            lm.generate(prompt, o);
        });
        QVERIFY2(message.contains(expected), qPrintable(message));

        // nanoGPT's crop instead of a refusal, when asked for.
        o = GenerateOptions();
        o.cropPrompt = true;
        o.maxTokens = 2;
        const GenerateResult cropped = lm.generate(QByteArray(30, 'x'), o);
        QVERIFY(cropped.promptCropped);
        QCOMPARE(cropped.promptTokens.size(), size_t(24));
    }
};

QTEST_GUILESS_MAIN(TestGpt)
#include "tst_gpt.moc"
