#pragma once

#include "data/Dataset.h"
#include "models/Model.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>

#include <functional>
#include <vector>

namespace ms {

struct VersionRecord;

// The data a version was trained on, as its recipe names it (a trained version's recipe is a
// TrainConfig, a compressed one carries its source's under "data"); `override`, when given,
// replaces it. An empty source means unknown (an import): the caller asks for --dataset.
DatasetOptions trainingDataOf(const VersionRecord &version, const QString &override);

// One version's answer on one sample.
struct SamplePrediction
{
    int predicted = -1;
    float confidence = 0.0f; // softmax probability of the predicted class
};

// Where two versions of a classifier answer a test split differently: "which images does the
// int8 variant get wrong that its source got right".
struct Disagreement
{
    QString a; // "cnn:1"
    QString b; // "cnn:2"
    QString dataset;
    QStringList classNames;
    qint64 count = 0; // test samples compared
    std::vector<qint64> labels; // every sample's true class
    std::vector<SamplePrediction> predictionsA; // every sample's
    std::vector<SamplePrediction> predictionsB;
    std::vector<qint64> indices; // samples where the predictions differ, ascending

    qint64 correctA() const;
    qint64 correctB() const;
    // Samples per true class where they differ, and in all.
    std::vector<qint64> disagreementsPerClass() const;
    std::vector<qint64> samplesPerClass() const;

    // {"a", "b", "dataset", "count", "indices": [...], "samples": [{"index", "label",
    //  "a": {"prediction", "confidence"}, "b": {...}}], "per_class": [{"class", "name",
    //  "disagreements", "samples"}], "accuracy_a", "accuracy_b", "only_a_correct",
    //  "only_b_correct"}
    QJsonObject toJson() const;
};

// The model's top class and its probability for every test sample of `data`, in batches
// (`cancelled` asked between them). Throws ms::Error as findDisagreements.
std::vector<SamplePrediction> predictTestSplit(const Model &model, const QString &ref,
                                               const Dataset &data,
                                               const std::function<bool()> &cancelled = {});

// Runs both models over the test split of `data` in batches (`cancelled` asked between them)
// and compares their top classes. Throws ms::Error when the split is empty, or a model does
// not take the data's samples or returns other than one score per class.
Disagreement findDisagreements(const Model &a, const QString &refA, const Model &b,
                               const QString &refB, const Dataset &data,
                               const std::function<bool()> &cancelled = {});

} // namespace ms
