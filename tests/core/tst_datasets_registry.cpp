// DatasetRegistry: resolving built-in names and paths, the seeded limit and validation split,
// the training statistics, the messages for missing data, and the real Fashion-MNIST.
#include "TestSupport.h"
#include "common/Error.h"
#include "data/DatasetRegistry.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <functional>
#include <set>

using namespace ms;
using ms::test::errorOf;

namespace {

bool writeFile(const QString &path, const QByteArray &content)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(content) == content.size();
}

// `rows` samples whose single feature is their row index, labels cycling through 3 classes:
// every sample is recognisable after the split.
QByteArray indexedCsv(int rows)
{
    QByteArray content("index,label\n");
    for (int row = 0; row < rows; ++row)
        content += QByteArray::number(row) + ',' + QByteArray::number(row % 3) + '\n';
    return content;
}

// A plugin-style reader: two channels of 1x2 pixels, channel 1 constant.
class TwoChannelReader final : public DatasetReader
{
public:
    QString name() const override { return QStringLiteral("two-channel-test"); }
    QString description() const override { return QStringLiteral("test .twochannel files"); }
    bool canRead(const QString &path) const override
    {
        return path.endsWith(QStringLiteral(".twochannel"));
    }
    Dataset read(const QString &path, const DatasetOptions &) const override
    {
        Dataset dataset;
        dataset.name = QStringLiteral("two");
        dataset.source = path;
        dataset.sampleShape = {2, 1, 2};
        dataset.classNames = {QStringLiteral("no"), QStringLiteral("yes")};
        dataset.train.features = {0, 1, 7, 7, 2, 3, 7, 7};
        dataset.train.labels = {0, 1};
        return dataset;
    }
};

} // namespace

class TestDatasetRegistry final : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    QString csv(const QString &name, const QByteArray &content)
    {
        const QString path = m_dir.filePath(name);
        return writeFile(path, content) ? path : QString();
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void builtIns()
    {
        DatasetRegistry &registry = DatasetRegistry::instance();
        QVERIFY(&registry == &DatasetRegistry::instance());
        QCOMPARE(registry.readers().names(), (QStringList{"csv", "idx"}));
        const auto fashion = registry.builtins().find(QStringLiteral("fashion-mnist"));
        QVERIFY(fashion);
        QCOMPARE(fashion->info().path, QStringLiteral("/usr/share/datasets/fashion-mnist"));
        QCOMPARE(fashion->info().reader, QStringLiteral("idx"));
        QCOMPARE(fashion->info().debianPackage, QStringLiteral("dataset-fashion-mnist"));
    }

    void limitAndValidation_data()
    {
        QTest::addColumn<qint64>("limit");
        QTest::addColumn<double>("fraction");
        QTest::addColumn<qint64>("trainCount");
        QTest::addColumn<qint64>("validationCount");
        QTest::newRow("all, 10%") << qint64(0) << 0.1 << qint64(90) << qint64(10);
        QTest::newRow("all, none") << qint64(0) << 0.0 << qint64(100) << qint64(0);
        QTest::newRow("50, 20%") << qint64(50) << 0.2 << qint64(40) << qint64(10);
        QTest::newRow("limit above count") << qint64(500) << 0.25 << qint64(75) << qint64(25);
        QTest::newRow("rounding") << qint64(7) << 0.5 << qint64(3) << qint64(4);
    }

    void limitAndValidation()
    {
        QFETCH(qint64, limit);
        QFETCH(double, fraction);
        QFETCH(qint64, trainCount);
        QFETCH(qint64, validationCount);
        DatasetOptions options;
        options.source = csv(QStringLiteral("indexed.csv"), indexedCsv(100));
        options.limit = limit;
        options.validationFraction = fraction;
        options.seed = 42;
        const Dataset dataset = DatasetRegistry::instance().load(options);
        QCOMPARE(dataset.readerName, QStringLiteral("csv"));
        QCOMPARE(dataset.train.count(), trainCount);
        QCOMPARE(dataset.validation.count(), validationCount);
        QCOMPARE(qint64(dataset.train.features.size()), trainCount);

        // Disjoint, no duplicates, and each label still belongs to its sample.
        std::set<int> seen;
        for (const DatasetSplit *split : {&dataset.train, &dataset.validation}) {
            for (qint64 i = 0; i < split->count(); ++i) {
                const int index = int(split->features[size_t(i)]);
                QVERIFY(seen.insert(index).second);
                QCOMPARE(split->labels[size_t(i)], qint64(index % 3));
            }
        }
        QCOMPARE(qint64(seen.size()), trainCount + validationCount);
        // A limit takes a random subset, not the first rows.
        if (limit > 0 && limit < 100)
            QVERIFY(*seen.rbegin() >= limit);
    }

    void determinism()
    {
        DatasetOptions options;
        options.source = csv(QStringLiteral("indexed.csv"), indexedCsv(200));
        options.limit = 120;
        options.validationFraction = 0.25;
        options.seed = 7;
        const Dataset first = DatasetRegistry::instance().load(options);
        const Dataset again = DatasetRegistry::instance().load(options);
        QCOMPARE(again.train.features, first.train.features);
        QCOMPARE(again.train.labels, first.train.labels);
        QCOMPARE(again.validation.features, first.validation.features);
        QCOMPARE(again.mean, first.mean);

        options.seed = 8;
        const Dataset other = DatasetRegistry::instance().load(options);
        QCOMPARE(other.train.count(), first.train.count());
        QVERIFY(other.train.features != first.train.features);
        QVERIFY(other.validation.features != first.validation.features);
    }

    void tableStatistics()
    {
        DatasetOptions options;
        options.source = csv(QStringLiteral("stats.csv"),
                             "x,constant,big,label\n1,5,1000001,0\n2,5,1000002,1\n"
                             "3,5,1000003,0\n4,5,1000004,1\n");
        options.validationFraction = 0.0;
        const Dataset dataset = DatasetRegistry::instance().load(options);
        QCOMPARE(dataset.mean.size(), size_t(3));
        QCOMPARE(dataset.stdev.size(), size_t(3));
        QCOMPARE(dataset.mean[0], 2.5f);
        QCOMPARE(dataset.stdev[0], float(std::sqrt(1.25))); // population stdev
        QCOMPARE(dataset.mean[1], 5.0f);
        QCOMPARE(dataset.stdev[1], 1.0f); // constant feature: left unscaled
        QCOMPARE(dataset.mean[2], 1000002.5f);
        QCOMPARE(dataset.stdev[2], float(std::sqrt(1.25))); // no cancellation
    }

    void channelStatisticsFromPluginReader()
    {
        DatasetRegistry &registry = DatasetRegistry::instance();
        registry.readers().add(std::make_shared<TwoChannelReader>());
        const QString path = m_dir.filePath(QStringLiteral("set.twochannel"));
        QVERIFY(writeFile(path, "x"));
        DatasetOptions options;
        options.source = path;
        options.validationFraction = 0.0;
        const Dataset dataset = registry.load(options);
        registry.readers().remove(QStringLiteral("two-channel-test"));

        QCOMPARE(dataset.readerName, QStringLiteral("two-channel-test"));
        QCOMPARE(dataset.mean, (std::vector<float>{1.5f, 7.0f}));
        QCOMPARE(dataset.stdev, (std::vector<float>{float(std::sqrt(1.25)), 1.0f}));
    }

    void describe()
    {
        DatasetOptions options;
        options.source = csv(QStringLiteral("described.csv"), indexedCsv(10));
        options.validationFraction = 0.2;
        const QJsonObject json = DatasetRegistry::instance().load(options).describe();
        QCOMPARE(json.value(QStringLiteral("name")).toString(), QStringLiteral("described"));
        QCOMPARE(json.value(QStringLiteral("reader")).toString(), QStringLiteral("csv"));
        QCOMPARE(json.value(QStringLiteral("sample_shape")).toArray(), QJsonArray{1});
        QCOMPARE(json.value(QStringLiteral("classes")).toArray(), (QJsonArray{"0", "1", "2"}));
        QCOMPARE(json.value(QStringLiteral("num_classes")).toInt(), 3);
        QCOMPARE(json.value(QStringLiteral("train")).toInt(), 8);
        QCOMPARE(json.value(QStringLiteral("validation")).toInt(), 2);
        QCOMPARE(json.value(QStringLiteral("test")).toInt(), 0);
        QVERIFY(json.value(QStringLiteral("source")).toString().endsWith("described.csv"));
    }

    void errors_data()
    {
        QTest::addColumn<QString>("source");
        QTest::addColumn<double>("fraction");
        QTest::addColumn<QStringList>("expected");
        QTest::newRow("missing path")
            << QStringLiteral("/no/such/dir/data.csv") << 0.1
            << QStringList{"/no/such/dir/data.csv", "fashion-mnist", "IDX folder", "CSV file"};
        QTest::newRow("no reader")
            << QStringLiteral("notes.txt") << 0.1
            << QStringList{"notes.txt", "csv:", "idx:"};
        QTest::newRow("one class")
            << QStringLiteral("oneclass.csv") << 0.1
            << QStringList{"1 class", "at least two"};
        QTest::newRow("fraction too big")
            << QStringLiteral("indexed.csv") << 1.0 << QStringList{"validation fraction"};
        QTest::newRow("everything in validation")
            << QStringLiteral("tiny.csv") << 0.9 << QStringList{"leaves none of the 2"};
    }

    void errors()
    {
        QFETCH(QString, source);
        QFETCH(double, fraction);
        QFETCH(QStringList, expected);
        QVERIFY(!csv(QStringLiteral("notes.txt"), "hello").isEmpty());
        QVERIFY(!csv(QStringLiteral("oneclass.csv"), "1,0\n2,0\n").isEmpty());
        QVERIFY(!csv(QStringLiteral("indexed.csv"), indexedCsv(10)).isEmpty());
        QVERIFY(!csv(QStringLiteral("tiny.csv"), "1,0\n2,1\n").isEmpty());
        DatasetOptions options;
        options.source = source.startsWith(QLatin1Char('/')) ? source : m_dir.filePath(source);
        options.validationFraction = fraction;
        const QString message = errorOf([&] { DatasetRegistry::instance().load(options); });
        QVERIFY2(!message.isEmpty(), "no error thrown");
        for (const QString &fragment : expected)
            QVERIFY2(message.contains(fragment), qPrintable(fragment + " not in: " + message));
    }

    void missingBuiltin()
    {
        BuiltinDataset bogus;
        bogus.name = QStringLiteral("bogus-set");
        bogus.path = m_dir.filePath(QStringLiteral("not-installed"));
        bogus.reader = QStringLiteral("idx");
        bogus.debianPackage = QStringLiteral("dataset-bogus");
        DatasetRegistry &registry = DatasetRegistry::instance();
        registry.builtins().add(std::make_shared<BuiltinDatasetProvider>(bogus));
        DatasetOptions options;
        options.source = QStringLiteral("bogus-set");
        const QString message = errorOf([&] { registry.load(options); });
        registry.builtins().remove(QStringLiteral("bogus-set"));
        QCOMPARE(message, QStringLiteral("Dataset \"bogus-set\" is not installed: %1 is missing. "
                                         "Install it with: sudo apt-get install dataset-bogus")
                              .arg(bogus.path));
    }

    void fashionMnist()
    {
        if (!QFileInfo::exists(QStringLiteral("/usr/share/datasets/fashion-mnist")))
            QSKIP("dataset-fashion-mnist is not installed");
        DatasetOptions options;
        options.limit = 1000;
        options.validationFraction = 0.1;
        options.seed = 1;
        const Dataset dataset = DatasetRegistry::instance().load(options);
        QCOMPARE(dataset.name, QStringLiteral("fashion-mnist"));
        QCOMPARE(dataset.readerName, QStringLiteral("idx"));
        QCOMPARE(dataset.sampleShape, (std::vector<qint64>{1, 28, 28}));
        QCOMPARE(dataset.numClasses(), 10);
        QCOMPARE(dataset.classNames.constFirst(), QStringLiteral("T-shirt/top"));
        QCOMPARE(dataset.train.count(), 900);
        QCOMPARE(dataset.validation.count(), 100);
        QCOMPARE(dataset.test.count(), 1000);
        QCOMPARE(dataset.test.features.size(), size_t(1000 * 784));
        float low = 1.0f;
        float high = 0.0f;
        for (const DatasetSplit *split : {&dataset.train, &dataset.validation, &dataset.test}) {
            for (const float value : split->features) {
                low = std::min(low, value);
                high = std::max(high, value);
            }
        }
        QCOMPARE(low, 0.0f);
        QCOMPARE(high, 1.0f);
        // Every class appears in a random 900 of a balanced set.
        std::set<qint64> classes(dataset.train.labels.begin(), dataset.train.labels.end());
        QCOMPARE(classes.size(), size_t(10));
        // Fashion-MNIST's training mean and stdev are about 0.286 and 0.353.
        QCOMPARE(dataset.mean.size(), size_t(1));
        QVERIFY2(std::abs(dataset.mean[0] - 0.286f) < 0.02f, qPrintable(QString::number(
                                                                  dataset.mean[0])));
        QVERIFY2(std::abs(dataset.stdev[0] - 0.353f) < 0.02f, qPrintable(QString::number(
                                                                   dataset.stdev[0])));
    }
};

QTEST_GUILESS_MAIN(TestDatasetRegistry)
#include "tst_datasets_registry.moc"
