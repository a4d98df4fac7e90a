#pragma once

#include "common/Error.h"

namespace ms {

// Thrown where long work notices that it was asked to stop (a dataset reader between chunks,
// a loader between files): the job boundary turns it into a Cancelled result, not a failure.
// The message says what was stopped and what is kept.
class Cancelled : public Error
{
public:
    explicit Cancelled(const QString &message)
        : Error(message)
    {}
};

} // namespace ms
