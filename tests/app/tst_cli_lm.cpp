// Language models from the shell: `train --task lm` on fortunes with JSON events, `generate`
// (streamed text, --json, greedy with and without the cache), and the refusals: an unknown
// version, a classifier, a prompt longer than the context.

#include "CliRun.h"
#include "TestSupport.h"

#include <QDir>
#include <QFile>

#include <QJsonArray>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using ms::test::CliRun;
using ms::test::runCli;

class TestCliLm : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString ws() const { return m_dir.filePath(QStringLiteral("ws")); }

    CliRun generate(const QStringList &args)
    {
        return runCli(QStringList{QStringLiteral("generate"), QStringLiteral("--workspace"), ws()}
                      + args);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        const CliRun train = runCli(
            {QStringLiteral("train"), QStringLiteral("--workspace"), ws(), QStringLiteral("--json"),
             QStringLiteral("--dataset"), QStringLiteral("fortunes"), QStringLiteral("--task"),
             QStringLiteral("lm"), QStringLiteral("--arch"), QStringLiteral("gpt"),
             QStringLiteral("--n-layer"), QStringLiteral("1"), QStringLiteral("--arch-param"),
             QStringLiteral("n_head=2"), QStringLiteral("--n-embd"), QStringLiteral("32"),
             QStringLiteral("--block-size"), QStringLiteral("32"), QStringLiteral("--epochs"),
             QStringLiteral("2"), QStringLiteral("--steps-per-epoch"), QStringLiteral("20"),
             QStringLiteral("--batch-size"), QStringLiteral("8"), QStringLiteral("--optimizer"),
             QStringLiteral("adamw"), QStringLiteral("--lr"), QStringLiteral("0.003"),
             QStringLiteral("--warmup-steps"), QStringLiteral("5"), QStringLiteral("--schedule"),
             QStringLiteral("cosine"), QStringLiteral("--clip-grad-norm"), QStringLiteral("1"),
             QStringLiteral("--threads"), QStringLiteral("1"), QStringLiteral("--name"),
             QStringLiteral("tiny-lm")});
        QVERIFY2(train.exitCode == 0, qPrintable(train.err));
        const QList<QJsonObject> events = train.jsonLines();
        QJsonObject start, lastEpoch, finished;
        for (const QJsonObject &e : events) {
            const QString kind = e.value(QStringLiteral("event")).toString();
            if (kind == QLatin1String("start"))
                start = e;
            else if (kind == QLatin1String("epoch"))
                lastEpoch = e;
            else if (kind == QLatin1String("finished"))
                finished = e;
        }
        QCOMPARE(start.value(QStringLiteral("task")).toString(), QStringLiteral("lm"));
        QCOMPARE(start.value(QStringLiteral("steps_per_epoch")).toInt(), 20);
        QCOMPARE(start.value(QStringLiteral("dataset")).toObject()
                     .value(QStringLiteral("tokenizer")).toObject()
                     .value(QStringLiteral("kind")).toString(),
                 QStringLiteral("byte"));
        QVERIFY(lastEpoch.value(QStringLiteral("tokens_per_s")).toDouble() > 0);
        QVERIFY(lastEpoch.contains(QStringLiteral("val_ppl")));
        QCOMPARE(finished.value(QStringLiteral("version")).toString(), QStringLiteral("tiny-lm:1"));
    }

    void generatesStreamedAndJson()
    {
        const QStringList greedy{QStringLiteral("tiny-lm"), QStringLiteral("--prompt"),
                                 QStringLiteral("Q: "), QStringLiteral("--temperature"),
                                 QStringLiteral("0"), QStringLiteral("--max-tokens"),
                                 QStringLiteral("20")};
        const CliRun json = generate(greedy + QStringList{QStringLiteral("--json")});
        QVERIFY2(json.exitCode == 0, qPrintable(json.err));
        const QList<QJsonObject> lines = json.jsonLines();
        QVERIFY(lines.size() >= 2);
        const QJsonObject end = lines.last();
        QCOMPARE(end.value(QStringLiteral("event")).toString(), QStringLiteral("finished"));
        QCOMPARE(end.value(QStringLiteral("completion_tokens")).toInt(), 20);
        QCOMPARE(end.value(QStringLiteral("prompt_tokens")).toInt(), 3);
        QCOMPARE(end.value(QStringLiteral("finish_reason")).toString(), QStringLiteral("length"));
        QVERIFY(end.value(QStringLiteral("tokens_per_s")).toDouble() > 0);
        QString chunks;
        for (const QJsonObject &line : lines.mid(0, lines.size() - 1))
            chunks += line.value(QStringLiteral("text")).toString();
        QCOMPARE(chunks, end.value(QStringLiteral("text")).toString());

        // Without the cache: the same greedy text.
        const CliRun full = generate(greedy + QStringList{QStringLiteral("--json"),
                                                          QStringLiteral("--no-cache")});
        QCOMPARE(full.jsonLines().last().value(QStringLiteral("text")),
                 end.value(QStringLiteral("text")));

        // Plain: the prompt and its continuation on stdout, the figures on stderr.
        const CliRun plain = generate(greedy);
        QCOMPARE(plain.exitCode, 0);
        QVERIFY(plain.out.startsWith(QStringLiteral("Q: ")));
        QVERIFY2(plain.err.contains(QStringLiteral("tokens/s")), qPrintable(plain.err));
    }

    // quantize-dynamic of a gpt: int8 Linear layers in forward and in the cached step(), scored
    // by validation loss on the same windows as training (not by accuracy); the methods that
    // read labelled samples are refused with what works instead.
    void quantizeDynamicScoresByValidationLoss()
    {
        const CliRun q = runCli({QStringLiteral("compress"), QStringLiteral("tiny-lm:1"),
                                 QStringLiteral("--method"), QStringLiteral("quantize-dynamic"),
                                 QStringLiteral("--engine"), QStringLiteral("qnnpack"),
                                 QStringLiteral("--json"), QStringLiteral("--workspace"), ws()});
        QVERIFY2(q.exitCode == 0, qPrintable(q.err));
        const QJsonObject end = q.jsonLines().last();
        const QJsonObject metrics = end.value(QStringLiteral("metrics")).toObject();
        QCOMPARE(end.value(QStringLiteral("version")).toString(), QStringLiteral("tiny-lm:2"));
        // Every Linear of the one block and the head: qkv, proj, fc, fc_proj, lm_head.
        QCOMPARE(end.value(QStringLiteral("details")).toObject()
                     .value(QStringLiteral("quantized_layers")).toArray().size(), 5);
        const CliRun shown = runCli({QStringLiteral("show"), QStringLiteral("tiny-lm:1"),
                                     QStringLiteral("--json"), QStringLiteral("--workspace"),
                                     ws()});
        const double trained = shown.json().value(QStringLiteral("metrics")).toObject()
                                   .value(QStringLiteral("val_loss")).toDouble();
        const double source = metrics.value(QStringLiteral("source_val_loss")).toDouble();
        QVERIFY2(ms::test::closeTo(source, trained, 1e-4),
                 qPrintable(QStringLiteral("%1 vs %2").arg(source).arg(trained)));
        const double loss = metrics.value(QStringLiteral("val_loss")).toDouble();
        QVERIFY2(std::abs(loss - source) < 0.1, qPrintable(QString::number(loss - source)));
        QVERIFY(ms::test::closeTo(metrics.value(QStringLiteral("val_ppl")).toDouble(),
                                  std::exp(loss), 1e-6));

        // The int8 step() and the int8 forward are the same model: greedy text with the cache
        // equals greedy text recomputing the context.
        const QStringList greedy{QStringLiteral("tiny-lm:2"), QStringLiteral("--prompt"),
                                 QStringLiteral("Q: "), QStringLiteral("--temperature"),
                                 QStringLiteral("0"), QStringLiteral("--max-tokens"),
                                 QStringLiteral("20"), QStringLiteral("--json")};
        const CliRun cached = generate(greedy);
        QVERIFY2(cached.exitCode == 0, qPrintable(cached.err));
        const CliRun full = generate(greedy + QStringList{QStringLiteral("--no-cache")});
        QCOMPARE(full.jsonLines().last().value(QStringLiteral("text")),
                 cached.jsonLines().last().value(QStringLiteral("text")));

        // fp16 storage keeps the cached step too; fine-tuning reads labelled samples: refused.
        const CliRun half = runCli({QStringLiteral("compress"), QStringLiteral("tiny-lm:1"),
                                    QStringLiteral("--method"), QStringLiteral("fp16"),
                                    QStringLiteral("--json"), QStringLiteral("--workspace"),
                                    ws()});
        QVERIFY2(half.exitCode == 0, qPrintable(half.err));
        const QJsonObject halfMetrics =
            half.jsonLines().last().value(QStringLiteral("metrics")).toObject();
        QVERIFY(std::abs(halfMetrics.value(QStringLiteral("val_loss_delta")).toDouble()) < 0.01);
        const CliRun halfText = generate({QStringLiteral("tiny-lm:3"), QStringLiteral("--prompt"),
                                          QStringLiteral("Q: "), QStringLiteral("--max-tokens"),
                                          QStringLiteral("5"), QStringLiteral("--json")});
        QVERIFY2(halfText.exitCode == 0, qPrintable(halfText.err));

        const CliRun prune = runCli({QStringLiteral("compress"), QStringLiteral("tiny-lm:1"),
                                     QStringLiteral("--method"),
                                     QStringLiteral("prune-unstructured"),
                                     QStringLiteral("--finetune-epochs"), QStringLiteral("1"),
                                     QStringLiteral("--workspace"), ws()});
        QCOMPARE(prune.exitCode, 1);
        QVERIFY2(prune.errorLine().contains(QStringLiteral("is a language model")),
                 qPrintable(prune.err));
    }

    void datasetsListsAndDescribesFortunes()
    {
        const CliRun list = runCli({QStringLiteral("datasets"), QStringLiteral("--json")});
        QCOMPARE(list.exitCode, 0);
        bool found = false;
        for (const QJsonValue &v : list.json().value(QStringLiteral("builtin")).toArray()) {
            const QJsonObject d = v.toObject();
            if (d.value(QStringLiteral("name")).toString() == QLatin1String("fortunes"))
                found = d.value(QStringLiteral("kind")).toString() == QLatin1String("text")
                        && d.value(QStringLiteral("installed")).toBool();
        }
        QVERIFY(found);
        const CliRun one = runCli({QStringLiteral("datasets"), QStringLiteral("fortunes"),
                                   QStringLiteral("--json")});
        QCOMPARE(one.exitCode, 0);
        const QJsonObject d = one.json();
        QCOMPARE(d.value(QStringLiteral("kind")).toString(), QStringLiteral("text"));
        qint64 perClass = 0;
        for (const QJsonValue &n : d.value(QStringLiteral("class_counts")).toObject()
                                       .value(QStringLiteral("validation")).toArray())
            perClass += n.toInteger();
        QCOMPARE(perClass, d.value(QStringLiteral("validation")).toInteger());
        const CliRun table = runCli({QStringLiteral("datasets"), QStringLiteral("fortunes")});
        QVERIFY2(table.out.contains(QStringLiteral("literature"))
                     && table.out.contains(QStringLiteral("% 10 == 9")),
                 qPrintable(table.out));
    }

    // The exported file's README shows a language model's use, and its snippet runs.
    void exportReadmeRuns()
    {
        const QString folder = m_dir.filePath(QStringLiteral("export"));
        QDir().mkpath(folder);
        const CliRun r = runCli({QStringLiteral("export"), QStringLiteral("tiny-lm:1"),
                                 QStringLiteral("--workspace"), ws(), QStringLiteral("--to"),
                                 folder + QLatin1Char('/')});
        QVERIFY2(r.exitCode == 0, qPrintable(r.err));
        QFile readme(QDir(folder).filePath(QStringLiteral("tiny-lm-v1.README.md")));
        QVERIFY2(readme.open(QIODevice::ReadOnly), qPrintable(readme.fileName()));
        const QString text = QString::fromUtf8(readme.readAll());
        QVERIFY(text.contains(QStringLiteral("model.step")));
        QVERIFY(!text.contains(QStringLiteral("torch.rand")));
        // Tokens in and logits out, batch N by sequence T, as the snippet writes them.
        QVERIFY2(text.contains(QStringLiteral("of shape (N, T)"))
                     && text.contains(QStringLiteral("of shape (N, T, ")),
                 qPrintable(text));
        const qsizetype from = text.indexOf(QStringLiteral("```python\n")) + 10;
        const QString snippet = text.mid(from, text.indexOf(QStringLiteral("```"), from) - from);
        QByteArray out;
        QVERIFY(ms::test::runPython(folder, snippet, {}, &out, folder));
        // The prompt and 29 generated bytes: the context of 32, whatever they decode to.
        QVERIFY2(out.startsWith("Q: "), out.constData());
    }

    void refusals()
    {
        // A language model is not a classifier to fine-tune: said before any shape check.
        const CliRun fine = runCli({QStringLiteral("train"), QStringLiteral("--from"),
                                    QStringLiteral("tiny-lm:1"), QStringLiteral("--dataset"),
                                    QStringLiteral("fashion-mnist"), QStringLiteral("--limit"),
                                    QStringLiteral("100"), QStringLiteral("--epochs"),
                                    QStringLiteral("1"), QStringLiteral("--workspace"), ws()});
        QCOMPARE(fine.exitCode, 1);
        QVERIFY2(fine.errorLine().contains(QStringLiteral("fine-tunes classifiers")),
                 qPrintable(fine.err));

        CliRun r = generate({QStringLiteral("nosuch"), QStringLiteral("--prompt"),
                             QStringLiteral("x")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.errorLine().contains(QStringLiteral("nosuch")), qPrintable(r.err));

        r = generate({QStringLiteral("tiny-lm"), QStringLiteral("--prompt"),
                      QString(40, QLatin1Char('x'))});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.errorLine().contains(QStringLiteral("more than the context")),
                 qPrintable(r.err));
        QVERIFY(r.out.isEmpty());   // refused before any text
        r = generate({QStringLiteral("tiny-lm"), QStringLiteral("--prompt"),
                      QString(40, QLatin1Char('x')), QStringLiteral("--crop-prompt"),
                      QStringLiteral("--max-tokens"), QStringLiteral("3"), QStringLiteral("--json")});
        QCOMPARE(r.exitCode, 0);
        QVERIFY(r.jsonLines().last().value(QStringLiteral("prompt_cropped")).toBool());

        r = generate({QStringLiteral("tiny-lm"), QStringLiteral("--prompt"), QStringLiteral("x"),
                      QStringLiteral("--top-p"), QStringLiteral("1.5")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.errorLine().contains(QStringLiteral("top-p")), qPrintable(r.err));

        r = generate({QStringLiteral("tiny-lm")});
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.errorLine().contains(QStringLiteral("--prompt")), qPrintable(r.err));

        // A classifier of the same workspace: one sentence saying what it is.
        const CliRun mlp = runCli(
            {QStringLiteral("train"), QStringLiteral("--workspace"), ws(),
             QStringLiteral("--dataset"), QStringLiteral("fashion-mnist"), QStringLiteral("--arch"),
             QStringLiteral("mlp"), QStringLiteral("--limit"), QStringLiteral("200"),
             QStringLiteral("--epochs"), QStringLiteral("1"), QStringLiteral("--threads"),
             QStringLiteral("1"), QStringLiteral("--name"), QStringLiteral("clf")});
        QVERIFY2(mlp.exitCode == 0, qPrintable(mlp.err));
        r = generate({QStringLiteral("clf"), QStringLiteral("--prompt"), QStringLiteral("x")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.errorLine().contains(QStringLiteral("clf:1 is not a language model")),
                 qPrintable(r.err));

        // A text dataset trained as a classifier: said at once.
        r = runCli({QStringLiteral("train"), QStringLiteral("--workspace"), ws(),
                    QStringLiteral("--dataset"), QStringLiteral("fortunes"),
                    QStringLiteral("--arch"), QStringLiteral("mlp")});
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.errorLine().contains(QStringLiteral("--task lm")), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TestCliLm)
#include "tst_cli_lm.moc"
