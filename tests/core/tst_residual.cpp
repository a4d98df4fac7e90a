// The spec's residual block: parsing, the identity or projection shortcut, summary rows and
// totals, the errors a person sees, and the TorchScript model built from it.

#include "TestSupport.h"
#include "models/ArchSpec.h"
#include "models/Model.h"

#include <QJsonArray>
#include <QJsonDocument>
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

const LayerSummary *row(const ModelSummary &s, const QString &name)
{
    for (const LayerSummary &l : s.layers) {
        if (l.name == name)
            return &l;
    }
    return nullptr;
}

// An image block that keeps the shape, one that halves it and doubles the channels, then a
// block on features whose body changes the width (a linear projection) with a nested block.
const QByteArray kSpec = R"({
  "name": "res", "input_shape": [2, 8, 8], "num_classes": 3,
  "layers": [
    {"type": "Residual", "layers": [{"type": "conv2d", "out": 2, "kernel": 3, "padding": 1}]},
    {"type": "residual", "activation": "GELU", "layers": [
        {"type": "conv2d", "out": 4, "kernel": 3, "stride": 2, "padding": 1},
        {"type": "batchnorm"}]},
    {"type": "flatten"},
    {"type": "residual", "activation": "none", "layers": [
        {"type": "linear", "out": 6},
        {"type": "residual", "shortcut": "projection", "layers": [{"type": "relu"}]}]},
    {"type": "linear", "out": "num_classes"}
  ]})";

} // namespace

class tst_Residual : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void shortcutsAndSummary()
    {
        const ArchSpec spec = ArchSpec::fromJson(parse(kSpec));
        // Normalised: types and words lower case, nested layers too.
        const QJsonObject second = spec.toJson()["layers"].toArray()[1].toObject();
        QCOMPARE(second["activation"].toString(), QStringLiteral("gelu"));
        QCOMPARE(spec.toJson()["layers"].toArray()[0].toObject()["type"].toString(),
                 QStringLiteral("residual"));

        const std::vector<LayerPlan> plan = spec.plan();
        QCOMPARE(plan[0].shortcut.size(), size_t(0));   // 2x8x8 -> 2x8x8: identity
        QCOMPARE(plan[1].shortcut.size(), size_t(1));
        QCOMPARE(plan[1].shortcut[0].type, QStringLiteral("conv2d"));
        QCOMPARE(plan[1].shortcut[0].stride[0], qint64(2));
        QCOMPARE(plan[1].outputShape, (std::vector<qint64>{4, 4, 4}));
        QCOMPARE(plan[3].shortcut[0].type, QStringLiteral("linear"));   // 64 -> 6 features

        const ModelSummary s = spec.summary();
        QStringList names;
        for (const LayerSummary &l : s.layers)
            names << l.name;
        QCOMPARE(names, (QStringList{"residual0.conv2d0", "residual0", "residual1.conv2d0",
                                     "residual1.batchnorm1", "residual1.shortcut", "residual1",
                                     "flatten2", "residual3.linear0",
                                     "residual3.residual1.relu0",
                                     "residual3.residual1.shortcut", "residual3.residual1",
                                     "residual3.shortcut", "residual3", "linear4"}));
        // Inner layers and projections carry the weights; the sums none.
        QCOMPARE(row(s, "residual0.conv2d0")->params, qint64(2 * 2 * 9 + 2));
        QCOMPARE(row(s, "residual0")->params, qint64(0));
        QCOMPARE(row(s, "residual1.shortcut")->params, qint64(2 * 4));   // 1x1, no bias
        QCOMPARE(row(s, "residual1.shortcut")->macs, qint64(2 * 4 * 4 * 4));
        QCOMPARE(row(s, "residual3.residual1.shortcut")->params, qint64(6 * 6));
        QCOMPARE(row(s, "residual3.shortcut")->params, qint64(64 * 6));
        qint64 total = 0;
        for (const LayerSummary &l : s.layers)
            total += l.params;
        QCOMPARE(s.totalParams, total);
        // The block's LayerPlan counts its whole body and shortcut.
        QCOMPARE(plan[1].params, row(s, "residual1.conv2d0")->params
                                     + row(s, "residual1.batchnorm1")->params
                                     + row(s, "residual1.shortcut")->params);
    }

    void errors_data()
    {
        QTest::addColumn<QByteArray>("layers");
        QTest::addColumn<QString>("expected");
        QTest::newRow("no body") << QByteArray(R"([{"type": "residual"}])")
                                 << "layer 0 (residual): missing required key \"layers\"";
        QTest::newRow("empty body") << QByteArray(R"([{"type": "residual", "layers": []}])")
                                    << "\"layers\" must be a non-empty list";
        QTest::newRow("inner typo")
            << QByteArray(R"([{"type": "residual", "layers": [{"type": "relu", "p": 1}]}])")
            << "layer 0 (residual), layer 0 (relu): unknown key \"p\"";
        QTest::newRow("bad shortcut")
            << QByteArray(R"([{"type": "residual", "shortcut": "1x1",
                             "layers": [{"type": "relu"}]}])")
            << "\"shortcut\" must be one of: auto, identity, projection";
        QTest::newRow("identity cannot fit")
            << QByteArray(R"([{"type": "residual", "shortcut": "identity",
                             "layers": [{"type": "conv2d", "out": 3, "kernel": 1}]}])")
            << "the body turns 1x4x4 into 3x4x4, so the shortcut cannot be the identity";
        QTest::newRow("rank change")
            << QByteArray(R"([{"type": "residual", "layers": [{"type": "flatten"}]}])")
            << "keep flatten outside the block";
        QTest::newRow("inner shape")
            << QByteArray(R"([{"type": "residual", "layers": [{"type": "linear", "out": 2}]}])")
            << "layer 0 (residual), layer 0 (linear): expects flat features";
    }

    void errors()
    {
        QFETCH(QByteArray, layers);
        QFETCH(QString, expected);
        const QByteArray json = R"({"input_shape": [1, 4, 4], "num_classes": 2, "layers": )"
                                + layers + "}";
        const QString error = errorOf([&] { ArchSpec::fromJson(parse(json)); });
        QVERIFY2(error.contains(expected), qPrintable(error));
    }

    // The TorchScript module has the block's structure and as many parameters as the summary
    // says; eval-mode logits have the right shape and do not depend on the batch.
    void buildsAndRuns()
    {
        const ArchSpec spec = ArchSpec::fromJson(parse(kSpec));
        const Model model = Model::build(spec.toJson(), ModelDataInfo{}, 3);
        QCOMPARE(model.parameterCount(), spec.summary().totalParams);
        std::vector<float> x(2 * 2 * 8 * 8);
        for (size_t i = 0; i < x.size(); ++i)
            x[i] = float((i * 37) % 11) / 11.0f;
        const std::vector<float> both = model.predict(x, {2, 2, 8, 8});
        QCOMPARE(both.size(), size_t(2 * 3));
        const std::vector<float> first(x.begin(), x.begin() + 128);
        const std::vector<float> alone = model.predict(first, {1, 2, 8, 8});
        for (size_t i = 0; i < 3; ++i)
            QVERIFY(ms::test::closeTo(alone[i], both[i], 1e-5));   // batch 1 against batch 2
    }
};

QTEST_GUILESS_MAIN(tst_Residual)
#include "tst_residual.moc"
