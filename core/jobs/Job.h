#pragma once

#include <QJsonObject>
#include <QMetaType>
#include <QString>

namespace ms {

class JobContext;

enum class JobStatus { Finished, Failed, Cancelled, Diverged };

QString jobStatusName(JobStatus status);

// What a job ends with. `output` carries job-specific results (paths, final metrics).
struct JobResult
{
    JobStatus status = JobStatus::Failed;
    QString message;      // one line a person can act on (empty when finished normally)
    QJsonObject output;
};

// Long work (train, compress, benchmark, ...): docs/architecture.md, "Decisions". A plain
// object: run() executes on a worker thread and talks to the world only through the
// JobContext. The same JSON spec is the CLI's input, the registry's recipe and what "re-run"
// replays.
class Job
{
public:
    virtual ~Job() = default;

    virtual QString kind() const = 0;        // "train"
    virtual QString title() const = 0;       // "Train cnn on fashion-mnist"
    virtual QJsonObject spec() const = 0;

    // Runs on a worker thread. May throw: ms::Error becomes a Failed result with its message.
    virtual JobResult run(JobContext &context) = 0;
};

} // namespace ms

Q_DECLARE_METATYPE(ms::JobResult)
