#include "optimize/Importance.h"

#include <dlib/random_forest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace ms {

namespace {

using Sample = dlib::matrix<double, 0, 1>;

constexpr int kMinTrials = 4;
constexpr int kTrees = 200;
constexpr int kShuffles = 8;

double squaredError(const dlib::random_forest_regression_function<dlib::dense_feature_extractor> &f,
                    const std::vector<Sample> &x, const std::vector<double> &y)
{
    double sum = 0.0;
    for (size_t i = 0; i < x.size(); ++i) {
        const double d = f(x[i]) - y[i];
        sum += d * d;
    }
    return sum / double(x.size());
}

} // namespace

int importanceMinTrials()
{
    return kMinTrials;
}

std::vector<ParamImportance> parameterImportance(const SweepSpec &spec,
                                                 const QVector<TrialRecord> &trials)
{
    std::vector<Sample> x;
    std::vector<double> y;
    for (const TrialRecord &t : trials) {
        if (t.status != QLatin1String("finished") || !std::isfinite(t.value))
            continue;
        Sample s(long(spec.space.size()));
        for (size_t k = 0; k < spec.space.size(); ++k)
            s(long(k)) = spec.space[k].unitOf(t.params.value(spec.space[k].path));
        x.push_back(s);
        y.push_back(t.value);
    }
    if (int(x.size()) < kMinTrials || spec.space.empty())
        return {};
    const auto [lo, hi] = std::minmax_element(y.begin(), y.end());
    if (!(*hi > *lo))
        return {};

    dlib::random_forest_regression_trainer<dlib::dense_feature_extractor> trainer;
    trainer.set_num_trees(kTrees);
    trainer.set_seed("ms-importance");
    // dlib's default (5 per leaf) leaves a 16-trial sweep with one or two leaves per tree.
    trainer.set_min_samples_per_leaf(2);
    const auto forest = trainer.train(x, y);
    const double base = squaredError(forest, x, y);

    std::mt19937_64 rng(0x1eafULL);
    std::vector<double> growth(spec.space.size(), 0.0);
    for (size_t k = 0; k < spec.space.size(); ++k) {
        std::vector<Sample> shuffled = x;
        for (int r = 0; r < kShuffles; ++r) {
            std::vector<size_t> order(x.size());
            for (size_t i = 0; i < order.size(); ++i)
                order[i] = i;
            // Fisher-Yates with the generator's raw output: the same order on every platform
            // (std::shuffle's use of the generator is left to the library).
            for (size_t i = order.size() - 1; i > 0; --i)
                std::swap(order[i], order[rng() % (i + 1)]);
            for (size_t i = 0; i < x.size(); ++i)
                shuffled[i](long(k)) = x[order[i]](long(k));
            growth[k] += std::max(0.0, squaredError(forest, shuffled, y) - base) / kShuffles;
        }
    }
    double total = 0.0;
    for (double g : growth)
        total += g;
    std::vector<ParamImportance> out;
    for (size_t k = 0; k < spec.space.size(); ++k)
        out.push_back({spec.space[k].path, total > 0 ? growth[k] / total : 0.0});
    std::stable_sort(out.begin(), out.end(), [](const ParamImportance &a,
                                                const ParamImportance &b) {
        return a.importance > b.importance;
    });
    return out;
}

} // namespace ms
