// The attribution methods: gradients through the TorchScript interpreter (autograd runs
// through it as it does for training), occlusion through Model::predict (int8 included).
// Written here rather than taken from Captum: Captum is Python; these are its definitions
// (docs/architecture.md, "Explaining a prediction").

#include "explain/ExplainMethods_p.h"

#include "common/Cancelled.h"
#include "common/Error.h"
#include "models/ModelImpl_p.h"

#include <torch/csrc/autograd/autograd.h>
#include <torch/script.h>

#include <algorithm>
#include <cmath>

namespace ms::explain {

namespace {

QString torchText(const std::exception &e)
{
    if (const auto *c10error = dynamic_cast<const c10::Error *>(&e))
        return QString::fromStdString(c10error->what_without_backtrace())
            .trimmed()
            .section(QLatin1Char('\n'), 0, 1);
    return QString::fromUtf8(e.what()).trimmed().section(QLatin1Char('\n'), 0, 1);
}

void throwIfCancelled(const Work &work)
{
    if (work.cancelled && work.cancelled())
        throw Cancelled(QStringLiteral("Stopped while explaining %1.")
                            .arg(explainMethodName(work.options.method)));
}

// One sample as a tensor with a batch of one (a copy: the caller's vector stays untouched).
at::Tensor sampleTensor(const Work &work)
{
    std::vector<int64_t> shape{1};
    shape.insert(shape.end(), work.shape.begin(), work.shape.end());
    return at::from_blob(const_cast<float *>(work.input.data()), shape, at::kFloat).clone();
}

// Eval mode for the passes and the module's prediction lock, however the method leaves.
class GradientScope
{
public:
    explicit GradientScope(const Model &model)
        : m_impl(*model.impl())
        , m_lock(m_impl.predictMutex)
        , m_wasTraining(m_impl.module.is_training())
    {
        if (m_wasTraining)
            m_impl.module.eval();
    }
    ~GradientScope()
    {
        if (m_wasTraining)
            m_impl.module.train();
    }
    GradientScope(const GradientScope &) = delete;
    GradientScope &operator=(const GradientScope &) = delete;

    torch::jit::Module &module() { return m_impl.module; }

private:
    Model::Impl &m_impl;
    std::lock_guard<std::mutex> m_lock;
    bool m_wasTraining = false;
};

// d(target logit)/d(input) for every sample of `batch`, each sample's gradient of its own
// logit (the sum's gradient, as the samples do not interact in eval mode). `targetLogits`
// receives the target logit of each sample.
at::Tensor targetGradient(const Work &work, torch::jit::Module &module, const at::Tensor &batch,
                          at::Tensor *targetLogits)
{
    try {
        at::AutoGradMode gradients(true);
        const at::Tensor x = batch.detach().requires_grad_(true);
        const c10::IValue result = module.forward({x});
        if (!result.isTensor())
            throw Error(QStringLiteral("The model returns %1, not a tensor of scores.")
                            .arg(QString::fromStdString(result.tagKind())));
        const at::Tensor out = result.toTensor();
        if (out.dim() != 2 || out.size(0) != x.size(0) || work.target >= out.size(1))
            throw Error(QStringLiteral("The model returns shape %1 for a batch of %2: attribution "
                                       "maps explain classifiers.")
                            .arg(QString::fromStdString(c10::str(out.sizes())))
                            .arg(x.size(0)));
        if (!out.requires_grad())
            throw Error(noGradientMessage(work.ref, explainMethodName(work.options.method)));
        const at::Tensor picked = out.select(1, work.target);
        const auto grads = torch::autograd::grad({picked.sum()}, {x}, {}, false, false,
                                                 /*allow_unused=*/true);
        if (grads.empty() || !grads[0].defined())
            throw Error(noGradientMessage(work.ref, explainMethodName(work.options.method)));
        if (targetLogits)
            *targetLogits = picked.detach().to(at::kDouble);
        return grads[0].detach();
    } catch (const Error &) {
        throw;
    } catch (const std::exception &e) {
        throw Error(
            QStringLiteral("The model failed while computing gradients: %1").arg(torchText(e)));
    }
}

std::vector<float> toVector(const at::Tensor &t)
{
    const at::Tensor c = t.to(at::kFloat).contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// Window starts along a dimension of `length`: every `stride`, plus one flush with the end
// when the last would leave the edge uncovered (so every element is occluded at least once).
std::vector<int64_t> windowStarts(int64_t length, int64_t window, int64_t stride)
{
    window = std::min(window, length);
    std::vector<int64_t> starts;
    for (int64_t s = 0; s + window <= length; s += stride)
        starts.push_back(s);
    if (starts.back() + window < length)
        starts.push_back(length - window);
    return starts;
}

} // namespace

QString noGradientMessage(const QString &ref, const QString &method)
{
    const QString who = ref.isEmpty() ? QStringLiteral("This model") : ref;
    return QStringLiteral("%1 has no gradients for its input (an int8 variant's quantized ops "
                          "have none), so %2 cannot run on it; use --method occlusion, which "
                          "needs only forward passes.")
        .arg(who, method);
}

// Integrated gradients from the zero baseline (black in the [0, 1] input space): the path
// x_a = a * x at `steps` points a = 0, 1/(n-1), ..., 1, the trapezoid rule's weights (1/(n-1),
// halved at both ends), attributions x * sum_k w_k * grad(x_{a_k}). The end points' logits
// give f(x) - f(0), against which completeness is measured.
void integratedGradients(const Work &work, Explanation &out)
{
    const int n = work.options.steps;
    const at::Tensor x = sampleTensor(work);
    GradientScope scope(work.model);
    at::Tensor total = at::zeros_like(x.squeeze(0), at::kDouble);
    double atBaseline = 0.0;
    double atInput = 0.0;
    std::vector<int64_t> column(size_t(x.dim()), 1);
    for (int start = 0; start < n; start += work.batchSize) {
        throwIfCancelled(work);
        const int count = std::min(work.batchSize, n - start);
        std::vector<double> alphas(static_cast<size_t>(count));
        std::vector<double> weights(static_cast<size_t>(count));
        for (int i = 0; i < count; ++i) {
            const int k = start + i;
            alphas[size_t(i)] = double(k) / double(n - 1);
            weights[size_t(i)] = (k == 0 || k == n - 1 ? 0.5 : 1.0) / double(n - 1);
        }
        column[0] = count;
        const at::Tensor a = at::tensor(alphas, at::kDouble).to(at::kFloat).view(column);
        const at::Tensor w = at::tensor(weights, at::kDouble).view(column);
        at::Tensor logits;
        const at::Tensor g = targetGradient(work, scope.module(), a * x, &logits);
        total += (g.to(at::kDouble) * w).sum(0);
        if (start == 0)
            atBaseline = logits[0].item<double>();
        if (start + count == n)
            atInput = logits[count - 1].item<double>();
        out.evaluations += count;
    }
    const at::Tensor attributions = x.squeeze(0).to(at::kDouble) * total;
    const double sum = attributions.sum().item<double>();
    out.outputDelta = atInput - atBaseline;
    const double scale = std::abs(out.outputDelta) > 1e-12 ? std::abs(out.outputDelta) : 1.0;
    out.completenessGap = std::abs(sum - out.outputDelta) / scale;
    out.attributions = toVector(attributions);
}

void saliency(const Work &work, Explanation &out)
{
    const at::Tensor x = sampleTensor(work);
    GradientScope scope(work.model);
    const at::Tensor g = targetGradient(work, scope.module(), x, nullptr);
    out.attributions = toVector(g.abs().squeeze(0));
    out.evaluations += 1;
}

// SmoothGrad as Captum's NoiseTunnel over Saliency: the mean of |gradient| over `samples`
// copies with Gaussian noise of sigma = noise level x (max - min) of the input (Smilkov et
// al.'s parametrisation), drawn from a generator seeded with the options' seed.
void smoothGrad(const Work &work, Explanation &out)
{
    const at::Tensor x = sampleTensor(work);
    const double range = (x.max() - x.min()).item<double>();
    const double sigma = work.options.noiseLevel * (range > 0.0 ? range : 1.0);
    at::Generator generator = at::detail::createCPUGenerator(work.options.seed);
    GradientScope scope(work.model);
    at::Tensor total = at::zeros_like(x.squeeze(0), at::kDouble);
    const int n = work.options.samples;
    for (int start = 0; start < n; start += work.batchSize) {
        throwIfCancelled(work);
        const int count = std::min(work.batchSize, n - start);
        std::vector<int64_t> shape(x.sizes().begin(), x.sizes().end());
        shape[0] = count;
        const at::Tensor noisy = x + at::randn(shape, generator) * sigma;
        const at::Tensor g = targetGradient(work, scope.module(), noisy, nullptr);
        total += g.abs().to(at::kDouble).sum(0);
        out.evaluations += count;
    }
    out.attributions = toVector(total / double(n));
}

// Occlusion as Captum's: a window over the last two dimensions (all leading channels at
// once) set to the baseline 0, moved by `stride`; each element's attribution is the mean drop
// of the target logit over the windows that covered it. Forward passes only, through
// Model::predict (which sets an int8 variant's engine), batched.
void occlusion(const Work &work, Explanation &out)
{
    const size_t rank = work.shape.size();
    const int64_t width = work.shape[rank - 1];
    const int64_t height = rank >= 2 ? work.shape[rank - 2] : 1;
    const int64_t plane = height * width;
    const int64_t lead = int64_t(work.input.size()) / plane;
    const std::vector<int64_t> rows =
        windowStarts(height, work.options.window, work.options.stride);
    const std::vector<int64_t> cols = windowStarts(width, work.options.window, work.options.stride);
    const int64_t wh = std::min<int64_t>(work.options.window, height);
    const int64_t ww = std::min<int64_t>(work.options.window, width);
    const int64_t windows = int64_t(rows.size() * cols.size());
    const double reference = double(out.logits[size_t(work.target)]);
    const int classes = int(out.logits.size());

    std::vector<double> sum(work.input.size(), 0.0);
    std::vector<int> covered(size_t(plane), 0);
    std::vector<float> batch;
    std::vector<qint64> shape{0};
    shape.insert(shape.end(), work.shape.begin(), work.shape.end());
    for (int64_t first = 0; first < windows; first += work.batchSize) {
        throwIfCancelled(work);
        const int64_t count = std::min<int64_t>(work.batchSize, windows - first);
        batch.resize(size_t(count) * work.input.size());
        for (int64_t i = 0; i < count; ++i) {
            float *sample = batch.data() + i * int64_t(work.input.size());
            std::copy(work.input.begin(), work.input.end(), sample);
            const int64_t r0 = rows[size_t((first + i) / int64_t(cols.size()))];
            const int64_t c0 = cols[size_t((first + i) % int64_t(cols.size()))];
            for (int64_t l = 0; l < lead; ++l)
                for (int64_t r = r0; r < r0 + wh; ++r)
                    std::fill_n(sample + l * plane + r * width + c0, ww, 0.0f);
        }
        shape[0] = count;
        const std::vector<float> logits = work.model.predict(batch, shape);
        for (int64_t i = 0; i < count; ++i) {
            const double drop = reference - double(logits[size_t(i * classes + work.target)]);
            const int64_t r0 = rows[size_t((first + i) / int64_t(cols.size()))];
            const int64_t c0 = cols[size_t((first + i) % int64_t(cols.size()))];
            for (int64_t r = r0; r < r0 + wh; ++r) {
                for (int64_t c = c0; c < c0 + ww; ++c) {
                    covered[size_t(r * width + c)] += 1;
                    for (int64_t l = 0; l < lead; ++l)
                        sum[size_t(l * plane + r * width + c)] += drop;
                }
            }
        }
        out.evaluations += count;
    }
    out.attributions.resize(sum.size());
    for (size_t i = 0; i < sum.size(); ++i)
        out.attributions[i] = float(sum[i] / double(std::max(1, covered[i % size_t(plane)])));
}

} // namespace ms::explain
