// The imagefolder plugin: a folder of PNGs written here with QImage is read through the
// dataset registry (shape, classes, pixel values, imagefolder.json, train/test layout, bad
// input), then a short training run through the CLI works on it.

#include "TestSupport.h"
#include "app/CliRun.h"

#include "data/DatasetRegistry.h"
#include "plugins/PluginManager.h"

#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using namespace ms;
using ms::test::errorOf;

namespace {

// `count` images of `w`x`h` in root/<cls>/, each filled with one grey `level` (per class) so
// that the class is learnable and the pixel values are known. Grey images are grey files
// (a greyscale PNG), colour ones RGB files.
void writeClass(const QString &root, const QString &cls, int count, int w, int h, int level,
                bool colour = false)
{
    QDir().mkpath(root + QLatin1Char('/') + cls);
    for (int i = 0; i < count; ++i) {
        QImage image(w, h, colour ? QImage::Format_RGB32 : QImage::Format_Grayscale8);
        image.fill(colour ? QColor(level, 0, 255 - level) : QColor(level, level, level));
        image.setPixelColor(i % w, 0, QColor(255, 255, 255));   // a little variety
        QVERIFY(image.save(QStringLiteral("%1/%2/%3.png").arg(root, cls).arg(i), "PNG"));
    }
}

Dataset load(const QString &path)
{
    DatasetOptions options;
    options.source = path;
    options.validationFraction = 0.0;
    return DatasetRegistry::instance().load(options);
}

void writeText(const QString &path, const QByteArray &text)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text);
}

} // namespace

class tst_ImageFolder : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        m_manager = std::make_unique<PluginManager>(QStringList{QStringLiteral(MS_PLUGIN_DIR)});
        m_manager->loadAll(m_dir.filePath(QStringLiteral("ws")));
        QVERIFY(DatasetRegistry::instance().readers().find(QStringLiteral("imagefolder")));
    }

    void readsClassFolders()
    {
        const QString root = m_dir.filePath(QStringLiteral("shapes"));
        writeClass(root, QStringLiteral("dark"), 5, 6, 4, 40);
        writeClass(root, QStringLiteral("light"), 7, 6, 4, 200);
        QVERIFY(QDir().mkpath(root + QStringLiteral("/empty")));   // no images: not a class
        const Dataset d = load(root);
        QCOMPARE(d.readerName, QStringLiteral("imagefolder"));
        QCOMPARE(d.name, QStringLiteral("shapes"));
        QCOMPARE(d.classNames, (QStringList{"dark", "light"}));
        QCOMPARE(d.sampleShape, (std::vector<qint64>{1, 4, 6}));   // gray: C x H x W
        QCOMPARE(d.train.count(), qint64(12));
        QCOMPARE(d.test.count(), qint64(0));
        QCOMPARE(d.train.labels.front(), qint64(0));
        QCOMPARE(d.train.labels.back(), qint64(1));
        // Pixel (x=1, y=1) of the first image: the class's grey level, scaled to [0, 1].
        QCOMPARE(d.train.features[size_t(1 * 6 + 1)], 40.0f / 255.0f);
        QCOMPARE(d.train.features[size_t(0)], 1.0f);   // the white pixel at (0, 0)
        QCOMPARE(d.train.features[size_t(11 * 24 + 6 + 1)], 200.0f / 255.0f);
    }

    // JPEG goes through Qt's image format plugin, which must load in a process without a GUI.
    void readsJpeg()
    {
        const QString root = m_dir.filePath(QStringLiteral("jpeg"));
        for (const auto &[cls, level] : {std::pair<const char *, int>{"a", 60}, {"b", 180}}) {
            QVERIFY(QDir().mkpath(root + QLatin1Char('/') + QLatin1String(cls)));
            for (int i = 0; i < 2; ++i) {
                QImage image(16, 16, QImage::Format_Grayscale8);
                image.fill(QColor(level, level, level));
                QVERIFY(image.save(QStringLiteral("%1/%2/%3.JPG").arg(root, QLatin1String(cls))
                                       .arg(i), "JPEG", 95));
            }
        }
        const Dataset d = load(root);
        QCOMPARE(d.train.count(), qint64(4));
        QCOMPARE(d.sampleShape, (std::vector<qint64>{1, 16, 16}));
        // A flat colour survives JPEG to within a step or two.
        QVERIFY(std::abs(d.train.features[100] - 60.0f / 255.0f) < 3.0f / 255.0f);
        QVERIFY(std::abs(d.train.features.back() - 180.0f / 255.0f) < 3.0f / 255.0f);
    }

    void settingsResizeAndColour()
    {
        const QString root = m_dir.filePath(QStringLiteral("colour"));
        writeClass(root, QStringLiteral("a"), 3, 16, 16, 0, true);
        writeClass(root, QStringLiteral("b"), 3, 20, 12, 255, true);   // other size: resized
        writeText(root + QStringLiteral("/imagefolder.json"),
                  R"({"size": [8, 10], "color": "rgb"})");
        const Dataset d = load(root);
        QCOMPARE(d.sampleShape, (std::vector<qint64>{3, 8, 10}));
        QCOMPARE(d.train.count(), qint64(6));
        // Class a is pure blue away from the white pixel: R plane 0, B plane 1.
        const size_t plane = 8 * 10;
        const size_t pixel = 5 * 10 + 5;
        QCOMPARE(d.train.features[pixel], 0.0f);
        QCOMPARE(d.train.features[2 * plane + pixel], 1.0f);

        writeText(root + QStringLiteral("/imagefolder.json"), R"({"size": 8, "color": "gray"})");
        QCOMPARE(load(root).sampleShape, (std::vector<qint64>{1, 8, 8}));
    }

    void trainAndTestLayout()
    {
        const QString root = m_dir.filePath(QStringLiteral("split"));
        writeClass(root + QStringLiteral("/train"), QStringLiteral("x"), 4, 5, 5, 10);
        writeClass(root + QStringLiteral("/train"), QStringLiteral("y"), 4, 5, 5, 240);
        writeClass(root + QStringLiteral("/test"), QStringLiteral("y"), 2, 5, 5, 240);
        const Dataset d = load(root);
        QCOMPARE(d.classNames, (QStringList{"x", "y"}));
        QCOMPARE(d.train.count(), qint64(8));
        QCOMPARE(d.test.count(), qint64(2));
        QCOMPARE(d.test.labels, (std::vector<qint64>{1, 1}));
    }

    void badFoldersAreRefusedClearly()
    {
        const QString one = m_dir.filePath(QStringLiteral("one"));
        writeClass(one, QStringLiteral("only"), 3, 4, 4, 9);
        QVERIFY2(errorOf([&] { load(one); }).contains(QStringLiteral("at least two")),
                 qPrintable(errorOf([&] { load(one); })));

        const QString broken = m_dir.filePath(QStringLiteral("broken"));
        writeClass(broken, QStringLiteral("a"), 2, 4, 4, 9);
        writeClass(broken, QStringLiteral("b"), 2, 4, 4, 99);
        writeText(broken + QStringLiteral("/b/zz.png"), "not a png");
        const QString error = errorOf([&] { load(broken); });
        QVERIFY2(error.contains(QStringLiteral("zz.png"))
                     && error.contains(QStringLiteral("decode")),
                 qPrintable(error));

        writeText(broken + QStringLiteral("/b/zz.png"), QByteArray());
        QFile::remove(broken + QStringLiteral("/b/zz.png"));
        writeText(broken + QStringLiteral("/imagefolder.json"), R"({"size": 0})");
        QVERIFY(errorOf([&] { load(broken); }).contains(QStringLiteral("\"size\"")));
        writeText(broken + QStringLiteral("/imagefolder.json"), R"({"colour": "rgb"})");
        QVERIFY(errorOf([&] { load(broken); }).contains(QStringLiteral("unknown key \"colour\"")));
    }

    // The channels come from the files' format, never from their pixels: RGB files of grey
    // pixels are 3 channels, grey files 1, grey JPEGs 1 and colour JPEGs 3.
    void channelsFollowTheFileFormat()
    {
        const QString root = m_dir.filePath(QStringLiteral("greyrgb"));
        for (const char *cls : {"a", "b"}) {
            QVERIFY(QDir().mkpath(root + QLatin1Char('/') + QLatin1String(cls)));
            QImage image(6, 6, QImage::Format_RGB32);
            image.fill(QColor(90, 90, 90));   // every pixel grey
            const QString file = QStringLiteral("%1/%2/0.png").arg(root, QLatin1String(cls));
            QVERIFY(image.save(file, "PNG"));
            // The test's premise: the file is an RGB PNG (colour type 2), not a grey one.
            QFile png(file);
            QVERIFY(png.open(QIODevice::ReadOnly));
            QCOMPARE(int(quint8(png.read(26).at(25))), 2);
        }
        QCOMPARE(load(root).sampleShape, (std::vector<qint64>{3, 6, 6}));

        const QString jpeg = m_dir.filePath(QStringLiteral("colourjpeg"));
        for (const char *cls : {"a", "b"}) {
            QVERIFY(QDir().mkpath(jpeg + QLatin1Char('/') + QLatin1String(cls)));
            QImage image(8, 8, QImage::Format_RGB32);
            image.fill(QColor(90, 90, 90));
            image.setPixelColor(2, 2, QColor(250, 10, 10));
            QVERIFY(image.save(QStringLiteral("%1/%2/0.jpg").arg(jpeg, QLatin1String(cls)),
                               "JPEG", 95));
        }
        QCOMPARE(load(jpeg).sampleShape, (std::vector<qint64>{3, 8, 8}));
    }

    // A corrupt PNG gives the one error line of the CLI, not libpng's own line before it.
    void aCorruptImageIsOneErrorLine()
    {
        const QString root = m_dir.filePath(QStringLiteral("corrupt"));
        writeClass(root, QStringLiteral("a"), 2, 8, 8, 20);
        writeClass(root, QStringLiteral("b"), 2, 8, 8, 200);
        // A real PNG cut short inside its image data: libpng itself reports the read error.
        QFile good(root + QStringLiteral("/b/0.png"));
        QVERIFY(good.open(QIODevice::ReadOnly));
        const QByteArray bytes = good.readAll();
        good.close();
        writeText(root + QStringLiteral("/b/1.png"), bytes.left(bytes.size() - 20));
        const CliRunResult run = ms::test::runCli(
            {"datasets", root, "--workspace", m_dir.filePath(QStringLiteral("ws"))});
        QVERIFY(run.exitCode != 0 && run.exitCode != -1);
        QVERIFY2(!run.errorLine().isEmpty(), qPrintable(run.err));
        QVERIFY2(run.errorLine().contains(QStringLiteral("1.png")), qPrintable(run.err));
        QVERIFY2(!run.err.contains(QStringLiteral("libpng error")), qPrintable(run.err));
    }

    // Wherever an image folder meets a model made for other images (resume, compress, bench),
    // the mismatch is refused before any work, naming both shapes.
    void aDatasetOfOtherChannelsMeetsTheModel()
    {
        const QString ws = m_dir.filePath(QStringLiteral("ws-mismatch"));
        const QString grey = m_dir.filePath(QStringLiteral("mismatch-grey"));
        writeClass(grey, QStringLiteral("dark"), 8, 8, 8, 30);
        writeClass(grey, QStringLiteral("light"), 8, 8, 8, 220);
        const QString rgb = m_dir.filePath(QStringLiteral("mismatch-rgb"));
        writeClass(rgb, QStringLiteral("dark"), 8, 8, 8, 30, true);
        writeClass(rgb, QStringLiteral("light"), 8, 8, 8, 220, true);
        const CliRunResult trained = ms::test::runCli(
            {"train", "--dataset", grey, "--arch", "mlp", "--epochs", "1", "--threads", "1",
             "--name", "greynet", "--json", "--workspace", ws});
        QVERIFY2(trained.exitCode == 0, qPrintable(trained.err));
        const QString runDir =
            trained.jsonLines().last().value(QStringLiteral("run_dir")).toString();

        auto refused = [&](const QStringList &args) {
            const CliRunResult run = ms::test::runCli(args + QStringList{"--workspace", ws});
            QVERIFY2(run.exitCode != 0 && run.exitCode != -1, qPrintable(run.out));
            const QString line = run.errorLine();
            QVERIFY2(line.contains(QStringLiteral("1x8x8"))
                         && line.contains(QStringLiteral("3x8x8")),
                     qPrintable(run.err));
        };
        refused({"bench", "greynet:1", "--dataset", rgb, "--repetitions", "1"});
        refused({"compress", "greynet:1", "--method", "prune-unstructured", "--sparsity", "0.5",
                 "--finetune-epochs", "1", "--dataset", rgb});
        // The run's folder now holds colour images: resuming it must not train on them.
        writeText(grey + QStringLiteral("/imagefolder.json"), R"({"color": "rgb"})");
        refused({"train", "--resume", runDir});

        // Nothing was made by the refusals: still the one version.
        const CliRunResult versions =
            ms::test::runCli({"versions", "greynet", "--json", "--workspace", ws});
        QCOMPARE(versions.exitCode, 0);
        QCOMPARE(versions.json().value(QStringLiteral("versions")).toArray().size(), 1);
    }

    // The CLI loads the plugin at start-up and trains on the folder.
    void trainsThroughTheCli()
    {
        const QString root = m_dir.filePath(QStringLiteral("cli"));
        writeClass(root, QStringLiteral("dark"), 12, 8, 8, 30);
        writeClass(root, QStringLiteral("light"), 12, 8, 8, 220);
        const CliRunResult run = ms::test::runCli(
            {"train", "--dataset", root, "--arch", "mlp", "--epochs", "1", "--threads", "1",
             "--json", "--workspace", m_dir.filePath(QStringLiteral("ws")),
             "--out", m_dir.filePath(QStringLiteral("cli.pt"))});
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        const QList<QJsonObject> lines = run.jsonLines();
        QVERIFY(lines.size() >= 3);
        QCOMPARE(lines.last().value(QStringLiteral("status")).toString(),
                 QStringLiteral("finished"));
        QVERIFY(QFile::exists(m_dir.filePath(QStringLiteral("cli.pt"))));
    }

private:
    using CliRunResult = ms::test::CliRun;
    QTemporaryDir m_dir;
    std::unique_ptr<PluginManager> m_manager;
};

QTEST_GUILESS_MAIN(tst_ImageFolder)
#include "tst_imagefolder.moc"
