// The resnet plugin and the spec's residual block behind it: the family's shapes, parameters
// and MACs, a built model that Python reloads with the same outputs, and a 1-epoch training
// run through the CLI whose saved .pt also reloads in Python with the same outputs.

#include "TestSupport.h"
#include "app/CliRun.h"

#include "models/ArchSpec.h"
#include "models/ArchitectureRegistry.h"
#include "models/Model.h"
#include "plugins/PluginManager.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QRandomGenerator>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using namespace ms;

namespace {

const char *const kPython = "/usr/bin/python3";

const LayerSummary *row(const ModelSummary &s, const QString &name)
{
    for (const LayerSummary &l : s.layers) {
        if (l.name == name)
            return &l;
    }
    return nullptr;
}

std::vector<float> sampleInput(qint64 count, quint32 seed)
{
    QRandomGenerator rng(seed);
    std::vector<float> x(size_t(count), 0.0f);
    for (float &v : x)
        v = float(rng.generateDouble());
    return x;
}

bool writeFile(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

// Reloads `model` in Python (eval mode, as predict() runs) on `input` shaped `shape`; returns
// {"out": logits, "params": count, "keys": state_dict keys}.
const char kReloadScript[] = R"(
import json, sys, torch
m = torch.jit.load(sys.argv[1])
m.eval()
shape = [int(d) for d in sys.argv[3].split(',')]
x = torch.frombuffer(bytearray(open(sys.argv[2], 'rb').read()), dtype=torch.float32)
with torch.no_grad():
    y = m(x.reshape(shape))
print(json.dumps({"out": y.flatten().tolist(),
                  "params": sum(p.numel() for p in m.parameters()),
                  "keys": list(m.state_dict().keys())}))
)";

} // namespace

class tst_ResNet : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        m_manager = std::make_unique<PluginManager>(QStringList{QStringLiteral(MS_PLUGIN_DIR)});
        m_manager->loadAll(m_dir.filePath(QStringLiteral("ws")));
        QVERIFY(ArchitectureRegistry::instance().providers().find(QStringLiteral("resnet")));
    }

    void resnet8Summary()
    {
        const ModelSummary s = ArchSpec::fromJson(ArchitectureRegistry::instance().resolve(
            QStringLiteral("resnet"), {1, 28, 28}, 10)).summary();
        // Counted by hand: stem conv 1*16*9 + bn 32; stage 1 block 2 * (16*16*9 + 32);
        // stage 2 block 16*32*9 + 32*32*9 + 2*64 + 1x1 projection 16*32; stage 3 likewise
        // at 32->64 with projection 32*64; classifier 64*10 + 10.
        const qint64 expected = (144 + 32) + 2 * (2304 + 32) + (4608 + 9216 + 128 + 512)
                                + (18432 + 36864 + 256 + 2048) + 650;
        QCOMPARE(s.totalParams, expected);
        qint64 sum = 0;
        for (const LayerSummary &l : s.layers)
            sum += l.params;
        QCOMPARE(sum, s.totalParams);   // each weight counted once

        QVERIFY(row(s, "residual3.conv2d0"));
        QVERIFY(!row(s, "residual3.shortcut"));   // shape kept: identity
        const LayerSummary *projection = row(s, "residual4.shortcut");
        QVERIFY(projection);
        QCOMPARE(projection->type, QStringLiteral("conv2d"));
        QCOMPARE(projection->outputShape, (std::vector<qint64>{32, 14, 14}));
        QCOMPARE(projection->params, qint64(512));
        QCOMPARE(projection->macs, qint64(512 * 14 * 14));
        const LayerSummary *block = row(s, "residual5");
        QVERIFY(block);
        QCOMPARE(block->type, QStringLiteral("residual"));
        QCOMPARE(block->outputShape, (std::vector<qint64>{64, 7, 7}));
        QCOMPARE(s.layers.last().outputShape, (std::vector<qint64>{10}));
    }

    void depthAndWidth_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("depth");
        QTest::addColumn<int>("width");
        QTest::newRow("resnet-8") << "resnet-8" << 8 << 16;
        QTest::newRow("resnet-14-w8") << "resnet-14-w8" << 14 << 8;
        QTest::newRow("resnet-20-w32") << "resnet-20-w32" << 20 << 32;
    }

    void depthAndWidth()
    {
        QFETCH(QString, name);
        QFETCH(int, depth);
        QFETCH(int, width);
        const ModelSummary s = ArchSpec::fromJson(ArchitectureRegistry::instance().resolve(
            name, {3, 32, 32}, 5)).summary();
        int weighted = 0;   // convs outside the shortcuts, and linear layers: the depth
        for (const LayerSummary &l : s.layers) {
            if ((l.type == QLatin1String("conv2d") && !l.name.endsWith(QLatin1String("shortcut")))
                || l.type == QLatin1String("linear"))
                ++weighted;
        }
        QCOMPARE(weighted, depth);
        QCOMPARE(s.layers.first().outputShape, (std::vector<qint64>{width, 32, 32}));
        const LayerSummary *pool = nullptr;
        for (const LayerSummary &l : s.layers) {
            if (l.type == QLatin1String("avgpool2d"))
                pool = &l;
        }
        QVERIFY(pool);
        QCOMPARE(pool->outputShape, (std::vector<qint64>{4 * width, 1, 1}));
    }

    void refusesTables()
    {
        const QString error = ms::test::errorOf([] {
            ArchitectureRegistry::instance().resolve(QStringLiteral("resnet"), {20}, 3);
        });
        QVERIFY2(error.contains(QStringLiteral("needs images")), qPrintable(error));
    }

    void builtModelReloadsInPython()
    {
        const QJsonObject spec = ArchitectureRegistry::instance().resolve(
            QStringLiteral("resnet-8-w8"), {3, 12, 12}, 4);
        const Model model = Model::build(spec, ModelDataInfo{{3, 12, 12}, {0.5f}, {0.25f}, {}},
                                         11);
        const QString path = m_dir.filePath(QStringLiteral("built.pt"));
        model.save(path);
        compareWithPython(model, path, {2, 3, 12, 12});
    }

    // The spec the plugin emits is a ResNet as PyTorch users write it: a torch.nn model of
    // torchvision's BasicBlock shape, seeded alike, has the very same weights and outputs.
    void matchesATorchResNet()
    {
        const quint64 seed = 9;
        const QJsonObject spec = ArchitectureRegistry::instance().resolve(
            QStringLiteral("resnet-8-w8"), {3, 10, 10}, 4);
        const Model model = Model::build(spec, ModelDataInfo{{3, 10, 10}, {0.25f}, {0.5f}, {}},
                                         seed);
        const QString path = m_dir.filePath(QStringLiteral("peer.pt"));
        model.save(path);
        const std::vector<float> x = sampleInput(2 * 3 * 10 * 10, 3);
        const QString input = m_dir.filePath(QStringLiteral("peer.f32"));
        QVERIFY(writeFile(input, QByteArray(reinterpret_cast<const char *>(x.data()),
                                            int(x.size() * sizeof(float)))));
        const QString script = m_dir.filePath(QStringLiteral("peer.py"));
        QVERIFY(writeFile(script, R"(
import json, sys, torch, torch.nn as nn
class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = (nn.Conv2d(cin, cout, 1, stride, bias=False)
                     if stride != 1 or cin != cout else None)
    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (x if self.down is None else self.down(x)))
torch.manual_seed(int(sys.argv[3]))
w = 8
peer = nn.Sequential(nn.Conv2d(3, w, 3, 1, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
                     Block(w, w, 1), Block(w, 2 * w, 2), Block(2 * w, 4 * w, 2),
                     nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * w, 4)).eval()
m = torch.jit.load(sys.argv[1]).eval()
ours = list(m.parameters())
theirs = list(peer.parameters())
x = torch.frombuffer(bytearray(open(sys.argv[2], 'rb').read()), dtype=torch.float32)
x = x.reshape(2, 3, 10, 10)
with torch.no_grad():
    out_diff = (m(x) - peer((x - 0.25) / 0.5)).abs().max().item()
print(json.dumps({"count": [len(ours), len(theirs)],
                  "weight_diff": max((a - b).abs().max().item() for a, b in zip(ours, theirs)),
                  "shapes_equal": all(a.shape == b.shape for a, b in zip(ours, theirs)),
                  "out_diff": out_diff}))
)"));
        QProcess p;
        p.start(QString::fromLatin1(kPython), {script, path, input, QString::number(seed)});
        QVERIFY(p.waitForFinished(180000));
        QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0,
                 p.readAllStandardError().constData());
        const QJsonObject r = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
        QCOMPARE(r.value(QStringLiteral("count")).toArray()[0].toInt(),
                 r.value(QStringLiteral("count")).toArray()[1].toInt());
        QVERIFY(r.value(QStringLiteral("shapes_equal")).toBool());
        QCOMPARE(r.value(QStringLiteral("weight_diff")).toDouble(), 0.0);
        QVERIFY2(r.value(QStringLiteral("out_diff")).toDouble() < 1e-5,
                 qPrintable(QString::number(r.value(QStringLiteral("out_diff")).toDouble())));
    }

    void trainsOneEpochAndTheSavedModelReloads()
    {
        const QString out = m_dir.filePath(QStringLiteral("trained.pt"));
        const ms::test::CliRun run = ms::test::runCli(
            {"train", "--dataset", "fashion-mnist", "--arch", "resnet-8-w8", "--limit", "96",
             "--epochs", "1", "--batch-size", "32", "--threads", "1", "--json",
             "--workspace", m_dir.filePath(QStringLiteral("ws")), "--out", out});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        QCOMPARE(run.jsonLines().last().value(QStringLiteral("status")).toString(),
                 QStringLiteral("finished"));
        const Model trained = Model::load(out);
        QCOMPARE(trained.spec().value(QStringLiteral("name")).toString(),
                 QStringLiteral("resnet-8-w8"));
        compareWithPython(trained, out, {3, 1, 28, 28});
    }

private:
    void compareWithPython(const Model &model, const QString &path,
                           const std::vector<qint64> &shape)
    {
        qint64 count = 1;
        QStringList dims;
        for (qint64 d : shape) {
            count *= d;
            dims << QString::number(d);
        }
        const std::vector<float> x = sampleInput(count, 7);
        const QString input = m_dir.filePath(QStringLiteral("input.f32"));
        QVERIFY(writeFile(input, QByteArray(reinterpret_cast<const char *>(x.data()),
                                            int(x.size() * sizeof(float)))));
        const QString script = m_dir.filePath(QStringLiteral("reload.py"));
        QVERIFY(writeFile(script, kReloadScript));
        QProcess p;
        p.start(QString::fromLatin1(kPython), {script, path, input, dims.join(QLatin1Char(','))});
        QVERIFY(p.waitForFinished(180000));
        QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0,
                 p.readAllStandardError().constData());
        const QJsonObject r = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
        QVERIFY(!r.isEmpty());

        const std::vector<float> ours = model.predict(x, shape);
        const QJsonArray theirs = r.value(QStringLiteral("out")).toArray();
        QCOMPARE(size_t(theirs.size()), ours.size());
        for (size_t i = 0; i < ours.size(); ++i)
            QVERIFY2(ms::test::closeTo(theirs[int(i)].toDouble(), ours[i], 1e-4),
                     qPrintable(QStringLiteral("logit %1: %2 vs %3").arg(i)
                                    .arg(theirs[int(i)].toDouble()).arg(ours[i])));
        QCOMPARE(r.value(QStringLiteral("params")).toInteger(), model.parameterCount());
        const QJsonArray keys = r.value(QStringLiteral("keys")).toArray();
        QVERIFY(keys.contains(QStringLiteral("residual4.shortcut.weight")));
        QVERIFY(keys.contains(QStringLiteral("residual3.batchnorm1.running_mean")));
    }

    QTemporaryDir m_dir;
    std::unique_ptr<PluginManager> m_manager;
};

QTEST_GUILESS_MAIN(tst_ResNet)
#include "tst_resnet.moc"
