// `explain` and `disagree` through the command line, checked against Python's autograd on the
// same TorchScript files: integrated gradients (same steps, same zero baseline, same trapezoid
// rule), saliency, occlusion of an int8 variant, and the test samples two versions disagree
// on. Then the refusals, each one line and before any work.
//
// The slots run in order on one workspace: a small cnn, its int8 variant and an mlp, trained on
// 1000 Fashion-MNIST images for one epoch.

#include "TestSupport.h"
#include "app/CliRun.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <numeric>

namespace {

using Run = ms::test::CliRun;

constexpr int kSample = 7; // a test image in file order
constexpr int kLimit = 400; // test samples `disagree` compares

// The reference: the same computations in Python's autograd on the registry's artifacts.
const char *const kReference = R"PY(
import gzip, json, sys
import numpy as np, torch
torch.set_num_threads(1)
fp32, int8, mlp, sample, steps, limit, out = sys.argv[1:8]
sample, steps, limit = int(sample), int(steps), int(limit)

def idx(path):
    b = gzip.open(path).read()
    return np.frombuffer(b, np.uint8, offset=16).reshape(-1, 1, 28, 28) if b[3] == 3 \
        else np.frombuffer(b, np.uint8, offset=8)

src = '/usr/share/datasets/fashion-mnist/'
X = torch.tensor(idx(src + 't10k-images-idx3-ubyte.gz')[:limit].astype(np.float32) / 255.0)
Y = idx(src + 't10k-labels-idx1-ubyte.gz')[:limit]
x = X[sample:sample + 1]
# The sample as a PNG, for --input.
from PIL import Image
Image.fromarray((x[0, 0].numpy() * 255).round().astype(np.uint8)).save(out + '/sample.png')
Image.fromarray(np.zeros((32, 32), np.uint8)).save(out + '/big.png')
Image.fromarray(np.zeros((28, 28, 3), np.uint8) + np.array([200, 10, 10], np.uint8)).save(
    out + '/colour.png')

m = torch.jit.load(fp32).eval()
target = int(m(x).argmax(1))
# Integrated gradients: points a_k = k / (n - 1), trapezoid weights, zero baseline.
alphas = torch.linspace(0, 1, steps).view(-1, 1, 1, 1)
w = torch.full((steps,), 1.0 / (steps - 1))
w[0] /= 2
w[-1] /= 2
path = (alphas * x).requires_grad_(True)
grads, = torch.autograd.grad(m(path)[:, target].sum(), path)
ig = x[0] * (grads * w.view(-1, 1, 1, 1)).sum(0)
xg = x.clone().requires_grad_(True)
sal, = torch.autograd.grad(m(xg)[0, target], xg)

# Occlusion of the int8 variant: window 4, stride 2, zero baseline, mean drop per pixel.
engine = torch.jit.load(int8).quantized_engine
torch.backends.quantized.engine = engine
q = torch.jit.load(int8).eval()
with torch.no_grad():
    ref = q(x)[0]
    qt = int(ref.argmax())
    starts = list(range(0, 28 - 4 + 1, 2))
    if starts[-1] + 4 < 28:
        starts.append(28 - 4)
    total = torch.zeros(28, 28, dtype=torch.float64)
    count = torch.zeros(28, 28, dtype=torch.float64)
    for r in starts:
        for c in starts:
            xo = x.clone()
            xo[..., r:r + 4, c:c + 4] = 0
            total[r:r + 4, c:c + 4] += float(ref[qt] - q(xo)[0, qt])
            count[r:r + 4, c:c + 4] += 1
    occ = (total / count).view(1, 28, 28)

def predictions(path):
    model = torch.jit.load(path).eval()
    with torch.no_grad():
        return torch.cat([model(X[i:i + 256]).argmax(1) for i in range(0, len(X), 256)])

pa, pq, pm = predictions(fp32), predictions(int8), predictions(mlp)
print(json.dumps({
    'target': target, 'ig': ig.flatten().tolist(), 'saliency': sal.abs().flatten().tolist(),
    'int8_target': qt, 'occlusion': occ.flatten().tolist(),
    'fp32_int8': (pa != pq).nonzero().flatten().tolist(),
    'fp32_mlp': (pa != pm).nonzero().flatten().tolist(),
    'labels': Y.tolist(), 'x': x.flatten().tolist()}))
)PY";

std::vector<double> numbers(const QJsonArray &array)
{
    std::vector<double> out;
    for (const QJsonValue &v : array)
        out.push_back(v.toDouble());
    return out;
}

double correlation(const std::vector<double> &a, const std::vector<double> &b)
{
    const double n = double(a.size());
    const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n;
    const double mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        ab += (a[i] - ma) * (b[i] - mb);
        aa += (a[i] - ma) * (a[i] - ma);
        bb += (b[i] - mb) * (b[i] - mb);
    }
    return ab / std::sqrt(aa * bb);
}

// A port nothing listens on right now: bind port 0, read what the kernel chose, let it go.
quint16 freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    const quint16 port = probe.serverPort();
    probe.close();
    return port;
}

double largest(const std::vector<double> &v)
{
    double m = 0;
    for (double x : v)
        m = std::max(m, std::abs(x));
    return m;
}

} // namespace

class TestCliExplain : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QJsonObject m_reference;
    QNetworkAccessManager m_network;

    struct Reply
    {
        int status = 0;
        QJsonValue json;
    };

    Reply post(quint16 port, const QString &path, const QJsonValue &body)
    {
        QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(port).arg(path)));
        request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
        const QByteArray bytes = body.isArray()
            ? QJsonDocument(body.toArray()).toJson(QJsonDocument::Compact)
            : QJsonDocument(body.toObject()).toJson(QJsonDocument::Compact);
        std::unique_ptr<QNetworkReply> reply(m_network.post(request, bytes));
        QSignalSpy finished(reply.get(), &QNetworkReply::finished);
        if (!reply->isFinished())
            finished.wait(60000);
        const QJsonDocument doc = QJsonDocument::fromJson(reply->readAll());
        return {reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(),
                doc.isArray() ? QJsonValue(doc.array()) : QJsonValue(doc.object())};
    }

    Run cli(QStringList args)
    {
        args << QStringLiteral("--workspace") << m_dir.filePath(QStringLiteral("ws"));
        return ms::test::runCli(args);
    }

    QString artifact(const QString &ref)
    {
        const Run r = cli({"show", ref, "--json"});
        return r.json().value("artifact_path").toString();
    }

    QString file(const QString &name) const { return m_dir.filePath(name); }

    QJsonObject explain(const QStringList &args)
    {
        const Run r = cli(QStringList{"explain"} + args + QStringList{"--json"});
        if (r.exitCode != 0)
            qWarning().noquote() << r.err;
        return r.exitCode == 0 ? r.json() : QJsonObject();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        for (const char *arch : {"cnn", "mlp"}) {
            const Run r = cli({"train", "--arch", arch, "--limit", "1000", "--epochs", "1",
                               "--threads", "2", "--json"});
            QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        }
        const Run q = cli({"compress", "cnn:1", "--method", "quantize-static", "--name", "cnn-int8",
                           "--threads", "2", "--json"});
        QVERIFY2(q.exitCode == 0, qPrintable(q.err));
        QByteArray out;
        QVERIFY(ms::test::runPython(m_dir.path(), QString::fromUtf8(kReference),
                                    {artifact("cnn:1"), artifact("cnn-int8:1"), artifact("mlp:1"),
                                     QString::number(kSample), QStringLiteral("50"),
                                     QString::number(kLimit), m_dir.path()},
                                    &out));
        m_reference = QJsonDocument::fromJson(out).object();
        QVERIFY(!m_reference.isEmpty());
    }

    void integratedGradientsMatchPythonAndAreComplete()
    {
        const QJsonObject e =
            explain({"cnn:1", "--sample", QString::number(kSample), "--out", file("map.png")});
        QCOMPARE(e.value("version").toString(), QStringLiteral("cnn:1"));
        QCOMPARE(e.value("method").toString(), QStringLiteral("integrated-gradients"));
        QCOMPARE(e.value("target").toInt(), m_reference.value("target").toInt());
        QCOMPARE(e.value("shape").toArray(), (QJsonArray{1, 28, 28}));
        QCOMPARE(e.value("probabilities").toArray().size(), 10);
        const std::vector<double> ours = numbers(e.value("attributions").toArray());
        const std::vector<double> python = numbers(m_reference.value("ig").toArray());
        QCOMPARE(ours.size(), size_t(784));
        const double r = correlation(ours, python);
        QVERIFY2(r >= 0.99, qPrintable(QString::number(r)));
        const double gap = e.value("completeness_gap").toDouble(1.0);
        QVERIFY2(gap <= 0.05, qPrintable(QString::number(gap)));
        // The sum is f(x) - f(black) within the gap, and that difference is not trivially 0.
        const double sum = std::accumulate(ours.begin(), ours.end(), 0.0);
        const double delta = e.value("output_delta").toDouble();
        QVERIFY2(std::abs(delta) > 0.1 && std::abs(sum - delta) <= 0.05 * std::abs(delta),
                 qPrintable(QStringLiteral("%1 vs %2").arg(sum).arg(delta)));
        QVERIFY(QFileInfo(file("map.png")).size() > 0);
    }

    void saliencyEqualsPythonsInputGradient()
    {
        const QJsonObject e =
            explain({"cnn:1", "--input", file("sample.png"), "--method", "saliency"});
        const std::vector<double> ours = numbers(e.value("attributions").toArray());
        const std::vector<double> python = numbers(m_reference.value("saliency").toArray());
        QCOMPARE(ours.size(), python.size());
        const double scale = largest(python);
        QVERIFY(scale > 0);
        for (size_t i = 0; i < ours.size(); ++i)
            QVERIFY2(std::abs(ours[i] - python[i]) <= 1e-4 * scale,
                     qPrintable(QStringLiteral("%1: %2 vs %3").arg(i).arg(ours[i]).arg(python[i])));
        QVERIFY(e.value("completeness_gap").isNull());
    }

    // The same pixels from a PNG give the same map (the image path reads what the dataset has).
    void anImageFileIsExplainedAsItsSample()
    {
        const QJsonObject fromImage =
            explain({"cnn:1", "--input", file("sample.png"), "--method", "saliency"});
        const QJsonObject fromSample =
            explain({"cnn:1", "--sample", QString::number(kSample), "--method", "saliency"});
        const std::vector<double> a = numbers(fromImage.value("attributions").toArray());
        const std::vector<double> b = numbers(fromSample.value("attributions").toArray());
        QCOMPARE(a.size(), size_t(784));
        for (size_t i = 0; i < a.size(); ++i)
            QVERIFY(ms::test::closeTo(a[i], b[i], 1e-5));
    }

    void smoothGradIsSeededAndNonNegative()
    {
        const QStringList args{"cnn:1",     "--input", file("sample.png"), "--method", "smoothgrad",
                               "--samples", "8",       "--seed",           "3"};
        const std::vector<double> a = numbers(explain(args).value("attributions").toArray());
        const std::vector<double> b = numbers(explain(args).value("attributions").toArray());
        QCOMPARE(a.size(), size_t(784));
        QCOMPARE(a, b);
        QVERIFY(std::all_of(a.begin(), a.end(), [](double v) { return v >= 0; }));
        QVERIFY(largest(a) > 0);
    }

    void occlusionExplainsTheInt8Variant()
    {
        const QJsonObject e = explain({"cnn-int8:1", "--input", file("sample.png"), "--method",
                                       "occlusion", "--window", "4", "--stride", "2"});
        QCOMPARE(e.value("target").toInt(), m_reference.value("int8_target").toInt());
        QCOMPARE(e.value("evaluations").toInt(), 13 * 13 + 1);
        const std::vector<double> ours = numbers(e.value("attributions").toArray());
        const std::vector<double> python = numbers(m_reference.value("occlusion").toArray());
        QCOMPARE(ours.size(), python.size());
        QVERIFY(largest(python) > 0);
        const double r = correlation(ours, python);
        QVERIFY2(r >= 0.99, qPrintable(QString::number(r)));
    }

    void disagreeListsWhatPythonFinds_data()
    {
        QTest::addColumn<QString>("other");
        QTest::addColumn<QString>("key");
        QTest::newRow("int8 variant") << "cnn-int8:1"
                                      << "fp32_int8";
        QTest::newRow("another model") << "mlp:1"
                                       << "fp32_mlp";
    }

    void disagreeListsWhatPythonFinds()
    {
        QFETCH(QString, other);
        QFETCH(QString, key);
        const Run r = cli({"disagree", "cnn:1", other, "--dataset", "fashion-mnist", "--limit",
                           QString::number(kLimit), "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QJsonObject d = r.json();
        QCOMPARE(d.value("count").toInt(), kLimit);
        QCOMPARE(d.value("indices").toArray(), m_reference.value(key).toArray());
        const QJsonArray labels = m_reference.value("labels").toArray();
        qint64 perClassTotal = 0;
        for (const QJsonValue &c : d.value("per_class").toArray())
            perClassTotal += c.toObject().value("disagreements").toInteger();
        QCOMPARE(perClassTotal, qint64(d.value("indices").toArray().size()));
        for (const QJsonValue &s : d.value("samples").toArray()) {
            const QJsonObject o = s.toObject();
            QCOMPARE(o.value("label").toInt(), labels.at(o.value("index").toInt()).toInt());
            QVERIFY(o.value("a").toObject().value("prediction")
                    != o.value("b").toObject().value("prediction"));
        }
        if (key == QLatin1String("fp32_mlp"))
            QVERIFY(!d.value("indices").toArray().isEmpty());
        if (key != QLatin1String("fp32_int8"))
            return;
        // The table form, with the dataset the version was trained on.
        const Run text = cli({"disagree", "cnn:1", other, "--limit", QString::number(kLimit)});
        QVERIFY2(text.exitCode == 0, qPrintable(text.err));
        QVERIFY2(text.out.contains(QStringLiteral("%1 of %2 test samples")
                                       .arg(d.value("indices").toArray().size())
                                       .arg(kLimit)),
                 qPrintable(text.out));
    }

    void refusesBadInputInOneLine_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QStringList>("words");
        const QString n = QString::number(kSample);
        QTest::newRow("steps 0") << QStringList{"cnn:1", "--sample", n, "--steps", "0"}
                                 << QStringList{"steps", "0"};
        QTest::newRow("target out of range")
            << QStringList{"cnn:1", "--sample", n, "--target", "10"}
            << QStringList{"target class 10", "0 to 9"};
        QTest::newRow("gradient on int8")
            << QStringList{"cnn-int8:1", "--sample", n, "--method", "saliency"}
            << QStringList{"no gradients", "occlusion"};
        QTest::newRow("unknown method") << QStringList{"cnn:1", "--sample", n, "--method", "lime"}
                                        << QStringList{"lime", "integrated-gradients"};
        QTest::newRow("sample out of range") << QStringList{"cnn:1", "--sample", "10000"}
                                             << QStringList{"out of range", "0 to 9999"};
        QTest::newRow("image too large") << QStringList{"cnn:1", "--input", "big.png"}
                                         << QStringList{"32x32", "28x28", "--resize"};
        QTest::newRow("colour image") << QStringList{"cnn:1", "--input", "colour.png"}
                                      << QStringList{"colour", "grey", "--resize"};
        QTest::newRow("not an image") << QStringList{"cnn:1", "--input", "notes.txt"}
                                      << QStringList{"Cannot read", "as an image"};
        QTest::newRow("both inputs") << QStringList{"cnn:1", "--sample", n, "--input", "sample.png"}
                                     << QStringList{"one of --sample N or --input IMAGE"};
    }

    void refusesBadInputInOneLine()
    {
        QFETCH(QStringList, args);
        QFETCH(QStringList, words);
        QVERIFY(ms::test::writeFile(file("notes.txt"), "not a picture\n"));
        for (QString &arg : args) {
            if (arg.endsWith(QLatin1String(".png")) || arg.endsWith(QLatin1String(".txt")))
                arg = file(arg);
        }
        QFile::remove(file("refused.png"));
        const Run r =
            cli(QStringList{"explain"} + args + QStringList{"--out", file("refused.png")});
        QVERIFY(r.exitCode != 0);
        const QString line = r.errorLine();
        QVERIFY2(!line.isEmpty(), qPrintable(r.err));
        for (const QString &word : words)
            QVERIFY2(line.contains(word), qPrintable(line));
        QVERIFY(!QFileInfo::exists(file("refused.png")));
        QVERIFY(r.out.isEmpty());
    }

    // TorchServe's /explanations and v2's /explain answer with the CLI's attributions; a
    // gradient method on int8 is a 400 that names occlusion.
    void servesTheSameAttributionsAsTheCli()
    {
        const quint16 port = freePort();
        QVERIFY(port != 0);
        QProcess server;
        QString out;
        QObject::connect(&server, &QProcess::readyReadStandardOutput, &server,
                         [&] { out += QString::fromUtf8(server.readAllStandardOutput()); });
        server.start(ms::test::cliPath(),
                     {"serve", "cnn:1", "cnn-int8:1", "--port", QString::number(port),
                      "--workspace", m_dir.filePath(QStringLiteral("ws"))});
        QTRY_VERIFY_WITH_TIMEOUT(out.contains(QStringLiteral("127.0.0.1:%1").arg(port))
                                     || server.state() == QProcess::NotRunning,
                                 60000);
        QVERIFY2(server.state() == QProcess::Running, server.readAllStandardError().constData());
        const QJsonArray x = m_reference.value("x").toArray();
        const QString n = file("sample.png");

        const Reply ts = post(port, QStringLiteral("/explanations/cnn"), x);
        QCOMPARE(ts.status, 200);
        const QJsonObject cli = explain({"cnn:1", "--input", n});
        QCOMPARE(ts.json.toObject().value("target"), cli.value("target"));
        const std::vector<double> a = numbers(ts.json.toObject().value("attributions").toArray());
        const std::vector<double> b = numbers(cli.value("attributions").toArray());
        QCOMPARE(a.size(), b.size());
        for (size_t i = 0; i < a.size(); ++i)
            QVERIFY(std::abs(a[i] - b[i]) <= 1e-4 * largest(b));

        const QJsonObject v2body{{"inputs",
                                  QJsonArray{QJsonObject{{"name", "input"},
                                                         {"shape", QJsonArray{1, 1, 28, 28}},
                                                         {"datatype", "FP32"},
                                                         {"data", x}}}},
                                 {"parameters", QJsonObject{{"method", "saliency"}}}};
        const Reply v2 = post(port, QStringLiteral("/v2/models/cnn/explain"), v2body);
        QCOMPARE(v2.status, 200);
        const QJsonObject output = v2.json.toObject().value("outputs").toArray().first().toObject();
        QCOMPARE(output.value("name").toString(), QStringLiteral("attributions"));
        QCOMPARE(output.value("shape").toArray(), (QJsonArray{1, 1, 28, 28}));
        const std::vector<double> s = numbers(output.value("data").toArray());
        const std::vector<double> cs =
            numbers(explain({"cnn:1", "--input", n, "--method", "saliency"})
                        .value("attributions")
                        .toArray());
        QCOMPARE(s.size(), cs.size());
        for (size_t i = 0; i < s.size(); ++i)
            QVERIFY(std::abs(s[i] - cs[i]) <= 1e-4 * largest(cs));

        const Reply refused =
            post(port, QStringLiteral("/explanations/cnn-int8?method=saliency"), x);
        QCOMPARE(refused.status, 400);
        QVERIFY2(refused.json.toObject().value("error").toString().contains("occlusion"),
                 qPrintable(refused.json.toObject().value("error").toString()));
        const Reply occluded =
            post(port, QStringLiteral("/explanations/cnn-int8?method=occlusion"), x);
        QCOMPARE(occluded.status, 200);
        const std::vector<double> o =
            numbers(occluded.json.toObject().value("attributions").toArray());
        const std::vector<double> co =
            numbers(explain({"cnn-int8:1", "--input", n, "--method", "occlusion"})
                        .value("attributions")
                        .toArray());
        QVERIFY2(correlation(o, co) >= 0.999, qPrintable(QString::number(correlation(o, co))));
        const Reply badSteps = post(port, QStringLiteral("/explanations/cnn?steps=0"), x);
        QCOMPARE(badSteps.status, 400);
        server.kill();
        server.waitForFinished(5000);
    }

    void resizeScalesAnImageThatDoesNotFit()
    {
        const QJsonObject e =
            explain({"cnn:1", "--input", file("big.png"), "--resize", "--method", "saliency"});
        QCOMPARE(e.value("shape").toArray(), (QJsonArray{1, 28, 28}));
    }
};

QTEST_GUILESS_MAIN(TestCliExplain)
#include "tst_cli_explain.moc"
