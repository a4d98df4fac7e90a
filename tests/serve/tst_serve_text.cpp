// v2 BYTES text (issue 19, item 1) over real HTTP, on a small gpt with a SentencePiece
// tokenizer trained in the test: the metadata advertises BYTES; texts sent as BYTES answer the
// logits of their last position, equal to the same ids sent as INT64 and to the model run
// directly; and the refusals (400 before any work): BYTES to a model without a tokenizer, text
// that is not UTF-8, text longer than the context, an empty text. A copy of the gpt whose
// recorded tokenizer does not fit its vocabulary is refused when served. A text classifier
// made in Python with a byte tokenizer and a pad id reads texts cut and padded as Python does.

#include "InferenceService.h"

#include "TestSupport.h"

#include "data/Tokenizer.h"
#include "jobs/JobContext.h"
#include "models/ArchitectureRegistry.h"
#include "models/LanguageModel.h"
#include "models/Model.h"
#include "registry/ModelImport.h"
#include "registry/Registry.h"
#include "train/TrainJob.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace ms;

namespace {

constexpr int kBlock = 32;
constexpr int kVocab = 800;

struct Reply
{
    int status = 0;
    QByteArray body;
    QJsonObject json() const { return QJsonDocument::fromJson(body).object(); }
    QString error() const { return json().value(QStringLiteral("error")).toString(); }
    std::vector<float> output() const
    {
        std::vector<float> out;
        const QJsonObject o = json().value(QStringLiteral("outputs")).toArray().first().toObject();
        for (const QJsonValue &v : o.value(QStringLiteral("data")).toArray())
            out.push_back(float(v.toDouble()));
        return out;
    }
    QJsonArray outputShape() const
    {
        return json().value(QStringLiteral("outputs")).toArray().first().toObject()
            .value(QStringLiteral("shape")).toArray();
    }
};

TrainConfig tinySpmGpt()
{
    TrainConfig c;
    c.dataset = QStringLiteral("fortunes");
    c.limit = 1000;
    c.task = QStringLiteral("lm");
    c.tokenizer = QStringLiteral("spm-bpe");
    c.vocabSize = kVocab;
    c.arch = QStringLiteral("gpt");
    c.archParams = QJsonObject{{QStringLiteral("n_layer"), 1},
                               {QStringLiteral("n_head"), 2},
                               {QStringLiteral("n_embd"), 32},
                               {QStringLiteral("block_size"), kBlock}};
    c.epochs = 1;
    c.stepsPerEpoch = 5;
    c.batchSize = 8;
    c.lr = 3e-3;
    c.optimizer = QStringLiteral("adamw");
    c.threads = 1;
    c.seed = 3;
    return c;
}

// A classifier of byte tokens as the studio's text classifiers are made (tokenizer_json,
// block_size, pad_id = the vocabulary size, padding masked out of a mean pooling), scripted and
// saved as bytecls.pt; prints its outputs for three texts cut to block_size and padded, the
// rule of a classifier's training.
constexpr char kMakeByteClassifier[] = R"(
import json, sys, torch
torch.manual_seed(0)
class ByteClassifier(torch.nn.Module):
    tokenizer_json: str
    block_size: int
    pad_id: int
    vocab_size: int
    def __init__(self):
        super().__init__()
        self.tokenizer_json = json.dumps({"kind": "byte", "vocab_size": 256})
        self.block_size = 8
        self.pad_id = 256
        self.vocab_size = 256
        self.embed = torch.nn.Embedding(257, 16)
        self.head = torch.nn.Linear(16, 3)
    def forward(self, idx):
        idx = idx[:, :self.block_size]
        keep = (idx != self.pad_id).unsqueeze(2).to(torch.float32)
        pooled = (self.embed(idx) * keep).sum(1) / keep.sum(1).clamp_min(1.0)
        return self.head(pooled)
net = torch.jit.script(ByteClassifier().eval())
net.save(sys.argv[1] + "/bytecls.pt")
texts = ["hi", "a text longer than eight bytes", "café"]
rows = [list(t.encode())[:8] for t in texts]
width = max(len(r) for r in rows)
ids = torch.tensor([r + [256] * (width - len(r)) for r in rows])
with torch.no_grad():
    print(json.dumps({"texts": texts, "out": net(ids).flatten().tolist()}))
)";

QJsonObject textRequest(const QJsonArray &texts)
{
    return QJsonObject{{QStringLiteral("inputs"),
                        QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("text")},
                                               {QStringLiteral("datatype"),
                                                QStringLiteral("BYTES")},
                                               {QStringLiteral("shape"),
                                                QJsonArray{texts.size()}},
                                               {QStringLiteral("data"), texts}}}}};
}

QJsonObject idsRequest(const std::vector<qint64> &ids)
{
    QJsonArray data;
    for (qint64 id : ids)
        data.append(double(id));
    return QJsonObject{{QStringLiteral("inputs"),
                        QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("input")},
                                               {QStringLiteral("datatype"),
                                                QStringLiteral("INT64")},
                                               {QStringLiteral("shape"),
                                                QJsonArray{1, double(ids.size())}},
                                               {QStringLiteral("data"), data}}}}};
}

} // namespace

class TestServeText final : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_ws;
    std::unique_ptr<InferenceService> m_service;
    quint16 m_port = 0;
    QNetworkAccessManager m_nam;
    Model m_model;   // the served gpt, loaded from its artifact

    Reply call(const QByteArray &method, const QString &path, const QByteArray &body = {})
    {
        QNetworkRequest request(
            QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(m_port).arg(path)));
        request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        QNetworkReply *reply = m_nam.sendCustomRequest(request, method, body);
        if (!reply->isFinished()) {
            QSignalSpy finished(reply, &QNetworkReply::finished);
            finished.wait(60000);
        }
        Reply out;
        out.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
        out.body = reply->readAll();
        reply->deleteLater();
        return out;
    }
    Reply infer(const QString &model, const QByteArray &body)
    {
        return call("POST", QStringLiteral("/v2/models/%1/infer").arg(model), body);
    }
    Reply infer(const QString &model, const QJsonObject &body)
    {
        return infer(model, QJsonDocument(body).toJson(QJsonDocument::Compact));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        m_ws = m_dir.filePath(QStringLiteral("ws"));
        TrainJob job(tinySpmGpt(), m_dir.filePath(QStringLiteral("run")));
        job.recordIn(m_ws, QStringLiteral("spm-lm"));
        JobContext context;
        QCOMPARE(jobStatusName(job.run(context).status), QStringLiteral("finished"));
        const Registry registry(m_ws);
        m_model = Model::load(registry.verifiedArtifactPath(registry.resolve(
            QStringLiteral("spm-lm:1"))));

        // A classifier beside it: it carries no tokenizer.
        const ModelDataInfo info{{4}, {}, {}, {QStringLiteral("a"), QStringLiteral("b")}};
        const Model mlp = Model::build(
            ArchitectureRegistry::instance().resolve(QStringLiteral("mlp"), {4}, 2), info, 1);
        const QString path = m_dir.filePath(QStringLiteral("mlp.pt"));
        mlp.save(path);
        NewVersion version;
        version.modelName = QStringLiteral("classifier");
        version.artifactPath = path;
        Registry(m_ws).addVersion(version);

        ServeOptions options;
        options.port = 0;
        m_service = std::make_unique<InferenceService>(m_ws, options);
        m_port = m_service->listen();
        const ServedModel lm = m_service->serve(QStringLiteral("spm-lm"));
        QCOMPARE(lm.tokenizer, QStringLiteral("spm-bpe"));
        QCOMPARE(lm.numOutputs, kVocab);
        QVERIFY(m_service->serve(QStringLiteral("classifier")).tokenizer.isEmpty());
    }

    void metadataAdvertisesText()
    {
        const QJsonArray inputs =
            call("GET", QStringLiteral("/v2/models/spm-lm")).json()
                .value(QStringLiteral("inputs")).toArray();
        QCOMPARE(inputs.size(), 2);
        QCOMPARE(inputs.at(0).toObject().value(QStringLiteral("datatype")).toString(),
                 QStringLiteral("INT64"));
        QCOMPARE(inputs.at(1).toObject().value(QStringLiteral("datatype")).toString(),
                 QStringLiteral("BYTES"));
        const QJsonArray plain = call("GET", QStringLiteral("/v2/models/classifier")).json()
                                     .value(QStringLiteral("inputs")).toArray();
        QCOMPARE(plain.size(), 1);
        QCOMPARE(plain.at(0).toObject().value(QStringLiteral("datatype")).toString(),
                 QStringLiteral("FP32"));
    }

    // Texts of different lengths in one request: each row is its text's last-position
    // logits, as the same ids sent as INT64 answer, and as the model computes them.
    void bytesEqualsTheTokenizedIds()
    {
        const QStringList texts{QStringLiteral("Q: What is a fortune?"),
                                QStringLiteral("caf\u00e9 \u2014 ok"), QStringLiteral("A")};
        const Reply bytes = infer(QStringLiteral("spm-lm"),
                                  textRequest(QJsonArray::fromStringList(texts)));
        QCOMPARE(bytes.status, 200);
        QCOMPARE(bytes.outputShape(), (QJsonArray{3, kVocab}));
        const std::vector<float> rows = bytes.output();
        QCOMPARE(rows.size(), size_t(3 * kVocab));

        const std::unique_ptr<Tokenizer> tokenizer = Tokenizer::fromJson(m_model.tokenizer());
        const LanguageModel lm(m_model, QStringLiteral("spm-lm:1"));
        for (int i = 0; i < texts.size(); ++i) {
            const std::vector<qint64> ids = tokenizer->encode(texts[i].toUtf8());
            QVERIFY(!ids.empty() && ids.size() <= size_t(kBlock));
            const Reply int64 = infer(QStringLiteral("spm-lm"), idsRequest(ids));
            QCOMPARE(int64.status, 200);
            const std::vector<float> direct = lm.logits(ids, 1);
            const std::vector<float> last(direct.end() - kVocab, direct.end());
            const std::vector<float> row(rows.begin() + i * kVocab,
                                         rows.begin() + (i + 1) * kVocab);
            QVERIFY2(test::maxScaledDiff(row, int64.output()) < 1e-5,
                     qPrintable(QString::number(test::maxScaledDiff(row, int64.output()))));
            QVERIFY(test::maxScaledDiff(row, last) < 1e-5);
        }
    }

    void refusals()
    {
        // A model without a tokenizer: what it takes instead.
        Reply r = infer(QStringLiteral("classifier"),
                        textRequest(QJsonArray{QStringLiteral("hello")}));
        QCOMPARE(r.status, 400);
        QVERIFY2(r.error().contains(QStringLiteral("tokenizer"))
                     && r.error().contains(QStringLiteral("FP32")),
                 qPrintable(r.error()));

        // Not UTF-8: raw bytes inside the JSON string, and an escaped lone surrogate.
        r = infer(QStringLiteral("spm-lm"),
                  QByteArray("{\"inputs\":[{\"name\":\"text\",\"datatype\":\"BYTES\","
                             "\"shape\":[1],\"data\":[\"ab\xff\xfe\"]}]}"));
        QCOMPARE(r.status, 400);
        QVERIFY2(r.error().contains(QStringLiteral("UTF-8")), qPrintable(r.error()));
        r = infer(QStringLiteral("spm-lm"),
                  QByteArray("{\"inputs\":[{\"name\":\"text\",\"datatype\":\"BYTES\","
                             "\"shape\":[1],\"data\":[\"ab\\ud800\"]}]}"));
        QCOMPARE(r.status, 400);
        QVERIFY2(r.error().contains(QStringLiteral("UTF-8")), qPrintable(r.error()));

        // Longer than the context (the second text), and empty: named by their place.
        r = infer(QStringLiteral("spm-lm"),
                  textRequest(QJsonArray{QStringLiteral("ok"), QString(400, QLatin1Char('z'))}));
        QCOMPARE(r.status, 400);
        QVERIFY2(r.error().contains(QStringLiteral("text 1"))
                     && r.error().contains(QStringLiteral("context")),
                 qPrintable(r.error()));
        r = infer(QStringLiteral("spm-lm"), textRequest(QJsonArray{QString()}));
        QCOMPARE(r.status, 400);
        QVERIFY2(r.error().contains(QStringLiteral("empty")), qPrintable(r.error()));

        // Ids past the context, and a shape that is not one text per element.
        r = infer(QStringLiteral("spm-lm"), idsRequest(std::vector<qint64>(kBlock + 1, 5)));
        QCOMPARE(r.status, 400);
        QVERIFY2(r.error().contains(QStringLiteral("context")), qPrintable(r.error()));
        QJsonObject twoD = textRequest(QJsonArray{QStringLiteral("a"), QStringLiteral("b")});
        QJsonArray inputs = twoD.value(QStringLiteral("inputs")).toArray();
        QJsonObject input = inputs.first().toObject();
        input.insert(QStringLiteral("shape"), QJsonArray{1, 2});
        twoD.insert(QStringLiteral("inputs"), QJsonArray{input});
        r = infer(QStringLiteral("spm-lm"), twoD);
        QCOMPARE(r.status, 400);
        QVERIFY2(r.error().contains(QStringLiteral("[N]")), qPrintable(r.error()));

        // Still serving after the refusals.
        QCOMPARE(infer(QStringLiteral("spm-lm"),
                       textRequest(QJsonArray{QStringLiteral("ok")})).status, 200);
    }

    // The same gpt with a tokenizer of another vocabulary recorded in it: refused at serve.
    void mismatchedTokenizerIsRefused()
    {
        const Registry registry(m_ws);
        const QString source = registry.verifiedArtifactPath(registry.resolve(
            QStringLiteral("spm-lm:1")));
        const QString tampered = m_dir.filePath(QStringLiteral("tampered.pt"));
        QByteArray out;
        QVERIFY(test::runPython(m_dir.path(), QStringLiteral(
            "import sys, torch\n"
            "m = torch.jit.load(sys.argv[1])\n"
            "m.tokenizer_json = '{\"kind\": \"byte\", \"vocab_size\": 256}'\n"
            "torch.jit.save(m, sys.argv[2])\n"), {source, tampered}, &out));
        NewVersion version;
        version.modelName = QStringLiteral("tampered");
        version.artifactPath = tampered;
        Registry(m_ws).addVersion(version);
        const QString message =
            test::errorOf([&] { m_service->serve(QStringLiteral("tampered")); });
        QVERIFY2(message.contains(QStringLiteral("256 symbols"))
                     && message.contains(QString::number(kVocab)),
                 qPrintable(message));
        for (const ServedModel &served : m_service->models())
            QVERIFY(served.name != QLatin1String("tampered"));   // nothing served in its place
    }

    // A text classifier reads texts as its training did: cut to block_size, padded with its
    // pad id to the longest; its answer equals Python's on the ids so made.
    void classifierReadsTextCutAndPadded()
    {
        QByteArray out;
        QVERIFY(test::runPython(m_dir.path(), QString::fromLatin1(kMakeByteClassifier),
                                {m_dir.path()}, &out));
        const QJsonObject python = QJsonDocument::fromJson(out).object();
        ImportOptions o;
        o.path = m_dir.filePath(QStringLiteral("bytecls.pt"));
        o.modelName = QStringLiteral("bytecls");
        o.exampleShape = {1, 8};
        o.inputDtype = QStringLiteral("int64");
        Registry(m_ws).addVersion(prepareImport(o).version);
        QCOMPARE(m_service->serve(QStringLiteral("bytecls")).tokenizer, QStringLiteral("byte"));

        const Reply r = infer(QStringLiteral("bytecls"),
                              textRequest(python.value(QStringLiteral("texts")).toArray()));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.outputShape(), (QJsonArray{3, 3}));
        std::vector<float> expected;
        for (const QJsonValue &v : python.value(QStringLiteral("out")).toArray())
            expected.push_back(float(v.toDouble()));
        QVERIFY2(test::maxScaledDiff(r.output(), expected) < 1e-5,
                 qPrintable(QString::number(test::maxScaledDiff(r.output(), expected))));
    }

    void cleanupTestCase()
    {
        m_service.reset();
    }
};

QTEST_GUILESS_MAIN(TestServeText)
#include "tst_serve_text.moc"
