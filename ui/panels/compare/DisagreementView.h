#pragma once

#include "jobs/JobRunner.h"

#include <QPointer>
#include <QString>
#include <QStringList>
#include <QWidget>

class QComboBox;
class QLabel;
class QListView;
class QPushButton;

namespace ms::ui {

class DisagreementModel;

// The Variants tab's disagreement explorer: pick two of the checked versions, Find runs an
// ms::DisagreementJob on the window's JobRunner (never the GUI thread), and a grid
// (QListView in icon mode over DisagreementModel, cells drawn by a delegate) shows each test
// sample the two predict differently: the picture, its index and true class, and both
// predictions with their confidence (green when right, red when wrong). Double-click (or Enter on) a cell to
// try that sample with both versions in the Try panel.
class DisagreementView final : public QWidget
{
    Q_OBJECT

public:
    explicit DisagreementView(QWidget *parent = nullptr);

    void setJobRunner(ms::JobRunner *runner, const QString &workspace);
    // The versions to choose from (the checked ones, baseline first); by default the first
    // and the last, the pair a compression is judged on, as the confusion matrices show.
    void setVersions(const QStringList &refs);
    bool choose(const QString &a, const QString &b);
    // Starts the job for the chosen pair; false (with the reason shown) when it cannot.
    bool findNow();

    DisagreementModel *model() const { return m_model; }
    QListView *grid() const { return m_grid; }
    QString summaryText() const;
    bool isBusy() const { return m_job != 0; }

Q_SIGNALS:
    void found(bool ok);
    // A cell was activated: try test sample `sample` of dataset `source` with `a` and `b`.
    void tryRequested(qint64 sample, const QStringList &versions, const QString &source);

private:
    void onFinished(ms::JobId id, const ms::JobResult &result);
    void updateButton();

    QPointer<ms::JobRunner> m_runner;
    QString m_workspace;
    ms::JobId m_job = 0;
    bool m_userChose = false; // the pair was picked by hand: kept while both are checked
    QComboBox *m_a = nullptr;
    QComboBox *m_b = nullptr;
    QPushButton *m_find = nullptr;
    QLabel *m_summary = nullptr;
    DisagreementModel *m_model = nullptr;
    QListView *m_grid = nullptr;
};

} // namespace ms::ui
