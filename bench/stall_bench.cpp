// Does training block the window? The real studio window (Train and Versions panels, the run's
// end reloading the versions as ui/shell/StudioPanels.cpp connects them) trains a cnn with live
// plots on the offscreen platform while a probe timer asks to fire every 5 ms; every late
// firing is a stall of the event loop. The peer is the same probe in the same window with
// nothing running, for as long as the training took.
// Also times every event the application delivers, to name the slowest receivers when a stall
// shows up (the "which slot is slow" question).
//
// Usage: stall_bench [--arch cnn] [--limit 12000] [--epochs 1] [--threads 0]

#include "panels/train/TrainForm.h"
#include "panels/train/TrainPanel.h"
#include "panels/versions/VersionsPanel.h"
#include "plots/MetricPlot.h"
#include "shell/MainWindow.h"

#include "jobs/JobRunner.h"

#include <QApplication>
#include <QComboBox>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <vector>

namespace {

constexpr int kProbeInterval_ms = 5;

double threadCpu_ms()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) / 1e6;
}

// Times every top-level event delivery and keeps the slowest per receiver class and event type.
class TimedApplication final : public QApplication
{
public:
    using QApplication::QApplication;

    bool notify(QObject *receiver, QEvent *event) override
    {
        if (m_depth > 0 || !m_recording)
            return QApplication::notify(receiver, event);
        ++m_depth;
        QElapsedTimer clock;
        clock.start();
        const double cpu0_ms = threadCpu_ms();
        const int type = int(event->type());
        const char *cls = receiver->metaObject()->className();
        const bool result = QApplication::notify(receiver, event);
        const double ms = double(clock.nsecsElapsed()) / 1e6;
        const double cpu_ms = threadCpu_ms() - cpu0_ms;
        --m_depth;
        Slowest &slot = m_slowest[std::string(cls) + " / event " + std::to_string(type)];
        slot.count += 1;
        slot.total_ms += ms;
        if (ms > slot.max_ms) {
            slot.max_ms = ms;
            slot.cpuAtMax_ms = cpu_ms;
        }
        return result;
    }

    void record(bool on) { m_recording = on; }
    void reset() { m_slowest.clear(); }
    void printSlowest(int n) const
    {
        std::vector<std::pair<std::string, Slowest>> all(m_slowest.begin(), m_slowest.end());
        std::sort(all.begin(), all.end(),
                  [](const auto &a, const auto &b) { return a.second.max_ms > b.second.max_ms; });
        std::printf("  slowest deliveries (receiver class / event type: max (its CPU time), "
                    "mean, count):\n");
        for (int i = 0; i < n && i < int(all.size()); ++i)
            std::printf("    %-44s %7.2f ms (%6.2f) %7.3f ms %7d\n", all[i].first.c_str(),
                        all[i].second.max_ms, all[i].second.cpuAtMax_ms,
                        all[i].second.total_ms / all[i].second.count, all[i].second.count);
    }

private:
    struct Slowest
    {
        int count = 0;
        double total_ms = 0;
        double max_ms = 0;
        double cpuAtMax_ms = 0;   // CPU time of the slowest: far below max_ms = descheduled
    };
    std::map<std::string, Slowest> m_slowest;
    int m_depth = 0;
    bool m_recording = false;
};

struct Probe
{
    std::vector<double> lateness_ms;
    QElapsedTimer clock;
    qint64 last_ns = 0;
};

struct Stalls
{
    double longest_ms = 0;
    double p99_ms = 0;
    double p50_ms = 0;
    size_t samples = 0;
};

Stalls summarise(std::vector<double> v)
{
    Stalls s;
    if (v.empty())
        return s;
    std::sort(v.begin(), v.end());
    s.samples = v.size();
    s.longest_ms = v.back();
    s.p99_ms = v[std::min(v.size() - 1, size_t(double(v.size()) * 0.99))];
    s.p50_ms = v[v.size() / 2];
    return s;
}

QString argValue(const QStringList &args, const QString &name, const QString &fallback)
{
    const int i = args.indexOf(name);
    return i >= 0 && i + 1 < args.size() ? args.at(i + 1) : fallback;
}

} // namespace

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    TimedApplication app(argc, argv);
    const QStringList args = QApplication::arguments();
    const QString arch = argValue(args, QStringLiteral("--arch"), QStringLiteral("cnn"));
    const int limit = argValue(args, QStringLiteral("--limit"), QStringLiteral("12000")).toInt();
    const int epochs = argValue(args, QStringLiteral("--epochs"), QStringLiteral("1")).toInt();
    const int threads = argValue(args, QStringLiteral("--threads"), QStringLiteral("0")).toInt();
    // -1: what the window sets (MainWindow); otherwise the workers' nice increment to try.
    const int nice = argValue(args, QStringLiteral("--nice"), QStringLiteral("-1")).toInt();

    QTemporaryDir workspace;
    ms::ui::MainWindow window(workspace.path());
    if (nice >= 0)
        window.jobRunner()->setWorkerNiceness(nice);
    std::printf("job threads' nice increment: %d\n", window.jobRunner()->workerNiceness());
    auto *train = new ms::ui::TrainPanel(window.jobRunner(), workspace.path());
    window.addPanel(train);
    auto *versions = new ms::ui::VersionsPanel(workspace.path());
    window.addPanel(versions);
    QObject::connect(train, &ms::ui::TrainPanel::runFinished, versions,
                     &ms::ui::VersionsPanel::reload);
    window.resize(1280, 800);
    window.show();
    window.showPanel(train->id());

    ms::ui::TrainForm *form = train->form();
    form->datasetCombo()->setCurrentText(QStringLiteral("fashion-mnist"));
    form->architectureCombo()->setCurrentIndex(form->architectureCombo()->findText(arch));
    form->epochsSpin()->setValue(epochs);
    form->limitSpin()->setValue(limit);
    if (threads > 0)
        form->setThreads(threads);
    // Let the window settle (first paint, dataset probe) before measuring.
    QEventLoop settle;
    QTimer::singleShot(1500, &settle, &QEventLoop::quit);
    settle.exec();

    Probe probe;
    QTimer timer;
    timer.setTimerType(Qt::PreciseTimer);
    timer.setInterval(kProbeInterval_ms);
    QObject::connect(&timer, &QTimer::timeout, &timer, [&probe] {
        const qint64 now = probe.clock.nsecsElapsed();
        probe.lateness_ms.push_back(
            std::max(0.0, double(now - probe.last_ns) / 1e6 - kProbeInterval_ms));
        probe.last_ns = now;
    });
    double cpuStart_ms = 0;
    auto startProbe = [&] {
        cpuStart_ms = threadCpu_ms();
        probe.lateness_ms.clear();
        probe.clock.start();
        probe.last_ns = 0;
        app.reset();
        app.record(true);
        timer.start();
    };

    // --- training with live plots ---
    QEventLoop loop;
    QObject::connect(window.jobRunner(), &ms::JobRunner::finished, &loop, &QEventLoop::quit);
    startProbe();
    train->start();
    if (!train->isRunning()) {
        std::fprintf(stderr, "stall_bench: cannot start: %s\n", qPrintable(train->statusText()));
        return 1;
    }
    loop.exec();
    timer.stop();
    app.record(false);
    const double trainSeconds = double(probe.clock.elapsed()) / 1000.0;
    const double trainGuiCpu_ms = threadCpu_ms() - cpuStart_ms;
    const Stalls training = summarise(probe.lateness_ms);
    const int plotted = train->lossPlot()->pointCount(QStringLiteral("loss"));
    std::printf("training %s, %d images, %d epoch(s): %.1f s, %d loss points plotted, %s\n",
                qPrintable(arch), limit, epochs, trainSeconds, plotted,
                qPrintable(train->statusText()));
    app.printSlowest(8);

    // --- the peer: the same probe, nothing running, as long ---
    startProbe();
    QEventLoop idle;
    QTimer::singleShot(int(trainSeconds * 1000), &idle, &QEventLoop::quit);
    idle.exec();
    timer.stop();
    app.record(false);
    const Stalls quiet = summarise(probe.lateness_ms);
    const double idleGuiCpu_ms = threadCpu_ms() - cpuStart_ms;
    std::printf("idle window, %.1f s\n", trainSeconds);
    app.printSlowest(4);

    std::printf("\n| probe (every %d ms) | firings | longest stall (ms) | p99 (ms) | median (ms) "
                "|\n",
                kProbeInterval_ms);
    std::printf("|---|---|---|---|---|\n");
    std::printf("| training %s with live plots | %zu | %.1f | %.2f | %.2f |\n", qPrintable(arch),
                training.samples, training.longest_ms, training.p99_ms, training.p50_ms);
    std::printf("| idle window (peer) | %zu | %.1f | %.2f | %.2f |\n", quiet.samples,
                quiet.longest_ms, quiet.p99_ms, quiet.p50_ms);
    std::printf("\nGUI thread CPU: %.1f %% of one core while training, %.1f %% idle\n",
                trainGuiCpu_ms / (trainSeconds * 10.0), idleGuiCpu_ms / (trainSeconds * 10.0));
    double load[3] = {0, 0, 0};
    if (getloadavg(load, 3) == 3)
        std::printf("load average at the end: %.2f (other processes compete for the cores too)\n",
                    load[0]);
    std::printf("\ntarget: longest stall < 50 ms while training: %s\n",
                training.longest_ms < 50.0 ? "met" : "NOT met");
    return 0;
}
