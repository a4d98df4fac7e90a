// ArchSpec: parsing, shape inference, parameter and MAC counts, the errors a person sees, and
// the architecture registry with its built-in families. No torch involved.

#include "TestSupport.h"
#include "common/Error.h"
#include "common/ShapeText.h"
#include "models/ArchSpec.h"
#include "models/ArchitectureRegistry.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace ms;
using ms::test::errorOf;

namespace {

QJsonObject parse(const QByteArray &json)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError)
        qFatal("bad test JSON: %s", qPrintable(error.errorString()));
    return doc.object();
}

// Shapes as the spec's messages and summary write them.
QString shapeText(const std::vector<qint64> &shape)
{
    return ms::shapeText(shape, ms::ShapeStyle::Compact);
}

std::vector<qint64> shapeOf(const QString &text)
{
    std::vector<qint64> shape;
    for (const QString &d : text.split(QLatin1Char('x')))
        shape.push_back(d.toLongLong());
    return shape;
}

// The message of the ms::Error that `f` throws, or "" when it throws none.
} // namespace

class tst_ArchSpec : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void builtinSummary_data();
    void builtinSummary();
    void customSpec();
    void caseAndDefaults();
    void errors_data();
    void errors();
    void boundTo();
    void table();
    void summaryJson();
    void registryNames();
    void registryRefusals();
    void registryFile();
};

void tst_ArchSpec::builtinSummary_data()
{
    QTest::addColumn<QString>("arch");
    QTest::addColumn<QString>("input");
    QTest::addColumn<int>("classes");
    QTest::addColumn<QStringList>("names");
    QTest::addColumn<QStringList>("shapes");
    QTest::addColumn<qint64>("params");
    QTest::addColumn<qint64>("macs");

    const QStringList mlpNames{"flatten0", "linear1", "relu2", "linear3", "relu4", "linear5"};
    // 784*256 + 256*128 + 128*10 MACs; (784+1)*256 + (256+1)*128 + (128+1)*10 params.
    QTest::newRow("mlp fashion-mnist")
        << "mlp" << "1x28x28" << 10 << mlpNames
        << QStringList{"784", "256", "256", "128", "128", "10"} << qint64(235146)
        << qint64(200704 + 32768 + 1280);
    QTest::newRow("mlp table")
        << "mlp" << "20" << 3 << mlpNames
        << QStringList{"20", "256", "256", "128", "128", "3"}
        << qint64(21 * 256 + 257 * 128 + 129 * 3) << qint64(20 * 256 + 256 * 128 + 128 * 3);

    const QStringList cnnNames{"conv2d0", "relu1", "maxpool2d2", "conv2d3", "relu4",
                               "maxpool2d5", "flatten6", "linear7"};
    // conv0: 32*28*28 * 1*5*5; conv3: 64*14*14 * 32*5*5; linear7: 3136*10.
    QTest::newRow("cnn fashion-mnist")
        << "cnn" << "1x28x28" << 10 << cnnNames
        << QStringList{"32x28x28", "32x28x28", "32x14x14", "64x14x14", "64x14x14", "64x7x7",
                       "3136", "10"}
        << qint64(83466) << qint64(627200 + 10035200 + 31360);
    // 3x32x32: conv0 (3*25+1)*32, conv3 (32*25+1)*64, linear (4096+1)*10.
    QTest::newRow("cnn cifar-like")
        << "cnn" << "3x32x32" << 10 << cnnNames
        << QStringList{"32x32x32", "32x32x32", "32x16x16", "64x16x16", "64x16x16", "64x8x8",
                       "4096", "10"}
        << qint64(76 * 32 + 801 * 64 + 4097 * 10)
        << qint64(32 * 1024 * 75 + 64 * 256 * 800 + 4096 * 10);
}

void tst_ArchSpec::builtinSummary()
{
    QFETCH(QString, arch);
    QFETCH(QString, input);
    QFETCH(int, classes);
    QFETCH(QStringList, names);
    QFETCH(QStringList, shapes);
    QFETCH(qint64, params);
    QFETCH(qint64, macs);

    const QJsonObject json = ArchitectureRegistry::instance().resolve(arch, shapeOf(input),
                                                                      classes);
    const ArchSpec spec = ArchSpec::fromJson(json);
    QCOMPARE(spec.name(), arch);
    QCOMPARE(shapeText(spec.inputShape()), input);
    QCOMPARE(spec.numClasses(), classes);
    const ModelSummary s = spec.summary();
    QCOMPARE(s.layers.size(), names.size());
    qint64 sumParams = 0;
    qint64 sumMacs = 0;
    for (int i = 0; i < names.size(); ++i) {
        QCOMPARE(s.layers[i].name, names[i]);
        QCOMPARE(shapeText(s.layers[i].outputShape), shapes[i]);
        sumParams += s.layers[i].params;
        sumMacs += s.layers[i].macs;
    }
    QCOMPARE(s.totalParams, params);
    QCOMPARE(s.totalMacs, macs);
    QCOMPARE(sumParams, params);
    QCOMPARE(sumMacs, macs);
}

void tst_ArchSpec::customSpec()
{
    const ArchSpec spec = ArchSpec::fromJson(parse(R"({
        "name": "custom", "input_shape": [3, 16, 16], "num_classes": 4,
        "layers": [
            {"type": "conv2d", "out": 8, "kernel": [3, 5], "padding": [1, 2], "bias": false},
            {"type": "batchnorm"},
            {"type": "gelu"},
            {"type": "avgpool2d", "kernel": 2},
            {"type": "maxpool2d", "kernel": 3, "stride": 2, "padding": 1},
            {"type": "flatten"},
            {"type": "dropout", "p": 0.25},
            {"type": "linear", "out": 32},
            {"type": "batchnorm", "eps": 0.001, "momentum": 0.01},
            {"type": "relu"},
            {"type": "linear", "out": "num_classes"}
        ]})"));
    const ModelSummary s = spec.summary();
    const QStringList shapes{"8x16x16", "8x16x16", "8x16x16", "8x8x8", "8x4x4", "128", "128",
                             "32", "32", "32", "4"};
    // conv without bias 8*3*3*5; batchnorm 2*C (running stats are buffers); linear (in+1)*out.
    const QVector<qint64> params{360, 16, 0, 0, 0, 0, 0, 4128, 64, 0, 132};
    // conv 8*16*16 * 3*3*5; batchnorm one per element; linear in*out.
    const QVector<qint64> macs{92160, 2048, 0, 0, 0, 0, 0, 4096, 32, 0, 128};
    QCOMPARE(s.layers.size(), shapes.size());
    for (int i = 0; i < shapes.size(); ++i) {
        QCOMPARE(shapeText(s.layers[i].outputShape), shapes[i]);
        QCOMPARE(s.layers[i].params, params[i]);
        QCOMPARE(s.layers[i].macs, macs[i]);
    }
    QCOMPARE(s.totalParams, qint64(4700));
    QCOMPARE(s.totalMacs, qint64(98464));

    const std::vector<LayerPlan> plan = spec.plan();
    QCOMPARE(plan[0].bias, false);
    QCOMPARE(plan[0].kernel[1], qint64(5));
    QCOMPARE(plan[3].stride[0], qint64(2));   // a pool's stride defaults to its kernel
    QCOMPARE(plan[8].eps, 0.001);
    QCOMPARE(plan[6].p, 0.25);
}

void tst_ArchSpec::caseAndDefaults()
{
    const ArchSpec spec = ArchSpec::fromJson(parse(R"({
        "layers": [{"type": "Flatten"}, {"type": "LINEAR", "out": "num_classes"}]})"));
    QVERIFY(!spec.isBound());
    QCOMPARE(spec.toJson()["layers"].toArray()[1].toObject()["type"].toString(), "linear");
    QVERIFY(errorOf([&] { spec.summary(); }).contains("input_shape"));
    const ArchSpec bound = spec.boundTo({5}, 2);
    QCOMPARE(bound.summary().totalParams, qint64(12));
    // The symbolic "out" survives binding: the bound spec can still be re-read anywhere.
    QCOMPARE(bound.toJson()["layers"].toArray()[1].toObject()["out"].toString(), "num_classes");
}

void tst_ArchSpec::errors_data()
{
    QTest::addColumn<QByteArray>("json");
    QTest::addColumn<QStringList>("expected");

    QTest::newRow("unknown layer")
        << QByteArray(R"({"input_shape": [1, 8, 8], "num_classes": 2, "layers": [
              {"type": "conv2d", "out": 4, "kernel": 3}, {"type": "relu"}, {"type": "flatten"},
              {"type": "linear", "out": 2}, {"type": "conv3d"}]})")
        << QStringList{"layer 4: unknown type \"conv3d\"", "known: linear, conv2d"};
    QTest::newRow("linear without flatten")
        << QByteArray(R"({"input_shape": [1, 28, 28], "num_classes": 10, "layers": [
              {"type": "conv2d", "out": 32, "kernel": 5, "padding": 2}, {"type": "relu"},
              {"type": "maxpool2d", "kernel": 2}, {"type": "linear", "out": 10}]})")
        << QStringList{"layer 3 (linear): expects flat features but gets 32x14x14; "
                       "add a {\"type\": \"flatten\"} before it"};
    QTest::newRow("kernel bigger than input")
        << QByteArray(R"({"input_shape": [1, 3, 3], "num_classes": 2, "layers": [
              {"type": "conv2d", "out": 4, "kernel": 5}, {"type": "flatten"},
              {"type": "linear", "out": 2}]})")
        << QStringList{"layer 0 (conv2d)", "input 1x3x3", "kernel 5x5"};
    QTest::newRow("pool too big")
        << QByteArray(R"({"input_shape": [1, 4, 4], "num_classes": 2, "layers": [
              {"type": "maxpool2d", "kernel": 2}, {"type": "avgpool2d", "kernel": 3},
              {"type": "flatten"}, {"type": "linear", "out": 2}]})")
        << QStringList{"layer 1 (avgpool2d)", "output would be 0x0", "input 1x2x2"};
    QTest::newRow("last layer not num_classes")
        << QByteArray(R"({"input_shape": [6], "num_classes": 10, "layers": [
              {"type": "linear", "out": 16}, {"type": "relu"}, {"type": "linear", "out": 5}]})")
        << QStringList{"layer 2 (linear)", "outputs 5", "num_classes = 10"};
    QTest::newRow("last layer not flat")
        << QByteArray(R"({"input_shape": [1, 8, 8], "num_classes": 3, "layers": [
              {"type": "conv2d", "out": 3, "kernel": 8}]})")
        << QStringList{"layer 0 (conv2d)", "outputs 3x1x1", "flatten"};
    QTest::newRow("missing key")
        << QByteArray(R"({"layers": [{"type": "flatten"}, {"type": "relu"},
              {"type": "conv2d", "out": 8}]})")
        << QStringList{"layer 2 (conv2d): missing required key \"kernel\""};
    QTest::newRow("missing type")
        << QByteArray(R"({"layers": [{"out": 8}]})")
        << QStringList{"layer 0: missing required key \"type\""};
    QTest::newRow("unknown key")
        << QByteArray(R"({"layers": [{"type": "conv2d", "out": 8, "kernal": 3,
              "kernel": 3}]})")
        << QStringList{"layer 0 (conv2d): unknown key \"kernal\"", "allowed: out, kernel"};
    QTest::newRow("conv on a table")
        << QByteArray(R"({"input_shape": [20], "num_classes": 2, "layers": [
              {"type": "conv2d", "out": 8, "kernel": 3}]})")
        << QStringList{"layer 0 (conv2d): expects a CxHxW image but gets 20"};
    QTest::newRow("bad value")
        << QByteArray(R"({"layers": [{"type": "dropout", "p": 1.5}]})")
        << QStringList{"layer 0 (dropout): \"p\""};
    QTest::newRow("bad out")
        << QByteArray(R"({"layers": [{"type": "linear", "out": 0}]})")
        << QStringList{"layer 0 (linear): \"out\" must be a positive integer"};
    QTest::newRow("no layers")
        << QByteArray(R"({"input_shape": [3], "num_classes": 2})")
        << QStringList{"\"layers\""};
    QTest::newRow("bad input shape")
        << QByteArray(R"({"input_shape": [1, 0], "layers": [{"type": "relu"}]})")
        << QStringList{"\"input_shape\""};
}

void tst_ArchSpec::errors()
{
    QFETCH(QByteArray, json);
    QFETCH(QStringList, expected);
    const QString message = errorOf([&] { ArchSpec::fromJson(parse(json)); });
    QVERIFY2(!message.isEmpty(), "no error thrown");
    for (const QString &part : expected)
        QVERIFY2(message.contains(part), qPrintable(message));
}

void tst_ArchSpec::boundTo()
{
    const ArchSpec fixed = ArchSpec::fromJson(parse(R"({"input_shape": [1, 28, 28],
        "num_classes": 10, "layers": [{"type": "flatten"}, {"type": "linear", "out": 10}]})"));
    QCOMPARE(fixed.boundTo({1, 28, 28}, 10).summary().totalParams, qint64(7850));
    QCOMPARE(fixed.boundTo({}, 0).numClasses(), 10);
    QString message = errorOf([&] { fixed.boundTo({3, 32, 32}, 10); });
    QVERIFY2(message.contains("1x28x28") && message.contains("3x32x32"), qPrintable(message));
    message = errorOf([&] { fixed.boundTo({1, 28, 28}, 5); });
    QVERIFY2(message.contains("num_classes 10") && message.contains("5"), qPrintable(message));
}

void tst_ArchSpec::table()
{
    const ModelSummary s = ArchSpec::fromJson(
        ArchitectureRegistry::instance().resolve("cnn", {1, 28, 28}, 10)).summary();
    const QString text = s.table();
    QVERIFY2(text.contains("conv2d0") && text.contains("32x28x28") && text.contains("83,466")
                 && text.contains("10,693,760") && text.contains("627,200")
                 && text.contains("Total"),
             qPrintable(text));
    // Numbers are right-aligned: every layer row ends at the same column.
    const QStringList lines = text.trimmed().split(QLatin1Char('\n'));
    QCOMPARE(lines.size(), 1 + 1 + 8 + 1 + 1);   // header, input, layers, rule, total
    const int width = int(lines[2].size());
    for (int i = 2; i < lines.size(); ++i)
        QCOMPARE(int(lines[i].size()), width);
    QVERIFY(lines[0].startsWith("Layer"));
}

void tst_ArchSpec::summaryJson()
{
    const QJsonObject json = ArchSpec::fromJson(
        ArchitectureRegistry::instance().resolve("mlp", {1, 28, 28}, 10)).summary().toJson();
    QCOMPARE(json["total_params"].toInteger(), qint64(235146));
    QCOMPARE(json["total_macs"].toInteger(), qint64(234752));
    QCOMPARE(json["input_shape"].toArray(), QJsonArray({1, 28, 28}));
    const QJsonObject first = json["layers"].toArray()[1].toObject();
    QCOMPARE(first["name"].toString(), "linear1");
    QCOMPARE(first["type"].toString(), "linear");
    QCOMPARE(first["output_shape"].toArray(), QJsonArray({256}));
    QCOMPARE(first["params"].toInteger(), qint64(200960));
    QCOMPARE(first["macs"].toInteger(), qint64(200704));
}

void tst_ArchSpec::registryNames()
{
    auto &providers = ArchitectureRegistry::instance().providers();
    QVERIFY(providers.names().contains("mlp"));
    QVERIFY(providers.names().contains("cnn"));
    QVERIFY(providers.find("mlp")->description().contains("235,146"));
    QVERIFY(providers.find("cnn")->description().contains("83,466"));
    // Built-ins hold their names like any plugin's would: a second "cnn" is refused.
    const QString message = errorOf([&] {
        providers.add(ArchitectureRegistry::instance().providers().find("cnn"));
    });
    QVERIFY2(message.contains("\"cnn\" is already registered"), qPrintable(message));
    // An open spec (no data yet) is still a valid spec.
    const QJsonObject open = ArchitectureRegistry::instance().resolve("cnn", {}, 0);
    QVERIFY(!ArchSpec::fromJson(open).isBound());
}

void tst_ArchSpec::registryRefusals()
{
    QString message = errorOf([] { ArchitectureRegistry::instance().resolve("cnn", {20}, 3); });
    QVERIFY2(message.contains("cnn") && message.contains("20") && message.contains("mlp"),
             qPrintable(message));
    message = errorOf([] { ArchitectureRegistry::instance().resolve("resnet", {20}, 3); });
    QVERIFY2(message.contains("\"resnet\"") && message.contains("cnn, gpt, mlp"),
             qPrintable(message));
}

void tst_ArchSpec::registryFile()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString good = dir.filePath("tiny.json");
    QFile f(good);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"layers": [{"type": "flatten"}, {"type": "linear", "out": "num_classes"}]})");
    f.close();
    const QJsonObject spec = ArchitectureRegistry::instance().resolve(good, {2, 3}, 4);
    QCOMPARE(spec["name"].toString(), "tiny");
    QCOMPARE(ArchSpec::fromJson(spec).summary().totalParams, qint64(6 * 4 + 4));

    const QString bad = dir.filePath("bad.json");
    QFile b(bad);
    QVERIFY(b.open(QIODevice::WriteOnly));
    b.write(R"({"layers": [{"type": "flatten"},]})");
    b.close();
    QString message = errorOf([&] { ArchitectureRegistry::instance().resolve(bad, {4}, 2); });
    QVERIFY2(message.contains(bad) && message.contains("offset"), qPrintable(message));

    const QString wrong = dir.filePath("wrong.json");
    QFile w(wrong);
    QVERIFY(w.open(QIODevice::WriteOnly));
    w.write(R"({"layers": [{"type": "linear", "out": 3}]})");
    w.close();
    message = errorOf([&] { ArchitectureRegistry::instance().resolve(wrong, {1, 4, 4}, 3); });
    QVERIFY2(message.contains(wrong) && message.contains("layer 0 (linear)"),
             qPrintable(message));
}

QTEST_GUILESS_MAIN(tst_ArchSpec)
#include "tst_archspec.moc"
