// The Versions panel's Layers tab: an imported model's submodules (parameters, output shapes
// from one forward pass, MACs), its classes and its recorded preprocessing, read on a worker
// thread when the tab shows; a studio model's spec layers. Offscreen, isolated workspace.
#include "TestSupport.h"
#include "ui/TinyModel.h"
#include "common/LayerTableModel.h"
#include "common/ModelSummaryView.h"
#include "panels/versions/VersionDetailPane.h"
#include "panels/versions/VersionLayersView.h"
#include "panels/versions/VersionsPanel.h"

#include "registry/ModelImport.h"
#include "registry/Registry.h"

#include <QLabel>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

using ms::ui::VersionsPanel;

namespace {

// conv 3->4 (3x3, pad 1) + batch norm + relu + 2x2 max pool + linear 4*8*8 -> 3, on 3x16x16.
const char kMakeNet[] = R"(
import sys, torch
class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
            torch.nn.MaxPool2d(2))
        self.fc = torch.nn.Linear(4 * 8 * 8, 3)
    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))
torch.manual_seed(0)
torch.jit.script(Net().eval()).save(sys.argv[1])
)";

const ms::LayerSummary *row(const ms::ModelSummary &s, const QString &name)
{
    for (const ms::LayerSummary &l : s.layers) {
        if (l.name == name)
            return &l;
    }
    return nullptr;
}

} // namespace

class TestVersionLayers final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        m_ws = m_dir.filePath(QStringLiteral("ws"));
        QByteArray out;
        const QString file = m_dir.filePath(QStringLiteral("net.pt"));
        QVERIFY2(ms::test::runPython(m_dir.path(), QString::fromLatin1(kMakeNet), {file}, &out),
                 "/usr/bin/python3 with torch makes the model");
        ms::ImportOptions options;
        options.path = file;
        options.modelName = QStringLiteral("net");
        options.exampleShape = {1, 3, 16, 16};
        options.mean = {0.5f, 0.5f, 0.5f};
        options.stdev = {0.25f, 0.25f, 0.25f};
        options.classNames = {QStringLiteral("cat"), QStringLiteral("dog"),
                              QStringLiteral("bird")};
        const ms::PreparedImport prepared = ms::prepareImport(options);
        QCOMPARE(ms::Registry(m_ws).addVersion(prepared.version).ref(), QStringLiteral("net:1"));
        QCOMPARE(ms::Registry(m_ws)
                     .addVersion(ms::test::tinyImageVersion(
                         QStringLiteral("tiny"), m_dir.filePath(QStringLiteral("tiny.pt"))))
                     .ref(),
                 QStringLiteral("tiny:1"));
    }

    void showsAnImportsLayersClassesAndPreprocessing()
    {
        VersionsPanel panel(m_ws);
        panel.resize(1280, 800);
        panel.show();
        QVERIFY(panel.selectRef(QStringLiteral("net:1")));
        ms::ui::VersionDetailPane *pane = panel.detailPane();
        ms::ui::VersionLayersView *layers = pane->layersView();
        QSignalSpy loaded(layers, &ms::ui::VersionLayersView::loaded);
        pane->setCurrentIndex(pane->layersTab());   // read when the tab shows
        QVERIFY(loaded.wait(60000));
        ms::ui::ModelSummaryView *view = layers->summaryView();
        QVERIFY2(!view->hasError(), qPrintable(view->messageText()));
        const ms::ModelSummary s = view->layerModel()->summary();
        const ms::LayerSummary *conv = row(s, QStringLiteral("features.0"));
        QVERIFY(conv);
        QCOMPARE(conv->type, QStringLiteral("Conv2d"));
        QCOMPARE(conv->params, qint64(4 * 3 * 9 + 4));
        QCOMPARE(conv->outputShape, (std::vector<qint64>{4, 16, 16}));
        QCOMPARE(conv->macs, qint64(4 * 16 * 16) * 3 * 9);
        const ms::LayerSummary *features = row(s, QStringLiteral("features"));
        QVERIFY(features);
        QCOMPARE(features->outputShape, (std::vector<qint64>{4, 8, 8}));
        QCOMPARE(features->macs, qint64(4 * 16 * 16) * 3 * 9 + 4 * 16 * 16);   // conv + bn
        const ms::LayerSummary *fc = row(s, QStringLiteral("fc"));
        QVERIFY(fc);
        QCOMPARE(fc->outputShape, (std::vector<qint64>{3}));
        QCOMPARE(fc->macs, qint64(256 * 3));
        QCOMPARE(s.totalParams, qint64(4 * 27 + 4 + 8 + 256 * 3 + 3));
        const QString info = layers->infoLabel()->text();
        QVERIFY2(info.contains(QStringLiteral("cat, dog, bird"))
                     && info.contains(QStringLiteral("mean [0.5, 0.5, 0.5]")),
                 qPrintable(info));
        if (qEnvironmentVariableIsSet("MS_GRAB_DIR"))   // a look at the tab, by hand
            panel.grab().save(qEnvironmentVariable("MS_GRAB_DIR")
                              + QStringLiteral("/versions-layers.png"));

        // Another version: its own layers, from its spec (a studio model).
        loaded.clear();
        QVERIFY(panel.selectRef(QStringLiteral("tiny:1")));
        QVERIFY(loaded.wait(60000));
        const ms::ModelSummary tiny = view->layerModel()->summary();
        QVERIFY(!tiny.layers.isEmpty());
        QCOMPARE(tiny.layers.last().type, QStringLiteral("linear"));
        QCOMPARE(tiny.layers.last().outputShape, (std::vector<qint64>{10}));
    }

private:
    QTemporaryDir m_dir;
    QString m_ws;
};

QTEST_MAIN(TestVersionLayers)
#include "tst_versionlayers.moc"
