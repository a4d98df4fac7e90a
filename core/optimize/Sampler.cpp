#include "optimize/Sampler.h"

#include <dlib/global_optimization/global_function_search.h>

#include <cmath>
#include <map>
#include <random>

namespace ms {

namespace {

// A uniform double in [0, 1) from 53 bits of the generator: the same on every platform, unlike
// std::uniform_real_distribution, whose algorithm the standard leaves open.
double unitDraw(std::mt19937_64 &rng)
{
    return double(rng() >> 11) * (1.0 / 9007199254740992.0);
}

// Trial `number`'s parameters drawn uniformly (along log axes for log kinds) from the seed.
QJsonObject randomParams(const SweepSpec &spec, int number)
{
    std::mt19937_64 rng(spec.seed * 1000003ULL + quint64(number) + 1);
    QJsonObject params;
    for (const ParamDomain &d : spec.space)
        params.insert(d.path, d.at(unitDraw(rng)));
    return params;
}

class RandomSampler final : public Sampler
{
public:
    explicit RandomSampler(const SweepSpec &spec) : m_spec(spec) {}
    QJsonObject ask(int number) override { return randomParams(m_spec, number); }
    void tell(int, const QJsonObject &, double) override {}

private:
    SweepSpec m_spec;
};

class GridSampler final : public Sampler
{
public:
    explicit GridSampler(const SweepSpec &spec) : m_spec(spec) {}
    // Trial n is the n-th combination in mixed radix, the last parameter changing fastest.
    QJsonObject ask(int number) override
    {
        QJsonObject params;
        qint64 rest = qint64(number) % std::max<qint64>(1, m_spec.gridSize());
        for (auto it = m_spec.space.rbegin(); it != m_spec.space.rend(); ++it) {
            const qint64 points = axisSize(*it);
            const qint64 k = rest % points;
            rest /= points;
            const double unit = it->kind == ParamDomain::Kind::Choice
                                    ? (double(k) + 0.5) / double(points)
                                    : points == 1 ? 0.5 : double(k) / double(points - 1);
            params.insert(it->path, it->at(unit));
        }
        return params;
    }
    void tell(int, const QJsonObject &, double) override {}

private:
    qint64 axisSize(const ParamDomain &d) const
    {
        if (d.kind == ParamDomain::Kind::Choice)
            return d.choices.size();
        if (d.isInteger())
            return std::min<qint64>(m_spec.gridPoints, qint64(d.high - d.low) + 1);
        return m_spec.gridPoints;
    }
    SweepSpec m_spec;
};

// dlib's global_function_search: it keeps a model of the objective (a piecewise-linear upper
// bound, MaxLIPO, alternating with a quadratic trust region around the best point) and takes
// several outstanding requests at once. Each parameter is one dimension: log ranges in log
// space, integers flagged integer, a choice as the integer index of its value.
class ModelSampler final : public Sampler
{
public:
    explicit ModelSampler(const SweepSpec &spec)
        : m_spec(spec)
        , m_function(functionSpec(spec))
    {}

    QJsonObject ask(int number) override
    {
        // Start-up trials are random, and dlib learns their results when it is made: a start-up
        // trial still running then (parallel trials) is not taught to it, as dlib takes
        // evaluations of its own requests only once it exists.
        if (number < m_spec.startupTrials)
            return randomParams(m_spec, number);
        if (!m_search) {
            if (m_seen.empty())
                m_search = std::make_unique<dlib::global_function_search>(m_function);
            else
                m_search = std::make_unique<dlib::global_function_search>(
                    std::vector<dlib::function_spec>{m_function},
                    std::vector<std::vector<dlib::function_evaluation>>{m_seen});
            m_search->set_seed(time_t(m_spec.seed));
        }
        dlib::function_evaluation_request request = m_search->get_next_x();
        const QJsonObject params = toParams(request.x());
        m_pending.emplace(number, std::move(request));
        return params;
    }

    void tell(int number, const QJsonObject &params, double score) override
    {
        const auto it = m_pending.find(number);
        if (it == m_pending.end()) {
            // A start-up trial, or a trial of an earlier process (resume): taught before the
            // first model-based ask.
            if (!std::isnan(score) && !m_search)
                m_seen.emplace_back(toX(params), score);
            return;
        }
        // A failed trial is forgotten (dlib allows an unanswered request to be dropped).
        if (!std::isnan(score))
            it->second.set(score);
        m_pending.erase(it);
    }

private:
    static dlib::function_spec functionSpec(const SweepSpec &spec)
    {
        dlib::matrix<double, 0, 1> lower(long(spec.space.size())), upper(long(spec.space.size()));
        std::vector<bool> integer;
        for (size_t i = 0; i < spec.space.size(); ++i) {
            const ParamDomain &d = spec.space[i];
            if (d.kind == ParamDomain::Kind::Choice) {
                lower(long(i)) = 0;
                upper(long(i)) = double(d.choices.size() - 1);
                integer.push_back(true);
            } else if (d.isLog()) {
                lower(long(i)) = std::log(d.low);
                upper(long(i)) = std::log(d.high);
                integer.push_back(false);   // rounded after exp() for int_log_uniform
            } else {
                lower(long(i)) = d.low;
                upper(long(i)) = d.high;
                integer.push_back(d.isInteger());
            }
            // dlib wants lower < upper in every dimension; a one-value choice gets a dummy width.
            if (upper(long(i)) <= lower(long(i)))
                upper(long(i)) = lower(long(i)) + 1;
        }
        return dlib::function_spec(lower, upper, integer);
    }

    QJsonObject toParams(const dlib::matrix<double, 0, 1> &x) const
    {
        QJsonObject params;
        for (size_t i = 0; i < m_spec.space.size(); ++i) {
            const ParamDomain &d = m_spec.space[i];
            double v = x(long(i));
            if (d.kind == ParamDomain::Kind::Choice) {
                const qint64 k = std::clamp<qint64>(std::llround(v), 0, d.choices.size() - 1);
                params.insert(d.path, d.choices.at(k));
                continue;
            }
            if (d.isLog())
                v = std::exp(v);
            params.insert(d.path, d.at(d.unitOf(v)));
        }
        return params;
    }

    dlib::matrix<double, 0, 1> toX(const QJsonObject &params) const
    {
        dlib::matrix<double, 0, 1> x(long(m_spec.space.size()));
        for (size_t i = 0; i < m_spec.space.size(); ++i) {
            const ParamDomain &d = m_spec.space[i];
            const QJsonValue v = params.value(d.path);
            if (d.kind == ParamDomain::Kind::Choice) {
                long k = 0;
                for (int c = 0; c < d.choices.size(); ++c)
                    if (d.choices.at(c) == v)
                        k = c;
                x(long(i)) = double(k);
            } else {
                const double value = std::clamp(v.toDouble(d.low), d.low, d.high);
                x(long(i)) = d.isLog() ? std::log(value) : value;
            }
        }
        return x;
    }

    SweepSpec m_spec;
    dlib::function_spec m_function;
    std::unique_ptr<dlib::global_function_search> m_search;
    std::vector<dlib::function_evaluation> m_seen;
    std::map<int, dlib::function_evaluation_request> m_pending;
};

} // namespace

std::unique_ptr<Sampler> makeSampler(const SweepSpec &spec)
{
    if (spec.sampler == QLatin1String("grid"))
        return std::make_unique<GridSampler>(spec);
    if (spec.sampler == QLatin1String("random"))
        return std::make_unique<RandomSampler>(spec);
    return std::make_unique<ModelSampler>(spec);
}

} // namespace ms
