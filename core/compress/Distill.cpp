// distill: trains a student on the teacher's soft targets (Hinton, Vinyals & Dean 2015).
// Loss = alpha * T^2 * KL(softmax(teacher/T) || softmax(student/T)) + (1 - alpha) * CE(student).
// The SOURCE of the job is the teacher; the student is a fresh architecture or a version.

#include "compress/BuiltinMethods_p.h"

#include "common/Error.h"
#include "compress/Distill_p.h"
#include "compress/FineTune_p.h"
#include "jobs/JobContext.h"
#include "models/ArchSpec.h"
#include "models/ArchitectureRegistry.h"
#include "models/ModelImpl_p.h"

#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/loss.h>

namespace ms {

namespace {

namespace F = torch::nn::functional;

QString classMismatch(const QString &teacher, qsizetype teacherClasses, const QString &student,
                      qsizetype studentClasses)
{
    return QStringLiteral("The teacher %1 has %2 output classes but the student %3 has %4: "
                          "distillation matches them score for score. Choose a student with "
                          "%2 classes.")
        .arg(teacher, QString::number(teacherClasses), student, QString::number(studentClasses));
}

class Distill final : public CompressionMethod
{
public:
    QString name() const override { return QStringLiteral("distill"); }
    QString description() const override
    {
        return QStringLiteral("Train a smaller student on the soft targets of SOURCE, the "
                              "teacher (knowledge distillation).");
    }
    QList<CompressParameter> parameters() const override
    {
        QList<CompressParameter> list{
            {QStringLiteral("student-arch"), CompressParameter::Type::Text, QString(), 0, 0, {},
             QStringLiteral("Student architecture: a name (see: modelstudio-cli archs) or a spec "
                            "JSON file; or give --student.")},
            {QStringLiteral("student"), CompressParameter::Type::Version, QString(), 0, 0, {},
             QStringLiteral("Student to start from: a version (NAME:N or NAME@ALIAS); or give "
                            "--student-arch.")},
            {QStringLiteral("temperature"), CompressParameter::Type::Double, 4.0, 0.05, 100.0,
             {}, QStringLiteral("Softening temperature T of both models' scores (default 4).")},
            {QStringLiteral("alpha"), CompressParameter::Type::Double, 0.7, 0.0, 1.0, {},
             QStringLiteral("Weight of the teacher's soft targets against the labels, 0 to 1 "
                            "(default 0.7).")},
            {QStringLiteral("seed"), CompressParameter::Type::Int, 0, 0.0, 2147483647.0, {},
             QStringLiteral("Seed of a fresh student's initial weights and of the batch order, "
                            "as train's --seed (default 0).")},
        };
        list += fineTuneParameters(QStringLiteral("epochs"), 3,
                                   QStringLiteral("Epochs of distillation (default 3)."));
        list += scheduleParameters();
        list << CompressParameter{
            QStringLiteral("augment"), CompressParameter::Type::Text, QString(), 0, 0, {},
            QStringLiteral("Images: random flips and shifts of the student's batches, which "
                           "the teacher scores as the student sees them, as train --augment "
                           "(hflip, shift:N; default none).")};
        return list;
    }

    void check(const Model &teacher, const VersionRecord &record,
               const QJsonObject &params) const override
    {
        const QString arch = params.value(QStringLiteral("student-arch")).toString();
        const QString student = params.value(QStringLiteral("student")).toString();
        if (arch.isEmpty() == student.isEmpty())
            throw Error(QStringLiteral("distill needs a student: give either --student-arch "
                                       "NAME|SPEC.json (a fresh model) or --student NAME:N (a "
                                       "version), not %1.")
                            .arg(arch.isEmpty() ? QStringLiteral("neither")
                                                : QStringLiteral("both")));
        // The optimizer and schedule settings, checked as train checks its own.
        const bool lm = teacher.task() == QLatin1String("lm");
        TrainConfig settings = fineTuneConfig(params, QStringLiteral("epochs"));
        if (lm)
            settings.task = QStringLiteral("lm");
        settings.validate();
        if (arch.isEmpty())
            return;
        if (lm)
            return distill::checkLmStudentArch(teacher, record.ref(), arch);
        // A student whose spec fixes its class count must agree with the teacher.
        if (ArchSpec::fromJson(ArchitectureRegistry::instance().resolve(arch, {}, 0)).isGpt())
            throw Error(QStringLiteral("The student architecture %1 is a language model (a gpt), "
                                       "but the teacher %2 is a classifier: distill a classifier "
                                       "into a smaller classifier.")
                            .arg(arch, record.ref()));
        const QJsonObject open = ArchitectureRegistry::instance().resolve(
            arch, teacher.inputShape(), 0);
        const int classes = ArchSpec::fromJson(open).numClasses();
        const qsizetype teacherClasses = record.classNames.size();
        if (classes > 0 && teacherClasses > 0 && classes != teacherClasses)
            throw Error(classMismatch(record.ref(), teacherClasses, arch, classes));
    }

    void checkInput(const CompressInput &input) const override
    {
        const QString ref = input.params.value(QStringLiteral("student")).toString();
        if (ref.isEmpty())
            return;
        Registry registry(input.workspace);
        const VersionRecord student = registry.resolve(ref);
        if (input.model.task() == QLatin1String("lm"))
            return distill::checkLmStudent(input.model, input.source.ref(),
                                           Model::load(registry.verifiedArtifactPath(student)),
                                           student.ref());
        if (student.classNames.size() != input.source.classNames.size())
            throw Error(classMismatch(input.source.ref(), input.source.classNames.size(),
                                      student.ref(), student.classNames.size()));
        if (student.classNames != input.source.classNames)
            throw Error(QStringLiteral("The teacher %1 and the student %2 name their classes "
                                       "differently (%3 against %4): distillation matches them "
                                       "score for score. Choose a student of the same classes.")
                            .arg(input.source.ref(), student.ref(),
                                 input.source.classNames.join(QStringLiteral(", ")),
                                 student.classNames.join(QStringLiteral(", "))));
    }

    CompressOutput apply(CompressInput &input, JobContext &context) const override
    {
        const QJsonObject &p = input.params;
        const double T = p.value(QStringLiteral("temperature")).toDouble();
        const double alpha = p.value(QStringLiteral("alpha")).toDouble();
        if (input.model.task() == QLatin1String("lm"))
            return distill::distillLanguageModel(input, context, T, alpha,
                                                 recorded(input, T, alpha));
        Dataset &data = mutableData(input.dataset());
        CompressOutput out;
        Model student;
        const QString ref = p.value(QStringLiteral("student")).toString();
        if (!ref.isEmpty()) {
            Registry registry(input.workspace);
            const VersionRecord record = registry.resolve(ref);
            student = Model::load(registry.verifiedArtifactPath(record));
            out.extraParents.append({record.id, QStringLiteral("student")});
            out.details.insert(QStringLiteral("student"), record.ref());
        } else {
            const QString arch = p.value(QStringLiteral("student-arch")).toString();
            const QJsonObject spec = ArchitectureRegistry::instance().resolve(
                arch, data.sampleShape, data.numClasses());
            student = Model::build(spec, ModelDataInfo{data.sampleShape, data.mean, data.stdev,
                                                       data.classNames},
                                   quint64(p.value(QStringLiteral("seed")).toInteger()));
            out.details.insert(QStringLiteral("student_arch"), arch);
            out.details.insert(QStringLiteral("student_spec"), spec);
        }
        if (student.classNames().size() != data.numClasses()
            && !student.classNames().isEmpty())
            throw Error(classMismatch(input.source.ref(), data.numClasses(),
                                      ref.isEmpty() ? QStringLiteral("student") : ref,
                                      student.classNames().size()));

        torch::jit::Module &teacher = input.model.impl()->module;
        teacher.eval();
        FineTuneHooks hooks;
        hooks.loss = [&](const at::Tensor &x, const at::Tensor &logits, const at::Tensor &y) {
            // alpha 0 is the student trained alone on the labels, through the same loop: the
            // control a distillation is judged against, without the teacher's forward cost.
            if (alpha == 0.0)
                return F::cross_entropy(logits, y);
            at::Tensor soft;
            {
                at::NoGradGuard noGrad;
                soft = F::softmax(teacher.forward({x}).toTensor() / T, F::SoftmaxFuncOptions(1));
            }
            const at::Tensor kd = F::kl_div(F::log_softmax(logits / T,
                                                           F::LogSoftmaxFuncOptions(1)),
                                            soft, F::KLDivFuncOptions().reduction(torch::kBatchMean));
            return alpha * T * T * kd + (1.0 - alpha) * F::cross_entropy(logits, y);
        };
        if (!fineTune(student.impl()->module, data, fineTuneConfig(p, QStringLiteral("epochs")),
                      hooks, context, QStringLiteral("distillation"), 0.0, 0.95))
            return {};

        const CompressOutput common = recorded(input, T, alpha);
        out.kind = common.kind;
        out.sourceRole = common.sourceRole;
        for (auto it = common.details.begin(); it != common.details.end(); ++it)
            out.details.insert(it.key(), it.value());
        out.model = student;
        out.details.insert(QStringLiteral("student_parameters"), student.parameterCount());
        return out;
    }

private:
    // What every distillation records: its kind, the teacher's edge and the settings.
    static CompressOutput recorded(const CompressInput &input, double T, double alpha)
    {
        CompressOutput out;
        out.kind = VersionKind::Distilled;
        out.sourceRole = QStringLiteral("teacher");
        out.details.insert(QStringLiteral("teacher"), input.source.ref());
        out.details.insert(QStringLiteral("teacher_parameters"), input.model.parameterCount());
        out.details.insert(QStringLiteral("temperature"), T);
        out.details.insert(QStringLiteral("alpha"), alpha);
        return out;
    }
};

} // namespace

std::shared_ptr<CompressionMethod> makeDistill()
{
    return std::make_shared<Distill>();
}

} // namespace ms
