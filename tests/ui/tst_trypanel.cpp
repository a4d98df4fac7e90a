// The Try panel: an image dropped on it is explained by the chosen versions on the job
// runner (never the GUI thread), each column showing the prediction, the top-5 bars and the
// map; a version that cannot use the method says so in its column without stopping the others.

#include "TestSupport.h"
#include "TinyModel.h"

#include "panels/try/DrawingCanvas.h"
#include "panels/try/TryPanel.h"

#include "data/DatasetRegistry.h"
#include "explain/ExplainJob.h"
#include "jobs/JobRunner.h"
#include "models/Model.h"
#include "registry/Registry.h"

#include <QApplication>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QImage>
#include <QJsonArray>
#include <QJsonObject>
#include <QMimeData>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

using ms::ui::TryPanel;

class TestTryPanel : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        ms::Registry registry(m_dir.path());
        registry.addVersion(ms::test::tinyImageVersion(QStringLiteral("tiny"),
                                                       m_dir.filePath(QStringLiteral("a.pt"))));
        registry.addVersion(ms::test::tinyImageVersion(QStringLiteral("tiny"),
                                                       m_dir.filePath(QStringLiteral("b.pt"))));
    }

    void showsThePredictionOfADroppedImage()
    {
        ms::JobRunner runner;
        TryPanel panel(&runner, m_dir.path());
        panel.resize(1000, 700);
        panel.show();
        QVERIFY(panel.chooseVersion(0, QStringLiteral("tiny:1")));
        QVERIFY(panel.chooseVersion(1, QStringLiteral("tiny:2")));
        // A 40x40 colour picture: the window converts and scales it to the model's 1x28x28.
        QImage image(40, 40, QImage::Format_RGB888);
        image.fill(QColor(200, 120, 40));
        for (int y = 10; y < 30; ++y)
            for (int x = 12; x < 20; ++x)
                image.setPixelColor(x, y, Qt::white);
        const QString path = m_dir.filePath(QStringLiteral("shoe.png"));
        QVERIFY(image.save(path));

        QSignalSpy explained(&panel, &TryPanel::explained);
        QMimeData mime;
        mime.setUrls({QUrl::fromLocalFile(path)});
        QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton,
                              Qt::NoModifier);
        QApplication::sendEvent(&panel, &enter);
        QVERIFY(enter.isAccepted());
        QDropEvent drop(QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(&panel, &drop);
        QVERIFY2(explained.count() == 1 || explained.wait(30000), qPrintable(panel.statusText()));
        QCOMPARE(explained.first().first().toBool(), true);
        for (int column = 0; column < 2; ++column) {
            const QString headline = panel.columnHeadline(column);
            QVERIFY2(headline.startsWith(QStringLiteral("tiny:%1: ").arg(column + 1))
                         && headline.contains(QStringLiteral("%")),
                     qPrintable(headline));
            QVERIFY(panel.columnHasMap(column));
        }
        QVERIFY(panel.columnHeadline(2).isEmpty());
        QVERIFY(!panel.columnHasMap(2));
    }

    // A model of 28x28 grey images gets the canvas: mouse strokes become the input (white on
    // black, scaled to 28x28) and are explained when the button is let go.
    void drawingBecomesTheInput()
    {
        ms::JobRunner runner;
        TryPanel panel(&runner, m_dir.path());
        panel.resize(1200, 700);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QVERIFY(panel.chooseVersion(0, QStringLiteral("tiny:1")));
        QVERIFY(panel.chooseVersion(1, QStringLiteral("tiny:2")));
        QVERIFY(panel.canDraw());
        QVERIFY(panel.inputValues().empty());
        QCOMPARE(panel.classChoices().size(), 10);

        QSignalSpy explained(&panel, &TryPanel::explained);
        ms::ui::DrawingCanvas *canvas = panel.canvas();
        QTest::mousePress(canvas, Qt::LeftButton, Qt::NoModifier, QPoint(112, 30));
        for (int y = 40; y <= 190; y += 15)
            QTest::mouseMove(canvas, QPoint(112 + (y - 30) / 4, y));
        QTest::mouseRelease(canvas, Qt::LeftButton, Qt::NoModifier, QPoint(150, 195));
        QVERIFY2(explained.count() == 1 || explained.wait(30000), qPrintable(panel.statusText()));
        QCOMPARE(explained.first().first().toBool(), true);

        // A stroke, not a blank nor a filled square: some pixels white, most still black.
        const std::vector<float> &x = panel.inputValues();
        QCOMPARE(x.size(), size_t(28 * 28));
        const auto lit = std::count_if(x.begin(), x.end(), [](float v) { return v > 0.5f; });
        QVERIFY2(lit >= 20 && lit <= 200, qPrintable(QString::number(lit)));
        QVERIFY(*std::max_element(x.begin(), x.end()) > 0.9f);
        for (int column = 0; column < 2; ++column) {
            QVERIFY2(panel.columnHeadline(column).startsWith(
                         QStringLiteral("tiny:%1: ").arg(column + 1)),
                     qPrintable(panel.columnHeadline(column)));
            QVERIFY(panel.columnHasMap(column));
        }

        // Clear empties the canvas.
        QPushButton *clear = nullptr;
        for (QPushButton *b : panel.findChildren<QPushButton *>())
            if (b->text() == QStringLiteral("Clear"))
                clear = b;
        QVERIFY(clear);
        clear->click();
        QVERIFY(canvas->isEmpty());
        QVERIFY(canvas->values(28, 28) == std::vector<float>(28 * 28, 0.0f));
    }

    // A language model takes token ids: the panel does not offer it (the Chat panel does).
    void offersOnlyModelsOfFloatInputs()
    {
        ms::NewVersion tokens = ms::test::tinyImageVersion(
            QStringLiteral("tokens"), m_dir.filePath(QStringLiteral("t.pt")));
        tokens.inputs = {ms::TensorSignature{QStringLiteral("tokens"), QStringLiteral("int64"),
                                             {-1, -1}}};
        ms::Registry(m_dir.path()).addVersion(tokens);
        ms::JobRunner runner;
        TryPanel panel(&runner, m_dir.path());
        QVERIFY(panel.chooseVersion(0, QStringLiteral("tiny:1")));
        QVERIFY(!panel.chooseVersion(0, QStringLiteral("tokens:1")));
    }

    // The panel's "test sample of class K, misclassified only": the job finds the first test
    // image of the class that the first version gets wrong, and explains it with every version.
    void explainJobFindsAMisclassifiedSampleOfAClass()
    {
        ms::ExplainRequest request;
        request.versions = {QStringLiteral("tiny:1"), QStringLiteral("tiny:2")};
        request.options.method = ms::ExplainMethod::Saliency;
        request.dataset = QStringLiteral("fashion-mnist");
        request.sampleClass = 3;
        request.sample = 0;
        request.misclassifiedOnly = true;
        ms::JobRunner runner;
        QSignalSpy finished(&runner, &ms::JobRunner::finished);
        runner.start(std::make_unique<ms::ExplainJob>(m_dir.path(), request));
        QVERIFY(finished.wait(60000));
        const auto result = finished.first().at(1).value<ms::JobResult>();
        QVERIFY2(result.status == ms::JobStatus::Finished, qPrintable(result.message));
        const QJsonObject out = result.output;
        QCOMPARE(out.value("label").toInt(), 3);
        const QJsonArray explanations = out.value("explanations").toArray();
        QCOMPARE(explanations.size(), 2);
        QVERIFY(explanations.at(0).toObject().value("predicted").toInt() != 3);
        QCOMPARE(explanations.at(1).toObject().value("version").toString(),
                 QStringLiteral("tiny:2"));
        // It is the first such sample: the same model predicts every earlier one of class 3 right.
        const ms::Model model = ms::Model::load(m_dir.filePath(QStringLiteral("a.pt")));
        ms::DatasetOptions options;
        options.source = QStringLiteral("fashion-mnist");
        const ms::Dataset data = ms::DatasetRegistry::instance().load(options);
        const qint64 index = out.value("sample").toInteger();
        for (qint64 i = 0; i <= index; ++i) {
            if (data.test.labels[size_t(i)] != 3)
                continue;
            const std::vector<float> x(data.test.features.begin() + i * 784,
                                       data.test.features.begin() + (i + 1) * 784);
            const std::vector<float> logits = model.predict(x, {1, 1, 28, 28});
            const int predicted =
                int(std::max_element(logits.begin(), logits.end()) - logits.begin());
            QCOMPARE(predicted == 3, i < index);
        }
    }

    void refusesAFileThatIsNoImage()
    {
        ms::JobRunner runner;
        TryPanel panel(&runner, m_dir.path());
        QVERIFY(panel.chooseVersion(0, QStringLiteral("tiny:1")));
        const QString path = m_dir.filePath(QStringLiteral("notes.txt"));
        QVERIFY(ms::test::writeFile(path, "no picture\n"));
        QVERIFY(!panel.openImage(path));
        QVERIFY2(panel.statusText().contains(QStringLiteral("Cannot read notes.txt")),
                 qPrintable(panel.statusText()));
    }
};

QTEST_MAIN(TestTryPanel)
#include "tst_trypanel.moc"
