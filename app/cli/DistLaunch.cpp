// train's launcher: torchrun's flags, and the local workers of --nproc-per-node as children of
// this binary. The job itself (rendezvous, all-reduce) is the core's (train/Distributed.h).

#include "DistLaunch.h"

#include "Command.h"

#include "common/Error.h"

#include <QCoreApplication>
#include <QHostAddress>
#include <QProcess>
#include <QTcpServer>
#include <QTimer>

#include <atomic>
#include <csignal>
#include <memory>
#include <vector>

#include <sys/prctl.h>

namespace cli {

namespace {

const char *const kLaunchFlags[] = {"nproc-per-node", "nnodes", "node-rank", "master-addr",
                                    "master-port"};

std::atomic<int> g_launcherSignal{0};

void onLauncherSignal(int signal)
{
    g_launcherSignal.store(signal);
}

int intFlag(const QCommandLineParser &parser, const char *name, int fallback, int low, int high)
{
    const QString flag = QString::fromLatin1(name);
    if (!parser.isSet(flag))
        return fallback;
    bool ok = false;
    const int v = parser.value(flag).toInt(&ok);
    if (!ok || v < low || v > high)
        throw ms::Error(QStringLiteral("--%1 takes a whole number from %2 to %3, not \"%4\".")
                            .arg(flag, QString::number(low), QString::number(high),
                                 parser.value(flag)));
    return v;
}

// The arguments without the launch flags (both "--flag value" and "--flag=value"), and without
// --out for a rank other than 0 (rank 0 alone writes it).
QStringList workerArguments(const QStringList &arguments, bool rankZero)
{
    std::vector<const char *> dropped(std::begin(kLaunchFlags), std::end(kLaunchFlags));
    if (!rankZero)
        dropped.push_back("out");
    QStringList out;
    for (int i = 0; i < arguments.size(); ++i) {
        const QString &arg = arguments.at(i);
        bool launch = false;
        for (const char *flag : dropped) {
            const QString name = QStringLiteral("--") + QLatin1String(flag);
            if (arg == name) {
                launch = true;
                ++i;   // its value
            } else if (arg.startsWith(name + QLatin1Char('='))) {
                launch = true;
            }
        }
        if (!launch)
            out << arg;
    }
    return out;
}

// A port nobody listens on now (what torchrun does too: the store binds it a moment later).
int freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        throw ms::Error(QStringLiteral("Cannot find a free TCP port on this host: give one with "
                                       "--master-port."));
    return probe.serverPort();
}

void checkPortFree(int port)
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::Any, quint16(port)))
        throw ms::Error(QStringLiteral("Port %1 is in use on this host, so rank 0 cannot host "
                                       "the job there: choose another --master-port "
                                       "(MASTER_PORT), or leave it out with --nproc-per-node "
                                       "to take a free one.").arg(port));
}

} // namespace

QString outNote(const QString &ranks)
{
    return QStringLiteral("note: --out is written by rank 0 alone, on its own host; %1 here "
                          "writes nothing.\n").arg(ranks);
}

void addLaunchOptions(QCommandLineParser &parser)
{
    parser.addOption({QStringLiteral("nproc-per-node"),
                      QStringLiteral("Data-parallel: start N worker processes on this host; "
                                     "--batch-size stays the global batch (default 1)."),
                      QStringLiteral("N")});
    parser.addOption({QStringLiteral("nnodes"),
                      QStringLiteral("Data-parallel: hosts in the job; run the same command on "
                                     "each with its --node-rank (default 1)."),
                      QStringLiteral("M")});
    parser.addOption({QStringLiteral("node-rank"),
                      QStringLiteral("This host's rank, 0 to M-1; host 0 hosts the job and "
                                     "records the run."),
                      QStringLiteral("R")});
    parser.addOption({QStringLiteral("master-addr"),
                      QStringLiteral("Host 0's address (default 127.0.0.1)."),
                      QStringLiteral("HOST")});
    parser.addOption({QStringLiteral("master-port"),
                      QStringLiteral("Host 0's port for the rendezvous (default: a free port "
                                     "on one host; needed with --nnodes)."),
                      QStringLiteral("P")});
    parser.addOption({QStringLiteral("timeout-s"),
                      QStringLiteral("Data-parallel: a rank missing or silent this long stops "
                                     "the others, which name it (default 60)."),
                      QStringLiteral("S")});
}

LaunchPlan readLaunchPlan(const QCommandLineParser &parser)
{
    LaunchPlan plan;
    for (const char *flag : kLaunchFlags)
        plan.given = plan.given || parser.isSet(QLatin1String(flag));
    plan.nprocPerNode = intFlag(parser, "nproc-per-node", 1, 1, 4096);
    plan.nnodes = intFlag(parser, "nnodes", 1, 0, 1 << 20);
    plan.nodeRank = intFlag(parser, "node-rank", 0, -(1 << 20), 1 << 20);
    plan.masterPort = intFlag(parser, "master-port", 0, 1, 65535);
    plan.timeout_s = intFlag(parser, "timeout-s", 60, 1, 86400);
    plan.masterAddr = parser.value(QStringLiteral("master-addr")).trimmed();
    if (plan.nnodes == 0)
        throw ms::Error(QStringLiteral("--nnodes 0 makes a world of no processes: a job has at "
                                       "least one host."));
    if (plan.nnodes > 1 && plan.masterPort == 0)
        throw ms::Error(QStringLiteral("--nnodes %1 needs --master-port: the same port on every "
                                       "host, free on host 0.").arg(plan.nnodes));
    return plan;
}

ms::DistributedSetup workerSetup(const LaunchPlan &plan)
{
    if (!plan.given)
        return ms::DistributedSetup::fromEnvironment(plan.timeout_s);
    ms::DistributedSetup s;
    s.worldSize = plan.nnodes * plan.nprocPerNode;
    s.rank = plan.nodeRank * plan.nprocPerNode;
    s.localRank = 0;
    if (!plan.masterAddr.isEmpty())
        s.masterAddr = plan.masterAddr;
    if (plan.masterPort != 0)
        s.masterPort = plan.masterPort;
    s.timeout_s = plan.timeout_s;
    if (plan.nodeRank < 0 || plan.nodeRank >= plan.nnodes)
        throw ms::Error(QStringLiteral("--node-rank %1 is out of range for --nnodes %2: host "
                                       "ranks run from 0 to %3.")
                            .arg(QString::number(plan.nodeRank), QString::number(plan.nnodes),
                                 QString::number(plan.nnodes - 1)));
    s.validate();
    return s;
}

int launchWorkers(const QStringList &arguments, const LaunchPlan &plan)
{
    ms::DistributedSetup first = workerSetup(plan);
    if (plan.masterPort == 0)
        first.masterPort = freePort();
    else if (plan.nodeRank == 0)
        checkPortFree(first.masterPort);
    const QStringList args = workerArguments(arguments, true);
    const QStringList otherArgs = workerArguments(arguments, false);
    if (first.rank != 0 && otherArgs.size() != args.size())
        std::fputs(qPrintable(outNote(
                       QStringLiteral("ranks %1 to %2 of %3")
                           .arg(QString::number(first.rank),
                                QString::number(first.rank + plan.nprocPerNode - 1),
                                QString::number(first.worldSize)))),
                   stderr);
    std::vector<std::unique_ptr<QProcess>> workers;
    int failedCode = 0;
    int running = 0;
    // After a failure the others are asked to stop (SIGTERM: rank 0 closes the run as failed
    // when its collective notices the peer gone); ranks that write nothing are killed after a
    // short grace (one waiting to connect does not look at the signal), rank 0 after the
    // timeout it needs to notice.
    QTimer grace, deadline;
    grace.setSingleShot(true);
    deadline.setSingleShot(true);
    QObject::connect(&grace, &QTimer::timeout, [&] {
        for (size_t i = 0; i < workers.size(); ++i) {
            if (first.rank + int(i) != 0)
                workers[i]->kill();
        }
    });
    QObject::connect(&deadline, &QTimer::timeout, [&] {
        for (auto &w : workers)
            w->kill();
    });
    for (int i = 0; i < plan.nprocPerNode; ++i) {
        auto process = std::make_unique<QProcess>();
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("MASTER_ADDR"), first.masterAddr);
        env.insert(QStringLiteral("MASTER_PORT"), QString::number(first.masterPort));
        env.insert(QStringLiteral("WORLD_SIZE"), QString::number(first.worldSize));
        env.insert(QStringLiteral("RANK"), QString::number(first.rank + i));
        env.insert(QStringLiteral("LOCAL_RANK"), QString::number(i));
        process->setProcessEnvironment(env);
        // A launcher that dies takes its workers with it.
        process->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
        if (first.rank + i == 0) {
            process->setProcessChannelMode(QProcess::ForwardedChannels);
        } else {
            process->setProcessChannelMode(QProcess::ForwardedErrorChannel);
            process->setStandardOutputFile(QProcess::nullDevice());
        }
        QProcess *p = process.get();
        QObject::connect(p, &QProcess::finished, [&, p, i](int code, QProcess::ExitStatus status) {
            --running;
            const int rc = status == QProcess::NormalExit ? code : Failed;
            if (status != QProcess::NormalExit && g_launcherSignal.load() == 0)
                std::fprintf(stderr, "error: rank %d (local worker %d) ended by signal\n",
                             first.rank + i, i);
            if (rc != 0 && failedCode == 0) {
                failedCode = rc;
                // Stopped by Ctrl-C or SIGTERM: every rank stops after the same step on its
                // own (the stop flag rides in the step's all-reduce) and rank 0 closes the run
                // as cancelled; another signal would make them quit before that.
                if (g_launcherSignal.load() != 0) {
                    deadline.start((plan.timeout_s + 15) * 1000);
                    if (running == 0)
                        QCoreApplication::quit();
                    return;
                }
                for (auto &w : workers) {
                    if (w.get() != p && w->state() != QProcess::NotRunning)
                        w->terminate();
                }
                grace.start(5000);
                deadline.start((plan.timeout_s + 15) * 1000);
            }
            if (running == 0)
                QCoreApplication::quit();
        });
        process->start(QCoreApplication::applicationFilePath(),
                       first.rank + i == 0 ? args : otherArgs);
        if (!process->waitForStarted()) {
            std::fprintf(stderr, "error: cannot start worker %d: %s\n", i,
                         qPrintable(process->errorString()));
            for (auto &w : workers)
                w->kill();
            return Failed;
        }
        ++running;
        workers.push_back(std::move(process));
    }
    // SIGTERM (a scheduler stopping the job) is passed on to the workers.
    g_launcherSignal.store(0);
    std::signal(SIGINT, onLauncherSignal);
    std::signal(SIGTERM, onLauncherSignal);
    QTimer poll;
    bool forwarded = false;
    QObject::connect(&poll, &QTimer::timeout, [&] {
        // Ctrl-C at a terminal reached the workers already (one process group): a second
        // signal would make them quit without closing the run.
        if (g_launcherSignal.load() != SIGTERM || forwarded)
            return;
        forwarded = true;
        for (auto &w : workers)
            w->terminate();
    });
    poll.start(50);
    QCoreApplication::exec();
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    if (g_launcherSignal.load() != 0 && failedCode == 0)
        return 128 + g_launcherSignal.load();
    return failedCode;
}

} // namespace cli
