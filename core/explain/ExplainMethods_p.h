#pragma once

// Private: the attribution methods behind ms::Explainer, for core/explain .cpp files only.

#include "explain/Explainer.h"

#include <functional>
#include <vector>

namespace ms::explain {

// What every method is handed: one sample (batch dimension not included in `shape`), the
// checked options with the target chosen, and the cancel check.
struct Work
{
    const Model &model;
    const std::vector<float> &input;
    const std::vector<qint64> &shape;
    const ExplainOptions &options;
    int target = 0;
    int batchSize = 1; // samples per pass
    const std::function<bool()> &cancelled;
    QString ref; // names the model in messages
};

// Each fills `out.attributions` (and, for integrated gradients, the completeness figures) and
// counts its evaluations. Throws ms::Error when the model has no gradient for its input.
void integratedGradients(const Work &work, Explanation &out);
void saliency(const Work &work, Explanation &out);
void smoothGrad(const Work &work, Explanation &out);
void occlusion(const Work &work, Explanation &out);

// The same message wherever a gradient method meets a model without gradients.
QString noGradientMessage(const QString &ref, const QString &method);

} // namespace ms::explain
