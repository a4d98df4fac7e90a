// The Versions panel's editing and reading of a lineage, over a real registry (versions built
// through the registry API, not trained): tag, alias and notes edits through the panel's undo
// stack (the registry checked after each edit, undo and redo), the lineage graph's nodes, edges,
// generations and clicks, Diff of two versions, the benchmark table, Re-run's recipe.
// Offscreen, isolated workspace.
#include "panels/versions/LineageView.h"
#include "panels/versions/VersionDetailPane.h"
#include "panels/versions/VersionDiffDialog.h"
#include "panels/versions/VersionsPanel.h"
#include "ui/TinyModel.h"

#include "registry/Registry.h"

#include <QAction>
#include <QCheckBox>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTextEdit>
#include <QUndoStack>
#include <QtTest>

#include <algorithm>

using ms::ui::LineageView;
using ms::ui::VersionsPanel;

class TestVersionEdits final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void tagEditUndoRedo();
    void removeTagUndo();
    void aliasMovesAndUndoMovesItBack();
    void notesSavedFromThePaneUndo();
    void failedEditIsNotOnTheStack();
    void lineageGraphHasEveryVersionAndEdge();
    void clickingALineageNodeSelectsIt();
    void diffOfTwoVersions();
    void benchmarksShowAsATable();
    void rerunHandsTheRecipeOver();

private:
    ms::Registry registry() const { return ms::Registry(m_workspace.path()); }

    QTemporaryDir m_workspace;
    ms::VersionRecord m_teacher;   // teacher:1, another model
    ms::VersionRecord m_g1;        // gamma:1 trained
    ms::VersionRecord m_g2;        // gamma:2 finetuned from gamma:1
    ms::VersionRecord m_g3;        // gamma:3 quantized from gamma:2
    ms::VersionRecord m_g4;        // gamma:4 distilled from gamma:2, teacher teacher:1
};

void TestVersionEdits::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_workspace.isValid());
    const ms::NewVersion tiny = ms::test::tinyImageVersion(
        QString(), m_workspace.filePath(QStringLiteral("tiny.pt")));
    ms::Registry r = registry();
    auto add = [&](const QString &name, ms::VersionKind kind, double acc,
                   const QJsonObject &recipe, QVector<QPair<qint64, QString>> parents) {
        ms::NewVersion v = tiny;
        v.modelName = name;
        v.kind = kind;
        v.recipe = recipe;
        v.metrics = QJsonObject{{QStringLiteral("test_acc"), acc}};
        v.parents = std::move(parents);
        return r.addVersion(v);
    };
    const QJsonObject recipe{{QStringLiteral("dataset"), QStringLiteral("fashion-mnist")},
                             {QStringLiteral("arch"), QStringLiteral("mlp")},
                             {QStringLiteral("epochs"), 2},
                             {QStringLiteral("lr"), 0.001},
                             {QStringLiteral("limit"), 600}};
    QJsonObject finetune = recipe;
    finetune.insert(QStringLiteral("lr"), 0.0001);
    m_teacher = add(QStringLiteral("teacher"), ms::VersionKind::Imported, 0.93, {}, {});
    m_g1 = add(QStringLiteral("gamma"), ms::VersionKind::Trained, 0.85, recipe, {});
    m_g2 = add(QStringLiteral("gamma"), ms::VersionKind::Finetuned, 0.87, finetune,
               {{m_g1.id, QStringLiteral("finetuned-from")}});
    m_g3 = add(QStringLiteral("gamma"), ms::VersionKind::Quantized, 0.86, {},
               {{m_g2.id, QStringLiteral("source")}});
    m_g4 = add(QStringLiteral("gamma"), ms::VersionKind::Distilled, 0.88, {},
               {{m_g2.id, QStringLiteral("source")}, {m_teacher.id, QStringLiteral("teacher")}});
}

void TestVersionEdits::tagEditUndoRedo()
{
    VersionsPanel panel(m_workspace.path());
    QVERIFY(panel.selectRef(QStringLiteral("gamma:2")));
    QVERIFY2(panel.setTag(QStringLiteral("dataset"), QStringLiteral("v2")),
             qPrintable(panel.statusText()));
    QCOMPARE(registry().version(m_g2.id).tags.value(QStringLiteral("dataset")),
             QStringLiteral("v2"));
    // The table shows it, and the selection stayed on the edited version.
    QCOMPARE(panel.selectedRef(), QStringLiteral("gamma:2"));
    QVERIFY(panel.undoAction()->isEnabled());
    QVERIFY2(panel.undoAction()->text().contains(QStringLiteral("dataset=v2")),
             qPrintable(panel.undoAction()->text()));

    // Changing the value, then undoing, restores the old value rather than removing the tag.
    QVERIFY(panel.setTag(QStringLiteral("dataset"), QStringLiteral("v3")));
    QCOMPARE(registry().version(m_g2.id).tags.value(QStringLiteral("dataset")),
             QStringLiteral("v3"));
    panel.undoAction()->trigger();
    QCOMPARE(registry().version(m_g2.id).tags.value(QStringLiteral("dataset")),
             QStringLiteral("v2"));
    panel.undoAction()->trigger();
    QVERIFY(!registry().version(m_g2.id).tags.contains(QStringLiteral("dataset")));
    QVERIFY(!panel.undoAction()->isEnabled());

    panel.redoAction()->trigger();
    QCOMPARE(registry().version(m_g2.id).tags.value(QStringLiteral("dataset")),
             QStringLiteral("v2"));
    // Clean up for the other tests.
    panel.undoAction()->trigger();
    QVERIFY(registry().version(m_g2.id).tags.isEmpty());
}

void TestVersionEdits::removeTagUndo()
{
    registry().setTag(m_g1.id, QStringLiteral("owner"), QStringLiteral("ana"));
    VersionsPanel panel(m_workspace.path());
    QVERIFY(panel.selectRef(QStringLiteral("gamma:1")));
    QVERIFY(panel.removeTag(QStringLiteral("owner")));
    QVERIFY(!registry().version(m_g1.id).tags.contains(QStringLiteral("owner")));
    panel.undoStack()->undo();
    QCOMPARE(registry().version(m_g1.id).tags.value(QStringLiteral("owner")),
             QStringLiteral("ana"));
    // Removing a tag the version does not have says so and pushes nothing.
    const int before = panel.undoStack()->count();
    QVERIFY(!panel.removeTag(QStringLiteral("no-such-tag")));
    QVERIFY(panel.statusIsError());
    QCOMPARE(panel.undoStack()->count(), before);
    registry().removeTag(m_g1.id, QStringLiteral("owner"));
}

void TestVersionEdits::aliasMovesAndUndoMovesItBack()
{
    VersionsPanel panel(m_workspace.path());
    QVERIFY(panel.selectRef(QStringLiteral("gamma:3")));
    QVERIFY2(panel.setAlias(QStringLiteral("production")), qPrintable(panel.statusText()));
    QCOMPARE(registry().resolve(QStringLiteral("gamma@production")).id, m_g3.id);

    QVERIFY(panel.selectRef(QStringLiteral("gamma:4")));
    QVERIFY(panel.setAlias(QStringLiteral("production")));
    QCOMPARE(registry().resolve(QStringLiteral("gamma@production")).id, m_g4.id);

    panel.undoAction()->trigger();   // back to gamma:3, not removed
    QCOMPARE(registry().resolve(QStringLiteral("gamma@production")).id, m_g3.id);
    panel.undoAction()->trigger();   // it did not exist before
    QVERIFY_THROWS_EXCEPTION(ms::Error, registry().resolve(QStringLiteral("gamma@production")));

    // Remove, then undo: the alias names the same version again.
    registry().setAlias(QStringLiteral("gamma"), QStringLiteral("candidate"), m_g2.id);
    panel.reload();
    QVERIFY(panel.selectRef(QStringLiteral("gamma:2")));
    QVERIFY(panel.removeAlias(QStringLiteral("candidate")));
    QVERIFY(registry().version(m_g2.id).aliases.isEmpty());
    panel.undoAction()->trigger();
    QCOMPARE(registry().version(m_g2.id).aliases, QStringList{QStringLiteral("candidate")});
    registry().removeAlias(QStringLiteral("gamma"), QStringLiteral("candidate"));
}

void TestVersionEdits::notesSavedFromThePaneUndo()
{
    VersionsPanel panel(m_workspace.path());
    QVERIFY(panel.selectRef(QStringLiteral("gamma:1")));
    ms::ui::VersionDetailPane *pane = panel.detailPane();
    QVERIFY(!pane->saveNotesButton()->isEnabled());
    pane->notesEdit()->setPlainText(QStringLiteral("baseline for the\nquantization study"));
    QVERIFY(pane->saveNotesButton()->isEnabled());
    QTest::mouseClick(pane->saveNotesButton(), Qt::LeftButton);
    QCOMPARE(registry().version(m_g1.id).notes,
             QStringLiteral("baseline for the\nquantization study"));
    QVERIFY(!pane->saveNotesButton()->isEnabled());
    QVERIFY(panel.detailView()->toPlainText().contains(QStringLiteral("quantization study")));

    panel.undoAction()->trigger();
    QCOMPARE(registry().version(m_g1.id).notes, QString());
    // The pane follows the registry.
    QCOMPARE(pane->notesEdit()->toPlainText(), QString());
    panel.redoAction()->trigger();
    QCOMPARE(pane->notesEdit()->toPlainText(),
             QStringLiteral("baseline for the\nquantization study"));
    QVERIFY(panel.setNotes(QString()));
    QCOMPARE(registry().version(m_g1.id).notes, QString());
}

void TestVersionEdits::failedEditIsNotOnTheStack()
{
    // A version removed behind the panel's back (by the CLI, say): the edit fails with the
    // registry's message and leaves nothing to undo.
    ms::NewVersion extra = ms::test::tinyImageVersion(
        QStringLiteral("scratch"), m_workspace.filePath(QStringLiteral("scratch.pt")));
    const ms::VersionRecord doomed = registry().addVersion(extra);
    VersionsPanel panel(m_workspace.path());
    QVERIFY(panel.selectRef(doomed.ref()));
    registry().removeVersion(doomed.id, true);
    QVERIFY(!panel.setTag(QStringLiteral("k"), QStringLiteral("v")));
    QVERIFY(panel.statusIsError());
    QVERIFY(!panel.statusText().isEmpty());
    QCOMPARE(panel.undoStack()->count(), 0);
    QVERIFY(!panel.undoAction()->isEnabled());
}

void TestVersionEdits::lineageGraphHasEveryVersionAndEdge()
{
    VersionsPanel panel(m_workspace.path());
    QVERIFY(panel.selectRef(QStringLiteral("gamma:3")));
    LineageView *view = panel.lineageView();
    // Four versions of gamma and the outside teacher.
    QCOMPARE(view->nodeCount(), 5);
    QCOMPARE(view->currentVersion(), m_g3.id);

    QVector<LineageView::Edge> edges = view->edges();
    std::sort(edges.begin(), edges.end(), [](const auto &a, const auto &b) {
        return std::pair(a.childId, a.parentId) < std::pair(b.childId, b.parentId);
    });
    QCOMPARE(edges.size(), 4);
    auto expect = [&](int i, qint64 parent, qint64 child, const QString &label) {
        QCOMPARE(edges.at(i).parentId, parent);
        QCOMPARE(edges.at(i).childId, child);
        QCOMPARE(edges.at(i).label, label);
    };
    const bool teacherFirst = m_teacher.id < m_g2.id;
    expect(0, m_g1.id, m_g2.id, QStringLiteral("finetuned-from"));
    expect(1, m_g2.id, m_g3.id, QStringLiteral("quantized"));   // "source": the child's kind
    expect(teacherFirst ? 2 : 3, m_teacher.id, m_g4.id, QStringLiteral("teacher"));
    expect(teacherFirst ? 3 : 2, m_g2.id, m_g4.id, QStringLiteral("distilled"));

    // Left to right by generation.
    QCOMPARE(view->generationOf(m_g1.id), 0);
    QCOMPARE(view->generationOf(m_teacher.id), 0);
    QCOMPARE(view->generationOf(m_g2.id), 1);
    QCOMPARE(view->generationOf(m_g3.id), 2);
    QCOMPARE(view->generationOf(m_g4.id), 2);

    // Another model's lineage replaces it.
    QVERIFY(panel.selectRef(QStringLiteral("teacher:1")));
    QCOMPARE(view->nodeCount(), 1);   // its model's lineage: what teacher:1 came from
    QVERIFY(view->edges().isEmpty());
}

void TestVersionEdits::clickingALineageNodeSelectsIt()
{
    VersionsPanel panel(m_workspace.path());
    panel.resize(1280, 800);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QVERIFY(panel.selectRef(QStringLiteral("gamma:4")));
    LineageView *view = panel.lineageView();
    const QPoint center = view->nodeCenter(m_g1.id);
    QVERIFY(view->viewport()->rect().contains(center));
    QSignalSpy clicked(view, &LineageView::versionClicked);
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, center);
    QCOMPARE(clicked.count(), 1);
    QCOMPARE(panel.selectedRef(), QStringLiteral("gamma:1"));
    QCOMPARE(view->currentVersion(), m_g1.id);

    // A node hidden by the text filter is still reachable: the filter gives way.
    panel.filterEdit()->setText(QStringLiteral("quantized"));
    QVERIFY(panel.selectRef(QStringLiteral("gamma:3")));
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, view->nodeCenter(m_g2.id));
    QCOMPARE(panel.selectedRef(), QStringLiteral("gamma:2"));
}

void TestVersionEdits::diffOfTwoVersions()
{
    VersionsPanel panel(m_workspace.path());
    QVERIFY(panel.selectRef(QStringLiteral("gamma:1")));
    QVERIFY(!panel.diffAction()->isEnabled());
    QVERIFY(panel.selectRefs({QStringLiteral("gamma:2"), QStringLiteral("gamma:1")}));
    QVERIFY(panel.diffAction()->isEnabled());
    ms::ui::VersionDiffDialog *dialog = panel.diffSelected();
    QVERIFY(dialog);
    QTableWidget *table = dialog->table();
    // Older on the left.
    QCOMPARE(table->horizontalHeaderItem(1)->text(), QStringLiteral("gamma:1"));
    QCOMPARE(table->horizontalHeaderItem(2)->text(), QStringLiteral("gamma:2"));
    const int lr = dialog->rowOf(QStringLiteral("recipe.lr"));
    QVERIFY(lr >= 0);
    QCOMPARE(table->item(lr, 1)->text(), QStringLiteral("0.001"));
    QCOMPARE(table->item(lr, 2)->text(), QStringLiteral("0.0001"));
    const int acc = dialog->rowOf(QStringLiteral("metrics.test_acc"));
    QVERIFY(acc >= 0);
    QCOMPARE(table->item(acc, 3)->text(), QStringLiteral("+2.00 pp"));
    QVERIFY(dialog->rowOf(QStringLiteral("params")) >= 0);
    QVERIFY(dialog->rowOf(QStringLiteral("size")) >= 0);
    // Equal settings are not listed.
    QCOMPARE(dialog->rowOf(QStringLiteral("recipe.arch")), -1);
    dialog->onlyDifferencesCheck()->setChecked(true);
    QVERIFY(table->isRowHidden(dialog->rowOf(QStringLiteral("params"))));
    QVERIFY(!table->isRowHidden(lr));
    dialog->close();
}

void TestVersionEdits::benchmarksShowAsATable()
{
    registry().addBenchmark(m_g3.id, QJsonObject{{QStringLiteral("batch_size"), 32},
                                                 {QStringLiteral("latency_ms"), 1.5},
                                                 {QStringLiteral("engine"),
                                                  QStringLiteral("onednn")}});
    VersionsPanel panel(m_workspace.path());
    QVERIFY(panel.selectRef(QStringLiteral("gamma:3")));
    QTableWidget *table = panel.detailPane()->benchmarkTable();
    QCOMPARE(table->rowCount(), 1);
    QCOMPARE(table->columnCount(), 3);
    QStringList headers;
    QStringList cells;
    for (int c = 0; c < table->columnCount(); ++c) {
        headers << table->horizontalHeaderItem(c)->text();
        cells << table->item(0, c)->text();
    }
    QVERIFY(headers.contains(QStringLiteral("latency_ms")));
    QVERIFY(cells.contains(QStringLiteral("1.5")));
    QVERIFY(cells.contains(QStringLiteral("onednn")));
    QVERIFY(panel.selectRef(QStringLiteral("gamma:1")));
    QCOMPARE(table->rowCount(), 0);
}

void TestVersionEdits::rerunHandsTheRecipeOver()
{
    VersionsPanel panel(m_workspace.path());
    QSignalSpy rerun(&panel, &VersionsPanel::rerunRequested);
    QVERIFY(panel.selectRef(QStringLiteral("gamma:1")));
    QVERIFY(panel.rerunAction()->isEnabled());
    panel.rerunAction()->trigger();
    QCOMPARE(rerun.count(), 1);
    QCOMPARE(rerun.at(0).at(0).toJsonObject(), m_g1.recipe);
    QCOMPARE(rerun.at(0).at(1).toString(), QStringLiteral("gamma:1"));
    // An import has no recipe: the action is off, and asking anyway says why.
    QVERIFY(panel.selectRef(QStringLiteral("teacher:1")));
    QVERIFY(!panel.rerunAction()->isEnabled());
    QVERIFY(!panel.rerunSelected());
    QVERIFY(panel.statusIsError());
    QCOMPARE(rerun.count(), 1);
}

QTEST_MAIN(TestVersionEdits)
#include "tst_versionedits.moc"
