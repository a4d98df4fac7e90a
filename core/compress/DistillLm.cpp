// distill of a language model: a gpt teacher's soft targets over the vocabulary, per position,
// taught to a smaller gpt on the training loop of `train --task lm` (compress/Distill_p.h).

#include "compress/Distill_p.h"

#include "common/Error.h"
#include "compress/FineTune_p.h"
#include "jobs/JobContext.h"
#include "models/ArchSpec.h"
#include "models/ArchitectureRegistry.h"
#include "models/ModelImpl_p.h"
#include "train/LmTraining_p.h"
#include "train/TrainLoop_p.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/loss.h>

#include <QJsonDocument>

namespace ms::distill {

namespace {

namespace F = torch::nn::functional;

QString compact(const QJsonObject &json)
{
    return QString::fromUtf8(QJsonDocument(json).toJson(QJsonDocument::Compact));
}

void checkContext(const QString &teacherRef, int teacherBlock, const QString &student,
                  qint64 studentBlock)
{
    if (studentBlock > teacherBlock)
        throw Error(QStringLiteral("The student %1 has a context of %2 tokens (block_size), "
                                   "longer than the teacher %3's %4: the teacher scores every "
                                   "window the student trains on, so it must see all of it. "
                                   "Give the student a block_size of at most %4.")
                        .arg(student, QString::number(studentBlock), teacherRef,
                             QString::number(teacherBlock)));
}

} // namespace

void checkLmStudentArch(const Model &teacher, const QString &teacherRef, const QString &arch)
{
    // Open: the vocabulary is bound to the teacher's below, after a spec that fixes another
    // one is refused with both values.
    const ArchSpec spec = ArchSpec::fromJson(ArchitectureRegistry::instance().resolve(arch, {},
                                                                                      0));
    if (!spec.isGpt())
        throw Error(QStringLiteral("The teacher %1 is a language model, but the student "
                                   "architecture %2 is not: distill a gpt into a smaller gpt "
                                   "(a spec JSON file with \"family\": \"gpt\").")
                        .arg(teacherRef, arch));
    const int vocab = int(teacher.tokenizer().value(QStringLiteral("vocab_size")).toInt(0));
    const int teacherVocab = vocab > 0 ? vocab : spec.numClasses();
    if (spec.numClasses() > 0 && teacherVocab > 0 && spec.numClasses() != teacherVocab)
        throw Error(QStringLiteral("The teacher %1 reads a vocabulary of %2 tokens, but the "
                                   "student %3 fixes vocab_size %4: distillation matches their "
                                   "scores token for token. Leave vocab_size out of the spec "
                                   "(it takes the teacher's) or set it to %2.")
                        .arg(teacherRef, QString::number(teacherVocab), arch,
                             QString::number(spec.numClasses())));
    if (!spec.inputShape().empty())
        checkContext(teacherRef, teacher.blockSize(), arch, spec.inputShape().front());
}

void checkLmStudent(const Model &teacher, const QString &teacherRef, const Model &student,
                    const QString &studentRef)
{
    if (student.task() != QLatin1String("lm"))
        throw Error(QStringLiteral("The teacher %1 is a language model, but the student %2 is "
                                   "not: distill a gpt into a smaller gpt.")
                        .arg(teacherRef, studentRef));
    if (student.tokenizer() != teacher.tokenizer())
        throw Error(QStringLiteral("The teacher %1 reads tokens of the tokenizer %2, but the "
                                   "student %3 of %4: distillation matches their scores token "
                                   "for token. Choose a student of the teacher's tokenizer.")
                        .arg(teacherRef, compact(teacher.tokenizer()), studentRef,
                             compact(student.tokenizer())));
    checkContext(teacherRef, teacher.blockSize(), studentRef, student.blockSize());
}

namespace {

Model makeStudent(CompressInput &input, LmTraining &text, const TrainConfig &config,
                  CompressOutput &out)
{
    const QString ref = input.params.value(QStringLiteral("student")).toString();
    if (!ref.isEmpty()) {
        Registry registry(input.workspace);
        const VersionRecord record = registry.resolve(ref);
        Model student = Model::load(registry.verifiedArtifactPath(record));
        text.checkModel(student, record.ref());   // its windows: the student's context
        out.extraParents.append({record.id, QStringLiteral("student")});
        out.details.insert(QStringLiteral("student"), record.ref());
        return student;
    }
    // As train --task lm --arch ARCH builds it (LmTraining::resolveSpec, build): the same
    // spec, tokenizer and seed give the same initial weights.
    const QString arch = input.params.value(QStringLiteral("student-arch")).toString();
    const QJsonObject spec = ArchSpec::fromJson(ArchitectureRegistry::instance().resolve(
                                                    arch, {}, text.vocabSize()))
                                 .toJson();
    out.details.insert(QStringLiteral("student_arch"), arch);
    out.details.insert(QStringLiteral("student_spec"), spec);
    return text.build(spec, config.seed);
}

} // namespace

CompressOutput distillLanguageModel(CompressInput &input, JobContext &context, double T,
                                    double alpha, CompressOutput out)
{
    if (!input.text)
        throw Error(QStringLiteral("%1 records no training text (it was imported); give the "
                                   "text to distill on with --dataset.")
                        .arg(input.source.ref()));
    LmTraining &text = *input.text;
    TrainConfig config = fineTuneConfig(input.params, QStringLiteral("epochs"));
    config.task = QStringLiteral("lm");
    Model student = makeStudent(input, text, config, out);

    torch::jit::Module &module = student.impl()->module;
    module.train();
    std::vector<at::Tensor> params;
    for (const at::Tensor &p : module.parameters()) {
        p.requires_grad_(true);
        params.push_back(p);
    }
    const auto optimizer = trainloop::makeOptimizer(config, params);
    trainloop::EpochLoop loop(module, *optimizer, at::Tensor(), at::Tensor());
    text.setUp(loop, config);            // the windows and loss of train --task lm
    trainloop::useConfig(loop, config);  // its schedule and clipping
    loop.what = QStringLiteral("Distillation");
    torch::jit::Module &teacher = input.model.impl()->module;
    teacher.eval();
    loop.hooks.loss = [&](const at::Tensor &x, const at::Tensor &logits, const at::Tensor &y) {
        const at::Tensor ce = LmTraining::nextTokenLoss(logits, y);
        // alpha 0 is the student trained alone, as train --task lm would: the control.
        if (alpha == 0.0)
            return ce;
        const int64_t vocab = logits.size(-1);
        at::Tensor soft;
        {
            at::NoGradGuard noGrad;
            soft = F::softmax(teacher.forward({x}).toTensor().reshape({-1, vocab}) / T,
                              F::SoftmaxFuncOptions(-1));
        }
        // batchmean over the flattened positions: the KL per position, averaged.
        const at::Tensor kd = F::kl_div(
            F::log_softmax(logits.reshape({-1, vocab}) / T, F::LogSoftmaxFuncOptions(-1)), soft,
            F::KLDivFuncOptions().reduction(torch::kBatchMean));
        return alpha * T * T * kd + (1.0 - alpha) * ce;
    };
    const qint64 totalSteps = loop.totalSteps();
    const int64_t stepsPerEpoch = loop.stepsPerEpoch();
    loop.onStep = [&](int epoch, qint64 step, int64_t batch, double loss, double lr) {
        context.addMetric(QStringLiteral("loss"), step, epoch + 1, loss);
        context.addMetric(QStringLiteral("lr"), step, epoch + 1, lr);
        context.setProgress(0.95 * double(step) / double(totalSteps),
                            QStringLiteral("distillation: epoch %1/%2, step %3/%4")
                                .arg(QString::number(epoch + 1), QString::number(config.epochs),
                                     QString::number(batch + 1),
                                     QString::number(stepsPerEpoch)));
    };
    qint64 step = 0;
    for (int epoch = 0; epoch < config.epochs; ++epoch) {
        const trainloop::EpochOutcome outcome = loop.run(epoch, step, context);
        if (outcome.end == trainloop::EpochOutcome::End::Cancelled)
            return {};
        if (outcome.end == trainloop::EpochOutcome::End::Diverged)
            throw trainloop::DivergedError(outcome.message);
        QJsonObject event = text.epochMetrics(module, outcome);
        for (auto it = event.begin(); it != event.end(); ++it)
            context.addMetric(it.key(), step, epoch + 1, it.value().toDouble());
        event.insert(QStringLiteral("event"), QStringLiteral("epoch"));
        event.insert(QStringLiteral("phase"), QStringLiteral("distillation"));
        event.insert(QStringLiteral("epoch"), epoch + 1);
        event.insert(QStringLiteral("epochs"), config.epochs);
        context.report(event);
    }
    out.model = student;
    out.details.insert(QStringLiteral("student_parameters"), student.parameterCount());
    out.details.insert(QStringLiteral("objective"),
                       QStringLiteral("language modelling: soft targets over the vocabulary "
                                      "per position"));
    out.details.insert(QStringLiteral("student_block_size"), student.blockSize());
    out.details.insert(QStringLiteral("teacher_block_size"), input.model.blockSize());
    out.details.insert(QStringLiteral("steps"), totalSteps);
    return out;
}

} // namespace ms::distill
