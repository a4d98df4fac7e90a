#include "optimize/SweepResults.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ms {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// "Better or equal" along one objective.
bool atLeastAsGood(const SweepObjective &o, double a, double b)
{
    return o.maximize ? a >= b : a <= b;
}

bool dominates(const SweepSpec &spec, const TrialRecord &a, const TrialRecord &b)
{
    bool better = false;
    for (const SweepObjective &o : spec.objectives) {
        const double va = metricValue(a, o.metric);
        const double vb = metricValue(b, o.metric);
        if (!atLeastAsGood(o, va, vb))
            return false;
        better = better || va != vb;
    }
    return better;
}

void sortByFirstObjective(const SweepSpec &spec, QVector<TrialRecord> &trials)
{
    const SweepObjective &first = spec.objective;
    std::stable_sort(trials.begin(), trials.end(), [&](const TrialRecord &a, const TrialRecord &b) {
        const double va = metricValue(a, first.metric);
        const double vb = metricValue(b, first.metric);
        return first.maximize ? va > vb : va < vb;
    });
}

} // namespace

double metricValue(const TrialRecord &trial, const QString &metric)
{
    const QJsonValue v = trial.metrics.value(metric);
    if (v.isDouble())
        return v.toDouble();
    // Trials recorded before metrics were (schema 2), and trials that did not finish (their
    // metrics hold only where their time went): their value is the first objective's, the
    // last epoch's for a trial stopped early.
    return trial.metrics.isEmpty() || trial.status != QLatin1String("finished") ? trial.value
                                                                                 : kNaN;
}

double constraintViolation(const SweepSpec &spec, const QJsonObject &metrics)
{
    double violation = 0.0;
    for (const SweepConstraint &c : spec.constraints) {
        const QJsonValue v = metrics.value(c.metric);
        if (!v.isDouble() || !std::isfinite(v.toDouble())) {
            violation += 1.0;
            continue;
        }
        const double past = c.upper ? v.toDouble() - c.bound : c.bound - v.toDouble();
        if (past > 0)
            violation += past / std::max(std::abs(c.bound), 1e-9);
    }
    return violation;
}

bool isCandidate(const SweepSpec &spec, const TrialRecord &trial)
{
    if (trial.status != QLatin1String("finished"))
        return false;
    for (const SweepObjective &o : spec.objectives)
        if (!std::isfinite(metricValue(trial, o.metric)))
            return false;
    return constraintViolation(spec, trial.metrics) == 0.0;
}

std::optional<TrialRecord> bestTrial(const SweepSpec &spec, const QVector<TrialRecord> &trials)
{
    QVector<TrialRecord> pool;
    for (const TrialRecord &t : trials)
        if (isCandidate(spec, t))
            pool << t;
    if (pool.isEmpty() && spec.constraints.empty() && !spec.hasSeveralObjectives()) {
        for (const TrialRecord &t : trials)
            if (t.status == QLatin1String("pruned") && std::isfinite(t.value))
                pool << t;
    }
    if (pool.isEmpty())
        return std::nullopt;
    if (pool.first().status == QLatin1String("pruned")) {
        // A pruned trial's value is its last epoch's objective; it measured nothing else.
        std::stable_sort(pool.begin(), pool.end(), [&](const TrialRecord &a, const TrialRecord &b) {
            return spec.objective.maximize ? a.value > b.value : a.value < b.value;
        });
        return pool.first();
    }
    sortByFirstObjective(spec, pool);
    return pool.first();
}

QVector<TrialRecord> paretoFront(const SweepSpec &spec, const QVector<TrialRecord> &trials)
{
    QVector<TrialRecord> candidates;
    for (const TrialRecord &t : trials)
        if (isCandidate(spec, t))
            candidates << t;
    QVector<TrialRecord> front;
    for (const TrialRecord &t : candidates) {
        const bool dominated = std::any_of(candidates.begin(), candidates.end(),
                                           [&](const TrialRecord &o) {
                                               return dominates(spec, o, t);
                                           });
        if (!dominated)
            front << t;
    }
    sortByFirstObjective(spec, front);
    return front;
}

} // namespace ms
