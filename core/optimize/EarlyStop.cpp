#include "optimize/EarlyStop.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace ms {

EarlyStopper::EarlyStopper(EarlyStopSpec spec, int maxEpochs)
    : m_spec(std::move(spec))
    , m_maxEpochs(maxEpochs)
{}

std::vector<int> EarlyStopper::rungs() const
{
    std::vector<int> out;
    if (m_spec.rule != QLatin1String("asha"))
        return out;
    for (qint64 e = m_spec.minEpochs; e < m_maxEpochs; e *= m_spec.reduction)
        out.push_back(int(e));
    return out;
}

bool EarlyStopper::report(int trial, int epoch, double score)
{
    if (std::isnan(score))
        return true;   // nothing to compare; the trial has failed anyway
    m_history[trial][epoch] = score;
    if (epoch >= m_maxEpochs || epoch < m_spec.minEpochs)
        return false;
    if (m_spec.rule == QLatin1String("asha")) {
        const std::vector<int> r = rungs();
        if (std::find(r.begin(), r.end(), epoch) == r.end())
            return false;
        std::vector<double> &scores = m_rungScores[epoch];
        scores.push_back(score);
        std::vector<double> sorted = scores;
        std::sort(sorted.begin(), sorted.end(), std::greater<double>());
        const size_t promoted = std::max<size_t>(1, sorted.size() / size_t(m_spec.reduction));
        return score < sorted[promoted - 1];
    }
    if (m_spec.rule == QLatin1String("median")) {
        std::vector<double> peers;
        for (int other : m_finished) {
            const auto &h = m_history[other];
            const auto it = h.find(epoch);
            if (it != h.end())
                peers.push_back(it->second);
        }
        if (peers.size() < 2)
            return false;
        std::sort(peers.begin(), peers.end());
        const size_t n = peers.size();
        const double median = n % 2 ? peers[n / 2] : (peers[n / 2 - 1] + peers[n / 2]) / 2.0;
        return score < median;
    }
    return false;
}

void EarlyStopper::finished(int trial)
{
    if (std::find(m_finished.begin(), m_finished.end(), trial) == m_finished.end())
        m_finished.push_back(trial);
}

} // namespace ms
