// The Compare panel's Variants tab for a language model and its int8 variant, measured by the
// real BenchmarkJob: the table shows the language-model columns (validation loss, perplexity,
// generation tokens/s) with finite values instead of a classifier's accuracy, the cards say
// perplexity and generation speed, and no confusion matrix is drawn (a gpt has none).
#include "panels/compare/ComparePanel.h"
#include "panels/compare/ConfusionHeatmap.h"
#include "panels/compare/VariantCard.h"
#include "panels/compare/VariantScatter.h"
#include "panels/compare/VariantTableModel.h"
#include "panels/compare/VariantsView.h"

#include "bench/BenchmarkJob.h"
#include "compress/CompressJob.h"
#include "jobs/JobContext.h"
#include "registry/Registry.h"
#include "train/TrainJob.h"

#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using ms::ui::ComparePanel;
using ms::ui::VariantTableModel;

class TestCompareLm final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void languageModelColumnsWithFiniteValues();
    void cardsShowPerplexityAndGeneration();

private:
    QTemporaryDir m_workspace;
};

void TestCompareLm::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(m_workspace.isValid());
    ms::TrainConfig c;
    c.dataset = QStringLiteral("fortunes");
    c.limit = 1000;
    c.task = QStringLiteral("lm");
    c.arch = QStringLiteral("gpt");
    c.archParams = QJsonObject{{"n_layer", 1}, {"n_head", 2}, {"n_embd", 32}, {"block_size", 32}};
    c.epochs = 1;
    c.stepsPerEpoch = 8;
    c.batchSize = 8;
    c.optimizer = QStringLiteral("adamw");
    c.threads = 1;
    ms::TrainJob train(c, m_workspace.filePath(QStringLiteral("run")));
    train.recordIn(m_workspace.path(), QStringLiteral("lm"));
    ms::JobContext context;
    const ms::JobResult trained = train.run(context);
    QVERIFY2(trained.status == ms::JobStatus::Finished, qPrintable(trained.message));

    const QJsonObject spec = ms::CompressJob::makeSpec(
        QStringLiteral("lm:1"), QStringLiteral("quantize-dynamic"),
        {{"engine", "qnnpack"}}, QString(), QString(), 1);
    ms::JobContext compressContext;
    const ms::JobResult int8 = ms::CompressJob(m_workspace.path(), spec).run(compressContext);
    QVERIFY2(int8.status == ms::JobStatus::Finished, qPrintable(int8.message));

    ms::BenchmarkConfig config;
    config.versions = {QStringLiteral("lm:1"), QStringLiteral("lm:2")};
    config.batchSizes = {1};
    config.warmup = 1;
    config.repetitions = 3;
    config.generateTokens = 16;
    ms::JobContext benchContext;
    const ms::JobResult bench = ms::BenchmarkJob(m_workspace.path(), config).run(benchContext);
    QVERIFY2(bench.status == ms::JobStatus::Finished, qPrintable(bench.message));
}

void TestCompareLm::languageModelColumnsWithFiniteValues()
{
    ComparePanel panel(m_workspace.path());
    QVERIFY(panel.setChecked(QStringLiteral("lm:1"), true));
    QVERIFY(panel.setChecked(QStringLiteral("lm:2"), true));
    const VariantTableModel *model = panel.variants()->tableModel();
    QCOMPARE(model->rowCount(), 2);
    QCOMPARE(model->columnOf(QStringLiteral("test_acc")), -1);   // no meaningless accuracy
    for (const char *key : {"val_loss", "val_ppl", "gen_tokens_per_s", "size_bytes"}) {
        const int column = model->columnOf(QLatin1String(key));
        QVERIFY2(column > 0, key);
        for (int row = 0; row < 2; ++row) {
            const QVariant value = model->index(row, column).data(VariantTableModel::ValueRole);
            QVERIFY2(value.canConvert<double>(), key);
            QVERIFY2(std::isfinite(value.toDouble()) && value.toDouble() > 0.0,
                     qPrintable(QStringLiteral("%1 of row %2: %3").arg(QLatin1String(key))
                                    .arg(row).arg(value.toString())));
        }
    }
    // Perplexity is exp(validation loss); the int8 variant's delta is against the baseline.
    const int loss = model->columnOf(QStringLiteral("val_loss"));
    const int ppl = model->columnOf(QStringLiteral("val_ppl"));
    QVERIFY(qFuzzyCompare(model->index(1, ppl).data(VariantTableModel::ValueRole).toDouble(),
                          std::exp(model->index(1, loss).data(VariantTableModel::ValueRole)
                                       .toDouble())));
    QVERIFY(model->index(1, loss).data(VariantTableModel::DiffRole).isValid());
    QCOMPARE(model->headerData(ppl, Qt::Horizontal).toString(), QStringLiteral("perplexity"));
    // The int8 file is smaller: its size ratio is below 1, shown as better.
    const int size = model->columnOf(QStringLiteral("size_bytes"));
    QVERIFY(model->index(1, size).data(VariantTableModel::RatioRole).toDouble() < 1.0);
    QCOMPARE(model->index(1, size).data(VariantTableModel::BetterRole).toInt(), 1);
}

void TestCompareLm::cardsShowPerplexityAndGeneration()
{
    ComparePanel panel(m_workspace.path());
    QVERIFY(panel.setChecked(QStringLiteral("lm:1"), true));
    QVERIFY(panel.setChecked(QStringLiteral("lm:2"), true));
    const QList<ms::ui::VariantCard *> cards = panel.variants()->cards();
    QCOMPARE(cards.size(), 2);
    for (const ms::ui::VariantCard *card : cards) {
        QStringList names;
        for (const ms::ui::VariantCard::Line &line : card->lines())
            names << line.name;
        QCOMPARE(names, (QStringList{"Perplexity", "Generation", "Size", "Memory"}));
        QVERIFY2(card->lines().at(1).value.endsWith(QStringLiteral("tokens/s")),
                 qPrintable(card->lines().at(1).value));
    }
    QVERIFY(!cards.at(1)->lines().at(0).delta.isEmpty());   // perplexity against lm:1
    QVERIFY(panel.variants()->heatmaps().isEmpty());
    // No accuracy-latency scatter to fill: it is not shown for language models.
    QVERIFY(panel.variants()->scatter()->isHidden()
            || !panel.variants()->scatter()->parentWidget()->isVisibleTo(panel.variants()));
}

QTEST_MAIN(TestCompareLm)
#include "tst_comparelm.moc"
