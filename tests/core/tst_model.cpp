// Model: building specs into TorchScript modules, prediction, save/load, and the round trip
// with Python PyTorch in both directions (python3-torch is a required test dependency).

#include "TestSupport.h"
#include "common/Error.h"
#include "models/ArchSpec.h"
#include "models/ArchitectureRegistry.h"
#include "models/Model.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace ms;
using namespace ms::test;

namespace {

ModelDataInfo fashionInfo()
{
    QStringList names;
    for (int i = 0; i < 10; ++i)
        names << QStringLiteral("class %1").arg(i);
    return ModelDataInfo{{1, 28, 28}, {0.2860f}, {0.3530f}, names};
}

Model buildArch(const QString &arch, const ModelDataInfo &info, quint64 seed)
{
    const QJsonObject spec = ArchitectureRegistry::instance().resolve(
        arch, info.inputShape, int(info.classNames.size()));
    return Model::build(spec, info, seed);
}

// Deterministic inputs in [0, 1], as images arrive.
std::vector<float> sampleInput(qint64 count, quint32 seed)
{
    QRandomGenerator rng(seed);
    std::vector<float> x(size_t(count), 0.0f);
    for (float &v : x)
        v = float(rng.generateDouble());
    return x;
}

} // namespace

class tst_Model : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void buildAndPredict_data();
    void buildAndPredict();
    void seeds();
    void saveLoadRoundTrip();
    void batchnormDropout();
    void buildErrors();
    void predictErrors();
    void loadErrors();
    void saveUnwritable();
    void pythonLoadsOurModel();
    void pythonModulesLoadHere();

private:
    QTemporaryDir m_dir;
};

void tst_Model::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
}

void tst_Model::buildAndPredict_data()
{
    QTest::addColumn<QString>("arch");
    QTest::addColumn<QVector<qint64>>("shape");
    QTest::addColumn<qint64>("params");

    QTest::newRow("cnn") << "cnn" << QVector<qint64>{1, 28, 28} << qint64(83466);
    QTest::newRow("mlp") << "mlp" << QVector<qint64>{1, 28, 28} << qint64(235146);
    QTest::newRow("mlp table") << "mlp" << QVector<qint64>{20}
                               << qint64(21 * 256 + 257 * 128 + 129 * 10);
}

void tst_Model::buildAndPredict()
{
    QFETCH(QString, arch);
    QFETCH(QVector<qint64>, shape);
    QFETCH(qint64, params);

    ModelDataInfo info = fashionInfo();
    info.inputShape.assign(shape.begin(), shape.end());
    if (shape.size() == 1) {
        info.mean.assign(size_t(shape[0]), 0.5f);   // per feature
        info.stdev.assign(size_t(shape[0]), 2.0f);
        info.stdev[3] = 0.0f;                       // a constant column must not give NaN
    }
    const Model model = buildArch(arch, info, 1);
    QVERIFY(!model.isNull());
    QCOMPARE(model.parameterCount(), params);
    QCOMPARE(model.classNames(), info.classNames);
    QCOMPARE(model.inputShape(), info.inputShape);
    QCOMPARE(model.spec()["name"].toString(), arch);

    qint64 perSample = 1;
    for (qint64 d : shape)
        perSample *= d;
    std::vector<qint64> batch{3};
    batch.insert(batch.end(), shape.begin(), shape.end());
    const std::vector<float> out = model.predict(sampleInput(3 * perSample, 5), batch);
    QCOMPARE(out.size(), size_t(3 * 10));
    for (float v : out)
        QVERIFY(std::isfinite(v));
}

void tst_Model::seeds()
{
    const std::vector<float> x = sampleInput(2 * 784, 9);
    const std::vector<qint64> shape{2, 1, 28, 28};
    const auto a = buildArch("cnn", fashionInfo(), 7).predict(x, shape);
    const auto b = buildArch("cnn", fashionInfo(), 7).predict(x, shape);
    const auto c = buildArch("cnn", fashionInfo(), 8).predict(x, shape);
    QCOMPARE(a, b);
    QVERIFY(maxAbsDiff(a, c) > 1e-3f);
}

void tst_Model::saveLoadRoundTrip()
{
    const Model model = buildArch("cnn", fashionInfo(), 3);
    const QString path = m_dir.filePath("cnn.pt");
    QVERIFY(writeFile(path, "an older file that save() replaces"));
    model.save(path);
    const Model loaded = Model::load(path);
    const std::vector<float> x = sampleInput(4 * 784, 11);
    QCOMPARE(loaded.predict(x, {4, 1, 28, 28}), model.predict(x, {4, 1, 28, 28}));
    QCOMPARE(loaded.classNames(), model.classNames());
    QCOMPARE(loaded.inputShape(), model.inputShape());
    QCOMPARE(loaded.spec(), model.spec());
    QCOMPARE(loaded.parameterCount(), qint64(83466));
    // Nothing but the model is left in the folder: the temporary file was renamed over.
    QCOMPARE(QDir(m_dir.path()).entryList(QDir::Files), QStringList{"cnn.pt"});
}

void tst_Model::batchnormDropout()
{
    const QJsonObject spec = QJsonDocument::fromJson(R"({"name": "bn", "layers": [
        {"type": "conv2d", "out": 4, "kernel": 3, "padding": 1, "bias": false},
        {"type": "batchnorm"}, {"type": "gelu"}, {"type": "avgpool2d", "kernel": 2},
        {"type": "flatten"}, {"type": "dropout", "p": 0.5},
        {"type": "linear", "out": 16}, {"type": "batchnorm"}, {"type": "relu"},
        {"type": "linear", "out": "num_classes"}]})").object();
    const ModelDataInfo info{{2, 6, 6}, {0.5f, 0.25f}, {0.2f, 0.1f}, {"a", "b", "c"}};
    const Model model = Model::build(spec, info, 4);
    QCOMPARE(model.parameterCount(), qint64(72 + 8 + 36 * 16 + 16 + 32 + 17 * 3));
    const std::vector<float> x = sampleInput(5 * 72, 2);
    const auto first = model.predict(x, {5, 2, 6, 6});
    // Dropout off and batchnorm on running statistics: prediction is deterministic.
    QCOMPARE(model.predict(x, {5, 2, 6, 6}), first);
    QCOMPARE(first.size(), size_t(15));
    // Same after a save/load: the buffers and the constants travel in the file.
    const QString path = m_dir.filePath("bn.pt");
    model.save(path);
    QCOMPARE(Model::load(path).predict(x, {5, 2, 6, 6}), first);
}

void tst_Model::buildErrors()
{
    const QJsonObject bad = QJsonDocument::fromJson(R"({"name": "broken", "layers": [
        {"type": "conv2d", "out": 4, "kernel": 3}, {"type": "linear", "out": 10}]})").object();
    QString message = errorOf([&] { Model::build(bad, fashionInfo(), 0); });
    QVERIFY2(message.contains("\"broken\"") && message.contains("layer 1 (linear)"),
             qPrintable(message));

    ModelDataInfo wrongStats = fashionInfo();
    wrongStats.mean = {0.1f, 0.2f};
    wrongStats.stdev = {1.0f, 1.0f};
    message = errorOf([&] { buildArch("cnn", wrongStats, 0); });
    QVERIFY2(message.contains("2 normalisation values") && message.contains("1 channels"),
             qPrintable(message));
}

void tst_Model::predictErrors()
{
    const Model model = buildArch("mlp", fashionInfo(), 0);
    QString message = errorOf([&] { model.predict(std::vector<float>(1568), {2, 784}); });
    QVERIFY2(message.contains("1x28x28") && message.contains("2x784"), qPrintable(message));
    message = errorOf([&] { model.predict(std::vector<float>(10), {2, 1, 28, 28}); });
    QVERIFY2(message.contains("10 values"), qPrintable(message));
    QVERIFY(!errorOf([] { Model().predict({1.0f}, {1}); }).isEmpty());
}

void tst_Model::loadErrors()
{
    const QString text = m_dir.filePath("notes.txt");
    QVERIFY(writeFile(text, "not a model\n"));
    QString message = errorOf([&] { Model::load(text); });
    QVERIFY2(message.contains(text)
                 && message.contains("is not a TorchScript file (torch.jit.save / "
                                     "torch.jit.script output expected)"),
             qPrintable(message));
    const QString missing = m_dir.filePath("missing.pt");
    message = errorOf([&] { Model::load(missing); });
    QVERIFY2(message.contains(missing) && message.contains("does not exist"),
             qPrintable(message));
}

void tst_Model::saveUnwritable()
{
    // A folder that is really a file: refuses writes even to root, unlike chmod 0500.
    QTemporaryDir dir;
    const QString notADir = dir.filePath("afile");
    QVERIFY(writeFile(notADir, "x"));
    const QString path = notADir + "/model.pt";
    const Model model = buildArch("mlp", fashionInfo(), 0);
    const QString message = errorOf([&] { model.save(path); });
    QVERIFY2(message.contains(path), qPrintable(message));
    QVERIFY(!QFile::exists(path));
    QCOMPARE(QDir(dir.path()).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden),
             QStringList{"afile"});
    QVERIFY(!errorOf([&] { Model().save(dir.filePath("empty.pt")); }).isEmpty());
}

void tst_Model::pythonLoadsOurModel()
{
    QByteArray out;
    QVERIFY2(runPython(m_dir.path(), "import torch", {}, &out),
             "/usr/bin/python3 cannot import torch: python3-torch is a required test "
             "dependency; run scripts/setup.sh");

    const quint64 seed = 5;
    const Model model = buildArch("cnn", fashionInfo(), seed);
    const QString modelPath = m_dir.filePath("interop.pt");
    model.save(modelPath);
    const std::vector<float> x = sampleInput(4 * 784, 21);
    const QString inputPath = m_dir.filePath("input.f32");
    QVERIFY(writeFile(inputPath, QByteArray(reinterpret_cast<const char *>(x.data()),
                                            int(x.size() * sizeof(float)))));

    // Also builds the Python peer's CNN with the same seed: the weights must be the very same
    // draws, so a training run here starts where the Python loop starts.
    const QString script = QStringLiteral(R"(
import json, sys, torch, torch.nn as nn
m = torch.jit.load(sys.argv[1])
training = m.training
x = torch.frombuffer(bytearray(open(sys.argv[2], 'rb').read()), dtype=torch.float32)
with torch.no_grad():
    y = m(x.reshape(4, 1, 28, 28))
torch.manual_seed(int(sys.argv[3]))
peer = nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                     nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                     nn.Flatten(), nn.Linear(64 * 7 * 7, 10))
diff = max((a - b).abs().max().item() for a, b in zip(m.parameters(), peer.parameters()))
print(json.dumps({"out": y.flatten().tolist(), "class_names": list(m.class_names),
                  "input_shape": list(m.input_shape), "spec": json.loads(m.spec_json),
                  "training": training, "peer_weight_diff": diff}))
)");
    QVERIFY(runPython(m_dir.path(), script, {modelPath, inputPath, QString::number(seed)}, &out));
    const QJsonObject r = QJsonDocument::fromJson(out).object();
    QVERIFY2(!r.isEmpty(), out.constData());

    const std::vector<float> ours = model.predict(x, {4, 1, 28, 28});
    const QJsonArray theirs = r["out"].toArray();
    QCOMPARE(size_t(theirs.size()), ours.size());
    for (size_t i = 0; i < ours.size(); ++i)
        QVERIFY2(closeTo(theirs[int(i)].toDouble(), ours[i], 1e-5),
                 qPrintable(QStringLiteral("logit %1: %2 vs %3").arg(i)
                                .arg(theirs[int(i)].toDouble()).arg(ours[i])));
    QCOMPARE(r["class_names"].toArray().toVariantList().size(), 10);
    QCOMPARE(r["class_names"].toArray()[3].toString(), "class 3");
    QCOMPARE(r["input_shape"].toArray(), QJsonArray({1, 28, 28}));
    QCOMPARE(r["spec"].toObject(), model.spec());
    // predict() switched to eval for its call only; a saved model is still in training mode.
    QCOMPARE(r["training"].toBool(), true);
    QCOMPARE(r["peer_weight_diff"].toDouble(), 0.0);
}

void tst_Model::pythonModulesLoadHere()
{
    QByteArray out;
    QVERIFY2(runPython(m_dir.path(), "import torch", {}, &out),
             "/usr/bin/python3 cannot import torch: python3-torch is a required test "
             "dependency; run scripts/setup.sh");
    const QString path = m_dir.filePath("scripted.pt");
    const QString script = QStringLiteral(R"(
import json, sys, torch, torch.nn as nn
class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)
    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))
torch.manual_seed(0)
m = torch.jit.script(Small())
m.save(sys.argv[1])
x = torch.arange(8, dtype=torch.float32).reshape(2, 4) / 10
with torch.no_grad():
    print(json.dumps(m(x).flatten().tolist()))
)");
    QVERIFY(runPython(m_dir.path(), script, {path}, &out));
    const QJsonArray expected = QJsonDocument::fromJson(out).array();
    QCOMPARE(expected.size(), 6);

    const Model model = Model::load(path);
    QVERIFY(model.classNames().isEmpty());
    QVERIFY(model.inputShape().empty());
    QVERIFY(model.spec().isEmpty());
    QCOMPARE(model.parameterCount(), qint64(4 * 8 + 8 + 8 * 3 + 3));
    const std::vector<float> y = model.predict({0, .1f, .2f, .3f, .4f, .5f, .6f, .7f}, {2, 4});
    QCOMPARE(y.size(), size_t(6));
    for (int i = 0; i < 6; ++i)
        QVERIFY(closeTo(expected[i].toDouble(), y[size_t(i)], 1e-5));
}

QTEST_GUILESS_MAIN(tst_Model)
#include "tst_model.moc"
