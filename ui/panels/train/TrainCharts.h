#pragma once

#include "jobs/MetricPoint.h"

#include <QColor>
#include <QVector>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QSettings;
class QSlider;
class QSplitter;
class QTableWidget;

namespace ms::ui {

class MetricPlot;

// The live curves of training runs: loss per step (raw + smoothed, smoothing slider, log-scale
// toggle, x axis as step, epoch or wall time) above accuracy per epoch (train / validation /
// test). Finished runs stay on both plots in their own colour (loss and validation accuracy)
// until cleared, and a table beside the plots lists every run with its best values. Fed with
// the job's metric batches; knows the metric keys TrainJob emits and nothing else about jobs.
class TrainCharts final : public QWidget
{
    Q_OBJECT

public:
    explicit TrainCharts(QWidget *parent = nullptr);

    // A run starts: the curves of the previous one (if any) are kept as a past run in its own
    // colour, and the live series start empty. `label` names the run in the table.
    void beginRun(const QString &label);
    // A language model's run (task "lm") plots perplexity per epoch where a classifier's plots
    // accuracy, and the table lists its best validation perplexity. Switching clears the past
    // runs: their values are of the other kind.
    void setLanguageModel(bool languageModel);
    bool isLanguageModel() const { return m_languageModel; }
    // With the Epoch x axis, per-step points sit at step / stepsPerEpoch.
    void setStepsPerEpoch(qint64 steps);
    void appendBatch(const ms::MetricBatch &points);
    // Empties the live curves (past runs stay).
    void clearData();
    // Removes every past run from the plots and the table.
    void clearPastRuns();
    void replotNow();

    int pastRunCount() const { return int(m_pastRuns.size()); }

    MetricPlot *lossPlot() const { return m_lossPlot; }
    MetricPlot *accuracyPlot() const { return m_accuracyPlot; }
    QSlider *smoothingSlider() const { return m_smoothing; }
    QComboBox *xAxisCombo() const { return m_xAxis; }
    QTableWidget *runTable() const { return m_runTable; }

    void saveState(QSettings &settings) const;
    void restoreState(QSettings &settings);

private:
    struct PastRun
    {
        QString label;
        QColor color;
        QString lossId;
        QString accuracyId;
    };

    void setXAxis(int index);
    // The lower plot's series, axis and titles for the current kind of run.
    void configureEpochPlot();
    // The epoch metric a run's table row and past curve show: val_acc or val_ppl.
    QString epochKey() const;
    void updateRunTable();
    void setRunRow(int row, const QString &label, const QColor &color, const QString &lossId,
                   const QString &accuracyId);

    MetricPlot *m_lossPlot = nullptr;
    MetricPlot *m_accuracyPlot = nullptr;
    QSlider *m_smoothing = nullptr;
    QLabel *m_smoothingValue = nullptr;
    QCheckBox *m_logScale = nullptr;
    QComboBox *m_xAxis = nullptr;
    QTableWidget *m_runTable = nullptr;
    QPushButton *m_clearRuns = nullptr;
    QSplitter *m_splitter = nullptr;
    QLabel *m_epochTitle = nullptr;
    bool m_languageModel = false;

    QString m_currentLabel;
    bool m_currentHasData = false;
    int m_runsStarted = 0;
    QVector<PastRun> m_pastRuns;
};

} // namespace ms::ui
