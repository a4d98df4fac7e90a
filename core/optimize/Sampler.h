#pragma once

#include "optimize/SweepSpec.h"

#include <QJsonObject>

#include <memory>

namespace ms {

// Proposes the parameters of a sweep's trials and learns from their results. Scores are
// "higher is better" (the sweep negates a minimised objective); NaN is a failed trial.
// Trials may be told out of order and several may be outstanding at once (parallel trials).
class Sampler
{
public:
    virtual ~Sampler() = default;
    // The parameters of trial `number` (0-based): {"lr": 0.003, "arch.width": 128, ...}.
    virtual QJsonObject ask(int number) = 0;
    // The result of a trial this sampler proposed, or (on resume, before any ask) of a trial
    // an earlier process ran: the sampler continues from what they taught.
    virtual void tell(int number, const QJsonObject &params, double score) = 0;
};

// "grid": every combination of the choices and `grid_points` values of each numeric range,
// in order (trial n is combination n); "random": independent uniform draws per trial, seeded
// by the sweep's seed and the trial number (the same trial gets the same parameters whatever
// the order trials finish in); "model": dlib's global_function_search (a model of the
// objective, MaxLIPO with a trust region), with log ranges searched in log space and choices
// as integer indices.
std::unique_ptr<Sampler> makeSampler(const SweepSpec &spec);

} // namespace ms
