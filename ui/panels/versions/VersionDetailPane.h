#pragma once

#include "registry/Registry.h"

#include <QString>
#include <QTabWidget>

class QComboBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;
class QTextEdit;

namespace ms::ui {

class MetricPlot;
class VersionLayersView;

// The selected version in depth, one tab each: its record (signature, metrics, recipe), its
// layers, classes and preprocessing (VersionLayersView, read when the tab is shown), the
// curves of the run that made it (Registry::metrics, read when the tab is shown), its benchmark
// results (Registry::benchmarks, one row per result, one column per JSON key) and its notes,
// editable. The pane never writes: saving notes asks the panel, which makes it an undoable
// command.
class VersionDetailPane final : public QTabWidget
{
    Q_OBJECT

public:
    explicit VersionDetailPane(QString workspace, QWidget *parent = nullptr);

    // A full record (version(), not a listing: the recipe is shown).
    void showVersion(const ms::VersionRecord &version);
    void clear();
    qint64 versionId() const { return m_version.id; }

    QTextEdit *recordView() const { return m_record; }
    MetricPlot *curvePlot() const { return m_plot; }
    QTableWidget *benchmarkTable() const { return m_benchmarks; }
    VersionLayersView *layersView() const { return m_layers; }
    int layersTab() const { return m_layersTab; }
    QPlainTextEdit *notesEdit() const { return m_notes; }
    QPushButton *saveNotesButton() const { return m_saveNotes; }
    // Loads the chosen curve now, whichever tab shows (tests, screenshots).
    void loadCurveNow();

Q_SIGNALS:
    void notesSaveRequested(const QString &notes);
    void errorOccurred(const QString &text);

private:
    QWidget *buildCurvesTab();
    QWidget *buildBenchmarksTab();
    QWidget *buildNotesTab();
    void fillCurveKeys();
    void loadCurve();
    void fillBenchmarks();

    QString m_workspace;
    ms::VersionRecord m_version;
    bool m_curveLoaded = false;

    QTextEdit *m_record = nullptr;
    QComboBox *m_curveKey = nullptr;
    QLabel *m_curveNote = nullptr;
    MetricPlot *m_plot = nullptr;
    QTableWidget *m_benchmarks = nullptr;
    QLabel *m_benchmarkNote = nullptr;
    QPlainTextEdit *m_notes = nullptr;
    QPushButton *m_saveNotes = nullptr;
    VersionLayersView *m_layers = nullptr;
    int m_curvesTab = -1;
    int m_layersTab = -1;
    int m_benchmarksTab = -1;
};

} // namespace ms::ui
