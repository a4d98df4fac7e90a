#include "panels/chat/ChatPanel.h"

#include "common/Icons.h"

#include "OpenAiProtocol.h"
#include "common/Error.h"
#include "models/LanguageModel.h"
#include "registry/Registry.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPromise>
#include <QPushButton>
#include <QRandomGenerator>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QThreadPool>
#include <QVBoxLayout>

namespace ms::ui {

namespace {

QString messageOf(const std::exception &e)
{
    if (const auto *error = dynamic_cast<const ms::Error *>(&e))
        return error->message();
    return QString::fromLocal8Bit(e.what());
}

} // namespace

ChatPanel::ChatPanel(QString workspace, QWidget *parent)
    : Panel(parent)
    , m_workspace(std::move(workspace))
    , m_cancel(std::make_shared<std::atomic<bool>>(false))
{
    m_version = new QComboBox;
    // A long model name must not widen the panel: the combo keeps a modest width and shows
    // the whole reference in its tooltip and drop-down.
    m_version->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_version->setMinimumContentsLength(24);
    m_version->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    auto *reload = new QPushButton(tr("Reload"));
    reload->setToolTip(tr("Read the registry's language models again"));

    m_transcript = new QPlainTextEdit;
    m_transcript->setReadOnly(true);
    m_transcript->setPlaceholderText(tr("The conversation shows here, the answer as it is "
                                        "generated."));
    m_prompt = new QPlainTextEdit;
    m_prompt->setPlaceholderText(tr("Type a prompt, then Send (Ctrl+Return)"));
    m_prompt->setTabChangesFocus(true);

    m_sendButton = new QPushButton(tr("Send"));
    static_cast<QPushButton *>(m_sendButton)->setDefault(true);
    m_sendButton->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
    m_stopButton = new QPushButton(tr("Stop"));
    m_clearButton = new QPushButton(tr("Clear"));
    m_clearButton->setToolTip(tr("Start a new conversation"));

    m_temperature = new QDoubleSpinBox;
    m_temperature->setRange(0.0, 2.0);
    m_temperature->setSingleStep(0.1);
    m_temperature->setValue(0.8);
    m_temperature->setToolTip(tr("0 is greedy: always the most likely token"));
    m_topP = new QDoubleSpinBox;
    m_topP->setRange(0.01, 1.0);
    m_topP->setSingleStep(0.05);
    m_topP->setValue(0.95);
    m_topP->setToolTip(tr("Sample from the smallest set of tokens whose probability reaches "
                          "top-p (1: all of them)"));
    m_maxTokens = new QSpinBox;
    m_maxTokens->setRange(1, 4096);
    m_maxTokens->setValue(200);
    m_chatTemplate = new QCheckBox(tr("Chat template"));
    m_chatTemplate->setChecked(true);
    m_chatTemplate->setToolTip(tr("Render the conversation as \"user: …\\nassistant:\" lines, "
                                  "as /v1/chat/completions does; off: continue the prompt as "
                                  "it is"));
    m_stats = new QLabel;
    m_stats->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_status = new StatusLine(nullptr, 1);

    auto *top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Version")));
    top->addWidget(m_version, 1);
    top->addWidget(reload);

    auto *options = new QHBoxLayout;
    options->addWidget(new QLabel(tr("Temperature")));
    options->addWidget(m_temperature);
    options->addSpacing(12);
    options->addWidget(new QLabel(tr("Top-p")));
    options->addWidget(m_topP);
    options->addSpacing(12);
    options->addWidget(new QLabel(tr("Max tokens")));
    options->addWidget(m_maxTokens);
    options->addSpacing(12);
    options->addWidget(m_chatTemplate);
    options->addStretch(1);

    auto *buttons = new QVBoxLayout;
    buttons->addWidget(m_sendButton);
    buttons->addWidget(m_stopButton);
    buttons->addWidget(m_clearButton);
    buttons->addStretch(1);
    auto *promptRow = new QWidget;
    auto *promptLayout = new QHBoxLayout(promptRow);
    promptLayout->setContentsMargins(0, 0, 0, 0);
    promptLayout->addWidget(m_prompt, 1);
    promptLayout->addLayout(buttons);

    auto *split = new QSplitter(Qt::Vertical);
    split->addWidget(m_transcript);
    split->addWidget(promptRow);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    split->setChildrenCollapsible(false);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(split, 1);
    layout->addLayout(options);
    layout->addWidget(m_stats);
    layout->addWidget(m_status);

    connect(reload, &QPushButton::clicked, this, &ChatPanel::reloadVersions);
    connect(m_sendButton, &QAbstractButton::clicked, this, [this] { send(); });
    connect(m_stopButton, &QAbstractButton::clicked, this, &ChatPanel::stop);
    connect(m_clearButton, &QAbstractButton::clicked, this, &ChatPanel::clearConversation);
    connect(m_version, &QComboBox::currentIndexChanged, this, [this] {
        m_version->setToolTip(m_version->currentData().toString());
    });
    reloadVersions();
    updateControls();
}

ChatPanel::~ChatPanel()
{
    // The worker posts to this panel: it must be done before the panel goes. A generation
    // stops before its next token; a model being loaded finishes loading first.
    m_cancel->store(true);
    m_future.waitForFinished();
}

QIcon ChatPanel::icon() const
{
    return chatIcon(palette().color(QPalette::WindowText));
}

void ChatPanel::reloadVersions()
{
    const QString current = m_version->currentData().toString();
    m_version->clear();
    try {
        const ms::Registry registry(m_workspace);
        for (const ms::ModelRecord &model : registry.models()) {
            for (const ms::VersionRecord &version : registry.versions(model.name)) {
                if (version.recipe.value(QStringLiteral("task")).toString()
                    != QLatin1String("lm"))
                    continue;
                QString text = version.ref();
                if (!version.aliases.isEmpty())
                    text += QStringLiteral("  (%1)").arg(version.aliases.join(
                        QStringLiteral(", ")));
                m_version->addItem(text, version.ref());
                m_version->setItemData(m_version->count() - 1, version.ref(), Qt::ToolTipRole);
            }
        }
    } catch (const std::exception &e) {
        m_status->setStatus(tr("Cannot read the registry: %1").arg(messageOf(e)), Tone::Error);
    }
    if (m_version->count() == 0) {
        m_version->setPlaceholderText(tr("No language model yet: train one with --task lm"));
        m_version->setCurrentIndex(-1);
    }
    const int index = m_version->findData(current);
    if (index >= 0)
        m_version->setCurrentIndex(index);
    updateControls();
}

bool ChatPanel::send(const QString &promptArgument)
{
    if (isGenerating()) {
        m_status->setStatus(tr("An answer is still coming: wait for it, or Stop it."),
                            Tone::Warning);
        return false;
    }
    const QString ref = m_version->currentData().toString();
    if (ref.isEmpty()) {
        m_status->setStatus(tr("No language model to talk to: train one (Train panel, task "
                               "\"lm\", or modelstudio-cli train --task lm) and pick it."),
                            Tone::Error);
        return false;
    }
    const QString text = promptArgument.isNull() ? m_prompt->toPlainText() : promptArgument;
    if (text.trimmed().isEmpty()) {
        m_status->setStatus(tr("Type a prompt first."), Tone::Error);
        return false;
    }
    const bool chat = m_chatTemplate->isChecked();
    QJsonArray messages = m_messages;
    QByteArray prompt = text.toUtf8();
    if (chat) {
        messages.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                    {QStringLiteral("content"), text}});
        prompt = openai::renderChat(messages);
    }
    ms::GenerateOptions options;
    options.maxTokens = m_maxTokens->value();
    options.temperature = m_temperature->value();
    options.topP = m_topP->value();
    options.seed = QRandomGenerator::global()->generate64();
    if (chat)
        options.stop = QByteArray(openai::kChatTurnStop);

    m_messages = messages;
    m_transcript->moveCursor(QTextCursor::End);
    m_transcript->insertPlainText(chat ? QStringLiteral("user: %1\nassistant:").arg(text)
                                       : text);
    m_prompt->clear();
    m_answer.clear();
    m_unshown.clear();
    m_firstText_ms = -1;
    m_clock.start();
    m_stats->setText(tr("Loading %1…").arg(ref));
    m_status->setStatus(tr("Generating with %1").arg(ref), Tone::Busy);

    m_cancel = std::make_shared<std::atomic<bool>>(false);
    m_generating = true;
    const std::shared_ptr<const ms::LanguageModel> loaded = ref == m_modelRef ? m_model : nullptr;
    auto promise = std::make_shared<QPromise<void>>();
    m_future = promise->future();
    promise->start();
    QThreadPool::globalInstance()->start([this, promise, loaded, ref, prompt, options,
                                          cancel = m_cancel, root = m_workspace] {
        std::shared_ptr<const ms::LanguageModel> lm = loaded;
        ms::GenerateResult result;
        QString error;
        try {
            if (!lm) {
                const ms::Registry registry(root);
                const ms::VersionRecord version = registry.resolve(ref);
                lm = std::make_shared<const ms::LanguageModel>(
                    ms::Model::load(registry.verifiedArtifactPath(version)), version.ref());
            }
            result = lm->generate(prompt, options, [this, cancel](const QByteArray &bytes) {
                QMetaObject::invokeMethod(this, [this, bytes] { appendText(bytes); },
                                          Qt::QueuedConnection);
                return !cancel->load();
            });
        } catch (const std::exception &e) {
            error = messageOf(e);
        }
        QMetaObject::invokeMethod(
            this,
            [this, lm, ref, result, error] {
                m_model = lm;
                m_modelRef = lm ? ref : QString();
                finished(result, error);
            },
            Qt::QueuedConnection);
        promise->finish();
    });
    updateControls();
    return true;
}

void ChatPanel::appendText(const QByteArray &bytes)
{
    if (m_firstText_ms < 0) {
        m_firstText_ms = m_clock.elapsed();
        m_stats->setText(tr("First text after %1 ms").arg(m_firstText_ms));
    }
    m_answer += bytes;
    m_unshown += bytes;
    // Whole characters only: a token may end inside one.
    const qsizetype whole = openai::completeUtf8Length(m_unshown);
    if (whole == 0)
        return;
    m_transcript->moveCursor(QTextCursor::End);
    m_transcript->insertPlainText(openai::utf8Text(m_unshown.left(whole)));
    m_unshown.remove(0, whole);
}

void ChatPanel::finished(const ms::GenerateResult &result, const QString &error)
{
    m_generating = false;
    if (!m_unshown.isEmpty()) {
        m_transcript->moveCursor(QTextCursor::End);
        m_transcript->insertPlainText(openai::utf8Text(m_unshown));
        m_unshown.clear();
    }
    m_transcript->moveCursor(QTextCursor::End);
    m_transcript->insertPlainText(QStringLiteral("\n"));
    if (!error.isEmpty()) {
        m_status->setStatus(error, Tone::Error);
        m_stats->clear();
        if (m_chatTemplate->isChecked() && !m_messages.isEmpty())
            m_messages.removeLast();   // the question went unanswered
    } else {
        if (m_chatTemplate->isChecked()) {
            QString answer = openai::utf8Text(result.text);
            if (answer.startsWith(QLatin1Char(' ')))
                answer.remove(0, 1);   // the template writes "assistant: " again
            m_messages.append(QJsonObject{{QStringLiteral("role"), QStringLiteral("assistant")},
                                          {QStringLiteral("content"), answer}});
        }
        m_stats->setText(tr("%1 tokens in %2 s: %3 tokens/s, first token after %4 ms "
                            "(%5)")
                             .arg(QString::number(result.tokens.size()),
                                  QString::number(result.total_s, 'f', 2),
                                  QString::number(result.tokensPerSecond(), 'f', 0),
                                  QString::number(result.firstToken_s * 1000.0, 'f', 1),
                                  result.finishReason));
        m_status->setStatus(result.finishReason == QLatin1String("cancelled")
                                ? tr("Stopped.")
                                : tr("Done: %1.").arg(m_modelRef),
                            result.finishReason == QLatin1String("cancelled") ? Tone::Warning
                                                                              : Tone::Ok);
    }
    updateControls();
    Q_EMIT answerFinished();
}

void ChatPanel::stop()
{
    m_cancel->store(true);
}

void ChatPanel::clearConversation()
{
    if (isGenerating())
        stop();
    m_messages = QJsonArray();
    m_transcript->clear();
    m_stats->clear();
}

void ChatPanel::updateControls()
{
    const bool busy = isGenerating();
    m_sendButton->setEnabled(!busy && m_version->count() > 0);
    m_stopButton->setEnabled(busy);
    m_version->setEnabled(!busy);
}

void ChatPanel::saveState(QSettings &settings) const
{
    settings.setValue(QStringLiteral("version"), m_version->currentData().toString());
    settings.setValue(QStringLiteral("temperature"), m_temperature->value());
    settings.setValue(QStringLiteral("topP"), m_topP->value());
    settings.setValue(QStringLiteral("maxTokens"), m_maxTokens->value());
    settings.setValue(QStringLiteral("chatTemplate"), m_chatTemplate->isChecked());
}

void ChatPanel::restoreState(QSettings &settings)
{
    const int index = m_version->findData(settings.value(QStringLiteral("version")).toString());
    if (index >= 0)
        m_version->setCurrentIndex(index);
    m_temperature->setValue(settings.value(QStringLiteral("temperature"), 0.8).toDouble());
    m_topP->setValue(settings.value(QStringLiteral("topP"), 0.95).toDouble());
    m_maxTokens->setValue(settings.value(QStringLiteral("maxTokens"), 200).toInt());
    m_chatTemplate->setChecked(settings.value(QStringLiteral("chatTemplate"), true).toBool());
}

} // namespace ms::ui
