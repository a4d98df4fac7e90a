// Training a language model (--task lm) on Debian's fortunes with the one training loop: it
// learns (validation loss below its first epoch's and below a byte-frequency model's), records
// loss and perplexity curves and a version that generates, resumes to the same weights, and
// refuses bad settings before any work.

#include "TestSupport.h"

#include "data/TextDataset.h"
#include "jobs/JobContext.h"
#include "models/LanguageModel.h"
#include "models/Model.h"
#include "registry/Registry.h"
#include "train/TrainJob.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <array>
#include <cmath>

using namespace ms;
using ms::test::errorOf;

namespace {

TrainConfig tinyLm()
{
    TrainConfig c;
    c.dataset = QStringLiteral("fortunes");
    c.task = QStringLiteral("lm");
    c.arch = QStringLiteral("gpt");
    c.archParams = QJsonObject{{QStringLiteral("n_layer"), 1},
                               {QStringLiteral("n_head"), 2},
                               {QStringLiteral("n_embd"), 48},
                               {QStringLiteral("block_size"), 32}};
    c.epochs = 3;
    c.stepsPerEpoch = 60;
    c.batchSize = 16;
    c.lr = 3e-3;
    c.minLr = 3e-4;
    c.warmupSteps = 10;
    c.schedule = QStringLiteral("cosine");
    c.optimizer = QStringLiteral("adamw");
    c.weightDecay = 0.1;
    c.beta2 = 0.99;
    c.clipGradNorm = 1.0;
    c.threads = 1;   // one thread: bit-for-bit reproducible reductions
    c.seed = 3;
    return c;
}

// The cross-entropy, in nats per byte, of the validation text under the byte frequencies of
// the training text: what a model that learned nothing but which bytes are common would score.
double unigramLoss()
{
    DatasetOptions options;
    options.source = QStringLiteral("fortunes");
    const TextDataset data = TextDatasetRegistry::instance().load(options);
    std::array<double, 256> counts{};
    const QByteArray train = data.train.corpus();
    for (const char b : train)
        counts[static_cast<unsigned char>(b)] += 1.0;
    const QByteArray val = data.validation.corpus();
    double loss = 0.0;
    for (const char b : val)   // add-one smoothing: no byte has probability 0
        loss -= std::log((counts[static_cast<unsigned char>(b)] + 1.0) / (train.size() + 256.0));
    return loss / double(val.size());
}

std::vector<float> fingerprint(const QString &path)
{
    const LanguageModel lm(Model::load(path), QStringLiteral("fingerprint"));
    return lm.logits(ByteTokenizer().encode("Q: What is a fortune?"), 1);
}

} // namespace

class TestLmTrain : public QObject
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

    void learnsRecordsAndGenerates()
    {
        const QString workspace = m_dir.filePath(QStringLiteral("ws"));
        TrainJob job(tinyLm(), m_dir.filePath(QStringLiteral("run")));
        job.recordIn(workspace, QStringLiteral("fortune-gpt"));
        JobContext context;
        QMap<QString, QVector<MetricPoint>> series;
        QVector<QJsonObject> epochs;
        connect(&context, &JobContext::metricsReady, this, [&](const MetricBatch &batch) {
            for (const MetricPoint &p : batch)
                series[p.key].append(p);
        }, Qt::DirectConnection);
        connect(&context, &JobContext::reported, this, [&](const QJsonObject &e) {
            if (e.value(QStringLiteral("event")).toString() == QLatin1String("epoch"))
                epochs.append(e);
        }, Qt::DirectConnection);
        const JobResult result = job.run(context);
        QCOMPARE(jobStatusName(result.status), QStringLiteral("finished"));
        QCOMPARE(series.value(QStringLiteral("loss")).size(), 180);
        for (const char *key : {"train_loss", "train_ppl", "val_loss", "val_ppl", "tokens_per_s"})
            QCOMPARE(series.value(QLatin1String(key)).size(), 3);

        // Warm-up, then cosine down to min_lr.
        const auto lr = series.value(QStringLiteral("lr"));
        QVERIFY(qFuzzyCompare(lr.first().value, 3e-3 / 10));
        QVERIFY(qFuzzyCompare(lr[9].value, 3e-3));
        QVERIFY(lr.last().value < 3.1e-4 && lr.last().value >= 3e-4);

        const auto val = series.value(QStringLiteral("val_loss"));
        const double unigram = unigramLoss();
        qInfo("val_loss by epoch %.3f %.3f %.3f; byte-frequency model %.3f; ln 256 = %.3f",
              val[0].value, val[1].value, val[2].value, unigram, std::log(256.0));
        QVERIFY(val.last().value < val.first().value - 0.1);
        QVERIFY(val.last().value < unigram);
        QVERIFY(ms::test::closeTo(series.value(QStringLiteral("val_ppl")).last().value,
                                  std::exp(val.last().value), 1e-9));
        QCOMPARE(epochs.size(), 3);
        QVERIFY(epochs.last().value(QStringLiteral("tokens_per_s")).toDouble() > 0);

        // The version: int64 tokens in, logits out, the recipe says lm and its tokenizer.
        Registry registry(workspace);
        const VersionRecord version = registry.resolve(QStringLiteral("fortune-gpt"));
        QCOMPARE(version.inputs.size(), 1);
        QCOMPARE(version.inputs[0].dtype, QStringLiteral("int64"));
        QCOMPARE(version.outputs[0].shape, (std::vector<qint64>{-1, -1, 256}));
        QCOMPARE(version.recipe.value(QStringLiteral("task")).toString(), QStringLiteral("lm"));
        QCOMPARE(version.recipe.value(QStringLiteral("tokenizer")).toString(),
                 QStringLiteral("byte"));
        QVERIFY(version.metrics.contains(QStringLiteral("val_ppl")));
        const QStringList keys = registry.metricKeys(version.runId);
        QVERIFY(keys.contains(QStringLiteral("val_ppl")) && keys.contains(QStringLiteral("loss")));

        // The trained model: greedy with the cache equals greedy without it, token for token.
        const LanguageModel lm(Model::load(registry.verifiedArtifactPath(version)),
                               version.ref());
        GenerateOptions greedy;
        greedy.temperature = 0.0;
        greedy.maxTokens = 29;
        const GenerateResult cached = lm.generate("Q: ", greedy);
        greedy.useCache = false;
        const GenerateResult full = lm.generate("Q: ", greedy);
        QCOMPARE(cached.tokens, full.tokens);
        qInfo("greedy: %s", QByteArray("Q: " + cached.text).toPercentEncoding(" :?!.,'").constData());
    }

    void resumedRunEqualsUninterruptedRun()
    {
        TrainConfig c = tinyLm();
        c.epochs = 2;
        c.stepsPerEpoch = 15;
        TrainJob whole(c, m_dir.filePath(QStringLiteral("whole")));
        JobContext own;
        const JobResult full = whole.run(own);
        QCOMPARE(full.status, JobStatus::Finished);

        const QString dir = m_dir.filePath(QStringLiteral("interrupted"));
        TrainJob first(c, dir);
        JobContext context;
        connect(&context, &JobContext::reported, this, [&](const QJsonObject &e) {
            if (e.value(QStringLiteral("event")).toString() == QLatin1String("epoch"))
                context.cancel();
        }, Qt::DirectConnection);
        QCOMPARE(first.run(context).status, JobStatus::Cancelled);
        std::unique_ptr<TrainJob> resumed(TrainJob::resume(dir));
        JobContext again;
        const JobResult rest = resumed->run(again);
        QCOMPARE(rest.status, JobStatus::Finished);
        QVERIFY(fingerprint(full.output.value(QStringLiteral("model_path")).toString())
                == fingerprint(rest.output.value(QStringLiteral("model_path")).toString()));
    }

    void refusesBeforeAnyWork_data()
    {
        QTest::addColumn<QString>("what");
        QTest::addColumn<QString>("expected");
        QTest::newRow("classifier arch") << "mlp" << "not a language model";
        QTest::newRow("image dataset") << "images" << "fashion-mnist";
        QTest::newRow("text as tensors") << "classify" << "--task lm";
        QTest::newRow("context too long") << "block" << "too short";
        QTest::newRow("unknown gpt setting") << "setting" << "no parameter \"n_layers\"";
        QTest::newRow("validation fraction") << "fraction" << "fixed split";
    }

    void refusesBeforeAnyWork()
    {
        QFETCH(QString, what);
        QFETCH(QString, expected);
        TrainConfig c = tinyLm();
        if (what == QLatin1String("mlp")) {
            c.arch = QStringLiteral("mlp");
            c.archParams = QJsonObject();
        } else if (what == QLatin1String("images")) {
            c.dataset = QStringLiteral("fashion-mnist");
        } else if (what == QLatin1String("classify")) {
            c.task = QStringLiteral("classify");
            c.archParams = QJsonObject();
            c.stepsPerEpoch = 0;
        } else if (what == QLatin1String("block")) {
            c.limit = 2;
            c.archParams.insert(QStringLiteral("block_size"), 4096);
        } else if (what == QLatin1String("setting")) {
            c.archParams.insert(QStringLiteral("n_layers"), 2);
        } else {
            c.validationFraction = 0.2;
        }
        const QString dir = m_dir.filePath(QStringLiteral("bad-") + what);
        TrainJob job(c, dir);
        JobContext context;
        QString message;
        try {
            const JobResult r = job.run(context);
            message = r.message;
        } catch (const Error &e) {
            message = e.message();
        }
        QVERIFY2(message.contains(expected), qPrintable(message));
        QVERIFY(!QFile::exists(dir + QStringLiteral("/checkpoint/state.json")));
    }
};

QTEST_GUILESS_MAIN(TestLmTrain)
#include "tst_lmtrain.moc"
