#pragma once

#include "shell/Panel.h"

#include "jobs/JobRunner.h"

#include <QJsonObject>
#include <QString>

#include <vector>

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QLabel;
class QPushButton;
class QSlider;
class QSpinBox;

namespace ms::ui {

class DrawingCanvas;
class StatusLine;

// Try a version on one image and see why it answers as it does: open or drop an image file,
// draw one (models of 28x28 grey images), or pick a test sample (by index, or by class,
// misclassified ones only), choose up to three
// versions (say fp32, pruned and int8) and an attribution method; each version's column shows
// its top-5 classes as a bar chart and the attribution map over the image (opacity slider). The
// work is an ms::ExplainJob on the window's JobRunner, never on the GUI thread.
class TryPanel final : public Panel
{
    Q_OBJECT

public:
    static constexpr int kColumns = 3;

    TryPanel(ms::JobRunner *runner, QString workspace, QWidget *parent = nullptr);

    QString id() const override { return QStringLiteral("try"); }
    QString title() const override { return tr("Try"); }
    QIcon icon() const override;

    // Re-reads the registry's versions into the three pickers, keeping the choices.
    void reload();
    // Chooses version `ref` in column `column` (0..2); false when the registry has no such.
    bool chooseVersion(int column, const QString &ref);
    // Uses the image file as the input (what a drop does), converted and scaled to the first
    // chosen version's input. False, with the reason in the status line, when it cannot.
    bool openImage(const QString &path);
    // Uses test sample `index` of the first version's dataset as the input.
    void useTestSample(int index);
    // Test sample `index` of dataset `source` (empty: the first version's own), explained by
    // `versions` (at most kColumns; the other columns emptied): what a cell of the Compare
    // panel's disagreement explorer opens.
    void trySample(qint64 index, const QStringList &versions, const QString &source);
    // Uses the canvas's drawing, scaled to 28x28, as the input (what letting go of the mouse
    // button on it does).
    void useDrawing();
    // Starts the job for the current input, versions and method.
    void explainNow();
    // For --screenshot: the newest three versions (of any model) explain test sample 0.
    void explainNewest();

    QString statusText() const;
    QStringList chosenVersions() const;
    // The input given as values (an image or the drawing; empty: a test sample).
    const std::vector<float> &inputValues() const { return m_imageValues; }
    DrawingCanvas *canvas() const { return m_canvas; }
    // True when the canvas is offered: the first version takes 1x28x28 images.
    bool canDraw() const;
    // The class picker's entries after "any class": "0 T-shirt/top", ...
    QStringList classChoices() const;
    // The test sample shown (-1: an image or nothing yet).
    qint64 shownSample() const { return m_shownSample; }
    // What column `column` shows: "cnn:1: 9 Ankle boot (97.1 %)", empty when nothing.
    QString columnHeadline(int column) const;
    bool columnHasMap(int column) const;

Q_SIGNALS:
    void explained(bool ok);

protected:
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    struct Column
    {
        QComboBox *version = nullptr;
        QLabel *headline = nullptr;
        QLabel *image = nullptr;
        QCustomPlot *bars = nullptr;
        std::vector<float> attributions;
    };

    QWidget *makeControls();
    QWidget *makeColumn(Column &column, int index);
    QWidget *makeDrawing();
    // The first version changed: its classes in the class picker, the canvas when it fits.
    void firstVersionChanged();
    QString refusal(const QJsonObject &explanation) const;
    void onFinished(ms::JobId id, const ms::JobResult &result);
    void showColumn(Column &column, const QJsonObject &explanation, const QStringList &names);
    void redrawMaps();

    ms::JobRunner *m_runner = nullptr;
    QString m_workspace;
    ms::JobId m_job = 0;
    Column m_columns[kColumns];
    QComboBox *m_method = nullptr;
    QSpinBox *m_steps = nullptr;
    QSpinBox *m_sample = nullptr;
    QComboBox *m_class = nullptr;
    QCheckBox *m_misclassified = nullptr;
    QSlider *m_opacity = nullptr;
    QPushButton *m_explain = nullptr;
    QWidget *m_drawing = nullptr;
    DrawingCanvas *m_canvas = nullptr;
    bool m_pending = false; // asked while a job ran: explain again when it ends
    QLabel *m_inputLabel = nullptr;
    StatusLine *m_status = nullptr;
    // The input: an image's values (empty: the chosen test sample), and what was shown.
    std::vector<float> m_imageValues;
    std::vector<qint64> m_imageShape;
    QString m_imageName;
    QStringList m_classNames; // the first version's, for the picker and the headlines
    QString m_dataset; // the test samples' dataset; empty: the first version's own
    qint64 m_shownSample = -1;
    std::vector<float> m_shownValues;
    std::vector<qint64> m_shownShape;
};

} // namespace ms::ui
