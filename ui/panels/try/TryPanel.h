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

class StatusLine;

// Try a version on one image and see why it answers as it does: open or drop an image file,
// or pick a test sample (by index, or by class, misclassified ones only), choose up to three
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
    // Starts the job for the current input, versions and method.
    void explainNow();
    // For --screenshot: the newest three versions (of any model) explain test sample 0.
    void explainNewest();

    QString statusText() const;
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
    QStringList chosenVersions() const;
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
    QLabel *m_inputLabel = nullptr;
    StatusLine *m_status = nullptr;
    // The input: an image's values (empty: the chosen test sample), and what was shown.
    std::vector<float> m_imageValues;
    std::vector<qint64> m_imageShape;
    QString m_imageName;
    std::vector<float> m_shownValues;
    std::vector<qint64> m_shownShape;
};

} // namespace ms::ui
