#include "common/CpuShare.h"

#include <QDir>
#include <QFile>
#include <QThread>

#include <sched.h>

#include <algorithm>
#include <cmath>

namespace ms {

namespace {

// How far the free cores must move from the current count before it changes.
constexpr double kHysteresis = 0.75;
// The smoothing's time constant: long enough to ride out a compiler's short jobs, short enough
// to follow a build that starts.
constexpr double kSmoothing_s = 2.0;

QByteArray readSmallFile(const QString &path)
{
    QFile f(path);
    // Files of /proc report size 0; read() takes what is there.
    return f.open(QIODevice::ReadOnly) ? f.read(8192) : QByteArray();
}

int affinityCores()
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        return std::max(1, CPU_COUNT(&set));
    return std::max(1, QThread::idealThreadCount());
}

int procsRunning()
{
    const QByteArray stat = readSmallFile(QStringLiteral("/proc/stat"));
    const int at = stat.indexOf("procs_running ");
    if (at < 0)
        return -1;
    const int end = stat.indexOf('\n', at);
    return stat.mid(at + 14, end - at - 14).trimmed().toInt();
}

} // namespace

int CpuLoadMonitor::ownRunningThreads()
{
    int running = 0;
    const QDir tasks(QStringLiteral("/proc/self/task"));
    for (const QString &tid : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        const QByteArray stat = readSmallFile(tasks.filePath(tid) + QStringLiteral("/stat"));
        // "tid (name) S ...": the name may hold spaces and parentheses; the state follows the
        // last ')'.
        const int close = stat.lastIndexOf(')');
        if (close > 0 && close + 2 < stat.size() && stat.at(close + 2) == 'R')
            ++running;
    }
    return running;
}

namespace {

double cpuPressure()
{
    const QByteArray text = readSmallFile(QStringLiteral("/proc/pressure/cpu"));
    const int at = text.indexOf("some avg10=");
    if (at < 0)
        return -1.0;
    const int end = text.indexOf(' ', at + 11);
    bool ok = false;
    const double value = text.mid(at + 11, end - at - 11).toDouble(&ok);
    return ok ? value : -1.0;
}

} // namespace

int chooseThreads(int userThreads, const CpuLoad &load, int current)
{
    if (userThreads > 0)
        return userThreads;
    const int cores = std::max(1, load.cores);
    const double free = double(cores) - std::max(0.0, load.othersRunnable);
    const auto clampToCores = [cores](double n) {
        return std::clamp(int(n), 1, cores);
    };
    if (current <= 0)
        return clampToCores(std::floor(free + 0.5));
    if (free >= double(current) + kHysteresis)
        return clampToCores(std::floor(free + 1.0 - kHysteresis));
    if (free <= double(current) - kHysteresis)
        return clampToCores(std::ceil(free - 1.0 + kHysteresis));
    return std::min(current, cores);
}

bool isContended(const CpuLoad &load)
{
    return load.othersRunnable >= 0.75 || load.pressure_pct >= 20.0;
}

QJsonObject contentionJson(const CpuLoad &load, int threads)
{
    return QJsonObject{{QStringLiteral("cpu_pressure_pct"), load.pressure_pct},
                       {QStringLiteral("others_runnable"),
                        std::round(load.othersRunnable * 100.0) / 100.0},
                       {QStringLiteral("threads"), threads}};
}

CpuLoadMonitor::CpuLoadMonitor(int interval_ms)
    : m_interval_ms(interval_ms)
{
    m_clock.start();
}

CpuLoad CpuLoadMonitor::readNow()
{
    CpuLoad load;
    load.cores = affinityCores();
    const int all = procsRunning();
    // procs_running counts this process's runnable threads too (the caller, spinning OpenMP
    // threads): they are not "others".
    load.othersRunnable = all < 0 ? 0.0 : std::max(0, all - ownRunningThreads());
    load.pressure_pct = cpuPressure();
    return load;
}

void CpuLoadMonitor::prime(int readings, int gap_ms)
{
    CpuLoad least = readNow();
    for (int i = 1; i < readings; ++i) {
        QThread::msleep(gap_ms);
        const CpuLoad next = readNow();
        if (next.othersRunnable < least.othersRunnable)
            least = next;
    }
    m_load = least;
    m_primed = true;
    m_last_ms = m_clock.elapsed();
}

const CpuLoad &CpuLoadMonitor::poll()
{
    const qint64 now_ms = m_clock.elapsed();
    if (m_primed && now_ms - m_last_ms < m_interval_ms)
        return m_load;
    const CpuLoad sample = readNow();
    if (!m_primed) {
        m_load = sample;
        m_primed = true;
    } else {
        const double dt_s = double(now_ms - m_last_ms) / 1000.0;
        const double alpha = 1.0 - std::exp(-dt_s / kSmoothing_s);
        m_load.cores = sample.cores;
        m_load.othersRunnable += alpha * (sample.othersRunnable - m_load.othersRunnable);
        m_load.pressure_pct = sample.pressure_pct;   // the kernel's own 10 s average
    }
    m_last_ms = now_ms;
    return m_load;
}

ThreadGovernor::ThreadGovernor(int userThreads, int recheck_ms)
    : m_userThreads(userThreads)
    , m_recheck_ms(recheck_ms)
{
    if (automatic())
        m_monitor.prime();
    m_threads = chooseThreads(m_userThreads, m_monitor.load(), 0);
    m_sinceChoice.start();
}

bool ThreadGovernor::update(bool now)
{
    if (!automatic())
        return false;
    m_monitor.poll();
    if (!now && m_sinceChoice.elapsed() < m_recheck_ms)
        return false;
    m_sinceChoice.restart();
    const int next = chooseThreads(m_userThreads, m_monitor.load(), m_threads);
    if (next == m_threads)
        return false;
    m_threads = next;
    return true;
}

} // namespace ms
