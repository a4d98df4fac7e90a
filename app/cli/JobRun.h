#pragma once

#include "jobs/Job.h"
#include "jobs/JobRunner.h"

#include <QJsonObject>

#include <functional>
#include <memory>

namespace cli {

// Runs `job` to its end in this thread's event loop, the way every long verb does: a progress
// bar on stderr when `showBar`, each event handed to `onEvent` with the bar cleared first.
// With `cancelOnInterrupt`, the first Ctrl-C (or SIGTERM) cancels the job and a second quits
// at once with exit code Interrupted.
ms::JobResult runJob(std::unique_ptr<ms::Job> job, bool showBar,
                     const std::function<void(const QJsonObject &event)> &onEvent,
                     bool cancelOnInterrupt);

} // namespace cli
