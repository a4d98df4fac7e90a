#pragma once

// Private: the torch side of ms::Model. Only core .cpp files include this header, so torch
// headers never reach ui/ or app/ (docs/architecture.md, "Decisions").

#include "models/Model.h"

#include <torch/script.h>

#include <QJsonObject>
#include <QStringList>

#include <mutex>
#include <vector>

struct ms::Model::Impl
{
    // The module itself: built from a spec (ModelBuilder) or loaded from any TorchScript file.
    // Trainers train it in place; every ms::Model copy sees the same module.
    torch::jit::Module module;

    // Read from the module's attributes (class_names, input_shape, spec_json) when it was built
    // or loaded; empty for modules imported from Python that carry none of them.
    QStringList classNames;
    std::vector<qint64> inputShape;
    QJsonObject spec;
    // The `quantized_engine` attribute of an int8 variant, empty otherwise.
    QString quantizedEngine;
    // A language model's `task` ("lm"), `tokenizer_json` and `block_size` attributes.
    QString task;
    QJsonObject tokenizer;
    int blockSize = 0;

    // predict() switches a training module to eval for one call and back; two predictions on
    // the same module must not interleave that switch. Training while predicting from another
    // thread is not supported (the trainer owns the training flag while it runs).
    std::mutex predictMutex;
};

namespace ms {
// Every weight tensor of a module: parameters (recursively), the weights and biases unpacked
// from quantized packed params held as attributes, and the tensor constants of a frozen
// forward. Counting only parameters() would call an int8 or frozen variant parameter-free.
std::vector<at::Tensor> weightTensors(const torch::jit::Module &module);
}
