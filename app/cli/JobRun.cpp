#include "JobRun.h"

#include "Command.h"
#include "Output.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QTimer>

#include <atomic>
#include <csignal>
#include <cstdlib>

namespace cli {

namespace {

std::atomic<int> g_interrupts{0};

void onInterrupt(int)
{
    g_interrupts.fetch_add(1);
}

} // namespace

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
    if (cancelOnInterrupt) {
        std::signal(SIGINT, onInterrupt);
        std::signal(SIGTERM, onInterrupt);
        QObject::connect(&interruptPoll, &QTimer::timeout, &runner, [&] {
            if (g_interrupts.load() == 1)
                runner.cancel(id);
            else if (g_interrupts.load() > 1)
                std::_Exit(Interrupted);
        });
        interruptPoll.start(100);
    }

    id = runner.start(std::move(job));
    QCoreApplication::exec();
    bar.clear();
    return result;
}

} // namespace cli
