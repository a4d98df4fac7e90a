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
    QString arch = QStringLiteral("cnn");               // provider name or spec file path
    QJsonObject archSpec;                               // inline spec; wins over `arch`
    int epochs = 3;
    int batchSize = 128;
    double lr = 1e-3;
    QString optimizer = QStringLiteral("adam");         // sgd | adam | adamw
    double momentum = 0.9;                              // sgd
    double weightDecay = 0.0;
    QString schedule = QStringLiteral("constant");      // constant | step | cosine
    int stepEpochs = 1;                                 // step: decay every N epochs
    double gamma = 0.1;                                 // step: decay factor
    quint64 seed = 0;
    qint64 limit = 0;                                   // 0 = all samples
    double validationFraction = 0.1;
    int threads = 0;                                    // 0 = all cores

    QJsonObject toJson() const;
    // Unknown keys and out-of-range values raise ms::Error naming the key.
    static TrainConfig fromJson(const QJsonObject &json);
    // Throws ms::Error naming the first value that cannot work (epochs < 1, lr <= 0, ...).
    void validate() const;
};

} // namespace ms
