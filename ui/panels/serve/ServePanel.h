#pragma once

#include "common/StatusLine.h"
#include "shell/Panel.h"

#include "InferenceService.h"

#include <QHash>
#include <QStringList>

#include <vector>

class QAbstractButton;
class QAction;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;
class QSplitter;
class QTableView;
class QTableWidget;

namespace ms::ui {

class MetricPlot;
class RequestLogModel;
class ServeTraffic;
struct ServeSample;

// Serve registry versions on a local HTTP endpoint and watch it: pick models, set the address,
// batching and token, Start / Stop, then copy the URL or a ready-made curl request and follow
// requests/s, latency and the request log live. The panel owns the ms::InferenceService while
// it listens (created on Start, destroyed on Stop); the service does the work, the panel only
// observes its signals. Models load and warm up on a worker thread (serveAsync): a large model
// never freezes the window.
class ServePanel final : public Panel
{
    Q_OBJECT

public:
    // `workspace` holds the registry the models are served from.
    explicit ServePanel(QString workspace, QWidget *parent = nullptr);
    ~ServePanel() override;

    QString id() const override { return QStringLiteral("serve"); }
    QString title() const override { return tr("Serve"); }
    QIcon icon() const override;
    QList<QAction *> jobActions() const override;
    void saveState(QSettings &settings) const override;
    void restoreState(QSettings &settings) override;
    QString switchWarning() const override;

    // Re-reads the registry's models and versions into the picker.
    void refreshModels();
    // Adds a registry reference ("NAME", "NAME:N", "NAME@ALIAS") to the served models; while
    // listening it starts loading at once, off the GUI thread (replacing the version served
    // under the same name when it is ready). False, with the error in the status line, when
    // the reference names no version.
    bool addModel(const QString &ref);
    void clearModels();
    void removeSelectedModel();
    void setPort(quint16 port);
    quint16 port() const;
    // One click from the Versions panel: serves `ref` at once, starting the server when it is
    // not listening. False, with the error in the status line, when that fails.
    bool serveNow(const QString &ref);
    void start();
    void stop();

    bool isListening() const;
    ms::InferenceService *service() const { return m_service; }
    QString url() const;
    QStringList modelRefs() const { return m_refs; }
    QString statusText() const { return m_status->statusText(); }
    bool statusIsError() const { return m_status->isError(); }
    QString curlText() const;

    QComboBox *modelCombo() const { return m_modelCombo; }
    QAbstractButton *addButton() const { return m_addButton; }
    QLineEdit *tokenEdit() const { return m_token; }
    // Reads the token from a file (as --token-file does); false, with the error shown, when
    // the file holds no usable token.
    bool loadTokenFile(const QString &path);
    QAbstractButton *startButton() const { return m_startButton; }
    QAbstractButton *stopButton() const { return m_stopButton; }
    QLabel *urlLabel() const { return m_urlLabel; }
    QTableWidget *modelsTable() const { return m_modelsTable; }
    ServeTraffic *traffic() const { return m_traffic; }
    QTableView *requestLogView() const;
    RequestLogModel *requestLog() const;
    MetricPlot *requestRatePlot() const;
    MetricPlot *latencyPlot() const;

protected:
    void showEvent(QShowEvent *event) override;

private:
    QWidget *buildSetupSide();
    QWidget *buildMonitorSide();
    void createActions();

    ms::ServeOptions options() const;
    void updateModelsTable();
    void updateExample();
    void updateControls();
    // `usePort`: a free port offered as a "Use port N and start" link after the text.
    void setStatus(const QString &text, Tone tone, quint16 usePort = 0);
    void copyToClipboard(const QString &text, const QString &what);

    void connectService();
    void showServingStatus();
    // The request body of a large example, written once per version (curl -d @FILE).
    QString exampleBodyFile(const QString &versionRef, const QString &inputName,
                            const ServeSample &sample);

    QString m_workspace;
    ms::InferenceService *m_service = nullptr;
    QHash<QString, QString> m_exampleFiles;   // versionRef -> request body file
    QStringList m_loadFailures;               // "ref: why", since Start
    QStringList m_refs;   // what the user chose to serve, in order

    QComboBox *m_modelCombo = nullptr;
    QAbstractButton *m_addButton = nullptr;
    QAbstractButton *m_removeButton = nullptr;
    QTableWidget *m_modelsTable = nullptr;
    QLineEdit *m_host = nullptr;
    QCheckBox *m_allowRemote = nullptr;
    QSpinBox *m_port = nullptr;
    QSpinBox *m_maxBatch = nullptr;
    QSpinBox *m_maxDelay = nullptr;
    QSpinBox *m_threads = nullptr;
    QLineEdit *m_token = nullptr;
    QAction *m_startAction = nullptr;
    QAction *m_stopAction = nullptr;
    QAbstractButton *m_startButton = nullptr;
    QAbstractButton *m_stopButton = nullptr;
    StatusLine *m_status = nullptr;
    quint16 m_suggestedPort = 0;

    QLabel *m_urlLabel = nullptr;
    QAbstractButton *m_copyUrl = nullptr;
    QLabel *m_exampleTitle = nullptr;
    QPlainTextEdit *m_example = nullptr;
    QAbstractButton *m_copyExample = nullptr;
    ServeTraffic *m_traffic = nullptr;
    QSplitter *m_splitter = nullptr;
    QSplitter *m_monitorSplitter = nullptr;
};

} // namespace ms::ui
