#pragma once

#include <QJsonObject>
#include <QString>

namespace ms {

// A sweep's warm trial process (`modelstudio-cli --spare`, started by SweepJob while the
// running trials train) reads the training data of the sweep's spec before it knows its
// trial; the first training run of the process with the same dataset options takes that copy
// instead of reading it again (docs/architecture.md, "hyperparameter search"). Does nothing for
// language models, text datasets and data that is large next to the memory (over 1/64 of it
// on disk, or over 1/16 as floats, which the reader refuses before it allocates): each spare
// would hold one more copy. Never throws: a spec or dataset it cannot read is left to the run
// itself, which reports it as it would without a preload.
void preloadTrainingData(const QJsonObject &trainSpec, const QString &workspaceRoot);

} // namespace ms
