// The Versions panel over a real registry (versions built, not trained): the table's rows and
// accuracy text, filtering, numeric sorting, the detail pane, "Serve" starting the Serve panel
// with a real HTTP check, Export, and a Delete refused because of an alias. Its layout with a
// long model name and a 224x224 input: columns as wide as their text or elided with the whole in
// the tooltip, the record wrapped inside the pane, lineage labels clear of each other and of the
// boxes. Offscreen, isolated workspace.
#include "TestSupport.h"
#include "common/ColumnFit.h"
#include "panels/serve/ServePanel.h"
#include "panels/versions/LineageView.h"
#include "panels/versions/VersionFilterProxy.h"
#include "panels/versions/VersionTableModel.h"
#include "panels/versions/VersionsPanel.h"
#include "shell/MainWindow.h"
#include "shell/StudioPanels.h"
#include "ui/TinyModel.h"

#include "export/Exporter.h"
#include "models/ArchitectureRegistry.h"
#include "models/Model.h"
#include "registry/Registry.h"

#include <QAction>
#include <QCryptographicHash>
#include <QFile>
#include <QHeaderView>
#include <QLineEdit>
#include <QMenu>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTableView>
#include <QTcpServer>
#include <QScrollBar>
#include <QTemporaryDir>
#include <QUndoStack>
#include <QTextBlock>
#include <QTextEdit>
#include <QTextLayout>
#include <QtTest>

using ms::ui::VersionsPanel;
using ms::ui::VersionTableModel;

namespace {

quint16 freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

QStringList columnTexts(const QAbstractItemModel *model, int column)
{
    QStringList texts;
    for (int row = 0; row < model->rowCount(); ++row)
        texts << model->index(row, column).data().toString();
    return texts;
}

} // namespace

class TestVersionsPanel final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void listsEveryVersion();
    void filtersByText();
    void sortsAccuracyNumerically();
    void selectionFillsTheDetailPane();
    void serveStartsTheServePanel();
    void exportsTheArtifact();
    void deleteOfAnAliasedVersionIsRefused();
    void deleteRemovesTheRow();
    void renamesAModel();
    void columnsFitALongName();
    void narrowTableElidesWithTheWholeInTheTooltip();
    void recordWrapsInsideThePane();
    void lineageLabelsAreClearOfEachOtherAndTheBoxes();

private:
    // A workspace of its own: resnet18-finetuned-cifar:1..3 at 1x3x224x224, 11,181,642
    // parameters, tagged and aliased.
    void makeLongNameWorkspace(const QString &path);

    QTemporaryDir m_workspace;
    QString m_sha256;   // of alpha:2
};

void TestVersionsPanel::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_workspace.isValid());

    const ms::NewVersion tiny = ms::test::tinyImageVersion(
        QString(), m_workspace.filePath(QStringLiteral("tiny.pt")));
    ms::Registry registry(m_workspace.path());
    auto add = [&](const QString &name, double acc, const QJsonObject &recipe) {
        ms::NewVersion version = tiny;
        version.modelName = name;
        version.kind = recipe.isEmpty() ? ms::VersionKind::Imported : ms::VersionKind::Trained;
        version.recipe = recipe;
        version.metrics = QJsonObject{{QStringLiteral("test_acc"), acc}};
        return registry.addVersion(version);
    };
    // 9 % < 45 % < 100 %: a text sort would put "100" first and "9" last.
    add(QStringLiteral("alpha"), 0.09, {});
    const ms::VersionRecord alpha2 =
        add(QStringLiteral("alpha"), 1.0,
            QJsonObject{{QStringLiteral("arch"), QStringLiteral("mlp")},
                        {QStringLiteral("epochs"), 3}});
    m_sha256 = alpha2.sha256;
    const ms::VersionRecord beta1 = add(QStringLiteral("beta"), 0.45, {});
    registry.setAlias(QStringLiteral("beta"), QStringLiteral("production"), beta1.id);
}

void TestVersionsPanel::listsEveryVersion()
{
    VersionsPanel panel(m_workspace.path());
    VersionTableModel *model = panel.tableModel();
    QCOMPARE(model->rowCount(), 3);
    QStringList refs;
    QStringList accuracies;
    for (int row = 0; row < model->rowCount(); ++row) {
        refs << model->index(row, VersionTableModel::Version).data().toString();
        accuracies << model->index(row, VersionTableModel::Accuracy).data().toString();
    }
    refs.sort();
    QCOMPARE(refs, (QStringList{QStringLiteral("alpha:1"), QStringLiteral("alpha:2"),
                                QStringLiteral("beta:1")}));
    QVERIFY(accuracies.contains(QStringLiteral("45.00 %")));
    QVERIFY(accuracies.contains(QStringLiteral("9.00 %")));
    QVERIFY(accuracies.contains(QStringLiteral("100.00 %")));
    QVERIFY(columnTexts(model, VersionTableModel::Aliases).contains(QStringLiteral("production")));
    QVERIFY(!panel.statusIsError());
}

void TestVersionsPanel::filtersByText()
{
    VersionsPanel panel(m_workspace.path());
    panel.filterEdit()->setText(QStringLiteral("ALPHA"));
    QSortFilterProxyModel *proxy = panel.proxyModel();
    QCOMPARE(proxy->rowCount(), 2);
    for (const QString &name : columnTexts(proxy, VersionTableModel::Model))
        QCOMPARE(name, QStringLiteral("alpha"));
    // Any column matches: the alias of beta:1.
    panel.filterEdit()->setText(QStringLiteral("product"));
    QCOMPARE(columnTexts(proxy, VersionTableModel::Version),
             QStringList{QStringLiteral("beta:1")});
    panel.filterEdit()->clear();
    QCOMPARE(proxy->rowCount(), 3);
}

void TestVersionsPanel::sortsAccuracyNumerically()
{
    VersionsPanel panel(m_workspace.path());
    panel.tableView()->sortByColumn(VersionTableModel::Accuracy, Qt::AscendingOrder);
    QCOMPARE(columnTexts(panel.proxyModel(), VersionTableModel::Accuracy),
             (QStringList{QStringLiteral("9.00 %"), QStringLiteral("45.00 %"),
                          QStringLiteral("100.00 %")}));
    panel.tableView()->sortByColumn(VersionTableModel::Accuracy, Qt::DescendingOrder);
    QCOMPARE(columnTexts(panel.proxyModel(), VersionTableModel::Version).first(),
             QStringLiteral("alpha:2"));
}

void TestVersionsPanel::selectionFillsTheDetailPane()
{
    VersionsPanel panel(m_workspace.path());
    QVERIFY(panel.selectRef(QStringLiteral("alpha:2")));
    QCOMPARE(panel.selectedRef(), QStringLiteral("alpha:2"));
    const QString detail = panel.detailView()->toPlainText();
    QVERIFY2(detail.contains(m_sha256), qPrintable(detail));
    QVERIFY2(detail.contains(QStringLiteral("\"arch\": \"mlp\"")), qPrintable(detail));
    QVERIFY2(detail.contains(QStringLiteral("\"epochs\": 3")), qPrintable(detail));
    QVERIFY(detail.contains(QStringLiteral("input float32")));
    QVERIFY(panel.detailView()->isReadOnly());
}

void TestVersionsPanel::serveStartsTheServePanel()
{
    // The studio's own wiring (StudioPanels.cpp), as the executable makes it.
    ms::ui::MainWindow window(m_workspace.path());
    window.setPanelFactory(&ms::ui::addStudioPanels);
    auto *versions = window.panel<VersionsPanel>();
    auto *serve = window.panel<ms::ui::ServePanel>();
    QVERIFY(versions && serve);
    const quint16 port = freePort();
    QVERIFY(port != 0);
    serve->setPort(port);
    window.showPanel(versions->id());
    window.show();

    QVERIFY(versions->selectRef(QStringLiteral("beta:1")));
    QVERIFY(versions->serveAction()->isEnabled());
    versions->serveAction()->trigger();
    QCOMPARE(window.currentPanel(), serve);
    QVERIFY2(serve->isListening(), qPrintable(serve->statusText()));
    QVERIFY2(!serve->statusIsError(), qPrintable(serve->statusText()));
    QCOMPARE(serve->modelRefs(), QStringList{QStringLiteral("beta:1")});
    // The model loads on a worker thread (the window stays responsive meanwhile).
    QTRY_COMPARE(serve->service()->models().size(), 1);

    QNetworkAccessManager network;
    QNetworkReply *reply =
        network.get(QNetworkRequest(QUrl(serve->url() + QStringLiteral("/v2/models/beta"))));
    QSignalSpy finished(reply, &QNetworkReply::finished);
    QVERIFY(finished.wait(10000));
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    QVERIFY(reply->readAll().contains("beta"));
    reply->deleteLater();

    // A second Serve while listening loads it at once, under its own name.
    window.showPanel(versions->id());
    QVERIFY(versions->selectRef(QStringLiteral("alpha:2")));
    versions->serveAction()->trigger();
    QVERIFY2(!serve->statusIsError(), qPrintable(serve->statusText()));
    QCOMPARE(serve->modelRefs(), (QStringList{QStringLiteral("beta:1"),
                                             QStringLiteral("alpha:2")}));
    serve->stop();
}

void TestVersionsPanel::exportsTheArtifact()
{
    VersionsPanel panel(m_workspace.path());
    QVERIFY(panel.selectRef(QStringLiteral("alpha:2")));
    const QString target = m_workspace.filePath(QStringLiteral("exported.pt"));
    QVERIFY2(panel.exportSelected(target), qPrintable(panel.statusText()));
    QFile file(target);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(QString::fromLatin1(
                 QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256).toHex()),
             m_sha256);
    QVERIFY(!QFile::exists(target + QStringLiteral(".part")));
    QVERIFY(!panel.statusIsError());
    // A file already there is replaced only when the person said so (the menu asks).
    QVERIFY(panel.selectRef(QStringLiteral("alpha:1")));
    QVERIFY(!panel.exportSelected(target));
    QVERIFY(panel.statusIsError());
    QVERIFY2(panel.statusText().contains(QStringLiteral("already exist")),
             qPrintable(panel.statusText()));
    const QString readme = m_workspace.filePath(QStringLiteral("exported.README.md"));
    QFile readmeFile(readme);
    QVERIFY(readmeFile.open(QIODevice::ReadOnly));
    QVERIFY(readmeFile.readAll().startsWith("# `alpha:2`"));
    readmeFile.close();
    QVERIFY2(panel.exportSelected(target, QStringLiteral("pt"), true),
             qPrintable(panel.statusText()));
    QVERIFY(readmeFile.open(QIODevice::ReadOnly));
    QVERIFY(readmeFile.readAll().startsWith("# `alpha:1`"));
    QVERIFY(panel.selectRef(QStringLiteral("alpha:2")));

    // The other formats go through the same exporters as the CLI.
    const QString repo = m_workspace.filePath(QStringLiteral("triton"));
    QVERIFY2(panel.exportSelected(repo, QStringLiteral("triton")), qPrintable(panel.statusText()));
    QVERIFY(QFile::exists(repo + QStringLiteral("/alpha/config.pbtxt")));
    QVERIFY(QFile::exists(repo + QStringLiteral("/alpha/2/model.pt")));
    QVERIFY2(panel.statusText().contains(QStringLiteral("alpha")), qPrintable(panel.statusText()));
    // A second time the model folder is taken: refused, said so, nothing changed.
    QVERIFY(!panel.exportSelected(repo, QStringLiteral("triton")));
    QVERIFY(panel.statusIsError());
    QVERIFY2(panel.statusText().contains(QStringLiteral("not empty")),
             qPrintable(panel.statusText()));
    QVERIFY(panel.exportSelected(m_workspace.filePath(QStringLiteral("alpha.mar")),
                                 QStringLiteral("torchserve")));
    QVERIFY(QFile::exists(m_workspace.filePath(QStringLiteral("alpha.mar"))));
    // The toolbar's Export offers every registered format.
    QCOMPARE(panel.exportMenu()->actions().size(),
             ms::ExporterRegistry::instance().exporters().names().size());
}

void TestVersionsPanel::deleteOfAnAliasedVersionIsRefused()
{
    VersionsPanel panel(m_workspace.path());
    panel.setConfirmDeletes(false);
    QVERIFY(panel.selectRef(QStringLiteral("beta:1")));
    QVERIFY(!panel.deleteSelected());
    QVERIFY(panel.statusIsError());
    QVERIFY2(panel.statusText().contains(QStringLiteral("production")),
             qPrintable(panel.statusText()));
    QCOMPARE(panel.tableModel()->rowCount(), 3);
}

void TestVersionsPanel::deleteRemovesTheRow()
{
    VersionsPanel panel(m_workspace.path());
    panel.setConfirmDeletes(false);
    QVERIFY(panel.selectRef(QStringLiteral("alpha:1")));
    QVERIFY2(panel.deleteSelected(), qPrintable(panel.statusText()));
    QVERIFY(!panel.statusIsError());
    QCOMPARE(panel.tableModel()->rowCount(), 2);
    QVERIFY(!panel.selectRef(QStringLiteral("alpha:1")));
}

void TestVersionsPanel::renamesAModel()
{
    QTemporaryDir dir;
    qint64 deltaId = 0;
    {
        ms::Registry registry(dir.path());
        ms::NewVersion version = ms::test::tinyImageVersion(
            QStringLiteral("gamma"), dir.filePath(QStringLiteral("g.pt")));
        registry.addVersion(version);
        version.modelName = QStringLiteral("delta");
        deltaId = registry.addVersion(version).id;
    }
    VersionsPanel panel(dir.path());
    QVERIFY(panel.selectRef(QStringLiteral("gamma:1")));
    QVERIFY(!panel.renameModel(QStringLiteral("delta")));
    QVERIFY2(panel.statusText().contains(QStringLiteral("already exists")),
             qPrintable(panel.statusText()));
    QVERIFY(!panel.renameModel(QStringLiteral("a b")));
    QVERIFY2(panel.statusText().contains(QStringLiteral("cannot be a model name")),
             qPrintable(panel.statusText()));
    QVERIFY2(panel.renameModel(QStringLiteral("gamma2")), qPrintable(panel.statusText()));
    QCOMPARE(panel.selectedRef(), QStringLiteral("gamma2:1"));
    QCOMPARE(ms::Registry(dir.path()).resolve(QStringLiteral("gamma2:1")).modelName,
             QStringLiteral("gamma2"));
    panel.undoStack()->undo();
    QVERIFY(ms::Registry(dir.path()).model(QStringLiteral("gamma")));
    QVERIFY(!ms::Registry(dir.path()).model(QStringLiteral("gamma2")));

    // A name from before the naming rule, as an older studio stored it: renamed for good (it
    // could not be given back), which makes the model usable again.
    QByteArray out;
    QVERIFY(ms::test::runPython(dir.path(), QStringLiteral(R"(
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE models SET name = '../old name' WHERE name = 'delta'")
db.commit()
)"),
                                {dir.filePath(QStringLiteral("registry.db"))}, &out));
    panel.reload();
    QVERIFY(panel.selectId(deltaId));
    QVERIFY2(panel.renameModel(QStringLiteral("delta")), qPrintable(panel.statusText()));
    QVERIFY(!panel.undoStack()->canUndo());
    QCOMPARE(ms::Registry(dir.path()).resolve(QStringLiteral("delta:1")).id, deltaId);
}

const QString kLongName = QStringLiteral("resnet18-finetuned-cifar");

void TestVersionsPanel::makeLongNameWorkspace(const QString &path)
{
    ms::Registry registry(path);
    ms::NewVersion version = ms::test::tinyImageVersion(
        kLongName, QDir(path).filePath(QStringLiteral("tiny.pt")));
    version.inputs = {ms::TensorSignature{QStringLiteral("input"), QStringLiteral("float32"),
                                          {-1, 3, 224, 224}}};
    version.parameterCount = 11181642;
    version.metrics = QJsonObject{{QStringLiteral("test_acc"), 0.9312}};
    const ms::VersionRecord first = registry.addVersion(version);
    version.kind = ms::VersionKind::Quantized;
    version.parents = {{first.id, QStringLiteral("source")}};
    registry.addVersion(version);
    const ms::VersionRecord third = registry.addVersion(version);
    registry.setTag(first.id, QStringLiteral("dataset"), QStringLiteral("cifar10-224-upscaled"));
    registry.setAlias(kLongName, QStringLiteral("production"), third.id);
}

void TestVersionsPanel::columnsFitALongName()
{
    QTemporaryDir workspace;
    makeLongNameWorkspace(workspace.path());
    VersionsPanel panel(workspace.path());
    panel.resize(1500, 700);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QTableView *table = panel.tableView();
    const QFontMetrics metrics = table->fontMetrics();
    // Every cell's text fits its column: the name, the reference with its number, the
    // parameter count, the date. (Tags and aliases give way first when the table is narrower.)
    for (int column : {VersionTableModel::Model, VersionTableModel::Version,
                       VersionTableModel::Params, VersionTableModel::Created}) {
        for (int row = 0; row < table->model()->rowCount(); ++row) {
            const QString text = table->model()->index(row, column).data().toString();
            QTRY_VERIFY2(table->columnWidth(column) > metrics.horizontalAdvance(text),
                         qPrintable(QStringLiteral("column %1 is %2 px for \"%3\" (%4 px)")
                                        .arg(column)
                                        .arg(table->columnWidth(column))
                                        .arg(text)
                                        .arg(metrics.horizontalAdvance(text))));
        }
    }
    QVERIFY(panel.selectRef(kLongName + QStringLiteral(":3")));
}

void TestVersionsPanel::narrowTableElidesWithTheWholeInTheTooltip()
{
    QTemporaryDir workspace;
    makeLongNameWorkspace(workspace.path());
    VersionsPanel panel(workspace.path());
    panel.resize(560, 500);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QTableView *table = panel.tableView();
    const QFontMetrics metrics = table->fontMetrics();
    auto *delegate = qobject_cast<ms::ui::ElidingDelegate *>(table->itemDelegate());
    QVERIFY(delegate);
    // The free-text columns gave way; what they show is elided, the tooltip is whole, and a
    // reference keeps its version number in view.
    const QModelIndex name = table->model()->index(0, VersionTableModel::Model);
    const QModelIndex ref = table->model()->index(0, VersionTableModel::Version);
    QTRY_VERIFY(delegate->shownText(table, name) != name.data().toString());
    QVERIFY(name.data(Qt::ToolTipRole).toString().startsWith(kLongName));
    const QString shownRef = delegate->shownText(table, ref);
    QVERIFY2(shownRef != ref.data().toString(), qPrintable(shownRef));
    QCOMPARE(ref.data(Qt::ToolTipRole).toString(), ref.data().toString());
    QVERIFY2(shownRef.endsWith(ref.data().toString().section(QLatin1Char(':'), -1)
                                   .prepend(QLatin1Char(':'))),
             qPrintable(shownRef));
    // Numbers and dates never give way.
    for (int column : {VersionTableModel::Accuracy, VersionTableModel::Params,
                       VersionTableModel::Created}) {
        const QString text = table->model()->index(0, column).data().toString();
        QVERIFY2(table->columnWidth(column) > metrics.horizontalAdvance(text), qPrintable(text));
    }
    // A column the user drags keeps its width through a reload.
    ms::ui::ColumnFitter *fitter = table->findChild<ms::ui::ColumnFitter *>();
    QVERIFY(fitter);
    QVERIFY(!fitter->isUserSized());
    QHeaderView *header = table->horizontalHeader();
    const int edge = header->sectionViewportPosition(VersionTableModel::Model)
                     + header->sectionSize(VersionTableModel::Model) - 1;
    const int y = header->height() / 2;
    QTest::mousePress(header->viewport(), Qt::LeftButton, {}, QPoint(edge, y));
    QTest::mouseMove(header->viewport(), QPoint(edge + 60, y));
    QTest::mouseRelease(header->viewport(), Qt::LeftButton, {}, QPoint(edge + 60, y));
    QVERIFY(fitter->isUserSized());
    const int dragged = table->columnWidth(VersionTableModel::Model);
    panel.reload();
    QCoreApplication::processEvents();
    QCOMPARE(table->columnWidth(VersionTableModel::Model), dragged);
}

void TestVersionsPanel::recordWrapsInsideThePane()
{
    QTemporaryDir workspace;
    makeLongNameWorkspace(workspace.path());
    VersionsPanel panel(workspace.path());
    panel.resize(900, 600);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QVERIFY(panel.selectRef(kLongName + QStringLiteral(":1")));
    QTextEdit *record = panel.detailView();
    record->resize(240, 400);   // a narrow dock
    QVERIFY(record->toPlainText().contains(QStringLiteral("[N, 3, 224, 224]")));
    QTRY_COMPARE(record->horizontalScrollBar()->maximum(), 0);
    // Every line of every block ends inside the view; a wrapped value continues under the start
    // of the value, not under its key.
    const int width = record->viewport()->width();
    bool wrappedSome = false;
    for (QTextBlock block = record->document()->begin(); block.isValid(); block = block.next()) {
        QTextLayout *layout = block.layout();
        for (int i = 0; i < layout->lineCount(); ++i) {
            const QTextLine line = layout->lineAt(i);
            QVERIFY2(line.x() + line.naturalTextWidth() <= width,
                     qPrintable(block.text()));
            if (i > 0 && block.text().startsWith(QStringLiteral("Inputs:"))) {
                wrappedSome = true;
                QVERIFY(line.x() > layout->lineAt(0).x() - 1);
                QVERIFY(line.x() >= QFontMetricsF(record->document()->defaultFont())
                                            .horizontalAdvance(QStringLiteral("Inputs:  ")));
            }
        }
    }
    QVERIFY(wrappedSome);
}

void TestVersionsPanel::lineageLabelsAreClearOfEachOtherAndTheBoxes()
{
    // v1 -> v2 -> v3 and v1 -> v3 (a long edge across v2's column), and v1 -> v4..v8 with a
    // long role: once drawn at the middle of their edges, the long edge's label sat on v2.
    QVector<ms::VersionRecord> versions;
    for (int n = 1; n <= 8; ++n) {
        ms::VersionRecord v;
        v.id = n;
        v.number = n;
        v.modelName = kLongName;
        v.kind = n == 1 ? ms::VersionKind::Imported : ms::VersionKind::Quantized;
        versions << v;
    }
    auto edge = [](qint64 parent, qint64 child, const QString &role) {
        ms::LineageEdge e;
        e.parentId = parent;
        e.childId = child;
        e.parentRef = kLongName + QStringLiteral(":%1").arg(parent);
        e.childRef = kLongName + QStringLiteral(":%1").arg(child);
        e.role = role;
        return e;
    };
    QVector<ms::LineageEdge> edges{edge(1, 2, QStringLiteral("source")),
                                   edge(2, 3, QStringLiteral("student")),
                                   edge(1, 3, QStringLiteral("teacher"))};
    for (int child = 4; child <= 8; ++child)
        edges << edge(1, child, QStringLiteral("finetuned-from"));
    // And an outside parent with a long reference.
    ms::LineageEdge outside = edge(100, 3, QStringLiteral("teacher"));
    outside.parentRef = QStringLiteral("efficientnet-b0-imagenet-distilled:12");
    edges << outside;

    ms::ui::LineageView view;
    view.resize(700, 400);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.setLineage(versions, edges);
    const QVector<QRectF> labels = view.edgeLabelRects();
    QCOMPARE(labels.size(), edges.size());
    for (int i = 0; i < labels.size(); ++i) {
        for (int j = i + 1; j < labels.size(); ++j) {
            QVERIFY2(!labels[i].intersects(labels[j]),
                     qPrintable(QStringLiteral("labels %1 and %2 overlap").arg(i).arg(j)));
        }
        for (qint64 id : {1, 2, 3, 4, 5, 6, 7, 8, 100}) {
            QVERIFY2(!labels[i].intersects(view.nodeRect(id)),
                     qPrintable(QStringLiteral("label %1 covers node %2").arg(i).arg(id)));
        }
    }
}

QTEST_MAIN(TestVersionsPanel)
#include "tst_versionspanel.moc"
