// The training job on small slices of the real Fashion-MNIST: determinism, resume, divergence,
// cancel, and failing early on bad input.

#include "common/Error.h"
#include "jobs/JobContext.h"
#include "models/Model.h"
#include "train/Augment.h"
#include "train/Preload.h"
#include "train/Preload_p.h"
#include "train/TrainJob.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace ms;

namespace {

TrainConfig smallConfig(const QString &arch)
{
    TrainConfig c;
    c.dataset = QStringLiteral("fashion-mnist");
    c.arch = arch;
    c.epochs = 2;
    c.batchSize = 64;
    c.limit = 600;
    c.threads = 1;   // one thread: bit-for-bit reproducible reductions
    c.seed = 7;
    return c;
}

// Logits of the model at `path` on a fixed batch: equal vectors mean equal weights.
std::vector<float> fingerprint(const QString &path)
{
    const Model model = Model::load(path);
    std::vector<float> input(4 * 28 * 28);
    for (size_t i = 0; i < input.size(); ++i)
        input[i] = float((i * 37) % 256) / 255.0f;
    return model.predict(input, {4, 1, 28, 28});
}

JobResult runDirect(TrainJob &job, JobContext *context = nullptr)
{
    JobContext own;
    return job.run(context ? *context : own);
}

} // namespace

class TestTrainJob : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    QString runDir(const QString &name) const { return m_dir.filePath(name); }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void trainsAndReportsEveryMetric_data()
    {
        QTest::addColumn<QString>("arch");
        QTest::addColumn<QString>("optimizer");
        QTest::addColumn<QString>("schedule");
        QTest::newRow("mlp adam constant") << "mlp" << "adam" << "constant";
        QTest::newRow("mlp sgd step") << "mlp" << "sgd" << "step";
        QTest::newRow("cnn adamw cosine") << "cnn" << "adamw" << "cosine";
    }

    void trainsAndReportsEveryMetric()
    {
        QFETCH(QString, arch);
        QFETCH(QString, optimizer);
        QFETCH(QString, schedule);
        TrainConfig c = smallConfig(arch);
        c.optimizer = optimizer;
        c.schedule = schedule;
        c.lr = optimizer == QLatin1String("sgd") ? 0.05 : 1e-3;
        const QString dir = runDir(QStringLiteral("metrics-") + QTest::currentDataTag());
        TrainJob job(c, dir);
        JobContext context;
        QMap<QString, QVector<MetricPoint>> series;
        connect(&context, &JobContext::metricsReady, this,
                [&](const MetricBatch &batch) {
                    for (const MetricPoint &p : batch)
                        series[p.key].append(p);
                }, Qt::DirectConnection);
        const JobResult result = runDirect(job, &context);
        QCOMPARE(jobStatusName(result.status), QStringLiteral("finished"));

        // 600 samples, 10 % held out: 540 train, batches of 64 -> 9 steps per epoch.
        QCOMPARE(series.value(QStringLiteral("loss")).size(), 18);
        QCOMPARE(series.value(QStringLiteral("lr")).size(), 18);
        for (const char *key : {"train_loss", "train_acc", "val_loss", "val_acc", "test_acc",
                                "samples_per_s"})
            QCOMPARE(series.value(QLatin1String(key)).size(), 2);
        QCOMPARE(series.value(QStringLiteral("loss")).last().step, 18);
        QCOMPARE(series.value(QStringLiteral("val_acc")).last().epoch, 2);

        const auto lr = series.value(QStringLiteral("lr"));
        if (schedule == QLatin1String("constant"))
            QCOMPARE(lr.last().value, c.lr);
        else if (schedule == QLatin1String("step"))   // decays by gamma every epoch
            QVERIFY(qFuzzyCompare(lr.last().value, c.lr * 0.1));
        else   // cosine: falls from lr towards 0
            QVERIFY(lr.first().value > 0.99 * c.lr && lr.last().value < 0.05 * c.lr);

        // Learning happened: better than the 10 % of chance on held-out data.
        QVERIFY(series.value(QStringLiteral("val_acc")).last().value > 0.3);
        const QJsonObject final = result.output.value(QStringLiteral("final")).toObject();
        QCOMPARE(final.value(QStringLiteral("epoch")).toInt(), 2);
        QVERIFY(QFile::exists(result.output.value(QStringLiteral("model_path")).toString()));
        QVERIFY(QFile::exists(dir + QStringLiteral("/config.json")));
    }

    void sameSeedSameModel()
    {
        TrainJob a(smallConfig(QStringLiteral("mlp")), runDir(QStringLiteral("seed-a")));
        TrainJob b(smallConfig(QStringLiteral("mlp")), runDir(QStringLiteral("seed-b")));
        TrainConfig other = smallConfig(QStringLiteral("mlp"));
        other.seed = 8;
        TrainJob c(other, runDir(QStringLiteral("seed-c")));
        const auto ra = runDirect(a), rb = runDirect(b), rc = runDirect(c);
        QCOMPARE(ra.status, JobStatus::Finished);
        const auto fa = fingerprint(ra.output.value(QStringLiteral("model_path")).toString());
        const auto fb = fingerprint(rb.output.value(QStringLiteral("model_path")).toString());
        const auto fc = fingerprint(rc.output.value(QStringLiteral("model_path")).toString());
        QVERIFY(fa == fb);
        QVERIFY(fa != fc);
    }

    // Augmentation draws from the epoch's seed: the same recipe gives the same model, and the
    // flips and shifts change what it learns.
    void augmentedRunsAreReproducible()
    {
        TrainConfig c = smallConfig(QStringLiteral("cnn"));
        c.epochs = 1;
        c.augment = QStringLiteral("hflip,shift:2");
        TrainJob a(c, runDir(QStringLiteral("augment-a")));
        TrainJob b(c, runDir(QStringLiteral("augment-b")));
        c.augment.clear();
        TrainJob plain(c, runDir(QStringLiteral("augment-none")));
        const auto ra = runDirect(a), rb = runDirect(b), rp = runDirect(plain);
        QCOMPARE(ra.status, JobStatus::Finished);
        QCOMPARE(rp.status, JobStatus::Finished);
        const auto fa = fingerprint(ra.output.value(QStringLiteral("model_path")).toString());
        QVERIFY(fa == fingerprint(rb.output.value(QStringLiteral("model_path")).toString()));
        QVERIFY(fa != fingerprint(rp.output.value(QStringLiteral("model_path")).toString()));
    }

    // The pixels: a 3x3 image with distinct values, mirrored, then moved down by one row and
    // left by one column (dy = 0, dx = 2 with shift 1), zero filled; a second image untouched.
    void augmentationMovesThePixels()
    {
        std::vector<float> images = {1, 2, 3,  4, 5, 6,  7, 8, 9,
                                     1, 2, 3,  4, 5, 6,  7, 8, 9};
        const std::vector<float> flipped =
            augmentImages(images, 2, 1, 3, 3, {true, false}, 0, {}, {});
        QCOMPARE(flipped, (std::vector<float>{3, 2, 1,  6, 5, 4,  9, 8, 7,
                                              1, 2, 3,  4, 5, 6,  7, 8, 9}));
        const std::vector<float> moved =
            augmentImages(images, 2, 1, 3, 3, {true, false}, 1, {0, 1}, {2, 1});
        QCOMPARE(moved, (std::vector<float>{0, 0, 0,  2, 1, 0,  5, 4, 0,
                                            1, 2, 3,  4, 5, 6,  7, 8, 9}));
        QCOMPARE(images[0], 1.0f);   // the input is left as it was
        try {
            augmentImages(images, 2, 1, 3, 3, {true, false}, 1, {0, 3}, {0, 0});
            QFAIL("a draw outside [0, 2 x shift] should be refused");
        } catch (const Error &e) {
            QVERIFY2(e.message().contains(QStringLiteral("outside")), qPrintable(e.message()));
        }
    }

    void resumedRunEqualsUninterruptedRun()
    {
        // The uninterrupted reference.
        TrainConfig c = smallConfig(QStringLiteral("cnn"));
        c.limit = 300;
        TrainJob whole(c, runDir(QStringLiteral("whole")));
        const JobResult full = runDirect(whole);
        QCOMPARE(full.status, JobStatus::Finished);

        // The same run, stopped in its second epoch once epoch 1's checkpoint exists.
        const QString dir = runDir(QStringLiteral("interrupted"));
        TrainJob first(c, dir);
        JobContext context;
        connect(&context, &JobContext::reported, this, [&](const QJsonObject &e) {
            if (e.value(QStringLiteral("event")).toString() == QLatin1String("epoch"))
                context.cancel();
        }, Qt::DirectConnection);
        const JobResult stopped = runDirect(first, &context);
        QCOMPARE(stopped.status, JobStatus::Cancelled);
        QVERIFY2(stopped.message.contains(QStringLiteral("--resume")), qPrintable(stopped.message));
        QVERIFY(!QFile::exists(dir + QStringLiteral("/model.pt")));

        std::unique_ptr<TrainJob> resumed(TrainJob::resume(dir));
        const JobResult rest = runDirect(*resumed);
        QCOMPARE(rest.status, JobStatus::Finished);
        QCOMPARE(rest.output.value(QStringLiteral("epochs_done")).toInt(), 2);
        QVERIFY(fingerprint(full.output.value(QStringLiteral("model_path")).toString())
                == fingerprint(rest.output.value(QStringLiteral("model_path")).toString()));
        // Only the newest epoch's checkpoint files are kept.
        const QStringList files = QDir(dir + QStringLiteral("/checkpoint")).entryList(QDir::Files);
        QCOMPARE(files, (QStringList{QStringLiteral("epoch-002.model.pt"),
                                     QStringLiteral("epoch-002.optim.pt"),
                                     QStringLiteral("state.json")}));
    }

    void aNanLossStopsAsDiverged()
    {
        TrainConfig c = smallConfig(QStringLiteral("mlp"));
        c.optimizer = QStringLiteral("sgd");
        c.lr = 1e12;
        TrainJob job(c, runDir(QStringLiteral("diverged")));
        const JobResult result = runDirect(job);
        QCOMPARE(jobStatusName(result.status), QStringLiteral("diverged"));
        QVERIFY2(result.message.contains(QStringLiteral("Lower the learning rate")),
                 qPrintable(result.message));
    }

    void badInputFailsBeforeTraining_data()
    {
        QTest::addColumn<QString>("dataset");
        QTest::addColumn<QString>("arch");
        QTest::addColumn<QString>("out");
        QTest::addColumn<QString>("expected");
        QTest::newRow("missing dataset path") << "/nonexistent/data" << "mlp" << ""
                                              << "/nonexistent/data";
        QTest::newRow("unknown architecture") << "fashion-mnist" << "resnet9000" << ""
                                              << "resnet9000";
        QTest::newRow("unwritable output") << "fashion-mnist" << "mlp"
                                           << "/proc/modelstudio/model.pt" << "/proc/modelstudio";
    }

    void badInputFailsBeforeTraining()
    {
        QFETCH(QString, dataset);
        QFETCH(QString, arch);
        QFETCH(QString, out);
        QFETCH(QString, expected);
        TrainConfig c = smallConfig(arch);
        c.dataset = dataset;
        TrainJob job(c, runDir(QStringLiteral("bad-") + QTest::currentDataTag()), out);
        try {
            runDirect(job);
            QFAIL("the job should have thrown");
        } catch (const Error &e) {
            QVERIFY2(e.message().contains(expected), qPrintable(e.message()));
        }
        if (!out.isEmpty())
            QVERIFY(!QFile::exists(out));
    }

    void augmentationOfATableIsRefused()
    {
        QByteArray csv("x,y,label\n");
        for (int i = 0; i < 40; ++i)
            csv += QByteArray::number(i) + ",1," + (i % 2 ? "a" : "b") + '\n';
        const QString path = m_dir.filePath(QStringLiteral("table.csv"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        QCOMPARE(file.write(csv), csv.size());
        file.close();
        TrainConfig c = smallConfig(QStringLiteral("mlp"));
        c.dataset = path;
        c.augment = QStringLiteral("hflip");
        const QString out = m_dir.filePath(QStringLiteral("table-model.pt"));
        TrainJob job(c, runDir(QStringLiteral("augment-table")), out);
        try {
            runDirect(job);
            QFAIL("the job should have thrown");
        } catch (const Error &e) {
            QVERIFY2(e.message().contains(QStringLiteral("this data's samples are of shape 2")),
                     qPrintable(e.message()));
        }
        QVERIFY(!QFile::exists(out));
    }

    void invalidSettingsAreRefusedByName_data()
    {
        QTest::addColumn<QJsonObject>("json");
        QTest::addColumn<QString>("expected");
        QTest::newRow("epochs") << QJsonObject{{"epochs", 0}} << "Epochs";
        QTest::newRow("lr") << QJsonObject{{"lr", -1}} << "Learning rate";
        QTest::newRow("optimizer") << QJsonObject{{"optimizer", "lbfgs"}} << "lbfgs";
        QTest::newRow("unknown key") << QJsonObject{{"epoch", 3}} << "\"epoch\"";
        QTest::newRow("seed text") << QJsonObject{{"seed", "x"}} << "seed";
        QTest::newRow("augment unknown") << QJsonObject{{"augment", "hflip,rotate"}}
                                         << "\"rotate\" is not one of them";
        QTest::newRow("augment no shift") << QJsonObject{{"augment", "shift:0"}} << "shift:0";
        QTest::newRow("augment number") << QJsonObject{{"augment", 2}} << "\"augment\"";
        QTest::newRow("augment lm") << QJsonObject{{"task", "lm"}, {"augment", "hflip"}}
                                    << "language model";
    }

    void invalidSettingsAreRefusedByName()
    {
        QFETCH(QJsonObject, json);
        QFETCH(QString, expected);
        try {
            TrainConfig::fromJson(json);
            QFAIL("should have thrown");
        } catch (const Error &e) {
            QVERIFY2(e.message().contains(expected), qPrintable(e.message()));
        }
    }

    void configRoundTrips()
    {
        TrainConfig c = smallConfig(QStringLiteral("cnn"));
        c.seed = 18446744073709551615ULL;   // survives JSON as a string
        c.schedule = QStringLiteral("cosine");
        c.augment = QStringLiteral("hflip,shift:3");
        const TrainConfig back = TrainConfig::fromJson(c.toJson());
        QCOMPARE(back.toJson(), c.toJson());
        QCOMPARE(back.seed, c.seed);
        QCOMPARE(back.augment, c.augment);
        // '+' separates too (a sweep's choices are typed comma-separated in the window).
        const TrainConfig plus = TrainConfig::fromJson({{"augment", "HFlip+shift:3"}});
        QVERIFY(plus.augmentation().hflip);
        QCOMPARE(plus.augmentation().shift, 3);
        // A recipe without augmentation reads as it did before the key existed.
        c.augment = QStringLiteral("none");
        QVERIFY(!c.toJson().contains(QStringLiteral("augment")));
    }

    // A sweep reads its data ahead unless it searches a key that changes what a run reads
    // (changesDataRead): every key of a recipe is changed in turn, and exactly those keys must
    // change the options trainingDataOptions() gives the reader.
    void theKeysThatChangeTheDataReadAreKnown()
    {
        QJsonObject json = smallConfig(QStringLiteral("mlp")).toJson();
        json.insert(QStringLiteral("label_column"), QStringLiteral("label"));
        json.insert(QStringLiteral("text_column"), QStringLiteral("text"));
        const DatasetOptions before = trainingDataOptions(TrainConfig::fromJson(json), QString());
        const auto same = [](const DatasetOptions &a, const DatasetOptions &b) {
            return a.source == b.source && a.limit == b.limit
                   && a.validationFraction == b.validationFraction && a.seed == b.seed
                   && a.labelColumn == b.labelColumn && a.textColumn == b.textColumn;
        };
        int dataKeys = 0;
        for (auto it = json.begin(); it != json.end(); ++it) {
            QJsonObject changed = json;
            const QJsonValue v = it.value();
            if (v.isBool())
                changed.insert(it.key(), !v.toBool());
            else if (v.isDouble())
                changed.insert(it.key(), v.toDouble() > 0 && v.toDouble() < 1 ? v.toDouble() / 2
                                                                               : v.toDouble() + 1);
            else if (v.isString() && it.key() == QLatin1String("seed"))
                changed.insert(it.key(), QString::number(v.toString().toULongLong() + 1));
            else if (v.isString() && it.key() == QLatin1String("limit"))
                changed.insert(it.key(), QString::number(v.toString().toLongLong() + 1));
            else if (v.isString())
                changed.insert(it.key(), v.toString() + QStringLiteral("-other"));
            else
                continue;   // objects (arch_params): not a data key
            TrainConfig other;
            try {
                other = TrainConfig::fromJson(changed);
            } catch (const Error &) {
                QVERIFY2(!changesDataRead(it.key()), qPrintable(it.key()));
                continue;   // a value the recipe refuses (an unknown optimizer): not read data
            }
            const bool changes = !same(trainingDataOptions(other, QString()), before);
            QVERIFY2(changes == changesDataRead(it.key()), qPrintable(it.key()));
            dataKeys += changes ? 1 : 0;
        }
        QCOMPARE(dataKeys, 6);   // dataset, limit, validation_fraction, seed, label/text column
    }
};

QTEST_GUILESS_MAIN(TestTrainJob)
#include "tst_trainjob.moc"
