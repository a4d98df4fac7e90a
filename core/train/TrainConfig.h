#pragma once

#include <QJsonObject>
#include <QString>

namespace ms {

// Everything that defines a training run. Its JSON is the CLI's input, the recipe a version
// records and what "re-run" replays; fromJson(toJson()) is the identity.
struct TrainConfig
{
    QString dataset = QStringLiteral("fashion-mnist");  // built-in name or path
    QString labelColumn;                                // CSV only
    QString textColumn;                                 // text CSV: the text column
    QString arch = QStringLiteral("cnn");               // provider name or spec file path
    QJsonObject archSpec;                               // inline spec; wins over `arch`
    // Fine-tuning: start from this registry version ("resnet18:1"; wins over arch and
    // archSpec; a run records the NAME:N it resolved to). Needs a registry (TrainJob::recordIn).
    QString from;
    bool freezeBackbone = false;   // from: train only the classifier (its last Linear/1x1 conv)
    bool replaceHead = false;      // from: re-initialise the classifier for the data's classes
    QJsonObject archParams;                             // {"width": 128, "dropout": 0.2},
                                                        // gpt: {"n_layer": 2, ...}
    int epochs = 3;
    int batchSize = 128;
    double lr = 1e-3;
    QString optimizer = QStringLiteral("adam");         // sgd | adam | adamw (decoupled
                                                        // decay of matrices only)
    double momentum = 0.9;                              // sgd
    double weightDecay = 0.0;
    QString schedule = QStringLiteral("constant");      // constant | step | cosine (to minLr)
    int stepEpochs = 1;                                 // step: decay every N epochs
    double gamma = 0.1;                                 // step: decay factor
    quint64 seed = 0;
    qint64 limit = 0;                                   // 0 = all samples
    double validationFraction = 0.1;
    int threads = 0;                                    // 0 = the cores left free
    // Added with language models; written to the recipe only when they differ from these
    // defaults, so recipes of earlier runs read (and replay) as they did.
    QString task = QStringLiteral("classify");          // classify | lm
    QString tokenizer = QStringLiteral("byte");         // lm: byte, spm-bpe, spm-unigram
    int vocabSize = 2048;                               // lm: spm-* tokenizers' symbols
    int stepsPerEpoch = 0;                              // lm: 0 = one pass over the tokens
    int warmupSteps = 0;                                // linear warm-up, any schedule
    double minLr = 0.0;                                 // cosine: the rate it ends at
    double clipGradNorm = 0.0;                          // gradients' total norm cap; 0 = off
    double beta1 = 0.9;                                 // adam, adamw
    double beta2 = 0.999;
    // Image classifiers: random changes to every training batch, drawn afresh each epoch
    // (validation and test are scored on the images as they are). Parts, split at ',' or '+':
    // "hflip" mirrors each image left-right with probability 1/2, "shift:N" moves each by up
    // to N pixels along both axes (zero fill). Empty or "none": no augmentation.
    QString augment;

    struct Augmentation
    {
        bool hflip = false;
        int shift = 0;
        bool any() const { return hflip || shift > 0; }
    };
    // `augment` parsed; throws ms::Error naming the part it cannot read.
    Augmentation augmentation() const;

    QJsonObject toJson() const;
    // Unknown keys and out-of-range values raise ms::Error naming the key.
    static TrainConfig fromJson(const QJsonObject &json);
    // The job spec in a JSON file (`train --config`, `modelstudio --config`); throws ms::Error
    // naming the file and what is wrong with it.
    static QJsonObject readSpecFile(const QString &path);
    static TrainConfig fromFile(const QString &path) { return fromJson(readSpecFile(path)); }
    // What a run of this recipe is called (its run folder, its job title, the model it
    // registers by default): the model of `from`, an inline spec's name, a spec file's base
    // name, or the architecture's name.
    QString label() const;
    // Throws ms::Error naming the first value that cannot work (epochs < 1, lr <= 0, ...).
    void validate() const;
};

} // namespace ms
