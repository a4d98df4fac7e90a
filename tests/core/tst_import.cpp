// Importing models the studio never built (torchvision's resnet18 and a small segmenter,
// scripted in Python): the normalisation folded into the artifact gives Python's outputs on
// normalised input and still loads in Python; the signature is what the model returns; a shape
// without the batch, a normalisation that does not fit and class names that do not match are
// refused before anything is registered; the layers of an import are described from one
// forward pass.

#include "TestSupport.h"

#include "models/ImportedModel.h"
#include "models/Model.h"
#include "models/ModelLayers.h"
#include "registry/ModelImport.h"
#include "registry/Registry.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace ms;
using namespace ms::test;

namespace {

// resnet18 for 3x32x32 inputs and 10 classes, seeded, scripted; a segmenter returning
// [N, 5, 32, 32]; and Python's outputs for a fixed batch: on the input normalised with
// ImageNet's mean/std (what the wrapped import must give on the raw input).
const char kMakeModels[] = R"(
import json, sys, torch, torchvision
out = sys.argv[1]
torch.manual_seed(0)
net = torchvision.models.resnet18(num_classes=10).eval()
torch.jit.script(net).save(out + "/resnet18.pt")

class Seg(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.head = torch.nn.Conv2d(8, 5, 1)
    def forward(self, x):
        return self.head(torch.relu(self.conv(x)))
torch.jit.script(Seg().eval()).save(out + "/seg.pt")

g = torch.Generator().manual_seed(1)
x = torch.rand(4, 3, 32, 32, generator=g)
open(out + "/x.bin", "wb").write(x.numpy().tobytes())
mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
with torch.no_grad():
    y = net((x - mean) / std)
print(json.dumps({"normalised": y.flatten().tolist()}))
)";

// Loads an artifact in Python and runs it on x.bin: the registered model is a plain
// TorchScript file for torch.jit.load.
const char kRunInPython[] = R"(
import json, sys, torch
m = torch.jit.load(sys.argv[1]).eval()
x = torch.frombuffer(bytearray(open(sys.argv[2], "rb").read()), dtype=torch.float32)
with torch.no_grad():
    y = m(x.reshape(4, 3, 32, 32))
print(json.dumps({"out": y.flatten().tolist(), "has_mean": hasattr(m, "input_mean")}))
)";

std::vector<float> floats(const QJsonArray &array)
{
    std::vector<float> v;
    for (const QJsonValue &x : array)
        v.push_back(float(x.toDouble()));
    return v;
}

std::vector<float> readFloats(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QByteArray bytes = f.readAll();
    std::vector<float> v(size_t(bytes.size()) / sizeof(float));
    std::memcpy(v.data(), bytes.constData(), v.size() * sizeof(float));
    return v;
}

const LayerSummary *row(const ModelSummary &s, const QString &name)
{
    for (const LayerSummary &l : s.layers) {
        if (l.name == name)
            return &l;
    }
    return nullptr;
}

} // namespace

class TestImport : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_ws;
    std::vector<float> m_normalised;   // Python: resnet18((x - mean) / std)

    QString path(const char *name) const { return m_dir.filePath(QLatin1String(name)); }

    ImportOptions resnetOptions() const
    {
        ImportOptions o;
        o.path = path("resnet18.pt");
        o.modelName = QStringLiteral("resnet18");
        o.exampleShape = {1, 3, 32, 32};
        o.mean = {0.485f, 0.456f, 0.406f};
        o.stdev = {0.229f, 0.224f, 0.225f};
        return o;
    }

    int versionCount()
    {
        int n = 0;
        for (const ModelRecord &m : Registry(m_ws).models())
            n += m.versionCount;
        return n;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        m_ws = m_dir.filePath(QStringLiteral("ws"));
        QByteArray out;
        QVERIFY2(runPython(m_dir.path(), QString::fromLatin1(kMakeModels), {m_dir.path()}, &out),
                 "/usr/bin/python3 with torch and torchvision (scripts/setup.sh) makes the "
                 "models");
        m_normalised = floats(QJsonDocument::fromJson(out).object().value("normalised").toArray());
        QCOMPARE(m_normalised.size(), size_t(40));
    }

    // The artifact takes floats in [0, 1] and normalises them itself: on the raw batch it gives
    // what Python's model gives on the normalised batch, here and in Python.
    void meanAndStdAreFoldedIn()
    {
        QStringList warnings;
        ImportOptions options = resnetOptions();
        options.classNames = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
        const PreparedImport prepared = prepareImport(options, &warnings);
        QVERIFY(warnings.isEmpty());
        const NewVersion &v = prepared.version;
        QVERIFY(v.artifactPath != QFileInfo(path("resnet18.pt")).absoluteFilePath());
        QCOMPARE(v.inputs.first().shape, (std::vector<qint64>{-1, 3, 32, 32}));
        QCOMPARE(v.inputs.first().preprocessing.kind, InputPreprocessing::Kind::Normalize);
        QCOMPARE(v.inputs.first().preprocessing.mean.size(), size_t(3));
        QVERIFY(closeTo(v.inputs.first().preprocessing.stdev[2], 0.225, 1e-6));
        QCOMPARE(v.outputs.first().shape, (std::vector<qint64>{-1, 10}));
        QCOMPARE(v.classNames, options.classNames);

        const VersionRecord record = Registry(m_ws).addVersion(v);
        const QString artifact = Registry(m_ws).verifiedArtifactPath(record);
        const std::vector<float> x = readFloats(path("x.bin"));
        QCOMPARE(x.size(), size_t(4 * 3 * 32 * 32));
        const Model model = Model::load(artifact);
        QVERIFY(isImportWrapper(model));
        const std::vector<float> here = model.predict(x, {4, 3, 32, 32});
        QCOMPARE(here.size(), m_normalised.size());
        QVERIFY2(maxScaledDiff(here, m_normalised) < 1e-4,
                 qPrintable(QString::number(maxScaledDiff(here, m_normalised))));

        QByteArray out;
        QVERIFY(runPython(m_dir.path(), QString::fromLatin1(kRunInPython),
                          {artifact, path("x.bin")}, &out));
        const QJsonObject python = QJsonDocument::fromJson(out).object();
        QVERIFY(python.value("has_mean").toBool());
        const std::vector<float> inPython = floats(python.value("out").toArray());
        QVERIFY2(maxScaledDiff(inPython, m_normalised) < 1e-4,
                 qPrintable(QString::number(maxScaledDiff(inPython, m_normalised))));
        // The record round-trips the preprocessing (show --json, the exports).
        QCOMPARE(Registry(m_ws).resolve(record.ref()).inputs.first().preprocessing,
                 v.inputs.first().preprocessing);
    }

    // Without a normalisation the artifact is the file itself, recorded as taking its tensor
    // as it comes; a non-classifier's output shape is recorded as it is.
    void plainImportAndASegmenter()
    {
        ImportOptions options;
        options.path = path("seg.pt");
        options.modelName = QStringLiteral("seg");
        options.exampleShape = {2, 3, 32, 32};
        const PreparedImport prepared = prepareImport(options);
        QCOMPARE(prepared.version.artifactPath, QFileInfo(path("seg.pt")).absoluteFilePath());
        QCOMPARE(prepared.version.outputs.first().shape, (std::vector<qint64>{-1, 5, 32, 32}));
        QCOMPARE(prepared.version.inputs.first().preprocessing.kind,
                 InputPreprocessing::Kind::None);
        QVERIFY(prepared.version.classNames.isEmpty());
    }

    void badInputIsRefused_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("shape");
        QTest::addColumn<QString>("mean");
        QTest::addColumn<QString>("stdev");
        QTest::addColumn<QStringList>("classes");
        QTest::addColumn<QString>("expected");
        QTest::newRow("no batch dimension")
            << "resnet18.pt" << "3,32,32" << "" << "" << QStringList()
            << "has no batch dimension";
        QTest::newRow("no batch dimension, fully convolutional")
            << "seg.pt" << "3,32,32" << "" << "" << QStringList() << "has no batch dimension";
        QTest::newRow("mean of 1 for 3 channels")
            << "resnet18.pt" << "1,3,32,32" << "0.5" << "0.25" << QStringList()
            << "--mean has 1 value but the input (1,3,32,32) has 3 channels";
        QTest::newRow("std of 2 for 3 channels")
            << "resnet18.pt" << "1,3,32,32" << "0.5,0.5,0.5" << "0.2,0.2" << QStringList()
            << "--std has 2 values";
        QTest::newRow("mean without std")
            << "resnet18.pt" << "1,3,32,32" << "0.5,0.5,0.5" << "" << QStringList()
            << "--mean and --std together";
        QTest::newRow("zero std")
            << "resnet18.pt" << "1,3,32,32" << "0.5,0.5,0.5" << "0.2,0,0.2" << QStringList()
            << "positive number";
        QTest::newRow("3 names for 10 scores")
            << "resnet18.pt" << "1,3,32,32" << "" << "" << QStringList{"a", "b", "c"}
            << "3 class names were given but";
        QTest::newRow("names for a segmenter")
            << "seg.pt" << "1,3,32,32" << "" << "" << QStringList{"a", "b", "c", "d", "e"}
            << "it is no classifier";
    }

    void badInputIsRefused()
    {
        QFETCH(QString, file);
        QFETCH(QString, shape);
        QFETCH(QString, mean);
        QFETCH(QString, stdev);
        QFETCH(QStringList, classes);
        QFETCH(QString, expected);
        const int before = versionCount();
        ImportOptions o;
        o.path = m_dir.filePath(file);
        o.modelName = QStringLiteral("refused");
        for (const QString &d : shape.split(QLatin1Char(',')))
            o.exampleShape.push_back(d.toLongLong());
        if (!mean.isEmpty())
            o.mean = parseValueList(mean, QStringLiteral("--mean"));
        if (!stdev.isEmpty())
            o.stdev = parseValueList(stdev, QStringLiteral("--std"));
        o.classNames = classes;
        const QString message = errorOf([&] { prepareImport(o); });
        QVERIFY2(message.contains(expected), qPrintable(message));
        QCOMPARE(versionCount(), before);
    }

    void classNamesFromTextOrFile()
    {
        QCOMPARE(parseClassNames(QStringLiteral(" cat, dog ,bird"), "--classes"),
                 (QStringList{"cat", "dog", "bird"}));
        const QString file = path("classes.txt");
        QVERIFY(writeFile(file, "cat\n\ndog\r\nbird\n"));
        QCOMPARE(parseClassNames(file, "--classes"), (QStringList{"cat", "dog", "bird"}));
        QVERIFY(errorOf([] { parseClassNames("cat,cat", "--classes"); }).contains("twice"));
        QVERIFY(errorOf([] { parseValueList("0.5,x", "--mean"); }).contains("\"x\""));
    }

    // Submodules with their parameters, output shapes from one forward pass and MACs, counted
    // by hand for resnet18 at 32x32 (conv1: 7x7 stride 2 -> 16x16; maxpool -> 8x8).
    void layersOfAnImport()
    {
        const Model wrapped = Model::load(Registry(m_ws).verifiedArtifactPath(
            Registry(m_ws).resolve(QStringLiteral("resnet18:1"))));
        const ModelSummary s = describeLayers(wrapped, {3, 32, 32});
        const LayerSummary *conv1 = row(s, "conv1");   // the wrapper is looked through
        QVERIFY(conv1);
        QCOMPARE(conv1->type, QStringLiteral("Conv2d"));
        QCOMPARE(conv1->params, qint64(64 * 3 * 7 * 7));
        QCOMPARE(conv1->outputShape, (std::vector<qint64>{64, 16, 16}));
        QCOMPARE(conv1->macs, qint64(64 * 16 * 16) * 3 * 7 * 7);
        const LayerSummary *block = row(s, "layer1.0");
        QVERIFY(block);
        QCOMPARE(block->type, QStringLiteral("BasicBlock"));
        QCOMPARE(block->outputShape, (std::vector<qint64>{64, 8, 8}));
        // Two 3x3 convolutions of 64 channels at 8x8 and their two batch norms.
        QCOMPARE(block->macs, 2 * (qint64(64 * 8 * 8) * 64 * 9 + 64 * 8 * 8));
        const LayerSummary *layer4 = row(s, "layer4");
        QVERIFY(layer4);
        QCOMPARE(layer4->outputShape, (std::vector<qint64>{512, 1, 1}));
        const LayerSummary *fc = row(s, "fc");
        QVERIFY(fc);
        QCOMPARE(fc->type, QStringLiteral("Linear"));
        QCOMPARE(fc->outputShape, (std::vector<qint64>{10}));
        QCOMPARE(fc->macs, qint64(512 * 10));
        QVERIFY(row(s, "layer1.0.conv1"));
        QVERIFY(!row(s, "model"));
        QCOMPARE(s.totalParams, wrapped.parameterCount());
        qint64 top = 0;
        for (const LayerSummary &l : s.layers)
            top += l.name.contains(QLatin1Char('.')) ? 0 : l.macs;
        QCOMPARE(s.totalMacs, top);   // every MAC is inside one top-level submodule
        // resnet18 at 224x224 is 1.82 GMACs; at 32x32 about 1/49 of it, plus the stem.
        QVERIFY2(s.totalMacs > 30'000'000 && s.totalMacs < 45'000'000,
                 qPrintable(QString::number(s.totalMacs)));
    }
};

QTEST_GUILESS_MAIN(TestImport)
#include "tst_import.moc"
