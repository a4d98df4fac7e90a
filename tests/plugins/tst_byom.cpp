// Bring your own model, as a researcher does it from the shell: a torchvision resnet18 scripted
// in Python is imported with its normalisation and class names, benchmarked without a dataset,
// exported with the preprocessing it records, and fine-tuned with `train --from` on an image
// folder of other classes (a new head, then a frozen backbone), each refusal said before any
// work with nothing registered.
//
// The slots run in order on one workspace: each builds on what the previous ones left.

#include "TestSupport.h"
#include "app/CliRun.h"

#include "registry/Registry.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using namespace ms::test;

namespace {

const char kMakeResnet[] = R"(
import sys, torch, torchvision
torch.manual_seed(0)
torch.jit.script(torchvision.models.resnet18(num_classes=10).eval()).save(sys.argv[1])
)";

// The stem and the head of two fine-tuned versions: what a frozen backbone keeps.
const char kCompareWeights[] = R"(
import json, sys, torch
a = torch.jit.load(sys.argv[1])
b = torch.jit.load(sys.argv[2])
print(json.dumps({
    "conv1": (a.model.conv1.weight - b.model.conv1.weight).abs().max().item(),
    "layer4": (getattr(a.model.layer4, "1").conv2.weight
               - getattr(b.model.layer4, "1").conv2.weight).abs().max().item(),
    "fc": (a.model.fc.weight - b.model.fc.weight).abs().max().item()}))
)";

// Three classes told apart by colour, 32x32 with noise, in train/ and test/ folders; the
// imagefolder.json gives the colour mode.
bool writeImageFolder(const QString &root, const QString &color, int trainPerClass,
                      int testPerClass)
{
    const struct
    {
        const char *name;
        QRgb tint;
    } classes[] = {{"red", qRgb(200, 40, 40)}, {"green", qRgb(40, 180, 60)},
                   {"blue", qRgb(50, 60, 210)}};
    QRandomGenerator rng(7);
    for (const char *split : {"train", "test"}) {
        const int count = QLatin1String(split) == QLatin1String("train") ? trainPerClass
                                                                           : testPerClass;
        for (const auto &c : classes) {
            const QString dir = QStringLiteral("%1/%2/%3").arg(root, QLatin1String(split),
                                                               QLatin1String(c.name));
            if (!QDir().mkpath(dir))
                return false;
            for (int i = 0; i < count; ++i) {
                QImage image(32, 32, QImage::Format_RGB32);
                for (int y = 0; y < 32; ++y) {
                    for (int x = 0; x < 32; ++x) {
                        auto jitter = [&rng](int v) {
                            return std::clamp(v + int(rng.bounded(120)) - 60, 0, 255);
                        };
                        image.setPixel(x, y, qRgb(jitter(qRed(c.tint)), jitter(qGreen(c.tint)),
                                                  jitter(qBlue(c.tint))));
                    }
                }
                if (!image.save(QStringLiteral("%1/%2.png").arg(dir).arg(i), "PNG"))
                    return false;
            }
        }
    }
    return writeFile(root + QStringLiteral("/imagefolder.json"),
                     QStringLiteral(R"({"size": 32, "color": "%1"})").arg(color).toUtf8());
}

} // namespace

class TestBringYourOwnModel : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    QString ws() const { return m_dir.filePath(QStringLiteral("ws")); }
    QString path(const char *name) const { return m_dir.filePath(QLatin1String(name)); }
    CliRun cli(QStringList args, int timeout_ms = 600000) const
    {
        args << QStringLiteral("--workspace") << ws();
        return runCli(args, timeout_ms);
    }
    int versionCount() const
    {
        int n = 0;
        for (const ms::ModelRecord &m : ms::Registry(ws()).models())
            n += m.versionCount;
        return n;
    }
    QString artifactOf(const QString &ref) const
    {
        const ms::Registry registry(ws());
        return registry.verifiedArtifactPath(registry.resolve(ref));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        QByteArray out;
        QVERIFY2(runPython(m_dir.path(), QString::fromLatin1(kMakeResnet), {path("r18.pt")},
                           &out),
                 "/usr/bin/python3 with torch and torchvision (scripts/setup.sh)");
        QVERIFY(writeImageFolder(path("rgb"), QStringLiteral("rgb"), 24, 10));
        QVERIFY(writeImageFolder(path("gray"), QStringLiteral("gray"), 2, 1));
        QStringList names;
        for (int i = 0; i < 10; ++i)
            names << QStringLiteral("class-%1").arg(i);
        QVERIFY(writeFile(path("classes.txt"), names.join(QLatin1Char('\n')).toUtf8()));
    }

    void importsWithNormalisationAndClasses()
    {
        const CliRun r = cli({"import", path("r18.pt"), "--name", "r18", "--input-shape",
                              "1,3,32,32", "--mean", "0.485,0.456,0.406", "--std",
                              "0.229,0.224,0.225", "--classes", path("classes.txt")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QCOMPARE(r.out.trimmed(), QStringLiteral("r18:1"));
        const QJsonObject v = cli({"show", "r18:1", "--json"}).json();
        const QJsonObject input = v.value("inputs").toArray().first().toObject();
        QCOMPARE(input.value("shape").toArray(), (QJsonArray{-1, 3, 32, 32}));
        const QJsonObject pre = input.value("preprocessing").toObject();
        QCOMPARE(pre.value("kind").toString(), QStringLiteral("normalize"));
        QVERIFY(closeTo(pre.value("mean").toArray().at(0).toDouble(), 0.485, 1e-6));
        QCOMPARE(v.value("class_names").toArray().size(), 10);
        QCOMPARE(v.value("class_names").toArray().at(3).toString(), QStringLiteral("class-3"));
    }

    void importRefusalsRegisterNothing_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("expected");
        QTest::newRow("no batch dimension")
            << QStringList{"--input-shape", "3,32,32"} << "has no batch dimension";
        QTest::newRow("mean of 2 for 3 channels")
            << QStringList{"--input-shape", "1,3,32,32", "--mean", "0.5,0.5", "--std", "1,1"}
            << "--mean has 2 values but the input (1,3,32,32) has 3 channels";
        QTest::newRow("std alone")
            << QStringList{"--input-shape", "1,3,32,32", "--std", "1,1,1"}
            << "--mean and --std together";
        QTest::newRow("a mean that is no number")
            << QStringList{"--input-shape", "1,3,32,32", "--mean", "0.5,half,0.5", "--std",
                           "1,1,1"}
            << "\"half\" is not a number";
        QTest::newRow("3 names for 10 scores")
            << QStringList{"--input-shape", "1,3,32,32", "--classes", "a,b,c"}
            << "3 class names were given";
    }

    void importRefusalsRegisterNothing()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, expected);
        const int before = versionCount();
        const CliRun r = cli(QStringList{"import", path("r18.pt"), "--name", "r18"} + args);
        QVERIFY(r.exitCode != 0);
        QVERIFY2(r.errorLine().contains(expected), qPrintable(r.err));
        QCOMPARE(versionCount(), before);
    }

    // An import records its input shape: latency needs no dataset, and MACs are counted from
    // one forward pass.
    void benchmarksWithoutADataset()
    {
        const CliRun r = cli({"bench", "r18:1", "--no-accuracy", "--batch-sizes", "2",
                              "--warmup", "1", "--repetitions", "3", "--threads", "1",
                              "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QJsonObject result = r.jsonLines().first();
        QCOMPARE(result.value("version").toString(), QStringLiteral("r18:1"));
        QCOMPARE(result.value("latency").toArray().size(), 1);
        QVERIFY(result.value("latency").toArray().first().toObject().value("p50_ms").toDouble()
                > 0);
        QVERIFY2(result.value("macs").toDouble() > 30e6, qPrintable(r.out));
    }

    // The exports say what the model does to its input, from the recorded preprocessing.
    void exportsTellThePreprocessing()
    {
        CliRun r = cli({"export", "r18:1", "--format", "pt", "--to", path("out/r18.pt")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QFile readme(path("out/r18.README.md"));
        QVERIFY(readme.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(readme.readAll());
        QVERIFY2(text.contains("normalises them itself") && text.contains("mean [0.485, 0.456"),
                 qPrintable(text));
        r = cli({"export", "r18:1", "--format", "triton", "--to", path("triton")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QFile config(path("triton/r18/config.pbtxt"));
        QVERIFY(config.open(QIODevice::ReadOnly));
        // The sentence is wrapped over comment lines.
        const QString pbtxt = QString::fromUtf8(config.readAll()).replace(QStringLiteral("\n#"),
                                                                          QString());
        QVERIFY2(pbtxt.contains("std [0.229, 0.224, 0.225]"), qPrintable(pbtxt));

        r = cli({"import", path("r18.pt"), "--name", "r18-raw", "--input-shape", "1,3,32,32"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        r = cli({"export", "r18-raw:1", "--format", "pt", "--to", path("out/raw.pt")});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QFile raw(path("out/raw.README.md"));
        QVERIFY(raw.open(QIODevice::ReadOnly));
        const QString rawText = QString::fromUtf8(raw.readAll());
        QVERIFY2(rawText.contains("takes its input tensor as it is")
                     && !rawText.contains("normalises them itself"),
                 qPrintable(rawText));
    }

    void fineTuneRefusalsComeFirst_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("class count without --replace-head")
            << QStringList{"--from", "r18:1", "--dataset", path("rgb")}
            << QStringList{"10 scores", "has 3 classes", "--replace-head"};
        QTest::newRow("one channel for an RGB model")
            << QStringList{"--from", "r18:1", "--dataset", path("gray"), "--replace-head"}
            << QStringList{"3x32x32", "1x32x32", "channels differ (3 against 1)"};
        QTest::newRow("--replace-head without --from")
            << QStringList{"--dataset", path("rgb"), "--replace-head"}
            << QStringList{"--replace-head fine-tunes a registered version", "--from"};
        QTest::newRow("architecture settings with --from")
            << QStringList{"--from", "r18:1", "--dataset", path("rgb"), "--arch-param",
                           "width=64", "--replace-head"}
            << QStringList{"fine-tunes that version as it is", "--arch-param"};
        QTest::newRow("no such version")
            << QStringList{"--from", "r18:9", "--dataset", path("rgb")}
            << QStringList{"has no version 9"};
    }

    void fineTuneRefusalsComeFirst()
    {
        QFETCH(QStringList, args);
        QFETCH(QStringList, expected);
        const int versions = versionCount();
        const int runs = int(ms::Registry(ws()).runs().size());
        const CliRun r = cli(QStringList{"train", "--epochs", "1", "--threads", "1"} + args);
        QVERIFY(r.exitCode != 0);
        // One line, the reason a person acts on: not a TorchScript trace.
        for (const QString &text : expected)
            QVERIFY2(r.errorLine().contains(text), qPrintable(r.err));
        QCOMPARE(versionCount(), versions);
        QCOMPARE(int(ms::Registry(ws()).runs().size()), runs);
    }

    // A new head for the folder's 3 classes, trained with the rest: it learns (chance is 1/3),
    // and the version records where it came from and the preprocessing it keeps.
    void fineTunesWithANewHead()
    {
        const CliRun r = cli({"train", "--from", "r18:1", "--dataset", path("rgb"),
                              "--replace-head", "--epochs", "3", "--batch-size", "16", "--lr",
                              "0.001", "--seed", "1", "--threads", "1", "--json"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        const QJsonObject end = r.jsonLines().last();
        QCOMPARE(end.value("version").toString(), QStringLiteral("r18:2"));
        const double acc = end.value("final").toObject().value("test_acc").toDouble();
        QVERIFY2(acc > 0.6, qPrintable(QString::number(acc)));

        const ms::Registry registry(ws());
        const ms::VersionRecord v = registry.resolve(QStringLiteral("r18:2"));
        QCOMPARE(v.kind, ms::VersionKind::Finetuned);
        QCOMPARE(v.classNames, (QStringList{"blue", "green", "red"}));
        QCOMPARE(v.outputs.first().shape, (std::vector<qint64>{-1, 3}));
        QCOMPARE(v.inputs.first().preprocessing.kind, ms::InputPreprocessing::Kind::Normalize);
        QCOMPARE(v.recipe.value("from").toString(), QStringLiteral("r18:1"));
        QVERIFY(v.recipe.value("replace_head").toBool());
        bool edge = false;
        for (const ms::LineageEdge &e : registry.lineage(v.id))
            edge = edge || (e.parentRef == QLatin1String("r18:1")
                            && e.role == QLatin1String("finetuned-from"));
        QVERIFY(edge);
    }

    // With a frozen backbone only the classifier moves.
    void freezesTheBackbone()
    {
        const CliRun r = cli({"train", "--from", "r18:2", "--dataset", path("rgb"),
                              "--freeze-backbone", "--epochs", "1", "--batch-size", "16",
                              "--lr", "0.01", "--threads", "1"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("registered r18:3"), qPrintable(r.out));
        QByteArray out;
        QVERIFY(runPython(m_dir.path(), QString::fromLatin1(kCompareWeights),
                          {artifactOf("r18:2"), artifactOf("r18:3")}, &out));
        const QJsonObject diff = QJsonDocument::fromJson(out).object();
        QCOMPARE(diff.value("conv1").toDouble(), 0.0);
        QCOMPARE(diff.value("layer4").toDouble(), 0.0);
        QVERIFY2(diff.value("fc").toDouble() > 0.0, out.constData());
    }
};

QTEST_GUILESS_MAIN(TestBringYourOwnModel)
#include "tst_byom.moc"
