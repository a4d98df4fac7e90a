// The text-classifier architecture trained through the one training loop on a text folder made
// here: it learns above chance in a few steps, records an int64 [N, T] signature and a layer
// table whose parameters are the model's, ignores padding, reloads in Python with equal
// outputs, and refuses what cannot work before any step.

#include "TestSupport.h"

#include "jobs/JobContext.h"
#include "models/ArchSpec.h"
#include "models/Model.h"
#include "registry/Registry.h"
#include "train/TrainJob.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace ms;
using ms::test::errorOf;

namespace {

bool put(const QString &path, const QByteArray &bytes)
{
    return QDir().mkpath(QFileInfo(path).path()) && ms::test::writeFile(path, bytes);
}

// Three classes told apart by their letters: lower-case words, digits, upper-case words, each
// record of seeded random length and content.
QString makeFolder(const QString &root, int perClass)
{
    QRandomGenerator rng(7);
    const QList<QPair<QString, QByteArray>> classes{
        {QStringLiteral("digits"), "0123456789"},
        {QStringLiteral("lower"), "abcdefghijklmnopqrstuvwxyz"},
        {QStringLiteral("upper"), "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}};
    for (const auto &[name, letters] : classes) {
        for (int i = 0; i < perClass; ++i) {
            QByteArray text;
            const int length = 4 + int(rng.bounded(20));
            for (int j = 0; j < length; ++j)
                text += (j % 5 == 4) ? ' ' : letters[int(rng.bounded(letters.size()))];
            if (!put(QStringLiteral("%1/%2/%3.txt").arg(root, name).arg(i, 3, 10, QChar('0')),
                     text + '\n'))
                return {};
        }
    }
    return root;
}

TrainConfig tinyClassifier(const QString &dataset)
{
    TrainConfig c;
    c.dataset = dataset;
    c.arch = QStringLiteral("text-classifier");
    c.archParams = QJsonObject{{QStringLiteral("n_layer"), 1},
                               {QStringLiteral("n_head"), 2},
                               {QStringLiteral("n_embd"), 32},
                               {QStringLiteral("block_size"), 32}};
    c.epochs = 3;
    c.batchSize = 16;
    c.lr = 3e-3;
    c.threads = 1;
    c.seed = 1;
    return c;
}

QString runMessage(const TrainConfig &c, const QString &dir)
{
    TrainJob job(c, dir);
    JobContext context;
    try {
        return job.run(context).message;
    } catch (const Error &e) {
        return e.message();
    }
}

} // namespace

class TestTextClassifier : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
    }

    void learnsAndReloadsInPython()
    {
        const QString data = makeFolder(m_dir.filePath(QStringLiteral("letters")), 40);
        QVERIFY(!data.isEmpty());
        const QString workspace = m_dir.filePath(QStringLiteral("ws"));
        TrainJob job(tinyClassifier(data), m_dir.filePath(QStringLiteral("run")));
        job.recordIn(workspace, QStringLiteral("letters-tc"));
        JobContext context;
        const JobResult result = job.run(context);
        QCOMPARE(jobStatusName(result.status), QStringLiteral("finished"));
        const QJsonObject last = result.output.value(QStringLiteral("final")).toObject();
        const double valAcc = last.value(QStringLiteral("val_acc")).toDouble();
        qInfo("val_acc %.3f after 3 epochs of 7 steps (chance 0.333)", valAcc);
        QVERIFY2(valAcc > 0.6, qPrintable(QString::number(valAcc)));

        // The version: int64 token ids [N, T] in, a score per class out.
        Registry registry(workspace);
        const VersionRecord version = registry.resolve(QStringLiteral("letters-tc"));
        QCOMPARE(version.inputs.size(), 1);
        QCOMPARE(version.inputs[0].dtype, QStringLiteral("int64"));
        QCOMPARE(version.inputs[0].shape, (std::vector<qint64>{-1, -1}));
        QCOMPARE(version.inputs[0].vocabSize, qint64(257));
        QCOMPARE(version.outputs[0].shape, (std::vector<qint64>{-1, 3}));
        QCOMPARE(version.classNames, QStringList({QStringLiteral("digits"),
                                                  QStringLiteral("lower"),
                                                  QStringLiteral("upper")}));

        // The layer table counts the model's own parameters, MACs per token.
        const QString path = registry.verifiedArtifactPath(version);
        const Model model = Model::load(path);
        const ModelSummary summary = ArchSpec::fromJson(model.spec()).summary();
        QVERIFY(summary.macsPerToken);
        QCOMPARE(summary.totalParams, model.parameterCount());
        QCOMPARE(version.parameterCount, model.parameterCount());

        // Padding (id 256) changes nothing: "Ab1" alone and padded to 6 tokens.
        const std::vector<float> alone = model.predictTokens({65, 98, 49}, {1, 3});
        const std::vector<float> padded =
            model.predictTokens({65, 98, 49, 256, 256, 256}, {1, 6});
        QVERIFY2(ms::test::maxScaledDiff(alone, padded) < 1e-5,
                 qPrintable(QString::number(ms::test::maxScaledDiff(alone, padded))));

        // Python's torch.jit.load gives the same logits for a padded batch.
        const std::vector<qint64> batch{49, 50, 51, 32, 52, 256, 256,
                                        97, 98, 99, 100, 32, 101, 102,
                                        65, 256, 256, 256, 256, 256, 256};
        const std::vector<float> ours = model.predictTokens(batch, {3, 7});
        QByteArray out;
        QVERIFY(ms::test::runPython(m_dir.path(), QStringLiteral(R"(
import json, sys, torch
m = torch.jit.load(sys.argv[1])
m.eval()
x = torch.tensor(json.loads(sys.argv[2]), dtype=torch.long).view(3, 7)
with torch.no_grad():
    y = m(x)
print(json.dumps({"logits": y.flatten().tolist(), "classes": list(m.class_names),
                  "pad": m.pad_id, "argmax": y.argmax(1).tolist()}))
)"), {path, QStringLiteral("[49,50,51,32,52,256,256,97,98,99,100,32,101,102,65,256,256,256,"
                          "256,256,256]")}, &out));
        const QJsonObject py = QJsonDocument::fromJson(out).object();
        const QJsonArray logits = py.value(QStringLiteral("logits")).toArray();
        QCOMPARE(qsizetype(logits.size()), qsizetype(ours.size()));
        std::vector<float> theirs;
        for (const QJsonValue &v : logits)
            theirs.push_back(float(v.toDouble()));
        QVERIFY2(ms::test::maxScaledDiff(ours, theirs) < 1e-5,
                 qPrintable(QString::number(ms::test::maxScaledDiff(ours, theirs))));
        QCOMPARE(py.value(QStringLiteral("pad")).toInt(), 256);
        QCOMPARE(py.value(QStringLiteral("classes")).toArray().size(), 3);
        QCOMPARE(batch.size(), size_t(21));
    }

    void refusesBeforeAnyWork_data()
    {
        QTest::addColumn<QString>("what");
        QTest::addColumn<QString>("expected");
        QTest::newRow("layer-list arch") << "mlp" << "cannot classify text";
        QTest::newRow("one class") << "one" << "two or more";
        QTest::newRow("unknown setting") << "setting" << "no parameter \"n_layers\"";
    }

    void refusesBeforeAnyWork()
    {
        QFETCH(QString, what);
        QFETCH(QString, expected);
        const QString data = makeFolder(m_dir.filePath(QStringLiteral("refuse")), 12);
        TrainConfig c = tinyClassifier(data);
        if (what == QLatin1String("mlp")) {
            c.arch = QStringLiteral("mlp");
            c.archParams = QJsonObject();
        } else if (what == QLatin1String("one")) {
            const QString single = m_dir.filePath(QStringLiteral("single"));
            QVERIFY(put(single + QStringLiteral("/only/a.txt"), "some text"));
            QVERIFY(put(single + QStringLiteral("/only/b.txt"), "more text"));
            c.dataset = single;
        } else {
            c.archParams.insert(QStringLiteral("n_layers"), 2);
        }
        const QString dir = m_dir.filePath(QStringLiteral("bad-") + what);
        const QString message = runMessage(c, dir);
        QVERIFY2(message.contains(expected), qPrintable(message));
        QVERIFY(!QFile::exists(dir + QStringLiteral("/checkpoint/state.json")));
    }
};

QTEST_GUILESS_MAIN(TestTextClassifier)
#include "tst_textclassifier.moc"
