#pragma once

#include "common/StatusLine.h"
#include "shell/Panel.h"

#include <QElapsedTimer>
#include <QFuture>
#include <QJsonArray>

#include <atomic>
#include <memory>

class QAbstractButton;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPlainTextEdit;
class QSpinBox;

namespace ms {
class LanguageModel;
struct GenerateResult;
}

namespace ms::ui {

// Talk to a language model of the registry: pick a version, type a prompt, watch the answer
// stream in, with temperature, top-p and max tokens, and the answer's tokens/s and time to
// first token. With "Chat template" on, the conversation is rendered as the server's
// /v1/chat/completions renders it (docs/language-models.md) and an answer ends at the next
// "user:" line; off, the prompt is continued as it is (/v1/completions).
//
// Loading and generation run on a worker thread (QThreadPool): the text comes back to the GUI
// thread as queued calls, and Stop (or closing the panel) stops the generation before its next
// token. The loaded model is kept for the next prompt to the same version.
class ChatPanel final : public Panel
{
    Q_OBJECT

public:
    explicit ChatPanel(QString workspace, QWidget *parent = nullptr);
    ~ChatPanel() override;

    QString id() const override { return QStringLiteral("chat"); }
    QString title() const override { return tr("Chat"); }
    QIcon icon() const override;
    void saveState(QSettings &settings) const override;
    void restoreState(QSettings &settings) override;

    // Re-reads the registry's language-model versions into the picker.
    void reloadVersions();
    // Sends the prompt box's text (or `prompt` when given): false, with the reason in the
    // status line, when there is no version, no prompt, or an answer is still coming.
    bool send(const QString &prompt = QString());
    void stop();
    void clearConversation();
    // From Send until the answer's end has reached the panel.
    bool isGenerating() const { return m_generating; }

    QComboBox *versionCombo() const { return m_version; }
    QPlainTextEdit *promptEdit() const { return m_prompt; }
    QPlainTextEdit *transcript() const { return m_transcript; }
    QDoubleSpinBox *temperatureBox() const { return m_temperature; }
    QDoubleSpinBox *topPBox() const { return m_topP; }
    QSpinBox *maxTokensBox() const { return m_maxTokens; }
    QCheckBox *chatTemplateBox() const { return m_chatTemplate; }
    QAbstractButton *sendButton() const { return m_sendButton; }
    QAbstractButton *stopButton() const { return m_stopButton; }
    QLabel *statsLabel() const { return m_stats; }
    QString statusText() const { return m_status->statusText(); }
    bool statusIsError() const { return m_status->isError(); }
    // The last answer's text as generated (UTF-8), for tests.
    QByteArray lastAnswer() const { return m_answer; }

Q_SIGNALS:
    void answerFinished();

private:
    struct Worker;
    void appendText(const QByteArray &bytes);
    void finished(const ms::GenerateResult &result, const QString &error);
    void updateControls();

    QString m_workspace;
    QComboBox *m_version = nullptr;
    QPlainTextEdit *m_transcript = nullptr;
    QPlainTextEdit *m_prompt = nullptr;
    QDoubleSpinBox *m_temperature = nullptr;
    QDoubleSpinBox *m_topP = nullptr;
    QSpinBox *m_maxTokens = nullptr;
    QCheckBox *m_chatTemplate = nullptr;
    QAbstractButton *m_sendButton = nullptr;
    QAbstractButton *m_stopButton = nullptr;
    QAbstractButton *m_clearButton = nullptr;
    QLabel *m_stats = nullptr;
    StatusLine *m_status = nullptr;

    QJsonArray m_messages;          // the conversation so far, {role, content}
    QByteArray m_answer;            // the answer being generated
    QByteArray m_unshown;           // its bytes waiting for the rest of a character
    QElapsedTimer m_clock;          // since Send
    qint64 m_firstText_ms = -1;
    bool m_generating = false;
    QFuture<void> m_future;   // the worker: waited for before the panel goes
    std::shared_ptr<std::atomic<bool>> m_cancel;
    // The model loaded last and its reference: reused while the version stays the same.
    std::shared_ptr<const ms::LanguageModel> m_model;
    QString m_modelRef;
};

} // namespace ms::ui
