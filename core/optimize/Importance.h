#pragma once

#include "optimize/SweepSpec.h"
#include "registry/Registry.h"

#include <QString>
#include <QVector>

#include <vector>

namespace ms {

struct ParamImportance
{
    QString path;          // "lr", "arch.width"
    double importance;     // >= 0; a sweep's importances sum to 1
};

// How much each searched parameter explains of the objective across a sweep's finished trials,
// as Optuna's dashboard shows it: a share per parameter, the shares summing to 1, most
// important first. The model is dlib's random-forest regression of the objective on the
// parameters (each as its position along its domain, ParamDomain::unitOf; a choice as its
// index); a parameter's importance is how much the forest's squared error grows when that
// parameter's column is shuffled across trials (permutation importance, Breiman 2001),
// averaged over several shuffles. Optuna's default, fANOVA, decomposes the forest's variance
// over every subset of parameters; the permutation measure asks only for the forest's
// predictions, so it stays a few lines on top of the library. Both give a share per
// parameter; they can differ when parameters interact.
//
// Empty when fewer than importanceMinTrials() trials finished with a value, or the objective did not
// vary. Deterministic: the forest and the shuffles are seeded. Cheap enough to recompute as
// trials finish: 200 trees; the whole of tst_sweepspec, two 40-trial computations included,
// runs in about 140 ms.
std::vector<ParamImportance> parameterImportance(const SweepSpec &spec,
                                                 const QVector<TrialRecord> &trials);
int importanceMinTrials();

} // namespace ms
