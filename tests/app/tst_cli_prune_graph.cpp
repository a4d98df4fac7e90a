// Structured pruning of models the studio never built, the way a user does it: torchvision's
// resnet18 (behind an input-normalisation wrapper, the form `import --mean/--std` gives) and
// mobilenet_v2, scripted in Python, imported and pruned with modelstudio-cli; Python reloads
// the variants and confirms what the studio recorded. Graphs the channel analysis cannot
// follow are refused before any work, naming the node.
//
// Every even channel of every group is made dead in Python (all its weights, batchnorm scale
// and shift zero) and every odd one is not: pruning half of each group must then remove
// exactly the dead channels, and the variant's outputs must equal the source's, which checks
// the slicing of every conv, depthwise conv, batchnorm (running statistics included) and the
// classifier's columns index for index.

#include "TestSupport.h"
#include "app/CliRun.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

namespace {

using Run = ms::test::CliRun;

const char *const kMakeModels = R"(
import sys, torch, torch.nn as nn, torchvision
out = sys.argv[1]
torch.manual_seed(0)

def kill_even_channels(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                m.weight[0::2] = 0
                if m.groups == 1 and m.in_channels > 3:
                    m.weight[:, 0::2] = 0
                if m.bias is not None:
                    m.bias[0::2] = 0
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5); m.bias.uniform_(-0.2, 0.2)
                m.weight[0::2] = 0; m.bias[0::2] = 0
                m.running_mean.uniform_(-0.1, 0.1); m.running_var.uniform_(0.5, 2.0)
            elif isinstance(m, nn.Linear):
                m.weight[:, 0::2] = 0
    return model

# What `import --mean/--std` folds into an artifact: normalise, then the imported model.
class Normalised(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.register_buffer('mean', torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer('std', torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))
        self.inner = inner
    def forward(self, x):
        return self.inner((x - self.mean) / self.std)

resnet = kill_even_channels(torchvision.models.resnet18(num_classes=4)).eval()
torch.jit.script(Normalised(resnet)).save(out + '/resnet18.pt')
mobilenet = kill_even_channels(torchvision.models.mobilenet_v2(num_classes=4)).eval()
torch.jit.script(mobilenet).save(out + '/mobilenet_v2.pt')

class Shuffle(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.mix = nn.Conv2d(8, 8, 1)
        self.fc = nn.Linear(8, 4)
    def forward(self, x):
        x = self.conv(x)
        n, c, h, w = x.shape
        x = x.view(n, 2, c // 2, h, w).transpose(1, 2).reshape(n, c, h, w)
        return self.fc(self.mix(x).mean([2, 3]))

class Roll(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.mix = nn.Conv2d(8, 8, 1)
        self.fc = nn.Linear(8, 4)
    def forward(self, x):
        x = torch.roll(self.conv(x), 1, 1)
        return self.fc(self.mix(x).mean([2, 3]))

# Branches concatenated, a squeeze-and-excitation product, a per-channel scale parameter and a
# flatten of C x 4 x 4 into the classifier (input 3x8x8).
class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 8, 3, padding=1)
        self.bn_a = nn.BatchNorm2d(8)
        self.se1 = nn.Conv2d(8, 4, 1)
        self.se2 = nn.Conv2d(4, 8, 1)
        self.scale = nn.Parameter(torch.rand(1, 8, 1, 1) + 0.5)
        self.b = nn.Conv2d(3, 6, 3, padding=1)
        self.c = nn.Conv2d(14, 10, 3, stride=2, padding=1)
        self.fc = nn.Linear(10 * 4 * 4, 4)
    def forward(self, x):
        a = torch.relu(self.bn_a(self.a(x)))
        s = torch.sigmoid(self.se2(torch.relu(self.se1(a.mean([2, 3], keepdim=True)))))
        y = torch.cat([a * s * self.scale, torch.relu(self.b(x))], 1)
        y = torch.relu(self.c(y))
        return self.fc(y.view(y.size(0), -1))

mixed = kill_even_channels(Mixed()).eval()
with torch.no_grad():
    mixed.fc.weight.view(4, 10, 16)[:, 0::2] = 0   # channel c is the 16 features from 16*c
torch.jit.script(mixed).save(out + '/mixed.pt')

torch.jit.script(Shuffle()).save(out + '/shuffle.pt')
torch.jit.script(Roll()).save(out + '/roll.pt')
)";

// Loads the source and the variant, runs both, and reports what Python sees of the variant.
const char *const kInspect = R"(
import sys, json, torch
source = torch.jit.load(sys.argv[1]).eval()
pruned = torch.jit.load(sys.argv[2]).eval()
side = int(sys.argv[3])
x = torch.rand(3, 3, side, side, generator=torch.Generator().manual_seed(5))
with torch.no_grad():
    a, b = source(x), pruned(x)
shapes, consistent = {}, True
for name, m in pruned.named_modules():
    kind = m.original_name
    if kind == 'Conv2d':
        w = m.weight.shape
        shapes[name] = list(w)
        consistent &= m.out_channels == w[0] and m.in_channels == w[1] * m.groups
        consistent &= m.groups == 1 or (m.groups == w[0] and w[1] == 1)
    elif kind == 'Linear':
        shapes[name] = list(m.weight.shape)
        consistent &= (m.out_features, m.in_features) == tuple(m.weight.shape)
    elif kind == 'BatchNorm2d':
        consistent &= m.num_features == m.weight.shape[0] == m.running_var.shape[0]
print(json.dumps({
    'params_source': sum(p.numel() for p in source.parameters()),
    'params_pruned': sum(p.numel() for p in pruned.parameters()),
    'output_shape': list(b.shape),
    'max_diff': (a - b).abs().max().item() / max(1.0, a.abs().max().item()),
    'shapes': shapes,
    'consistent': bool(consistent)}))
)";

} // namespace

class TestCliPruneGraph : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    Run cli(QStringList args)
    {
        args << QStringLiteral("--workspace") << m_dir.filePath(QStringLiteral("ws"));
        return ms::test::runCli(args);
    }

    static int sideOf(const QString &name) { return name == QLatin1String("mixed") ? 8 : 32; }

    QString file(const QString &name) const { return m_dir.filePath(name + ".pt"); }

    int versionCount(const QString &model)
    {
        return cli({"versions", model, "--json"}).json().value("versions").toArray().size();
    }

    int runFolders() const
    {
        return QDir(m_dir.filePath(QStringLiteral("ws/runs")))
            .entryList(QDir::Dirs | QDir::NoDotAndDotDot).size();
    }

    // The group (from the studio's record) that has `layer` among the layers whose outputs
    // its channels are.
    static QJsonObject groupOf(const QJsonArray &groups, const QString &layer)
    {
        for (const QJsonValue &g : groups) {
            const QStringList layers =
                g.toObject().value("layers").toString().split(QStringLiteral(", "));
            if (layers.contains(layer))
                return g.toObject();
        }
        return {};
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QByteArray out;
        QVERIFY(ms::test::runPython(m_dir.path(), QString::fromUtf8(kMakeModels),
                                    {m_dir.path()}, &out));
        for (const char *name : {"resnet18", "mobilenet_v2", "mixed", "shuffle", "roll"}) {
            const Run r = cli({"import", file(name), "--name", name, "--input-shape",
                               sideOf(name) == 8 ? "1,3,8,8" : "1,3,32,32"});
            QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        }
    }

    void prunesImportedTorchvisionModels_data()
    {
        QTest::addColumn<QString>("name");
        // Layers whose pruned weight shape follows from the model alone at sparsity 0.5.
        QTest::addColumn<QJsonObject>("expected");
        // Producers that a residual addition ties into one group.
        QTest::addColumn<QStringList>("tied");
        QTest::newRow("resnet18")
            << "resnet18"
            << QJsonObject{{"inner.conv1", QJsonArray{32, 3, 7, 7}},
                           {"inner.layer1.0.conv1", QJsonArray{32, 32, 3, 3}},
                           {"inner.layer2.0.downsample.0", QJsonArray{64, 32, 1, 1}},
                           {"inner.layer4.1.conv2", QJsonArray{256, 256, 3, 3}},
                           {"inner.fc", QJsonArray{4, 256}}}
            << QStringList{"inner.conv1", "inner.layer1.0.conv2", "inner.layer1.1.conv2"};
        QTest::newRow("mobilenet_v2")
            << "mobilenet_v2"
            << QJsonObject{{"features.0.0", QJsonArray{16, 3, 3, 3}},
                           {"features.1.conv.0.0", QJsonArray{16, 1, 3, 3}},
                           {"features.2.conv.0.0", QJsonArray{48, 8, 1, 1}},
                           {"features.2.conv.1.0", QJsonArray{48, 1, 3, 3}},
                           {"features.2.conv.2", QJsonArray{12, 48, 1, 1}},
                           {"features.18.0", QJsonArray{640, 160, 1, 1}},
                           {"classifier.1", QJsonArray{4, 640}}}
            << QStringList{"features.2.conv.2", "features.3.conv.2"};
        QTest::newRow("concatenation, excitation, flatten")
            << "mixed"
            << QJsonObject{{"a", QJsonArray{4, 3, 3, 3}},   {"se1", QJsonArray{2, 4, 1, 1}},
                           {"se2", QJsonArray{4, 2, 1, 1}}, {"b", QJsonArray{3, 3, 3, 3}},
                           {"c", QJsonArray{5, 7, 3, 3}},   {"fc", QJsonArray{4, 80}}}
            << QStringList{"a", "se2"};
    }

    void prunesImportedTorchvisionModels()
    {
        QFETCH(QString, name);
        QFETCH(QJsonObject, expected);
        QFETCH(QStringList, tied);
        const Run r = cli({"compress", name + ":1", "--method", "prune-structured",
                           "--sparsity", "0.5", "--threads", "1", "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QJsonObject end = r.jsonLines().last();
        QCOMPARE(end.value("version").toString(), name + ":2");
        const QJsonObject details = end.value("details").toObject();
        const QJsonObject metrics = end.value("metrics").toObject();

        QByteArray out;
        QVERIFY(ms::test::runPython(m_dir.path(), QString::fromUtf8(kInspect),
                                    {file(name), end.value("model_path").toString(),
                                     QString::number(sideOf(name))},
                                    &out));
        const QJsonObject python = QJsonDocument::fromJson(out).object();
        // Reloaded, consistent (every class constant fits its weight), outputs as before.
        QVERIFY2(python.value("consistent").toBool(), out.constData());
        QCOMPARE(python.value("output_shape").toArray(), (QJsonArray{3, 4}));
        QVERIFY2(python.value("max_diff").toDouble() < 1e-4, out.constData());
        // Fewer parameters, as many as the studio counted: at most 40 % of them at 0.5.
        const qint64 before = python.value("params_source").toInteger();
        const qint64 after = python.value("params_pruned").toInteger();
        QCOMPARE(metrics.value("parameters").toInteger(), after);
        QCOMPARE(metrics.value("source_parameters").toInteger(), before);
        QVERIFY2(after < 0.4 * double(before), qPrintable(QStringLiteral("%1 of %2")
                                                              .arg(after).arg(before)));
        // The studio's record of every changed layer is what Python finds in the file.
        const QJsonObject shapes = python.value("shapes").toObject();
        const QJsonArray layers = details.value("layers").toArray();
        QVERIFY(layers.size() >= expected.size());
        for (const QJsonValue &v : layers) {
            const QJsonObject layer = v.toObject();
            QCOMPARE(shapes.value(layer.value("layer").toString()).toArray(),
                     layer.value("after").toArray());
        }
        for (auto it = expected.begin(); it != expected.end(); ++it)
            QCOMPARE(shapes.value(it.key()).toArray(), it.value().toArray());
        // A residual addition ties its operands' channels into one group.
        const QJsonObject group = groupOf(details.value("groups").toArray(), tied.first());
        for (const QString &layer : tied)
            QVERIFY2(groupOf(details.value("groups").toArray(), layer) == group,
                     qPrintable(layer));
        QCOMPARE(group.value("after").toInt() * 2, group.value("before").toInt());
    }

    void graphsItCannotFollowAreRefusedNamingTheNode_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("channel shuffle")
            << "shuffle" << QStringList{"aten::view", "x.view(n, 2, c // 2, h, w)", "reshapes"};
        QTest::newRow("unknown op") << "roll" << QStringList{"aten::roll", "torch.roll",
                                                             "does not know"};
    }

    void graphsItCannotFollowAreRefusedNamingTheNode()
    {
        QFETCH(QString, name);
        QFETCH(QStringList, expected);
        const int runs = runFolders();
        const Run r = cli({"compress", name + ":1", "--method", "prune-structured",
                           "--threads", "1"});
        QVERIFY(r.exitCode != 0);
        const QString error = r.errorLine();
        QVERIFY2(!error.isEmpty(), qPrintable(r.err));
        for (const QString &text : expected)
            QVERIFY2(error.contains(text), qPrintable(error));
        QVERIFY2(error.contains("Nothing was changed"), qPrintable(error));
        // Refused before any work: nothing registered, no run started.
        QCOMPARE(versionCount(name), 1);
        QCOMPARE(runFolders(), runs);
    }
};

QTEST_GUILESS_MAIN(TestCliPruneGraph)
#include "tst_cli_prune_graph.moc"
