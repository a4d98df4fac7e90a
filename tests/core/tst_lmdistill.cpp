// Distillation of a gpt into a smaller gpt on the language-modelling objective, through the
// path the CLI and the Compress dialog take (CompressJob::makeSpec): the student is registered
// as distilled from its teacher, smaller, scored by validation loss; at alpha 0 it is the
// student `train --task lm` makes alone on the same windows; students that cannot read the
// teacher's tokens or windows are refused before any work.

#include "TestSupport.h"

#include "compress/CompressJob.h"
#include "jobs/JobContext.h"
#include "models/LanguageModel.h"
#include "models/Model.h"
#include "registry/Registry.h"
#include "train/TrainJob.h"

#include <QFile>
#include <QJsonArray>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace ms;

namespace {

constexpr int kLimit = 1500;   // fortunes records: a few seconds to read and tokenize

// The teacher's and the student-alone runs' common settings (those distill offers too).
TrainConfig lmRun(const QString &arch, int steps)
{
    TrainConfig c;
    c.dataset = QStringLiteral("fortunes");
    c.limit = kLimit;
    c.task = QStringLiteral("lm");
    c.arch = arch;
    c.epochs = 1;
    c.stepsPerEpoch = steps;
    c.batchSize = 8;
    c.lr = 3e-3;
    c.minLr = 3e-4;
    c.warmupSteps = 4;
    c.schedule = QStringLiteral("cosine");
    c.optimizer = QStringLiteral("adamw");
    c.weightDecay = 0.1;
    c.beta2 = 0.99;
    c.clipGradNorm = 1.0;
    c.threads = 1;
    c.seed = 5;   // also the data's: the teacher's recipe gives distill its split
    return c;
}

// distill's flags for the same settings, as the CLI passes them (strings).
QJsonObject distillFlags(const QString &studentSpec, double alpha)
{
    return QJsonObject{{"student-arch", studentSpec}, {"epochs", "1"}, {"steps-per-epoch", "12"},
                       {"batch-size", "8"}, {"lr", "0.003"}, {"min-lr", "0.0003"},
                       {"warmup-steps", "4"}, {"schedule", "cosine"}, {"optimizer", "adamw"},
                       {"weight-decay", "0.1"}, {"beta2", "0.99"}, {"clip-grad-norm", "1"},
                       {"seed", "5"}, {"alpha", QString::number(alpha)}, {"temperature", "2"}};
}

bool writeFile(const QString &path, const QByteArray &text)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(text) == text.size();
}

} // namespace

class TestLmDistill : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_ws;
    QString m_student;

    JobResult distill(double alpha, const QString &name)
    {
        const QJsonObject spec = CompressJob::makeSpec(
            QStringLiteral("teacher:1"), QStringLiteral("distill"),
            distillFlags(m_student, alpha), name, QString(), 1);
        CompressJob::preflight(m_ws, spec);
        JobContext context;
        return CompressJob(m_ws, spec).run(context);
    }

    std::vector<float> logitsOf(const QString &ref)
    {
        Registry registry(m_ws);
        const LanguageModel lm(Model::load(registry.verifiedArtifactPath(registry.resolve(ref))),
                               ref);
        return lm.logits(lm.tokenizer().encode("Q: Why? A:"), 1);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_dir.isValid());
        m_ws = m_dir.filePath(QStringLiteral("ws"));
        TrainConfig teacher = lmRun(QStringLiteral("gpt"), 12);
        teacher.archParams = QJsonObject{{"n_layer", 1}, {"n_head", 2}, {"n_embd", 48},
                                         {"block_size", 32}, {"dropout", 0.0}};
        TrainJob job(teacher, m_dir.filePath(QStringLiteral("teacher-run")));
        job.recordIn(m_ws, QStringLiteral("teacher"));
        JobContext context;
        const JobResult r = job.run(context);
        QVERIFY2(r.status == JobStatus::Finished, qPrintable(r.message));
        m_student = m_dir.filePath(QStringLiteral("student.json"));
        QVERIFY(writeFile(m_student, R"({"family": "gpt", "name": "student", "n_layer": 1,
            "n_head": 2, "n_embd": 16, "block_size": 16, "dropout": 0})"));
    }

    void distillsIntoASmallerRegisteredStudent()
    {
        const JobResult r = distill(0.7, QStringLiteral("student-kd"));
        QVERIFY2(r.status == JobStatus::Finished, qPrintable(r.message));
        Registry registry(m_ws);
        const VersionRecord teacher = registry.resolve(QStringLiteral("teacher:1"));
        const VersionRecord student = registry.resolve(QStringLiteral("student-kd:1"));
        QCOMPARE(student.kind, VersionKind::Distilled);
        QVERIFY(student.parameterCount > 0);
        QVERIFY2(student.parameterCount * 2 < teacher.parameterCount,
                 qPrintable(QStringLiteral("%1 vs %2").arg(student.parameterCount)
                                .arg(teacher.parameterCount)));
        // Lineage: distilled from its teacher, as an image student is.
        bool taught = false;
        for (const LineageEdge &edge : registry.lineage(student.id))
            taught = taught || (edge.parentId == teacher.id && edge.childId == student.id
                                && edge.role == QLatin1String("teacher"));
        QVERIFY(taught);
        // Scored by validation loss on windows of its own context, its teacher on the same.
        const double loss = student.metrics.value(QStringLiteral("val_loss")).toDouble(NAN);
        QVERIFY(std::isfinite(loss) && loss > 0.0);
        QVERIFY(ms::test::closeTo(student.metrics.value(QStringLiteral("val_ppl")).toDouble(),
                                  std::exp(loss), 1e-9));
        QVERIFY(std::isfinite(student.metrics.value(QStringLiteral("source_val_loss"))
                                  .toDouble(NAN)));
        QCOMPARE(student.metrics.value(QStringLiteral("val_block_size")).toInt(), 16);
        QCOMPARE(student.inputs.first().dtype, QStringLiteral("int64"));
        const QJsonObject details = student.recipe.value(QStringLiteral("details")).toObject();
        QCOMPARE(details.value(QStringLiteral("steps")).toInt(), 12);
        QCOMPARE(details.value(QStringLiteral("student_block_size")).toInt(), 16);
        // It generates like any gpt.
        QCOMPARE(logitsOf(student.ref()).size(), size_t(10 * 256));
    }

    // alpha 0 is the student trained alone by `train --task lm`: same spec, seed, windows,
    // optimizer and schedule give the same weights (one thread; kernels may still reorder sums).
    void alphaZeroIsTheStudentTrainedAlone()
    {
        TrainJob job(lmRun(m_student, 12), m_dir.filePath(QStringLiteral("alone-run")));
        job.recordIn(m_ws, QStringLiteral("alone"));
        JobContext context;
        const JobResult trained = job.run(context);
        QVERIFY2(trained.status == JobStatus::Finished, qPrintable(trained.message));
        const JobResult same = distill(0.0, QStringLiteral("alone-distilled"));
        QVERIFY2(same.status == JobStatus::Finished, qPrintable(same.message));

        Registry registry(m_ws);
        const double byTrain = registry.resolve(QStringLiteral("alone:1")).metrics
                                   .value(QStringLiteral("val_loss")).toDouble();
        const double byDistill = registry.resolve(QStringLiteral("alone-distilled:1")).metrics
                                     .value(QStringLiteral("val_loss")).toDouble();
        QVERIFY2(ms::test::closeTo(byDistill, byTrain, 1e-5),
                 qPrintable(QStringLiteral("%1 vs %2").arg(byDistill).arg(byTrain)));
        const std::vector<float> a = logitsOf(QStringLiteral("alone:1"));
        const std::vector<float> b = logitsOf(QStringLiteral("alone-distilled:1"));
        QCOMPARE(a.size(), b.size());
        QVERIFY2(ms::test::maxScaledDiff(a, b) < 1e-4,
                 qPrintable(QString::number(ms::test::maxScaledDiff(a, b))));
        // The teacher's soft targets change the student: a run that ignores them would not.
        const JobResult taught = distill(1.0, QStringLiteral("taught"));
        QVERIFY2(taught.status == JobStatus::Finished, qPrintable(taught.message));
        const double byTeacher = registry.resolve(QStringLiteral("taught:1")).metrics
                                     .value(QStringLiteral("val_loss")).toDouble();
        QVERIFY(!ms::test::closeTo(byTeacher, byTrain, 1e-4));
    }

    void refusesStudentsThatCannotReadTheTeachersWindows_data()
    {
        QTest::addColumn<QByteArray>("spec");
        QTest::addColumn<QStringList>("named");
        QTest::newRow("longer context") << QByteArray(R"({"family": "gpt", "n_layer": 1,
            "n_head": 2, "n_embd": 16, "block_size": 64})") << QStringList{"64", "32", "block_size"};
        QTest::newRow("other vocabulary") << QByteArray(R"({"family": "gpt", "n_layer": 1,
            "n_head": 2, "n_embd": 16, "block_size": 16, "vocab_size": 100})")
                                          << QStringList{"256", "100", "vocab_size"};
        QTest::newRow("a classifier") << QByteArray(R"({"layers": [{"type": "flatten"},
            {"type": "linear", "out": "num_classes"}]})") << QStringList{"not", "gpt"};
    }

    void refusesStudentsThatCannotReadTheTeachersWindows()
    {
        QFETCH(QByteArray, spec);
        QFETCH(QStringList, named);
        const QString path = m_dir.filePath(QStringLiteral("bad.json"));
        QVERIFY(writeFile(path, spec));
        const int before = int(Registry(m_ws).models().size());
        QJsonObject flags = distillFlags(path, 0.5);
        const QJsonObject job = CompressJob::makeSpec(QStringLiteral("teacher:1"),
                                                      QStringLiteral("distill"), flags,
                                                      QStringLiteral("bad"), QString(), 1);
        const QString message = ms::test::errorOf([&] { CompressJob::preflight(m_ws, job); });
        for (const QString &word : named)
            QVERIFY2(message.contains(word), qPrintable(message));
        JobContext context;
        const QString again = ms::test::errorOf([&] { CompressJob(m_ws, job).run(context); });
        QCOMPARE(again, message);
        QCOMPARE(int(Registry(m_ws).models().size()), before);
    }
};

QTEST_GUILESS_MAIN(TestLmDistill)
#include "tst_lmdistill.moc"
