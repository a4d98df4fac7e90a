// Static int8 of imported CNNs through the command line, the way a researcher brings a model:
// torchvision resnet18 and mobilenet_v2 made and trained briefly in Python on Fashion-MNIST as
// 3x32x32 RGB images (a trained model, since a random one's predictions, and so agreement,
// mean nothing), scripted, imported, quantized by `compress --method quantize-static` with an
// image folder as calibration data, and reloaded in Python (and here) to compare with fp32 on
// held-out images. mobilenet_v2 is imported inside a wrapper that normalises its input, the
// form an import with --mean/--std registers. Then the refusals, each before any work: data of
// another shape, a graph the passes cannot convert (named), calibration that overflows.
//
// The slots run in order on one workspace.

#include "TestSupport.h"
#include "app/CliRun.h"
#include "models/Model.h"
#include "registry/Registry.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

namespace {

using Run = ms::test::CliRun;

// Writes the image folder (train/ and test/ of 32x32 RGB PNGs, classes named so that they sort
// in label order) and trains, scripts and saves the models. A few hundred Adam steps make the
// models confident enough that int8 agreement measures the quantization, not coin flips near
// ties (engine-probes.md: random models give meaningless agreement).
const char *const kSetup = R"PY(
import gzip, json, os, sys
import numpy as np, torch, torchvision
import torch.nn as nn, torch.nn.functional as F
from PIL import Image
out = sys.argv[1]
torch.set_num_threads(2)
torch.manual_seed(0)

def idx(path):
    b = gzip.open(path).read()
    return np.frombuffer(b, np.uint8, offset=16).reshape(-1, 28, 28) if b[3] == 3 \
        else np.frombuffer(b, np.uint8, offset=8)

src = '/usr/share/datasets/fashion-mnist/'
names = ['0-tshirt', '1-trouser', '2-pullover', '3-dress', '4-coat', '5-sandal', '6-shirt',
         '7-sneaker', '8-bag', '9-boot']

def write(split, images, labels, per_class):
    xs, ys, count = [], [], [0] * 10
    for x, y in zip(images, labels):
        if count[y] >= per_class:
            continue
        count[y] += 1
        folder = os.path.join(out, 'folder', split, names[y])
        os.makedirs(folder, exist_ok=True)
        img = Image.fromarray(x).resize((32, 32), Image.BILINEAR).convert('RGB')
        img.save(os.path.join(folder, '%04d.png' % count[y]))
        xs.append(np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0)
        ys.append(int(y))
    return torch.tensor(np.stack(xs)), torch.tensor(ys)

X, Y = write('train', idx(src + 'train-images-idx3-ubyte.gz')[:4000],
             idx(src + 'train-labels-idx1-ubyte.gz')[:4000], 120)
write('test', idx(src + 't10k-images-idx3-ubyte.gz')[:1000],
      idx(src + 't10k-labels-idx1-ubyte.gz')[:1000], 30)
json.dump({'size': [32, 32], 'color': 'rgb'},
          open(os.path.join(out, 'folder', 'imagefolder.json'), 'w'))

class ImportedModel(nn.Module):
    # What an import with --mean/--std registers: normalisation, then the network unchanged.
    def __init__(self, model, mean, std):
        super().__init__()
        self.model = model
        self.register_buffer('input_mean', torch.tensor(mean).view(3, 1, 1))
        self.register_buffer('input_std', torch.tensor(std).view(3, 1, 1))

    def forward(self, x):
        return self.model.forward((x - self.input_mean) / self.input_std)

def train(model, steps, lr):
    opt = torch.optim.Adam(model.parameters(), lr)
    model.train()
    for _ in range(steps):
        i = torch.randint(0, len(X), (64,))
        loss = F.cross_entropy(model(X[i]), Y[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return torch.jit.script(model.eval())

train(torchvision.models.resnet18(num_classes=10), int(sys.argv[2]), 1e-3) \
    .save(os.path.join(out, 'resnet18.pt'))
train(ImportedModel(torchvision.models.mobilenet_v2(num_classes=10), [0.29, 0.29, 0.29],
                    [0.35, 0.35, 0.35]), int(sys.argv[3]), 3e-3) \
    .save(os.path.join(out, 'mobilenet_v2.pt'))

class Upsampling(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.up = nn.Upsample(scale_factor=2.0)
        self.fc = nn.Linear(4, 10)

    def forward(self, x):
        return self.fc(self.up(self.conv(x)).mean((2, 3)))

class Overflow(nn.Module):
    # Finite on images in [0, 1] for fp32 up to the second product, which exceeds float32.
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.fc = nn.Linear(4, 10)
        self.register_buffer('gain', torch.tensor(1e30))

    def forward(self, x):
        return self.fc((self.conv(x) * self.gain * self.gain).mean((2, 3)))

torch.jit.script(Upsampling().eval()).save(os.path.join(out, 'upsampling.pt'))
torch.jit.script(Overflow().eval()).save(os.path.join(out, 'overflow.pt'))
)PY";

// Top-1 agreement of two TorchScript files on the folder's test images, with the int8 one
// loaded the way a Python client must (oneDNN engine first); also the int8 logits of the first
// images, for the comparison with the studio's own reload.
const char *const kAgreement = R"PY(
import glob, json, sys
import numpy as np, torch
from PIL import Image
torch.backends.quantized.engine = 'onednn'
fp32 = torch.jit.load(sys.argv[1])
int8 = torch.jit.load(sys.argv[2])
files = sorted(glob.glob(sys.argv[3] + '/test/*/*.png'))
x = torch.tensor(np.stack([np.asarray(Image.open(f).convert('RGB'), dtype=np.float32)
                           .transpose(2, 0, 1) / 255.0 for f in files]))
with torch.no_grad():
    a = fp32(x)
    b = int8(x)
int8.eval()
print(json.dumps({'images': len(files),
                  'agreement': (a.argmax(1) == b.argmax(1)).float().mean().item(),
                  'first': b[:4].flatten().tolist(), 'input': x[:4].flatten().tolist(),
                  'engine': int8.quantized_engine, 'training': int8.training}))
)PY";

} // namespace

class TestCliInt8 : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    // The folder and the trained models: made once per setup script and torch, kept in the
    // test's own cache (CTest gives every test a home under the build tree) because training
    // two CNNs in Python is most of this test's time.
    QString m_fixtures;

    QString path(const QString &name) const { return QDir(m_fixtures).filePath(name); }
    QString workspace() const { return m_dir.filePath(QStringLiteral("ws")); }
    QString folder() const { return path(QStringLiteral("folder")); }

    Run cli(QStringList args)
    {
        args << QStringLiteral("--workspace") << workspace();
        return ms::test::runCli(args, 900000);
    }

    int versionCount()
    {
        ms::Registry registry(workspace());
        int n = 0;
        for (const ms::ModelRecord &m : registry.models())
            n += m.versionCount;
        return n;
    }
    int runCount() { return ms::Registry(workspace()).runs().size(); }

    // A refusal: one error line, naming what `expected` says, with nothing registered and no
    // run started.
    QString refusal(const QStringList &args)
    {
        const int versions = versionCount();
        const int runs = runCount();
        const Run r = cli(args);
        if (r.exitCode == 0)
            return QStringLiteral("<accepted>");
        if (versionCount() != versions || runCount() != runs)
            return QStringLiteral("<registered something: %1>").arg(r.err);
        return r.errorLine().isEmpty() ? QStringLiteral("<not one error line: %1>").arg(r.err)
                                       : r.errorLine();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QByteArray version;
        QVERIFY2(ms::test::runPython(m_dir.path(),
                                     "import torch, torchvision; print(torch.__version__, "
                                     "torchvision.__version__)", {}, &version),
                 "/usr/bin/python3 with torch and torchvision (python3-torchvision) is needed");
        const QStringList args{QStringLiteral("100"), QStringLiteral("150")};
        const QByteArray key = QCryptographicHash::hash(
            QByteArray(kSetup) + version + args.join(QLatin1Char(' ')).toUtf8(),
            QCryptographicHash::Sha1).toHex().left(16);
        m_fixtures = QStandardPaths::writableLocation(QStandardPaths::GenericCacheLocation)
                     + QStringLiteral("/modelstudio-tests/int8-") + QString::fromLatin1(key);
        if (!QFileInfo::exists(path(QStringLiteral("overflow.pt")))) {
            QDir(m_fixtures).removeRecursively();   // a run stopped half-way
            QVERIFY(QDir().mkpath(m_fixtures));
            QByteArray out;
            // Minutes when other builds share the two cores.
            QVERIFY2(ms::test::runPython(m_dir.path(), QString::fromUtf8(kSetup),
                                         QStringList{m_fixtures} + args, &out, QString(),
                                         1100000),
                     "/usr/bin/python3 with torch, torchvision and PIL could not make the "
                     "models");
        }
        for (const char *model : {"resnet18", "mobilenet_v2", "upsampling", "overflow"}) {
            const QString name = QString::fromLatin1(model).remove(QLatin1Char('_'));
            const Run r = cli({"import", path(QString::fromLatin1(model) + ".pt"), "--name",
                               name, "--input-shape", "1,3,32,32"});
            QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        }
    }

    void quantizesImportedCnns_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("file");
        QTest::addColumn<QStringList>("flags");
        // resnet18 on oneDNN; mobilenet_v2 (wrapped) with the default engine choice, which
        // times both engines and must not keep QNNPACK, which garbles it.
        QTest::newRow("resnet18") << "resnet18" << "resnet18.pt"
                                  << QStringList{"--engine", "onednn"};
        QTest::newRow("mobilenet_v2 wrapped") << "mobilenetv2" << "mobilenet_v2.pt"
                                              << QStringList{};
    }

    void quantizesImportedCnns()
    {
        QFETCH(QString, model);
        QFETCH(QString, file);
        QFETCH(QStringList, flags);
        const Run r = cli(QStringList{"compress", model + ":1", "--method", "quantize-static",
                                      "--dataset", folder(), "--calibration-batches", "4",
                                      "--threads", "2", "--json"}
                          + flags);
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QJsonObject end = r.jsonLines().last();
        QCOMPARE(end.value("version").toString(), model + ":2");
        const QJsonObject details = end.value("details").toObject();
        // The graph path ran (an import has no spec), and the passes converted the network.
        QCOMPARE(details.value("path").toString(), QStringLiteral("graph"));
        const QString ops = details.value("ops").toString();
        QVERIFY2(ops.contains("quantized::conv2d") && ops.contains("quantized::linear")
                     && !ops.contains("aten::conv2d") && !ops.contains("aten::linear"),
                 qPrintable(ops));
        QCOMPARE(details.value("quantized_engine").toString(), QStringLiteral("onednn"));
        if (flags.isEmpty()) {
            const QJsonObject agreement = details.value("engine_agreement").toObject();
            QVERIFY2(agreement.value("onednn").toDouble() > agreement.value("qnnpack").toDouble(),
                     qPrintable(QJsonDocument(details).toJson()));
            // torchvision's ReLU6 bounds every conv output of mobilenet_v2's blocks.
            QVERIFY(details.value("clipped_activations").toInt() >= 30);
        }
        const QString int8 = end.value("model_path").toString();
        QVERIFY2(QFileInfo(int8).size() < 0.35 * QFileInfo(path(file)).size(),
                 qPrintable(QStringLiteral("%1 of %2 bytes").arg(QFileInfo(int8).size())
                                .arg(QFileInfo(path(file)).size())));

        // Python reloads it and agrees with fp32 on held-out images.
        QByteArray out;
        QVERIFY(ms::test::runPython(m_dir.path(), QString::fromUtf8(kAgreement),
                                    {path(file), int8, folder()}, &out, QString(), 600000));
        const QJsonObject py = QJsonDocument::fromJson(out).object();
        QCOMPARE(py.value("images").toInt(), 300);
        QCOMPARE(py.value("engine").toString(), QStringLiteral("onednn"));
        QCOMPARE(py.value("training").toBool(true), false);
        const double agreement = py.value("agreement").toDouble();
        qInfo("%s: top-1 agreement with fp32 %.4f on 300 held-out images, %s",
              qPrintable(model), agreement, qPrintable(ops));
        QVERIFY2(agreement >= 0.95, qPrintable(QString::number(agreement)));

        // The studio reloads it too (setting the engine it records) and computes what Python does.
        std::vector<float> input;
        for (const QJsonValue &v : py.value("input").toArray())
            input.push_back(float(v.toDouble()));
        const std::vector<float> ours = ms::Model::load(int8).predict(input, {4, 3, 32, 32});
        const QJsonArray theirs = py.value("first").toArray();
        QCOMPARE(size_t(theirs.size()), ours.size());
        for (size_t i = 0; i < ours.size(); ++i)
            QVERIFY2(ms::test::closeTo(theirs[int(i)].toDouble(), ours[i], 1e-4),
                     qPrintable(QStringLiteral("logit %1: python %2, here %3").arg(i)
                                    .arg(theirs[int(i)].toDouble()).arg(ours[i])));
    }

    // --keep-float leaves named submodules in float (Python's qconfig_dict {name: None}):
    // resnet18's first convolution stays an aten convolution between a dequantize and a
    // quantize, every other one is int8; a name that is no submodule is refused before any
    // work, with some that are, and so is a submodule with nothing to keep (a batch norm).
    void keepsNamedSubmodulesInFloat()
    {
        const Run r = cli({"compress", "resnet18:1", "--method", "quantize-static", "--dataset",
                           folder(), "--calibration-batches", "2", "--engine", "onednn",
                           "--keep-float", "conv1", "--no-register", "--threads", "2", "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QJsonObject details = r.jsonLines().last().value("details").toObject();
        QCOMPARE(details.value("kept_float").toArray(), (QJsonArray{"conv1"}));
        const QString ops = details.value("ops").toString();
        QVERIFY2(ops.contains("quantized::conv2d") && ops.contains("aten::conv2d")
                     && ops.contains("quantized::linear"),
                 qPrintable(ops));
        const auto model = ms::Model::load(r.jsonLines().last().value("model_path").toString());
        const std::vector<float> out = model.predict(std::vector<float>(2 * 3 * 32 * 32, 0.5f),
                                                     {2, 3, 32, 32});
        QCOMPARE(out.size(), size_t(20));

        const QString message = refusal({"compress", "resnet18:1", "--method", "quantize-static",
                                         "--dataset", folder(), "--keep-float", "conv9"});
        QVERIFY2(message.contains("\"conv9\"") && message.contains("not a submodule")
                     && message.contains("conv1"),
                 qPrintable(message));
        // A batch norm is folded into its convolution: kept in float it would change nothing.
        const QString folded = refusal({"compress", "resnet18:1", "--method", "quantize-static",
                                        "--dataset", folder(), "--keep-float", "conv1,bn1"});
        QVERIFY2(folded.contains("\"bn1\"") && folded.contains("BatchNorm2d")
                     && folded.contains("holds no convolution") && folded.contains("conv1"),
                 qPrintable(folded));
    }

    void benchRunsTheInt8Version()
    {
        // bench loads the artifact as serve does, under the engine the version records.
        const Run r = cli({"bench", "resnet18:2", "--dataset", folder(), "--batch-sizes", "8",
                           "--warmup", "1", "--repetitions", "3", "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("\"quantized_engine\":\"onednn\""), qPrintable(r.out));
    }

    void refusesDataOfAnotherShape()
    {
        // Fashion-MNIST as the studio reads it: 1x28x28 grey, not the model's 3x32x32.
        const QString message = refusal({"compress", "resnet18:1", "--method",
                                         "quantize-static", "--dataset", "fashion-mnist"});
        QVERIFY2(message.contains("3x32x32") && message.contains("1x28x28")
                     && message.contains("channels differ"),
                 qPrintable(message));
    }

    void refusesAGraphThePassesCannotConvert()
    {
        const QString message = refusal({"compress", "upsampling:1", "--method",
                                         "quantize-static", "--dataset", folder()});
        QVERIFY2(message.contains("nearest-neighbour upsampling")
                     && message.contains("`up` (Upsample)")
                     && message.contains("quantize-dynamic"),
                 qPrintable(message));
        // Only the graph path exists for an import.
        const QString spec = refusal({"compress", "resnet18:1", "--method", "quantize-static",
                                      "--path", "spec", "--dataset", folder()});
        QVERIFY2(spec.contains("not built from a studio spec") && spec.contains("--path graph"),
                 qPrintable(spec));
    }

    void refusesCalibrationThatOverflows()
    {
        const QString message = refusal({"compress", "overflow:1", "--method",
                                         "quantize-static", "--dataset", folder(),
                                         "--calibration-batches", "1"});
        // The first observed tensor that is not finite is named: observers sit where int8
        // would quantize (here the mean after the products), not after every op.
        QVERIFY2(message.contains("yields NaN or infinite values")
                     && message.contains("aten::") && message.contains("(Overflow)"),
                 qPrintable(message));
    }
};

QTEST_GUILESS_MAIN(TestCliInt8)
#include "tst_cli_int8.moc"
