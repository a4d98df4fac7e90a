// Int8 and half-precision methods: agreement with the fp32 source on real test images, artifact
// sizes, the quantized engine recorded and honoured on reload (here and in Python), and the
// refusals that come before any work.

#include "TestSupport.h"
#include "compress/CompressionMethod.h"
#include "data/DatasetRegistry.h"
#include "jobs/JobContext.h"
#include "models/Model.h"
#include "train/TrainJob.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <optional>

using namespace ms;
using namespace ms::test;

namespace {

constexpr qint64 kLimit = 1500;   // training images; the test split is capped to as many

QJsonObject defaults(const CompressionMethod &method, const QJsonObject &given = {})
{
    QJsonObject params;
    for (const CompressParameter &p : method.parameters())
        params.insert(p.name, p.defaultValue);
    for (auto it = given.begin(); it != given.end(); ++it)
        params.insert(it.key(), it.value());
    return params;
}

int argmax(const float *row, int n)
{
    return int(std::max_element(row, row + n) - row);
}

} // namespace

class tst_Quantize : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void variantsAgreeWithFp32_data();
    void variantsAgreeWithFp32();
    void engineRecordedAndReloaded();
    void pythonRunsTheVariant_data();
    void pythonRunsTheVariant();
    void importedModuleDynamic();
    void graphPathOnStudioModels();
    void graphPathChecksAndRefinements();
    void refusals();
    void loadRefusesAMissingEngine();

private:
    // Trains `arch` for one epoch on kLimit images (cached per arch), saved at model(arch).
    Model trained(const QString &arch);
    QString modelPath(const QString &arch) const { return m_dir.filePath(arch + "-fp32.pt"); }
    CompressOutput compress(const QString &method, const Model &source,
                            const QJsonObject &params = {});
    std::vector<float> testImages(qint64 count) const;

    QTemporaryDir m_dir;
    std::optional<Dataset> m_data;
    QMap<QString, Model> m_trained;
};

void tst_Quantize::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_dir.isValid());
    DatasetOptions options;
    options.limit = kLimit;
    m_data = DatasetRegistry::instance().load(options);
    QVERIFY(m_data->test.count() >= 300);

    // Every stage static int8 has: BatchNorm folded into a conv (with and without bias) and into
    // a linear, Conv+ReLU and Linear+ReLU fused, GELU and a lone BatchNorm in fp32 between a
    // dequantize and a quantize, max and average pooling, dropout dropped.
    const QJsonObject spec{
        {"name", "every-stage"},
        {"layers", QJsonArray{
            QJsonObject{{"type", "conv2d"}, {"out", 8}, {"kernel", 3}, {"padding", 1}},
            QJsonObject{{"type", "batchnorm"}}, QJsonObject{{"type", "relu"}},
            QJsonObject{{"type", "maxpool2d"}, {"kernel", 2}},
            QJsonObject{{"type", "conv2d"}, {"out", 16}, {"kernel", 3}, {"padding", 1},
                        {"bias", false}},
            QJsonObject{{"type", "batchnorm"}}, QJsonObject{{"type", "gelu"}},
            QJsonObject{{"type", "avgpool2d"}, {"kernel", 2}},
            QJsonObject{{"type", "batchnorm"}},
            QJsonObject{{"type", "dropout"}, {"p", 0.2}},
            QJsonObject{{"type", "flatten"}},
            QJsonObject{{"type", "linear"}, {"out", 32}}, QJsonObject{{"type", "batchnorm"}},
            QJsonObject{{"type", "relu"}},
            QJsonObject{{"type", "linear"}, {"out", "num_classes"}}}}};
    QVERIFY(writeFile(m_dir.filePath("every-stage.json"), QJsonDocument(spec).toJson()));
}

Model tst_Quantize::trained(const QString &arch)
{
    if (m_trained.contains(arch))
        return m_trained.value(arch);
    TrainConfig c;
    c.arch = arch == QLatin1String("every-stage") ? m_dir.filePath("every-stage.json") : arch;
    c.epochs = 1;
    c.batchSize = 64;
    c.limit = kLimit;
    c.threads = 1;
    TrainJob job(c, m_dir.filePath(QStringLiteral("run-") + arch), modelPath(arch));
    JobContext context;
    const JobResult result = job.run(context);
    if (result.status != JobStatus::Finished)
        qFatal("training %s failed: %s", qPrintable(arch), qPrintable(result.message));
    const Model model = Model::load(modelPath(arch));
    m_trained.insert(arch, model);
    return model;
}

CompressOutput tst_Quantize::compress(const QString &method, const Model &source,
                                      const QJsonObject &params)
{
    const std::shared_ptr<CompressionMethod> m = CompressionRegistry::instance().method(method);
    CompressInput input;
    input.model = source;
    input.params = defaults(*m, params);
    input.workDir = m_dir.path();
    const Dataset *data = &*m_data;
    input.dataset = [data]() -> const Dataset & { return *data; };
    m->check(source, VersionRecord(), input.params);
    JobContext context;
    return m->apply(input, context);
}

std::vector<float> tst_Quantize::testImages(qint64 count) const
{
    return std::vector<float>(m_data->test.features.begin(),
                              m_data->test.features.begin() + count * 784);
}

void tst_Quantize::variantsAgreeWithFp32_data()
{
    QTest::addColumn<QString>("arch");
    QTest::addColumn<QString>("method");
    QTest::addColumn<QJsonObject>("params");
    QTest::addColumn<double>("maxSizeRatio");   // artifact size against the fp32 artifact

    QTest::newRow("cnn static onednn histogram") << "cnn" << "quantize-static"
        << QJsonObject{{"engine", "onednn"}} << 0.35;
    QTest::newRow("cnn static qnnpack minmax") << "cnn" << "quantize-static"
        << QJsonObject{{"engine", "qnnpack"}, {"observer", "minmax"}} << 0.35;
    QTest::newRow("mlp static auto") << "mlp" << "quantize-static" << QJsonObject{} << 0.35;
    // Small layers: the packed params' fixed overhead weighs more, hence the looser bound.
    QTest::newRow("every stage static") << "every-stage" << "quantize-static"
        << QJsonObject{{"engine", "onednn"}} << 0.6;
    QTest::newRow("mlp dynamic onednn") << "mlp" << "quantize-dynamic"
        << QJsonObject{{"engine", "onednn"}} << 0.35;
    QTest::newRow("mlp dynamic qnnpack") << "mlp" << "quantize-dynamic"
        << QJsonObject{{"engine", "qnnpack"}} << 0.35;
    QTest::newRow("cnn fp16") << "cnn" << "fp16" << QJsonObject{} << 0.6;
    QTest::newRow("mlp bf16") << "mlp" << "bf16" << QJsonObject{} << 0.6;
}

void tst_Quantize::variantsAgreeWithFp32()
{
    QFETCH(QString, arch);
    QFETCH(QString, method);
    QFETCH(QJsonObject, params);
    QFETCH(double, maxSizeRatio);

    const Model source = trained(arch);
    const CompressOutput out = compress(method, source, params);
    QVERIFY(!out.model.isNull());
    QCOMPARE(out.kind, VersionKind::Quantized);
    // The studio's attributes travel with the variant: clients need nothing else.
    QCOMPARE(out.model.classNames(), source.classNames());
    QCOMPARE(out.model.inputShape(), source.inputShape());
    QCOMPARE(out.model.spec(), source.spec());
    // Packed int8 weights and frozen half constants still count as parameters; folding
    // BatchNorm into the weights removes its own.
    if (arch == QLatin1String("every-stage") && method == QLatin1String("quantize-static"))
        QVERIFY(out.model.parameterCount() < source.parameterCount());
    else
        QCOMPARE(out.model.parameterCount(), source.parameterCount());

    const qint64 n = m_data->test.count();
    const std::vector<float> x = testImages(n);
    const std::vector<float> ref = source.predict(x, {n, 1, 28, 28});
    const std::vector<float> got = out.model.predict(x, {n, 1, 28, 28});
    QCOMPARE(got.size(), ref.size());
    int agree = 0;
    for (qint64 i = 0; i < n; ++i)
        agree += argmax(&ref[size_t(i * 10)], 10) == argmax(&got[size_t(i * 10)], 10);
    const double agreement = double(agree) / double(n);
    QVERIFY2(agreement >= 0.95, qPrintable(QStringLiteral("top-1 agreement %1 on %2 images")
                                               .arg(agreement).arg(n)));

    const QString path =
        m_dir.filePath(QStringLiteral("%1-%2.pt").arg(arch, QTest::currentDataTag()));
    out.model.save(path);
    const double ratio = double(QFileInfo(path).size()) / double(QFileInfo(modelPath(arch)).size());
    qInfo("top-1 agreement %.4f on %lld images, artifact %.3f of fp32", agreement,
          static_cast<long long>(n), ratio);
    QVERIFY2(ratio <= maxSizeRatio,
             qPrintable(QStringLiteral("artifact at %1 of fp32").arg(ratio)));
    if (arch == QLatin1String("every-stage")) {
        const QJsonArray stages = out.details.value("stages").toArray();
        QVERIFY(stages.contains("conv2d0+batchnorm1+relu2"));
        QVERIFY(stages.contains("conv2d4+batchnorm5"));
        QVERIFY(stages.contains("batchnorm8"));
        QVERIFY(stages.contains("linear11+batchnorm12+relu13"));
        QVERIFY(!stages.contains("dropout9"));
    }
    if (method.startsWith(QLatin1String("quantize"))) {
        QVERIFY(!out.quantizedEngine.isEmpty());
        QCOMPARE(out.details.value("quantized_engine").toString(), out.quantizedEngine);
        if (params.contains("engine"))
            QCOMPARE(out.quantizedEngine, params.value("engine").toString());
    } else {
        QVERIFY(out.quantizedEngine.isEmpty());
        QVERIFY(out.details.value("compute").toString().contains("fp32"));
    }
}

void tst_Quantize::engineRecordedAndReloaded()
{
    const Model source = trained(QStringLiteral("cnn"));
    const qint64 n = 64;
    const std::vector<float> x = testImages(n);
    QMap<QString, std::vector<float>> before;
    for (const QString &engine : {QStringLiteral("qnnpack"), QStringLiteral("onednn")}) {
        const CompressOutput out = compress(QStringLiteral("quantize-static"), source,
                                            {{"engine", engine}});
        QCOMPARE(out.model.quantizedEngine(), engine);
        before.insert(engine, out.model.predict(x, {n, 1, 28, 28}));
        out.model.save(m_dir.filePath(engine + "-reload.pt"));
    }
    // Loading the qnnpack variant after the onednn one (and the other way round) must pack
    // each for its own engine, so both give what they gave before saving.
    for (const QString &engine : {QStringLiteral("qnnpack"), QStringLiteral("onednn"),
                                  QStringLiteral("qnnpack")}) {
        const Model loaded = Model::load(m_dir.filePath(engine + "-reload.pt"));
        QCOMPARE(loaded.quantizedEngine(), engine);
        const std::vector<float> after = loaded.predict(x, {n, 1, 28, 28});
        QCOMPARE(after, before.value(engine));
    }
}

void tst_Quantize::pythonRunsTheVariant_data()
{
    QTest::addColumn<QString>("method");
    QTest::addColumn<QString>("engine");
    QTest::newRow("static onednn") << "quantize-static" << "onednn";
    QTest::newRow("static qnnpack") << "quantize-static" << "qnnpack";
    QTest::newRow("dynamic onednn") << "quantize-dynamic" << "onednn";
    QTest::newRow("fp16") << "fp16" << "";
}

void tst_Quantize::pythonRunsTheVariant()
{
    QFETCH(QString, method);
    QFETCH(QString, engine);
    QByteArray out;
    QVERIFY2(runPython(m_dir.path(), "import torch", {}, &out),
             "/usr/bin/python3 cannot import torch: python3-torch is a required test "
             "dependency; run scripts/setup.sh");
    const Model source = trained(QStringLiteral("cnn"));
    const CompressOutput variant = compress(method, source,
                                            engine.isEmpty() ? QJsonObject()
                                                             : QJsonObject{{"engine", engine}});
    const QString path = m_dir.filePath(QStringLiteral("py-%1.pt").arg(QTest::currentDataTag()));
    variant.model.save(path);
    const Model loaded = Model::load(path);
    const qint64 n = 16;
    const std::vector<float> x = testImages(n);
    const QString inputPath = m_dir.filePath("py-input.f32");
    QVERIFY(writeFile(inputPath, QByteArray(reinterpret_cast<const char *>(x.data()),
                                            int(x.size() * sizeof(float)))));
    const QString script = QStringLiteral(R"(
import json, sys, torch
if sys.argv[3]:
    torch.backends.quantized.engine = sys.argv[3]
m = torch.jit.load(sys.argv[1])
x = torch.frombuffer(bytearray(open(sys.argv[2], 'rb').read()), dtype=torch.float32)
with torch.no_grad():
    y = m(x.reshape(-1, 1, 28, 28))
engine = m.quantized_engine if hasattr(m, 'quantized_engine') else ''
m.eval()   # what a serving handler does first
print(json.dumps({"out": y.flatten().tolist(), "engine": engine, "training": m.training,
                  "classes": list(m.class_names)}))
)");
    QVERIFY(runPython(m_dir.path(), script, {path, inputPath, engine}, &out));
    const QJsonObject r = QJsonDocument::fromJson(out).object();
    QVERIFY2(!r.isEmpty(), out.constData());
    QCOMPARE(r["engine"].toString(), engine);
    QCOMPARE(r["classes"].toArray().size(), 10);
    QCOMPARE(r["training"].toBool(true), false);
    const std::vector<float> ours = loaded.predict(x, {n, 1, 28, 28});
    const QJsonArray theirs = r["out"].toArray();
    QCOMPARE(size_t(theirs.size()), ours.size());
    for (size_t i = 0; i < ours.size(); ++i)
        QVERIFY2(closeTo(theirs[int(i)].toDouble(), ours[i], 1e-4),
                 qPrintable(QStringLiteral("logit %1: python %2, here %3").arg(i)
                                .arg(theirs[int(i)].toDouble()).arg(ours[i])));
}

void tst_Quantize::importedModuleDynamic()
{
    QByteArray out;
    const QString mlpPath = m_dir.filePath("python-mlp.pt");
    const QString convPath = m_dir.filePath("python-conv.pt");
    QVERIFY(runPython(m_dir.path(), QStringLiteral(R"(
import sys, torch, torch.nn as nn
torch.manual_seed(3)
mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 10))
torch.jit.script(mlp).save(sys.argv[1])
conv = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
torch.jit.script(conv).save(sys.argv[2])
)"), {mlpPath, convPath}, &out));

    // A module written by Python: no spec, so the rewrite of aten::linear is the only way in.
    const Model imported = Model::load(mlpPath);
    QVERIFY(imported.spec().isEmpty());
    const CompressOutput variant = compress(QStringLiteral("quantize-dynamic"), imported,
                                            {{"engine", "onednn"}});
    QCOMPARE(variant.details.value("quantized_layers").toArray().size(), 2);
    QVERIFY(variant.details.value("ops_after").toString().contains("quantized::linear_dynamic"));
    QVERIFY(!variant.details.value("ops_after").toString().contains("aten::linear"));
    const qint64 n = 200;
    const std::vector<float> x = testImages(n);
    const std::vector<float> ref = imported.predict(x, {n, 1, 28, 28});
    const std::vector<float> got = variant.model.predict(x, {n, 1, 28, 28});
    int agree = 0;
    for (qint64 i = 0; i < n; ++i)
        agree += argmax(&ref[size_t(i * 10)], 10) == argmax(&got[size_t(i * 10)], 10);
    QVERIFY2(agree >= 0.95 * n, qPrintable(QString::number(agree)));
    const QString path = m_dir.filePath("python-mlp-int8.pt");
    variant.model.save(path);
    QVERIFY(QFileInfo(path).size() < 0.35 * QFileInfo(mlpPath).size());

    // Convolutions only: refused, naming the ops that stand in the way.
    const Model conv = Model::load(convPath);
    const QString message = errorOf([&] { compress(QStringLiteral("quantize-dynamic"), conv); });
    QVERIFY2(message.contains("aten::conv2d") && message.contains("no Linear"),
             qPrintable(message));
    // Static int8 of the same modules goes through LibTorch's graph-mode passes (no spec).
    const CompressOutput graphInt8 = compress(QStringLiteral("quantize-static"), imported,
                                              {{"engine", "onednn"}});
    QCOMPARE(graphInt8.details.value("path").toString(), QStringLiteral("graph"));
    QVERIFY2(graphInt8.details.value("ops").toString().contains("quantized::linear"),
             qPrintable(graphInt8.details.value("ops").toString()));
    const std::vector<float> staticGot = graphInt8.model.predict(x, {n, 1, 28, 28});
    int staticAgree = 0;
    for (qint64 i = 0; i < n; ++i)
        staticAgree += argmax(&ref[size_t(i * 10)], 10) == argmax(&staticGot[size_t(i * 10)], 10);
    QVERIFY2(staticAgree >= 0.95 * n, qPrintable(QString::number(staticAgree)));
    const CompressOutput convInt8 = compress(QStringLiteral("quantize-static"), conv,
                                             {{"engine", "onednn"}, {"observer", "minmax"}});
    QVERIFY2(convInt8.details.value("ops").toString().contains("quantized::conv2d_relu"),
             qPrintable(convInt8.details.value("ops").toString()));
    // --path spec needs a spec.
    const QString specMessage = errorOf([&] {
        compress(QStringLiteral("quantize-static"), imported, {{"path", "spec"}});
    });
    QVERIFY2(specMessage.contains("not built from a studio spec")
                 && specMessage.contains("--path graph"),
             qPrintable(specMessage));
}

void tst_Quantize::graphPathOnStudioModels()
{
    // A studio model takes either path; auto keeps the spec path (bench/README.md: it measured
    // better on the studio's own models), --path graph runs the passes on the same module.
    const Model source = trained(QStringLiteral("cnn"));
    const CompressOutput spec = compress(QStringLiteral("quantize-static"), source,
                                         {{"engine", "onednn"}});
    QCOMPARE(spec.details.value("path").toString(), QStringLiteral("spec"));
    const CompressOutput graph = compress(QStringLiteral("quantize-static"), source,
                                          {{"engine", "onednn"}, {"path", "graph"}});
    QCOMPARE(graph.details.value("path").toString(), QStringLiteral("graph"));
    QVERIFY2(graph.details.value("ops").toString().contains("quantized::conv2d"),
             qPrintable(graph.details.value("ops").toString()));
    // The studio's attributes survive Finalize's freezing.
    QCOMPARE(graph.model.classNames(), source.classNames());
    QCOMPARE(graph.model.inputShape(), source.inputShape());
    QCOMPARE(graph.model.quantizedEngine(), QStringLiteral("onednn"));
    const qint64 n = m_data->test.count();
    const std::vector<float> x = testImages(n);
    const std::vector<float> ref = source.predict(x, {n, 1, 28, 28});
    const std::vector<float> got = graph.model.predict(x, {n, 1, 28, 28});
    int agree = 0;
    for (qint64 i = 0; i < n; ++i)
        agree += argmax(&ref[size_t(i * 10)], 10) == argmax(&got[size_t(i * 10)], 10);
    qInfo("graph path on the studio cnn: top-1 agreement %.4f", double(agree) / double(n));
    QVERIFY2(agree >= 0.95 * n, qPrintable(QString::number(agree)));
    // Reloaded, it gives the same outputs (the engine recorded and set on load).
    const QString path = m_dir.filePath("cnn-graph.pt");
    graph.model.save(path);
    QCOMPARE(Model::load(path).predict(x, {n, 1, 28, 28}), got);
}

void tst_Quantize::graphPathChecksAndRefinements()
{
    QByteArray out;
    const QString dir = m_dir.path();
    QVERIFY(runPython(dir, QStringLiteral(R"(
import sys, torch, torch.nn as nn, torch.nn.functional as F
torch.manual_seed(5)
class Bounded(nn.Module):
    # conv+BatchNorm+ReLU6 as a submodule, conv+hardtanh as a function: both bounded.
    def __init__(self):
        super().__init__()
        self.block = nn.Sequential(nn.Conv2d(1, 8, 3), nn.BatchNorm2d(8), nn.ReLU6())
        self.conv = nn.Conv2d(8, 8, 3)
        self.fc = nn.Linear(8, 10)
    def forward(self, x):
        x = F.hardtanh(self.conv(self.block(x)), -1.0, 1.0)
        return self.fc(x.mean((2, 3)))
class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(784, 10)
    def forward(self, x, y):
        return self.fc(x.flatten(1) + y.flatten(1))
class NanWeight(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU())
        self.fc = nn.Linear(4, 10)
        with torch.no_grad():
            self.features[0].weight[1, 0, 0, 0] = float('nan')
    def forward(self, x):
        return self.fc(self.features(x).mean((2, 3)))
for cls, path in [(Bounded, sys.argv[1]), (TwoInputs, sys.argv[2]), (NanWeight, sys.argv[3])]:
    torch.jit.script(cls().eval()).save(path)
)"), {dir + "/bounded.pt", dir + "/two-inputs.pt", dir + "/nan-weight.pt"}, &out));

    const Model bounded = Model::load(dir + "/bounded.pt");
    const CompressOutput int8 = compress(QStringLiteral("quantize-static"), bounded,
                                         {{"engine", "onednn"}, {"calibration-batches", 2}});
    // The ReLU6 submodule and the hardtanh function each narrow their conv's observer.
    QCOMPARE(int8.details.value("clipped_activations").toInt(), 2);
    const QString ops = int8.details.value("ops").toString();
    QVERIFY2(!ops.contains("batch_norm") && ops.contains("quantized::conv2d x2"), qPrintable(ops));

    const QString twoInputs = errorOf([&] {
        compress(QStringLiteral("quantize-static"), Model::load(dir + "/two-inputs.pt"));
    });
    QVERIFY2(twoInputs.contains("forward takes") && twoInputs.contains("one tensor"),
             qPrintable(twoInputs));
    // A NaN weight is found by its observer during the checks, and the conv named.
    const QString nan = errorOf([&] {
        compress(QStringLiteral("quantize-static"), Model::load(dir + "/nan-weight.pt"),
                 {{"calibration-batches", 1}});
    });
    QVERIFY2(nan.contains("NaN or infinite") && nan.contains("`features.0`"), qPrintable(nan));
}

void tst_Quantize::refusals()
{
    const Model source = trained(QStringLiteral("mlp"));
    const auto method = CompressionRegistry::instance().method(QStringLiteral("quantize-static"));
    auto checkWith = [&](const QJsonObject &given) {
        return errorOf([&] { method->check(source, VersionRecord(), defaults(*method, given)); });
    };
    QVERIFY(checkWith({}).isEmpty());
    QVERIFY2(checkWith({{"calibration-batches", 0}}).contains("calibration set of 0"),
             qPrintable(checkWith({{"calibration-batches", 0}})));
    // FBGEMM is a real PyTorch engine that Debian's LibTorch does not ship.
    const QString lacking = checkWith({{"engine", "fbgemm"}});
    QVERIFY2(lacking.contains("lacks the quantized engine \"fbgemm\"")
                 && lacking.contains("onednn"),
             qPrintable(lacking));
    QVERIFY(checkWith({{"engine", "tpu"}}).contains("Unknown quantized engine"));
    const auto dynamic = CompressionRegistry::instance().method(QStringLiteral("quantize-dynamic"));
    QVERIFY(errorOf([&] {
                dynamic->check(source, VersionRecord(), {{"engine", "fbgemm"}});
            }).contains("lacks"));
    // An int8 variant is not quantized again.
    const CompressOutput int8 = compress(QStringLiteral("quantize-static"), source,
                                         {{"engine", "onednn"}});
    QVERIFY(errorOf([&] { method->check(int8.model, VersionRecord(), defaults(*method)); })
                .contains("already int8"));
}

void tst_Quantize::loadRefusesAMissingEngine()
{
    // An artifact made where FBGEMM exists (Python's own builds have it): the attribute is
    // rewritten by Python here, since this build cannot make one.
    const CompressOutput int8 = compress(QStringLiteral("quantize-static"),
                                         trained(QStringLiteral("mlp")), {{"engine", "onednn"}});
    const QString path = m_dir.filePath("onednn-for-fbgemm.pt");
    int8.model.save(path);
    const QString fbgemmPath = m_dir.filePath("fbgemm.pt");
    QByteArray out;
    QVERIFY(runPython(m_dir.path(), QStringLiteral(R"(
import sys, torch
torch.backends.quantized.engine = 'onednn'
m = torch.jit.load(sys.argv[1])
m._c.setattr('quantized_engine', 'fbgemm')
m.save(sys.argv[2])
)"), {path, fbgemmPath}, &out));
    const QString message = errorOf([&] { Model::load(fbgemmPath); });
    QVERIFY2(message.contains("\"fbgemm\" engine, which this LibTorch build lacks")
                 && message.contains(fbgemmPath),
             qPrintable(message));
    QCOMPARE(Model::load(path).quantizedEngine(), QStringLiteral("onednn"));
}

QTEST_GUILESS_MAIN(tst_Quantize)
#include "tst_quantize.moc"
