#include "JobRun.h"

#include "Command.h"
#include "Output.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTimer>

#include <atomic>
#include <csignal>
#include <cstdlib>

#include <signal.h>

namespace cli {

namespace {

std::atomic<int> g_interrupts{0};
std::atomic<int> g_firstSignal{0};

// Async-signal-safe: atomics and _Exit only. The first signal asks the job to stop (polled
// below); a second one quits at once, with the exit code of the first.
void onInterrupt(int signal)
{
    int none = 0;
    g_firstSignal.compare_exchange_strong(none, signal);
    if (g_interrupts.fetch_add(1) >= 1)
        std::_Exit(128 + g_firstSignal.load());
}

} // namespace

int interruptExitCode()
{
    const int signal = g_firstSignal.load();
    return signal != 0 ? 128 + signal : Interrupted;
}

void resetInterrupts()
{
    g_interrupts.store(0);
    g_firstSignal.store(0);
}

void catchInterruptsBetweenCommands()
{
    struct sigaction caught {};
    caught.sa_handler = onInterrupt;
    sigemptyset(&caught.sa_mask);
    caught.sa_flags = SA_RESTART;   // a worker waiting on stdin goes on waiting
    ::sigaction(SIGINT, &caught, nullptr);
    ::sigaction(SIGTERM, &caught, nullptr);
}

ms::JobResult runJob(std::unique_ptr<ms::Job> job, bool showBar,
                     const std::function<void(const QJsonObject &event)> &onEvent,
                     bool cancelOnInterrupt)
{
    ms::JobRunner runner;
    ProgressBar bar;
    QElapsedTimer clock;
    clock.start();
    ms::JobResult result;
    QObject::connect(&runner, &ms::JobRunner::progress, &runner,
                     [&](ms::JobId, double fraction, const QString &text) {
                         if (showBar)
                             bar.update(fraction, text, double(clock.elapsed()) / 1000.0);
                     });
    QObject::connect(&runner, &ms::JobRunner::event, &runner,
                     [&](ms::JobId, const QJsonObject &event) {
                         bar.clear();
                         onEvent(event);
                     });
    QObject::connect(&runner, &ms::JobRunner::finished, &runner,
                     [&](ms::JobId, const ms::JobResult &r) {
                         result = r;
                         QCoreApplication::quit();
                     });

    QTimer interruptPoll;
    ms::JobId id = 0;
    struct sigaction previousInt {}, previousTerm {};
    if (cancelOnInterrupt) {
        struct sigaction caught {};
        caught.sa_handler = onInterrupt;
        sigemptyset(&caught.sa_mask);
        caught.sa_flags = SA_RESTART;
        ::sigaction(SIGINT, &caught, &previousInt);
        ::sigaction(SIGTERM, &caught, &previousTerm);
        QObject::connect(&interruptPoll, &QTimer::timeout, &runner, [&] {
            if (g_interrupts.load() >= 1)
                runner.cancel(id);
        });
        // Often: a sweep stops a trial this way (ASHA), and the steps it trains before it
        // sees the signal are the sweep's loss.
        interruptPoll.start(5);
    }

    id = runner.start(std::move(job));
    QCoreApplication::exec();
    bar.clear();
    if (cancelOnInterrupt) {
        // Nothing polls the flag any more: the handlers from before the job are back (the
        // default, so a signal from now on ends the process at once; in a sweep's worker,
        // catchInterruptsBetweenCommands' own).
        interruptPoll.stop();
        ::sigaction(SIGINT, &previousInt, nullptr);
        ::sigaction(SIGTERM, &previousTerm, nullptr);
    }
    return result;
}

} // namespace cli
