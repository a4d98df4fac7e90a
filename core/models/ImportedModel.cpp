#include "models/ImportedModel.h"
#include "models/ImportedModel_p.h"

#include "common/Error.h"
#include "models/ModelImpl_p.h"

#include <QStringList>

#include <cmath>

namespace ms {

namespace imported {

bool isWrapper(const torch::jit::Module &module)
{
    const auto name = module.type()->name();
    return name && name->name() == kWrapperClass && module.hasattr("model")
           && module.attr("model").isModule();
}

torch::jit::Module network(const torch::jit::Module &module)
{
    return isWrapper(module) ? module.attr("model").toModule() : module;
}

torch::jit::Module wrap(const torch::jit::Module &network, const at::Tensor &mean,
                        const at::Tensor &stdev)
{
    torch::jit::Module wrapper(kWrapperClass);
    // A module made in C++ has no `training` attribute of its own; train()/eval() flip it.
    wrapper.register_attribute("training", c10::BoolType::get(), network.is_training());
    wrapper.register_module("model", network);
    wrapper.register_buffer("input_mean", mean);
    wrapper.register_buffer("input_std", stdev);
    try {
        // `.forward`: in source compiled from C++, `self.model(x)` would look for __call__.
        wrapper.define("def forward(self, x):\n"
                       "    return self.model.forward((x - self.input_mean) / self.input_std)\n");
    } catch (const std::exception &e) {
        const QString what = QString::fromLocal8Bit(e.what()).trimmed();
        throw Error(QStringLiteral("Cannot fold the normalisation into the model: its forward "
                                   "does not take one tensor (%1).")
                        .arg(what.section(QLatin1Char('\n'), 0, 0)));
    }
    return wrapper;
}

torch::jit::Module rewrap(const torch::jit::Module &like, const torch::jit::Module &network)
{
    if (!isWrapper(like))
        return network;
    return wrap(network, like.attr("input_mean").toTensor().clone(),
                like.attr("input_std").toTensor().clone());
}

} // namespace imported

Model wrapWithNormalization(const Model &importedModel, const std::vector<qint64> &inputShape,
                            const std::vector<float> &mean, const std::vector<float> &stdev)
{
    if (importedModel.isNull())
        throw Error(QStringLiteral("Cannot fold a normalisation into an empty model."));
    if (inputShape.size() < 2)
        throw Error(QStringLiteral("The input shape needs the batch dimension and a channel "
                                   "dimension to normalise per channel."));
    const qint64 channels = inputShape[1];
    auto checkLength = [channels, &inputShape](const char *flag, size_t count) {
        if (qint64(count) != channels) {
            QStringList dims;
            for (qint64 d : inputShape)
                dims << QString::number(d);
            throw Error(QStringLiteral("%1 has %2 value%3 but the input (%4) has %5 channel%6 "
                                       "(its dimension after the batch): give one value per "
                                       "channel.")
                            .arg(QLatin1String(flag), QString::number(count),
                                 count == 1 ? QString() : QStringLiteral("s"),
                                 dims.join(QLatin1Char(',')), QString::number(channels),
                                 channels == 1 ? QString() : QStringLiteral("s")));
        }
    };
    checkLength("--mean", mean.size());
    checkLength("--std", stdev.size());
    for (size_t i = 0; i < mean.size(); ++i) {
        if (!std::isfinite(mean[i]))
            throw Error(QStringLiteral("--mean value %1 is not a finite number.")
                            .arg(QString::number(i + 1)));
        if (!(std::isfinite(stdev[i]) && stdev[i] > 0.0f))
            throw Error(QStringLiteral("--std value %1 is %2: every standard deviation must be "
                                       "a positive number.")
                            .arg(QString::number(i + 1), QString::number(double(stdev[i]))));
    }
    // [C, 1, 1] broadcasts over (N, C, H, W); [F] over (N, F).
    std::vector<int64_t> shape(inputShape.size() - 1, 1);
    shape[0] = channels;
    at::NoGradGuard noGrad;
    const at::Tensor m =
        at::tensor(at::ArrayRef<float>(mean), at::kFloat).reshape(shape).clone();
    const at::Tensor s =
        at::tensor(at::ArrayRef<float>(stdev), at::kFloat).reshape(shape).clone();
    auto impl = std::make_shared<Model::Impl>();
    impl->module = imported::wrap(importedModel.impl()->module, m, s);
    return Model::fromImpl(std::move(impl));
}

bool isImportWrapper(const Model &model)
{
    return !model.isNull() && imported::isWrapper(model.impl()->module);
}

} // namespace ms
