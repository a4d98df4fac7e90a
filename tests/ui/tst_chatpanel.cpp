// The Chat panel on a small gpt trained in the test: it lists language models only, streams an
// answer (the same text as LanguageModel::generate for a greedy request, rendered with the
// chat template), shows tokens/s and time to first token, stops a long answer on Stop, and
// refuses to send without a version or a prompt. Offscreen, isolated workspace.
#include "panels/chat/ChatPanel.h"

#include "OpenAiProtocol.h"
#include "jobs/JobContext.h"
#include "models/LanguageModel.h"
#include "models/Model.h"
#include "registry/Registry.h"
#include "train/TrainJob.h"

#include <QAbstractButton>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QJsonArray>
#include <QJsonObject>
#include <QLabel>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

using ms::ui::ChatPanel;

class TestChatPanel final : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_ws;

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        m_ws = m_dir.filePath(QStringLiteral("ws"));
        ms::TrainConfig c;
        c.dataset = QStringLiteral("fortunes");
        c.task = QStringLiteral("lm");
        c.arch = QStringLiteral("gpt");
        c.archParams = QJsonObject{{QStringLiteral("n_layer"), 1},
                                   {QStringLiteral("n_head"), 2},
                                   {QStringLiteral("n_embd"), 32},
                                   {QStringLiteral("block_size"), 64}};
        c.epochs = 1;
        c.stepsPerEpoch = 30;
        c.batchSize = 16;
        c.lr = 3e-3;
        c.optimizer = QStringLiteral("adamw");
        c.threads = 1;
        c.seed = 2;
        ms::TrainJob job(c, m_dir.filePath(QStringLiteral("run")));
        job.recordIn(m_ws, QStringLiteral("a-rather-long-language-model-name-for-the-chat"));
        ms::JobContext context;
        QCOMPARE(ms::jobStatusName(job.run(context).status), QStringLiteral("finished"));
    }

    void greedyAnswerStreamsWithStats()
    {
        ChatPanel panel(m_ws);
        panel.resize(900, 600);
        panel.show();
        QCOMPARE(panel.versionCombo()->count(), 1);
        const QString ref = panel.versionCombo()->currentData().toString();
        QCOMPARE(ref, QStringLiteral("a-rather-long-language-model-name-for-the-chat:1"));
        panel.temperatureBox()->setValue(0.0);
        panel.maxTokensBox()->setValue(24);
        QVERIFY(panel.chatTemplateBox()->isChecked());

        QSignalSpy finished(&panel, &ChatPanel::answerFinished);
        panel.promptEdit()->setPlainText(QStringLiteral("Tell me a fortune."));
        QTest::mouseClick(panel.sendButton(), Qt::LeftButton);
        QVERIFY(panel.isGenerating() || finished.count() == 1);
        QVERIFY(finished.count() == 1 || finished.wait(60000));
        QVERIFY2(!panel.statusIsError(), qPrintable(panel.statusText()));
        QVERIFY(panel.promptEdit()->toPlainText().isEmpty());

        // The same text as the core's generation of the rendered conversation.
        const QJsonArray messages{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")},
                                              {QStringLiteral("content"),
                                               QStringLiteral("Tell me a fortune.")}}};
        const ms::Registry registry(m_ws);
        const ms::LanguageModel lm(
            ms::Model::load(registry.verifiedArtifactPath(registry.resolve(ref))), ref);
        ms::GenerateOptions greedy;
        greedy.temperature = 0.0;
        greedy.maxTokens = 24;
        greedy.stop = QByteArray(ms::openai::kChatTurnStop);
        const ms::GenerateResult expected =
            lm.generate(ms::openai::renderChat(messages), greedy);
        QCOMPARE(panel.lastAnswer(), expected.text);
        QVERIFY(panel.transcript()->toPlainText().startsWith(
            QStringLiteral("user: Tell me a fortune.\nassistant:")
            + ms::openai::utf8Text(expected.text)));
        QVERIFY2(panel.statsLabel()->text().contains(QStringLiteral("tokens/s")),
                 qPrintable(panel.statsLabel()->text()));
        QVERIFY(panel.statsLabel()->text().contains(QStringLiteral("first token after")));
        QVERIFY(panel.sendButton()->isEnabled());
        QVERIFY(!panel.stopButton()->isEnabled());
    }

    void stopEndsALongAnswer()
    {
        ChatPanel panel(m_ws);
        panel.maxTokensBox()->setValue(4096);
        panel.chatTemplateBox()->setChecked(false);
        QSignalSpy finished(&panel, &ChatPanel::answerFinished);
        QVERIFY(panel.send(QStringLiteral("Once upon a time")));
        QVERIFY(panel.stopButton()->isEnabled());
        QVERIFY(!panel.sendButton()->isEnabled());
        QVERIFY(!panel.send(QStringLiteral("again")));   // one answer at a time
        QTRY_VERIFY_WITH_TIMEOUT(!panel.lastAnswer().isEmpty(), 60000);
        QTest::mouseClick(panel.stopButton(), Qt::LeftButton);
        QVERIFY(finished.count() == 1 || finished.wait(60000));
        QCOMPARE(panel.statusText(), QStringLiteral("Stopped."));
        QVERIFY(panel.lastAnswer().size() < 4096);
        QVERIFY(panel.statsLabel()->text().contains(QStringLiteral("cancelled")));
    }

    void refusals()
    {
        ChatPanel panel(m_ws);
        QVERIFY(!panel.send(QStringLiteral("   ")));
        QVERIFY(panel.statusIsError());
        QVERIFY(panel.statusText().contains(QStringLiteral("prompt")));

        QTemporaryDir empty;
        ChatPanel none(empty.path());
        QCOMPARE(none.versionCombo()->count(), 0);
        QVERIFY(!none.sendButton()->isEnabled());
        QVERIFY(!none.send(QStringLiteral("Hello")));
        QVERIFY(none.statusText().contains(QStringLiteral("--task lm")));
    }
};

QTEST_MAIN(TestChatPanel)
#include "tst_chatpanel.moc"
