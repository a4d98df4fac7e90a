#pragma once

#include <QElapsedTimer>
#include <QJsonObject>

namespace ms {

// How many threads a training step should use on a machine other programs use too.
//
// The OpenMP threads of LibTorch and OpenBLAS (one libgomp team) meet at a barrier after every
// parallel region. When another program holds a core, the thread that waits for it is
// descheduled and the others spin for it: measured on 2 cores beside two busy processes, an
// mlp epoch ran at 1,027 samples/s on 2 threads and 9,155 on 1 (bench/README.md, "A busy
// desktop"). So a run without --threads uses the cores the other programs leave free, counted
// from the kernel's run queue, and looks again as it goes; a user's --threads is a hard choice
// and is never changed.
struct CpuLoad
{
    int cores = 1;                 // CPUs this process may run on (its affinity mask)
    double othersRunnable = 0.0;   // runnable threads of other processes, smoothed
    double pressure_pct = -1.0;    // /proc/pressure/cpu "some avg10"; -1 where absent
};

// The decision, a plain function so that tests can feed it any machine. `current` is the
// count in use (0 before the first choice); it changes only when the free cores have moved by
// most of a core, so that a passing process does not make it flip every few seconds.
int chooseThreads(int userThreads, const CpuLoad &load, int current);

// True when other programs slow the run down enough to say so (and why it is slower).
bool isContended(const CpuLoad &load);

// {"cpu_pressure_pct": X, "others_runnable": Y, "threads": N} for a job's events.
QJsonObject contentionJson(const CpuLoad &load, int threads);

// Samples the machine's load (procs_running of /proc/stat minus this process's own running
// threads) at most every `interval_ms`, smoothed over about two seconds. Cheap: a few small
// reads of /proc per sample.
class CpuLoadMonitor
{
public:
    explicit CpuLoadMonitor(int interval_ms = 100);
    // Takes a sample when the last one is older than the interval; returns the current view.
    const CpuLoad &poll();
    const CpuLoad &load() const { return m_load; }
    // Starts the view from the least loaded of `readings` readings `gap_ms` apart: a process
    // that happens to be runnable at one instant (a shell, the test runner) is not a hog.
    void prime(int readings = 3, int gap_ms = 10);

    // One reading now, unsmoothed.
    static CpuLoad readNow();
    // Threads of this process the kernel counts as runnable right now.
    static int ownRunningThreads();

private:
    int m_interval_ms;
    QElapsedTimer m_clock;
    qint64 m_last_ms = -1;
    bool m_primed = false;
    CpuLoad m_load;
};

// The thread count of one run, as it goes: the user's when given, else chosen from the load at
// the start and re-chosen at most every `recheck_ms` (and whenever update(true) is called, at
// each epoch). Whoever owns it applies threads() to LibTorch (at::set_num_threads).
class ThreadGovernor
{
public:
    explicit ThreadGovernor(int userThreads, int recheck_ms = 2000);
    int threads() const { return m_threads; }
    bool automatic() const { return m_userThreads <= 0; }
    const CpuLoad &load() const { return m_monitor.load(); }
    // Samples the load; when a re-choice is due (or `now`), chooses again. True when the
    // count changed.
    bool update(bool now = false);

private:
    int m_userThreads;
    int m_recheck_ms;
    int m_threads = 1;
    CpuLoadMonitor m_monitor;
    QElapsedTimer m_sinceChoice;
};

} // namespace ms
