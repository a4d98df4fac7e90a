#pragma once

#include "optimize/SweepSpec.h"
#include "registry/Registry.h"

#include <QJsonObject>
#include <QVector>

#include <optional>
#include <vector>

namespace ms {

// What a sweep makes of its ended trials: their objective values, whether they keep the
// constraints, the best one and the Pareto front. Plain functions of the trial records, so the
// sweep, `sweep show`, `sweep register` and the Optimize panel agree.

// The value of `metric` a trial measured (TrialRecord::metrics); NaN when it has none.
double metricValue(const TrialRecord &trial, const QString &metric);
// How far a trial breaks the sweep's constraints: 0 when it keeps them all, else the sum over
// the broken ones of (distance past the bound) / max(|bound|, 1e-9). A metric the trial did
// not measure breaks its constraint by 1.
double constraintViolation(const SweepSpec &spec, const QJsonObject &metrics);
// A finished trial that measured every objective and keeps the constraints.
bool isCandidate(const SweepSpec &spec, const TrialRecord &trial);
// The best trial by the first objective: among the candidates; without constraints and
// without several objectives, a pruned trial when none finished (it trained a while).
std::optional<TrialRecord> bestTrial(const SweepSpec &spec, const QVector<TrialRecord> &trials);
// The candidates no other candidate dominates (at least as good in every objective, better in
// one), ordered by the first objective, best first.
QVector<TrialRecord> paretoFront(const SweepSpec &spec, const QVector<TrialRecord> &trials);

} // namespace ms
