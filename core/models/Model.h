#pragma once

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <memory>
#include <vector>

namespace ms {

// What a model must know about its data to stand on its own: it normalises its raw input and
// carries its class names, so serving, Python and any client need no side knowledge
// (docs/architecture.md, "Decisions").
struct ModelDataInfo
{
    std::vector<qint64> inputShape;  // per sample, e.g. {1, 28, 28}
    std::vector<float> mean;         // per channel (rank-3 input) or per feature (rank-1)
    std::vector<float> stdev;
    QStringList classNames;
};

// A TorchScript module (torch::jit::Module) behind a torch-free handle. Copies share the module.
// Built from a spec, or loaded from any TorchScript .pt (Python's torch.jit.save included).
class Model
{
public:
    struct Impl;   // defined in models/ModelImpl_p.h, for core .cpp files only

    Model();
    ~Model();
    Model(const Model &);
    Model &operator=(const Model &);

    // Compiles a spec (ArchSpec JSON, not a gpt spec: see buildLanguageModel; bound here to data.inputShape and the class count when
    // it leaves them open) into a trainable TorchScript module "ModelStudioNet" in training
    // mode. Weights: PyTorch's default init drawn from a private generator seeded with `seed`,
    // equal to Python's `torch.manual_seed(seed)` + the same nn layers; the global torch RNG is
    // not touched. Empty data.classNames become "0".."n-1"; data.mean/stdev may be empty
    // (no normalisation) or one value for all channels. Throws ms::Error naming the spec and
    // the layer on a bad spec.
    static Model build(const QJsonObject &spec, const ModelDataInfo &data, quint64 seed);
    // Compiles a gpt spec (models/GptSpec.h) into a language model bound to the vocabulary of
    // `tokenizer` (Tokenizer::toJson(), recorded in the module): forward(idx) -> logits per
    // position, step(idx, cache) for generation (ModelBuilder_p.h's buildGptModule). Weights:
    // nanoGPT's init from a private generator seeded with `seed`. Throws ms::Error as build().
    static Model buildLanguageModel(const QJsonObject &spec, const QJsonObject &tokenizer,
                                    quint64 seed);
    // Throws ms::Error naming the file when it is missing or not a TorchScript module.
    // A quantized artifact (one with a `quantized_engine` attribute) is loaded with that engine
    // in effect, since loading packs its weights for the engine in effect; throws ms::Error when
    // this build lacks the engine.
    static Model load(const QString &path);
    // Core only: wraps a module made inside the core (ModelImpl_p.h), reading its attributes.
    static Model fromImpl(std::shared_ptr<Impl> impl);

    // Writes a temporary file beside `path`, then renames it: a failed save leaves nothing
    // half-written. Throws ms::Error naming the path when it cannot be written.
    void save(const QString &path) const;

    // Intra-op threads of torch compute started from the calling thread (an inference worker
    // sets its own; 0 means all cores).
    static void setComputeThreads(int threads);

    bool isNull() const { return !d; }
    // Logits, flat row-major (N x numClasses), for input flat row-major in `shape` (N first),
    // raw (the model normalises). Runs under InferenceMode in eval mode and puts a training
    // module back into training mode afterwards; calls on one model are serialised. Do not
    // call it while another thread trains the same module. Throws ms::Error on a bad shape.
    // `outputShape`, when given, receives the output tensor's shape (a server checks that it
    // has one row per sample before it splits a batch between clients).
    std::vector<float> predict(const std::vector<float> &input, const std::vector<qint64> &shape,
                               std::vector<qint64> *outputShape = nullptr) const;

    // The same for a model of integer input (token ids: a text classifier, a language
    // model's logits): `input` as int64, or converted to int32 when `int32`. The ids are passed
    // through as they are; an id the model's embedding does not hold is the model's error.
    std::vector<float> predictTokens(const std::vector<qint64> &input,
                                     const std::vector<qint64> &shape, bool int32 = false,
                                     std::vector<qint64> *outputShape = nullptr) const;

    QStringList classNames() const;
    std::vector<qint64> inputShape() const;   // empty when unknown (an imported module)
    QJsonObject spec() const;                 // the ArchSpec it was built from, or empty
    // Weights and biases: parameters, the int8 weights inside packed quantized params, and the
    // tensor constants of a frozen forward (half-precision variants keep their weights there).
    qint64 parameterCount() const;
    qint64 nonzeroParameterCount() const;
    // "lm" for a language model (a gpt built here: forward(idx) -> logits per position and a
    // step(idx, cache) method), empty for a classifier or an unknown import.
    QString task() const;
    // A language model's tokenizer JSON (`tokenizer_json` attribute), empty otherwise.
    QJsonObject tokenizer() const;
    // A language model's longest context in tokens (`block_size`), 0 otherwise.
    int blockSize() const;
    // "onednn" or "qnnpack" for an int8 variant (set as the process's quantized engine before
    // each predict()), empty otherwise.
    QString quantizedEngine() const;

    Impl *impl() const { return d.get(); }

private:
    std::shared_ptr<Impl> d;
};

} // namespace ms
