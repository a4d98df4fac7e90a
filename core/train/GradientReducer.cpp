// The gradients' sum of a data-parallel step, overlapped with backward (train/Distributed_p.h).
// Learnt from torch/csrc/distributed/c10d/reducer.cpp (buckets in reverse parameter order,
// launched in order as they fill); no c10d here: Group::startSum does the collective.
#include "train/Distributed_p.h"

#include "common/Error.h"

#include <ATen/ATen.h>

#include <QtGlobal>

#include <chrono>
#include <exception>
#include <optional>

namespace ms::dist {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

} // namespace

struct GradientReducer::Impl
{
    struct Slot   // one parameter's place in its bucket
    {
        size_t bucket = 0;
        int64_t offset = 0;
        bool ready = false;
        std::optional<unsigned> hook;   // its gradient hook, when it has one
    };
    struct Bucket
    {
        std::vector<size_t> params;
        at::Tensor flat;          // the parameters' gradients, then (last bucket) value, stop
        size_t pending = 0;       // parameters of this step whose gradient has not come
        std::function<void()> wait;   // set once started
    };

    Group &group;
    std::vector<at::Tensor> params;
    std::vector<Slot> slots;
    std::vector<Bucket> buckets;
    size_t nextToStart = 0;
    double weight = 1.0;
    double exposed_s = 0.0;        // this step's time on the sum outside the wait for backward
    std::exception_ptr error;      // thrown in a hook: rethrown by finish(), not into autograd

    Impl(Group &g, std::vector<at::Tensor> p) : group(g), params(std::move(p)) {}
    void makeBuckets();
    void ready(size_t param, const at::Tensor &grad);
    void startReady();
};

void GradientReducer::Impl::makeBuckets()
{
    slots.resize(params.size());
    int64_t bytes = 0;
    for (size_t k = params.size(); k-- > 0;) {
        const int64_t b = params[k].numel() * int64_t(sizeof(float));
        if (buckets.empty() || bytes + b > kBucketBytes) {
            buckets.emplace_back();
            bytes = 0;
        }
        slots[k] = Slot{buckets.size() - 1, bytes / int64_t(sizeof(float)), false, {}};
        buckets.back().params.push_back(k);
        bytes += b;
    }
    for (size_t i = 0; i < buckets.size(); ++i) {
        int64_t n = 0;
        for (size_t k : buckets[i].params)
            n += params[k].numel();
        // The last bucket to start carries the step's value and stop flag: no extra round trip.
        const int64_t extra = i + 1 == buckets.size() ? 2 : 0;
        buckets[i].flat = at::zeros({n + extra}, at::kFloat);
    }
    if (buckets.empty())   // nothing trainable: the value and flag still need their sum
        buckets.push_back(Bucket{{}, at::zeros({2}, at::kFloat), 0, {}});
}

// A parameter's gradient is there (its hook, during backward): into its bucket, weighted.
void GradientReducer::Impl::ready(size_t param, const at::Tensor &grad)
{
    const auto started = Clock::now();
    try {
        Slot &slot = slots[param];
        Bucket &bucket = buckets[slot.bucket];
        if (slot.ready || bucket.wait)
            throw Error(QStringLiteral("A parameter's gradient came twice in one step: the "
                                       "data-parallel sum takes one backward per step."));
        at::NoGradGuard noGrad;
        bucket.flat.narrow(0, slot.offset, params[param].numel())
            .copy_(grad.reshape({-1}))
            .mul_(weight);
        slot.ready = true;
        --bucket.pending;
        startReady();
    } catch (...) {
        if (!error)
            error = std::current_exception();
    }
    exposed_s += secondsSince(started);
}

// Starts the buckets whose gradients are all there, in index order: the same on every rank.
void GradientReducer::Impl::startReady()
{
    while (nextToStart < buckets.size() && buckets[nextToStart].pending == 0) {
        Bucket &bucket = buckets[nextToStart++];
        bucket.wait = group.startSum(bucket.flat);
    }
}

GradientReducer::GradientReducer(Group &group, std::vector<at::Tensor> params)
    : d(std::make_unique<Impl>(group, std::move(params)))
{
    d->makeBuckets();
    if (qEnvironmentVariable("MODELSTUDIO_DIST_OVERLAP") == QLatin1String("0"))
        return;
    // A tensor hook on a leaf runs once per backward with the gradient about to be
    // accumulated into .grad (every gradient reaching the parameter, summed).
    // (A parameter that does not require a gradient cannot have one: finish() reads its .grad.)
    Impl *impl = d.get();
    for (size_t k = 0; k < d->params.size(); ++k) {
        if (d->params[k].requires_grad())
            d->slots[k].hook = d->params[k].register_hook(
                [impl, k](const at::Tensor &grad) { impl->ready(k, grad); });
    }
}

GradientReducer::~GradientReducer()
{
    for (size_t k = 0; k < d->params.size(); ++k) {
        if (d->slots[k].hook)
            d->params[k].remove_hook(*d->slots[k].hook);
    }
}

void GradientReducer::prepare(double weight, double value, bool stop)
{
    d->weight = weight;
    d->exposed_s = 0.0;
    d->error = nullptr;
    d->nextToStart = 0;
    for (Impl::Slot &slot : d->slots)
        slot.ready = false;
    for (Impl::Bucket &bucket : d->buckets) {
        bucket.pending = bucket.params.size();
        bucket.wait = nullptr;
    }
    at::Tensor &last = d->buckets.back().flat;
    last[last.numel() - 2] = float(value);
    last[last.numel() - 1] = stop ? 1.0f : 0.0f;
}

std::pair<double, bool> GradientReducer::finish()
{
    const auto started = Clock::now();
    at::NoGradGuard noGrad;
    // Parameters no hook saw (no overlap; unused in this step; a rank whose shard is empty).
    for (size_t k = 0; k < d->params.size(); ++k) {
        Impl::Slot &slot = d->slots[k];
        if (slot.ready || d->buckets[slot.bucket].wait)
            continue;
        const at::Tensor &g = d->params[k].grad();
        at::Tensor part = d->buckets[slot.bucket].flat.narrow(0, slot.offset, d->params[k].numel());
        // Without a hook the gradient is in .grad; with one, a parameter whose hook did not
        // run had no gradient this step (.grad holds zeros from zero_grad, or nothing).
        if (g.defined() && !slot.hook)
            part.copy_(g.reshape({-1})).mul_(d->weight);
        else
            part.zero_();
        slot.ready = true;
        --d->buckets[slot.bucket].pending;
    }
    d->startReady();
    // A hook's error waits for the sums too: the ranks stay paired for the next collective.
    for (Impl::Bucket &bucket : d->buckets)
        bucket.wait();
    if (d->error)
        std::rethrow_exception(d->error);
    for (size_t k = 0; k < d->params.size(); ++k) {
        at::Tensor p = d->params[k];
        const Impl::Slot &slot = d->slots[k];
        const at::Tensor sum =
            d->buckets[slot.bucket].flat.narrow(0, slot.offset, p.numel()).view_as(p);
        if (p.grad().defined())
            p.mutable_grad().copy_(sum);
        else
            p.mutable_grad() = sum.clone();
    }
    const at::Tensor &last = d->buckets.back().flat;
    const float *tail = last.data_ptr<float>() + last.numel() - 2;
    d->group.addGradientSeconds(d->exposed_s + secondsSince(started));
    return {double(tail[0]), tail[1] > 0.5f};
}

} // namespace ms::dist
