// ms::diffVersions, the comparison behind `modelstudio-cli diff` and the window's Diff: which
// fields are listed, which count as the same, the deltas, and nested recipe keys.
#include "registry/VersionDiff.h"

#include <QtTest>

namespace {

ms::VersionRecord version(int number)
{
    ms::VersionRecord v;
    v.id = number;
    v.modelName = QStringLiteral("m");
    v.number = number;
    v.created = QDateTime(QDate(2026, 1, number), QTime(12, 0), Qt::UTC);
    v.sha256 = QStringLiteral("ab").repeated(32);
    v.parameterCount = 1000;
    v.sizeBytes = 4096;
    v.inputs = {ms::TensorSignature{QStringLiteral("input"), QStringLiteral("float32"),
                                    {-1, 4}}};
    v.recipe = QJsonObject{{QStringLiteral("arch"), QStringLiteral("mlp")},
                           {QStringLiteral("lr"), 0.001},
                           {QStringLiteral("arch_spec"),
                            QJsonObject{{QStringLiteral("hidden"), 128}}}};
    v.metrics = QJsonObject{{QStringLiteral("val_acc"), 0.8}};
    return v;
}

const ms::VersionDiffField *find(const QVector<ms::VersionDiffField> &rows, const QString &f)
{
    for (const ms::VersionDiffField &row : rows) {
        if (row.field == f)
            return &row;
    }
    return nullptr;
}

} // namespace

class TestVersionDiff final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void identicalVersionsAreTheSame()
    {
        const ms::VersionRecord a = version(1);
        const QVector<ms::VersionDiffField> rows = ms::diffVersions(a, a);
        for (const ms::VersionDiffField &row : rows)
            QVERIFY2(row.same, qPrintable(row.field));
        // The recipe collapses to one row saying it is equal.
        const ms::VersionDiffField *recipe = find(rows, QStringLiteral("recipe"));
        QVERIFY(recipe);
        QVERIFY(recipe->same);
        QVERIFY(!find(rows, QStringLiteral("recipe.lr")));
        // Class names appear only when they differ.
        QVERIFY(!find(rows, QStringLiteral("classes")));
    }

    void differencesAndDeltas()
    {
        const ms::VersionRecord a = version(1);
        ms::VersionRecord b = version(2);
        b.parameterCount = 250;
        b.sizeBytes = 1024;
        b.kind = ms::VersionKind::Pruned;
        b.recipe.insert(QStringLiteral("lr"), 0.01);
        b.recipe.insert(QStringLiteral("arch_spec"), QJsonObject{{QStringLiteral("hidden"), 64}});
        b.recipe.insert(QStringLiteral("sparsity"), 0.75);
        b.metrics.insert(QStringLiteral("val_acc"), 0.75);
        b.metrics.insert(QStringLiteral("latency_ms"), 2.0);
        b.classNames = {QStringLiteral("a"), QStringLiteral("b")};

        const QVector<ms::VersionDiffField> rows = ms::diffVersions(a, b);
        const ms::VersionDiffField *params = find(rows, QStringLiteral("params"));
        QVERIFY(params && !params->same);
        QCOMPARE(*params->delta, -750.0);
        QCOMPARE(*find(rows, QStringLiteral("size"))->delta, -3072.0);
        QVERIFY(!find(rows, QStringLiteral("kind"))->same);
        QVERIFY(find(rows, QStringLiteral("inputs"))->same);
        QVERIFY(!find(rows, QStringLiteral("classes"))->same);

        const ms::VersionDiffField *acc = find(rows, QStringLiteral("metrics.val_acc"));
        QVERIFY(acc && acc->delta);
        QVERIFY(std::abs(*acc->delta + 0.05) < 1e-12);
        // A metric only B has: listed, A's side undefined, no delta.
        const ms::VersionDiffField *latency = find(rows, QStringLiteral("metrics.latency_ms"));
        QVERIFY(latency && latency->a.isUndefined() && !latency->delta);

        // Nested settings are named by their dotted key; equal ones are left out.
        QVERIFY(find(rows, QStringLiteral("recipe.arch_spec.hidden")));
        QCOMPARE(find(rows, QStringLiteral("recipe.arch_spec.hidden"))->b.toInt(), 64);
        QVERIFY(find(rows, QStringLiteral("recipe.lr")));
        QVERIFY(find(rows, QStringLiteral("recipe.sparsity"))->a.isUndefined());
        QVERIFY(!find(rows, QStringLiteral("recipe.arch")));
        QVERIFY(!find(rows, QStringLiteral("recipe")));
    }
};

QTEST_MAIN(TestVersionDiff)
#include "tst_versiondiff.moc"
