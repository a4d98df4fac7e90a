#pragma once

#include "optimize/SweepSpec.h"

#include <map>
#include <vector>

namespace ms {

// Decides, after each epoch of a trial, whether it should stop early. Scores are "higher is
// better". Never stops a trial at its last epoch (it is finishing anyway).
//   "asha": asynchronous successive halving. Rungs at min_epochs x reduction^k epochs; a trial
//   reaching a rung goes on only while its score is among the top 1/reduction of the scores
//   recorded at that rung so far (itself included). While a rung holds fewer than `reduction`
//   scores, only the best so far goes on: trials cannot be paused and resumed here, so a rung
//   cannot wait for company (Optuna's SuccessiveHalvingPruner makes the same choice).
//   "median": stop a trial whose score is below the median of the finished trials' scores at
//   the same epoch (once two trials have finished), from min_epochs on.
//   "none": never.
class EarlyStopper
{
public:
    EarlyStopper(EarlyStopSpec spec, int maxEpochs);

    // Trial `trial` scored `score` after epoch `epoch` (1-based). True: stop it now.
    bool report(int trial, int epoch, double score);
    // The trial ran all its epochs (the median rule compares with finished trials only).
    void finished(int trial);

    // The rung epochs of "asha" (empty for the other rules).
    std::vector<int> rungs() const;

private:
    EarlyStopSpec m_spec;
    int m_maxEpochs;
    std::map<int, std::vector<double>> m_rungScores;        // asha: epoch -> scores
    std::map<int, std::map<int, double>> m_history;         // trial -> epoch -> score
    std::vector<int> m_finished;
};

} // namespace ms
