// SentencePiece tokenizers from the shell (issue 19, item 2): a gpt trained with
// `--tokenizer spm-bpe` records its tokenizer (kind, size, the model's hash), generates, and its
// file carries a SentencePiece model of exactly the model's vocabulary that Python's
// sentencepiece reads; without SentencePiece's module the run is refused before a run folder
// exists, and so is generating with such a model, with what to install.

#include "CliRun.h"
#include "TestSupport.h"

#include <QDir>
#include <QJsonArray>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using ms::test::CliRun;
using ms::test::runCli;

namespace {

constexpr int kVocab = 800;

} // namespace

class TestCliSpm : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString ws() const { return m_dir.filePath(QStringLiteral("ws")); }

    CliRun train(const QString &name, int vocab = kVocab, int limit = 1000)
    {
        return runCli({QStringLiteral("train"), QStringLiteral("--workspace"), ws(),
                       QStringLiteral("--json"), QStringLiteral("--dataset"),
                       QStringLiteral("fortunes"), QStringLiteral("--limit"),
                       QString::number(limit), QStringLiteral("--task"), QStringLiteral("lm"),
                       QStringLiteral("--tokenizer"), QStringLiteral("spm-bpe"),
                       QStringLiteral("--vocab-size"), QString::number(vocab),
                       QStringLiteral("--arch"), QStringLiteral("gpt"),
                       QStringLiteral("--n-layer"), QStringLiteral("1"),
                       QStringLiteral("--arch-param"), QStringLiteral("n_head=2"),
                       QStringLiteral("--n-embd"), QStringLiteral("32"),
                       QStringLiteral("--block-size"), QStringLiteral("32"),
                       QStringLiteral("--epochs"), QStringLiteral("1"),
                       QStringLiteral("--steps-per-epoch"), QStringLiteral("5"),
                       QStringLiteral("--batch-size"), QStringLiteral("8"),
                       QStringLiteral("--optimizer"), QStringLiteral("adamw"),
                       QStringLiteral("--lr"), QStringLiteral("0.003"),
                       QStringLiteral("--threads"), QStringLiteral("1"),
                       QStringLiteral("--name"), name});
    }
    CliRun generate(const QStringList &args)
    {
        return runCli(QStringList{QStringLiteral("generate"), QStringLiteral("--workspace"),
                                  ws()}
                      + args);
    }
    int runFolders() const
    {
        return int(QDir(QDir(ws()).filePath(QStringLiteral("runs")))
                       .entryList(QDir::Dirs | QDir::NoDotAndDotDot)
                       .size());
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
    }

    void trainsGeneratesAndTravelsToPython()
    {
        const CliRun run = train(QStringLiteral("spm-lm"));
        QVERIFY2(run.exitCode == 0, qPrintable(run.err));
        QJsonObject tokenizer;
        for (const QJsonObject &e : run.jsonLines()) {
            if (e.value(QStringLiteral("event")).toString() == QLatin1String("start"))
                tokenizer = e.value(QStringLiteral("dataset")).toObject()
                                .value(QStringLiteral("tokenizer")).toObject();
        }
        QCOMPARE(tokenizer.value(QStringLiteral("kind")).toString(), QStringLiteral("spm-bpe"));
        QCOMPARE(tokenizer.value(QStringLiteral("vocab_size")).toInt(), kVocab);
        QCOMPARE(tokenizer.value(QStringLiteral("model_sha256")).toString().size(), 64);

        const QString prompt = QStringLiteral("Q: What is the time? A: ");
        const CliRun gen = generate({QStringLiteral("spm-lm"), QStringLiteral("--prompt"),
                                     prompt, QStringLiteral("--temperature"),
                                     QStringLiteral("0"), QStringLiteral("--max-tokens"),
                                     QStringLiteral("8"), QStringLiteral("--json")});
        QVERIFY2(gen.exitCode == 0, qPrintable(gen.err));
        const QJsonObject end = gen.jsonLines().last();
        QCOMPARE(end.value(QStringLiteral("completion_tokens")).toInt(), 8);
        // Subwords: fewer tokens than bytes.
        QVERIFY2(end.value(QStringLiteral("prompt_tokens")).toInt() < prompt.size(),
                 qPrintable(QString::number(end.value(QStringLiteral("prompt_tokens")).toInt())));

        // The file's tokenizer is a SentencePiece model of the model's vocabulary, which
        // Python's sentencepiece reads as docs/language-models.md shows.
        const QString folder = m_dir.filePath(QStringLiteral("export"));
        QDir().mkpath(folder);
        const CliRun exported = runCli({QStringLiteral("export"), QStringLiteral("spm-lm:1"),
                                        QStringLiteral("--workspace"), ws(),
                                        QStringLiteral("--to"), folder + QLatin1Char('/')});
        QVERIFY2(exported.exitCode == 0, qPrintable(exported.err));
        QByteArray out;
        QVERIFY(ms::test::runPython(m_dir.path(), QStringLiteral(
            "import base64, json, sys, torch, sentencepiece as spm\n"
            "m = torch.jit.load(sys.argv[1])\n"
            "t = json.loads(m.tokenizer_json)\n"
            "sp = spm.SentencePieceProcessor(model_proto=base64.b64decode(t['model']))\n"
            "text = 'Q: Why is the sky blue?'\n"
            "ids = sp.encode(text)\n"
            "print(json.dumps({'kind': t['kind'], 'pieces': sp.get_piece_size(),\n"
            "                  'model_vocab': m.vocab_size, 'rows': m.wte.weight.size(0),\n"
            "                  'round_trip': sp.decode(ids) == text}))\n"),
            {QDir(folder).filePath(QStringLiteral("spm-lm-v1.pt"))}, &out));
        const QJsonObject py = QJsonDocument::fromJson(out).object();
        QCOMPARE(py.value(QStringLiteral("kind")).toString(), QStringLiteral("spm-bpe"));
        QCOMPARE(py.value(QStringLiteral("pieces")).toInt(), kVocab);
        QCOMPARE(py.value(QStringLiteral("model_vocab")).toInt(), kVocab);
        QCOMPARE(py.value(QStringLiteral("rows")).toInt(), kVocab);
        QVERIFY(py.value(QStringLiteral("round_trip")).toBool());
    }

    // More symbols than a small text has pieces for: SentencePiece's own reason, and what
    // to change.
    void tooLargeAVocabularySaysWhatToChange()
    {
        const CliRun run = train(QStringLiteral("too-large"), 60000, 100);
        QCOMPARE(run.exitCode, 1);
        const QString said = run.out + run.err;   // a failed event (--json) and the error line
        QVERIFY2(said.contains(QStringLiteral("Training the spm-bpe tokenizer (60000 "
                                              "symbols) failed"))
                     && said.contains(QStringLiteral("--vocab-size")),
                 qPrintable(said));
    }

    // SentencePiece's module missing (as on a machine without libsentencepiece0): one line
    // naming what is missing and what to install, before a run folder or a version exists.
    void missingModuleIsRefusedBeforeAnyWork()
    {
        const int before = runFolders();
        const QByteArray missing = QDir(m_dir.path()).filePath(
            QStringLiteral("nowhere/libmodelstudio-spm.so")).toUtf8();
        qputenv("MODELSTUDIO_SPM_LIBRARY", missing);
        const CliRun run = train(QStringLiteral("never"));
        const CliRun gen = generate({QStringLiteral("spm-lm"), QStringLiteral("--prompt"),
                                     QStringLiteral("Q: ")});
        qunsetenv("MODELSTUDIO_SPM_LIBRARY");
        QCOMPARE(run.exitCode, 1);
        const QString line = run.errorLine();
        QVERIFY2(line.contains(QString::fromUtf8(missing)) && line.contains(QStringLiteral(
                     "libsentencepiece0")) && line.contains(QStringLiteral("--tokenizer byte")),
                 qPrintable(run.err));
        QCOMPARE(runFolders(), before);
        const CliRun models = runCli({QStringLiteral("models"), QStringLiteral("--workspace"),
                                      ws(), QStringLiteral("--json")});
        QVERIFY2(!models.out.contains(QStringLiteral("never")), qPrintable(models.out));

        QCOMPARE(gen.exitCode, 1);
        QVERIFY2(gen.errorLine().contains(QStringLiteral("libsentencepiece0")),
                 qPrintable(gen.err));
        QVERIFY(gen.out.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestCliSpm)
#include "tst_cli_spm.moc"
