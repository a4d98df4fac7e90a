#pragma once

#include <QJsonObject>
#include <QString>

namespace ms {

// A sweep's trial process (`modelstudio-cli --spare`, started by SweepJob) reads the training
// data of the sweep's spec before it knows its first trial; every training run of the process
// with the same dataset options borrows that read instead of reading again
// (docs/architecture.md, "hyperparameter search"). Does nothing for language models, text
// datasets and data that is large next to the memory (over 1/64 of it on disk, or over 1/16 as
// floats, which the reader refuses before it allocates): each slot's process holds a copy. Never throws: a spec or dataset it cannot read is left to the run
// itself, which reports it as it would without a preload.
void preloadTrainingData(const QJsonObject &trainSpec, const QString &workspaceRoot);

// True for a train-spec key whose value changes what a run reads ("dataset", "limit", "seed",
// ...): a sweep that searches one cannot read its data ahead for every trial.
bool changesDataRead(const QString &trainSpecKey);

} // namespace ms
