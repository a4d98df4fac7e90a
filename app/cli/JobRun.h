#pragma once

#include "jobs/Job.h"
#include "jobs/JobRunner.h"

#include <QJsonObject>

#include <functional>
#include <memory>

namespace cli {

// Runs `job` to its end in this thread's event loop, the way every long verb does: a progress
// bar on stderr when `showBar`, each event handed to `onEvent` with the bar cleared first.
// With `cancelOnInterrupt`, the first Ctrl-C or SIGTERM cancels the job (which keeps what a
// stop keeps: a training run its last epoch's checkpoint) and a second quits at once. Outside
// runJob both signals keep their default action: the process ends at once.
ms::JobResult runJob(std::unique_ptr<ms::Job> job, bool showBar,
                     const std::function<void(const QJsonObject &event)> &onEvent,
                     bool cancelOnInterrupt);

// The exit code of a job cancelled by a signal, as a shell expects: 128 + the signal's number
// (130 for Ctrl-C, 143 for SIGTERM); Interrupted when no signal came.
int interruptExitCode();

// Forgets the signals received so far: a sweep's worker process (`--spare`) runs one command
// after another, and a stop sent to the last one (which may arrive once it has already ended)
// must not cancel the next.
void resetInterrupts();

// For a sweep's worker process: SIGINT and SIGTERM are counted, not fatal, between its
// commands too. A stop the sweep sent to a trial that had just ended would otherwise kill the
// idle process, and the next trial handed to it would fail without having run. A second
// signal still ends the process at once; a worker whose sweep is gone ends with its stdin.
void catchInterruptsBetweenCommands();

} // namespace cli
