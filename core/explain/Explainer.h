#pragma once

#include "models/Model.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <limits>
#include <vector>

namespace ms {

class Registry;
struct VersionRecord;

// How an attribution map is made (Captum's names and defaults where Captum has one).
enum class ExplainMethod {
    IntegratedGradients, // Sundararajan et al. 2017: path integral from a zero baseline
    Saliency, // |d target logit / d input| (Simonyan et al. 2014)
    SmoothGrad, // saliency averaged over noisy copies (Smilkov et al. 2017)
    Occlusion, // drop of the target logit when a window is blanked (no gradients)
};

QString explainMethodName(ExplainMethod method); // "integrated-gradients", ...
QStringList explainMethodNames();
// Throws ms::Error listing the methods when `name` is none of them.
ExplainMethod explainMethodFromName(const QString &name);
bool needsGradients(ExplainMethod method);

struct ExplainOptions
{
    ExplainMethod method = ExplainMethod::IntegratedGradients;
    int target = -1; // the class whose logit is explained; -1 = the predicted one
    int steps = 50; // integrated gradients: points on the path (trapezoid rule)
    int samples = 25; // smoothgrad: noisy copies
    double noiseLevel = 0.15; // smoothgrad: noise sigma as a fraction of the input's range
    quint64 seed = 0; // smoothgrad: the noise
    int window = 4; // occlusion: square window on the last two dimensions
    int stride = 2;
    // Samples per forward (and backward) pass; 0 = automatic: gradient methods in even passes
    // of at most kGradientBatchValues input values, occlusion up to kMaxBatchValues, so memory
    // does not grow with the steps.
    int batchSize = 0;

    static constexpr qint64 kMaxBatchValues = qint64(1) << 20;
    // Gradient methods' passes: at most this many input values, for the cache (Explainer.cpp).
    static constexpr qint64 kGradientBatchValues = qint64(1) << 15;
    static constexpr int kMaxSteps = 10000;

    // {"method", "target", "steps", "samples", "noise_level", "seed", "window", "stride"}
    QJsonObject toJson() const;
    // Missing keys keep the defaults; a wrong type or an unknown method throws ms::Error.
    static ExplainOptions fromJson(const QJsonObject &json);
};

// One attribution map of one sample, with what it explains.
struct Explanation
{
    QString version; // "cnn:3"
    QString method; // explainMethodName
    int target = 0;
    std::vector<float> probabilities; // softmax of the sample's logits
    std::vector<float> logits;
    std::vector<qint64> shape; // one sample's shape, e.g. {1, 28, 28}
    std::vector<float> attributions; // row-major in `shape`
    // Integrated gradients: |sum(attributions) - (f(x) - f(baseline))| / |f(x) - f(baseline)|
    // for the target logit f; NaN for the other methods.
    double completenessGap = std::numeric_limits<double>::quiet_NaN();
    double outputDelta = std::numeric_limits<double>::quiet_NaN(); // f(x) - f(baseline)
    qint64 evaluations = 0; // samples run through the model (forward passes)

    int predicted() const;
    // The CLI's --json object: version, method, target, predicted, probabilities, shape,
    // attributions, completeness_gap (null unless integrated gradients), output_delta,
    // evaluations.
    QJsonObject toJson() const;
};

// Attribution maps for one version of a classifier, studio-built or imported, fp32 or int8
// (occlusion only: an int8 variant has no gradients). Explains the logits of one sample; the
// model's input is raw (in [0, 1] for images), as every client of a studio model sends it.
// Calls on one Explainer are serialised with the model's other predictions.
class Explainer
{
public:
    // `ref` names the model in messages; `sampleShape` is one sample's shape (empty: the
    // model's recorded one); `classes` the number of classes when known (0: learnt from the
    // first forward pass).
    Explainer(Model model, QString ref, std::vector<qint64> sampleShape, int classes);
    // The version's verified artifact, its input signature (or the model's recorded shape) and
    // its class count. Throws ms::Error when the artifact is missing or altered.
    static Explainer open(const Registry &registry, const VersionRecord &version);

    const QString &ref() const { return m_ref; }
    const std::vector<qint64> &sampleShape() const { return m_sampleShape; }
    int classCount() const { return m_classes; }
    QStringList classNames() const { return m_model.classNames(); }
    const Model &model() const { return m_model; }
    // False for int8 variants (quantized ops have no gradients).
    bool hasGradients() const;

    // Everything that can be refused before any work: the method against the model (a
    // gradient method on int8: use occlusion), steps/samples/window/stride out of range, the
    // target out of range, an input whose size or channels do not fit (which one, and what the
    // model takes). Throws ms::Error with one line saying what to do.
    void check(const std::vector<qint64> &inputShape, const ExplainOptions &options) const;

    // One sample, `input` row-major in `inputShape` (one sample's shape, or with a leading
    // batch of 1). Calls check() first. `cancelled`, when given, is asked between passes and
    // ends the work with ms::Cancelled.
    Explanation explain(const std::vector<float> &input, const std::vector<qint64> &inputShape,
                        const ExplainOptions &options,
                        const std::function<bool()> &cancelled = {}) const;

    // Logits of a batch (N first), as Model::predict.
    std::vector<float> logits(const std::vector<float> &input,
                              const std::vector<qint64> &shape) const;

private:
    std::vector<qint64> sampleOf(const std::vector<qint64> &inputShape) const;

    Model m_model;
    QString m_ref;
    std::vector<qint64> m_sampleShape;
    int m_classes = 0;
};

// Softmax of each row of `logits` (rows of `classes` values).
std::vector<float> softmaxRows(const std::vector<float> &logits, int classes);

} // namespace ms
