#pragma once

// Private to core/train: fine-tuning a registered version (`train --from NAME:N`), any model
// the registry holds: built here from a spec, or imported from Python. Core .cpp files only.

#include "data/Dataset.h"
#include "models/ArchSpec.h"
#include "models/Model.h"
#include "registry/Registry.h"
#include "train/TrainConfig.h"

#include <torch/script.h>

#include <optional>
#include <string>
#include <vector>

namespace ms::fromversion {

// The classifier of a model: the last submodule (in definition order) whose `weight` is a
// Linear's [outputs, in] or a 1x1 convolution's [outputs, in, 1, 1], for a model whose output
// has `outputs` scores. torchvision's fc / classifier[1] / classifier[1] of squeezenet; the
// studio's last linear layer.
struct Classifier
{
    std::string path;       // "fc", "model.classifier.1", "linear8"
    torch::jit::Module owner;
    bool conv = false;
};
std::optional<Classifier> findClassifier(const torch::jit::Module &module, int64_t outputs);

// A version to start from, fitted to the data. Everything is checked before any training
// step, and before the run is recorded.
struct Start
{
    VersionRecord source;
    Model model;                    // loaded from the verified artifact, training mode
    int sourceClasses = 0;          // its output scores
    QString replacedHead;           // the classifier's path when --replace-head replaced it
};

// Resolves config.from in the workspace's registry, loads its artifact, and checks it against
// `data`: the sample shape and channel count against the version's signature, then the class
// count against its outputs. A class count that differs is refused, naming both numbers,
// unless config.replaceHead: then the classifier gets a fresh [classes, in] weight and bias
// (PyTorch's default init, seeded with config.seed) and the output is checked to follow.
// Names recorded in the artifact (a studio model's class_names, its spec's num_classes) follow
// the data. Throws ms::Error with the message a person acts on.
Start prepare(const TrainConfig &config, const QString &workspace, const Dataset &data);

// The parameters the optimizer gets: all of them, or with `freezeBackbone` only the
// classifier's (every other parameter stops requiring gradients). Throws ms::Error when
// freezing and no classifier of `classes` outputs is found.
std::vector<at::Tensor> trainableParameters(torch::jit::Module &module, bool freezeBackbone,
                                            int64_t classes, const QString &ref);

// Parameters and MACs of a model without a spec (an import), from models/ModelLayers.h; the
// parameter count alone when the layers cannot be described.
ModelSummary summaryOf(const Model &model, const std::vector<qint64> &sampleShape);

// The version a fine-tuning registers: kind Finetuned, its lineage edge "finetuned-from" to
// the source, the source's input signature (its preprocessing kept) and the data's classes.
void describeVersion(NewVersion &version, const VersionRecord &source, const Dataset &data);

} // namespace ms::fromversion
