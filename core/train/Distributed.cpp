#include "train/Distributed_p.h"

#include "common/Error.h"
#include "common/Excerpt.h"
#include "train/TrainConfig.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/torch.h>

#include <QCryptographicHash>
#include <QJsonDocument>
#include <QStringList>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <utility>

#ifndef USE_C10D_GLOO
#error "Distributed.cpp needs USE_C10D_GLOO (core/CMakeLists.txt sets it on this file)"
#endif

namespace ms {

namespace {

// An environment variable as an integer in [low, high]; `fallback` when unset.
int envInt(const char *name, int fallback, int low, int high, const QString &hint)
{
    const QByteArray text = qgetenv(name);
    if (text.isEmpty())
        return fallback;
    bool ok = false;
    const qint64 v = text.trimmed().toLongLong(&ok);
    if (!ok || v < low || v > high)
        throw Error(QStringLiteral("%1=%2 is not valid: %3.")
                        .arg(QLatin1String(name), excerpt(QString::fromLocal8Bit(text)), hint));
    return int(v);
}

} // namespace

DistributedSetup DistributedSetup::fromEnvironment(int timeout_s)
{
    DistributedSetup s;
    s.timeout_s = timeout_s;
    if (qEnvironmentVariableIsEmpty("WORLD_SIZE"))
        return s;
    // Range checks with the variable's own name first; validate() then says the rest.
    s.worldSize = envInt("WORLD_SIZE", 1, 0, 1 << 20,
                         QStringLiteral("it must be the number of processes in the job, 1 or "
                                        "more"));
    s.rank = envInt("RANK", 0, -(1 << 20), 1 << 20,
                    QStringLiteral("it must be this process's rank, 0 to WORLD_SIZE-1"));
    s.localRank = envInt("LOCAL_RANK", 0, 0, 1 << 20,
                         QStringLiteral("it must be this process's rank on its host, 0 or more"));
    s.masterPort = envInt("MASTER_PORT", s.masterPort, 0, 1 << 20,
                          QStringLiteral("it must be a TCP port, 1 to 65535"));
    if (!qEnvironmentVariableIsEmpty("MASTER_ADDR"))
        s.masterAddr = qEnvironmentVariable("MASTER_ADDR").trimmed();
    s.validate();
    return s;
}

void DistributedSetup::validate() const
{
    if (worldSize < 1)
        throw Error(QStringLiteral("The world size is %1: a job has at least one process "
                                   "(WORLD_SIZE, or --nnodes x --nproc-per-node).")
                        .arg(worldSize));
    if (rank < 0 || rank >= worldSize)
        throw Error(QStringLiteral("Rank %1 is out of range for a world of %2 processes: ranks "
                                   "run from 0 to %3 (RANK, or --node-rank below --nnodes).")
                        .arg(QString::number(rank), QString::number(worldSize),
                             QString::number(worldSize - 1)));
    if (masterPort < 1 || masterPort > 65535)
        throw Error(QStringLiteral("The master port %1 is not a TCP port: choose one from 1 to "
                                   "65535 (MASTER_PORT, --master-port).").arg(masterPort));
    if (masterAddr.isEmpty())
        throw Error(QStringLiteral("The master address is empty: give rank 0's host "
                                   "(MASTER_ADDR, --master-addr)."));
    if (timeout_s < 1)
        throw Error(QStringLiteral("The timeout must be at least 1 second (--timeout-s, got "
                                   "%1).").arg(timeout_s));
}

QString DistributedSetup::describe() const
{
    return QStringLiteral("rank %1 of %2").arg(QString::number(rank), QString::number(worldSize));
}

void checkDistributable(const TrainConfig &config)
{
    if (config.task == QLatin1String("lm"))
        throw Error(QStringLiteral("Data-parallel training takes classifiers; a language model "
                                   "(--task lm) trains in one process: set Processes to 1 in "
                                   "the Train panel, or leave out --nproc-per-node/--nnodes "
                                   "(and WORLD_SIZE) on the command line."));
}

QString recipeHash(const TrainConfig &config)
{
    QJsonObject recipe = config.toJson();
    recipe.remove(QStringLiteral("threads"));
    // QJsonObject keeps its keys sorted, so equal recipes give equal bytes.
    return QString::fromLatin1(
        QCryptographicHash::hash(QJsonDocument(recipe).toJson(QJsonDocument::Compact),
                                 QCryptographicHash::Sha256)
            .toHex()
            .left(16));
}

namespace dist {

namespace {

std::string key(const char *what, int rank)
{
    return std::string("ms/") + what + "/" + std::to_string(rank);
}

QString rankList(const std::vector<int> &ranks)
{
    QStringList parts;
    for (int r : ranks)
        parts << QString::number(r);
    return (ranks.size() == 1 ? QStringLiteral("rank ") : QStringLiteral("ranks "))
           + parts.join(QStringLiteral(", "));
}

QString capitalised(const QString &text)
{
    return text.left(1).toUpper() + text.mid(1);
}

QString reason(const std::exception &e)
{
    if (const auto *c = dynamic_cast<const c10::Error *>(&e))
        return excerpt(QString::fromStdString(c->what_without_backtrace()).section(
                           QLatin1Char('\n'), 0, 0),
                       200);
    return excerpt(QString::fromUtf8(e.what()).section(QLatin1Char('\n'), 0, 0), 200);
}

bool isLoopback(const QString &address)
{
    // The core has no Qt Network: loopback written the ways people write it.
    return address == QLatin1String("localhost") || address.startsWith(QLatin1String("127."))
           || address == QLatin1String("::1");
}

} // namespace

struct Group::Impl
{
    DistributedSetup setup;
    c10::intrusive_ptr<c10d::TCPStore> store;
    c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
    double gradientSeconds = 0.0;

    std::chrono::milliseconds timeout() const { return std::chrono::seconds(setup.timeout_s); }
    void openStore();
    void checkIn(const QString &recipeHash);
    QString verdict(const QString &recipeHash);
    void waitForReaders();
    void connectGroup();
};

void Group::Impl::openStore()
{
    // c10d logs every failed connect and bind through glog on stderr; the one message the
    // studio gives says what happened. GLOG_minloglevel, when set, is the user's choice.
    if (qEnvironmentVariableIsEmpty("GLOG_minloglevel"))
        FLAGS_minloglevel = std::max(FLAGS_minloglevel, int(google::GLOG_FATAL));
    c10d::TCPStoreOptions options;
    options.port = std::uint16_t(setup.masterPort);
    options.isServer = setup.rank == 0;
    // The ranks' arrival is checked by our own keys (checkIn), which can name who is missing.
    options.waitWorkers = false;
    options.timeout = timeout();
    const QString where = QStringLiteral("%1:%2").arg(setup.masterAddr,
                                                      QString::number(setup.masterPort));
    try {
        store = c10::make_intrusive<c10d::TCPStore>(setup.masterAddr.toStdString(), options);
    } catch (const std::exception &e) {
        const QString why = reason(e);
        if (setup.rank == 0 && why.contains(QLatin1String("in use"), Qt::CaseInsensitive))
            throw Error(QStringLiteral("Port %1 is in use on this host, so rank 0 cannot host "
                                       "the job there: choose another --master-port "
                                       "(MASTER_PORT), or leave it out with --nproc-per-node "
                                       "to take a free one.")
                            .arg(setup.masterPort));
        if (setup.rank == 0)
            throw Error(QStringLiteral("Rank 0 cannot host the job at %1 (%2): MASTER_ADDR "
                                       "must name rank 0's own host, and the port must be "
                                       "free.").arg(where, why));
        throw Error(QStringLiteral("Cannot reach the master %1 within %2 s: start rank 0 there, "
                                   "check --master-addr/--master-port (MASTER_ADDR/MASTER_PORT) "
                                   "and that the port is open to this host.")
                        .arg(where, QString::number(setup.timeout_s)));
    }
}

// Every rank says it is here and what it runs; rank 0 decides whether the job can start and
// posts the verdict, so every rank stops with the same message.
void Group::Impl::checkIn(const QString &recipeHash)
{
    if (store->add(key("arrived", setup.rank), 1) > 1)
        throw Error(QStringLiteral("Rank %1 was started twice: give every process its own rank "
                                   "(RANK, or --node-rank on each host).").arg(setup.rank));
    const QByteArray hash = recipeHash.toLatin1();
    store->set(key("recipe", setup.rank), std::vector<uint8_t>(hash.begin(), hash.end()));
    std::string text;
    if (setup.rank == 0) {
        text = verdict(recipeHash).toStdString();
        store->set("ms/verdict", std::vector<uint8_t>(text.begin(), text.end()));
        if (text != "ok")
            waitForReaders();
    } else {
        try {
            store->wait({"ms/verdict"}, timeout());
        } catch (const std::exception &) {
            throw Error(QStringLiteral("Rank 0 did not let the job start within %1 s (some rank "
                                       "never arrived, or rank 0 stopped): start every rank, or "
                                       "raise --timeout-s.").arg(setup.timeout_s));
        }
        const std::vector<uint8_t> v = store->get("ms/verdict");
        text.assign(v.begin(), v.end());
        store->set(key("read", setup.rank), {1});
    }
    if (text != "ok")
        throw Error(QString::fromStdString(text));
}

// A refusal ends rank 0, and with it the store: it stays until every rank that arrived has
// read the verdict (a few seconds at most), so that they stop with its message.
void Group::Impl::waitForReaders()
{
    std::vector<std::string> readers;
    for (int r = 1; r < setup.worldSize; ++r) {
        if (store->check({key("recipe", r)}))
            readers.push_back(key("read", r));
    }
    try {
        if (!readers.empty())
            store->wait(readers, std::chrono::seconds(std::min(setup.timeout_s, 5)));
    } catch (const std::exception &) {
        // A rank that does not read it in time stops on its own timeout.
    }
}

QString Group::Impl::verdict(const QString &recipeHash)
{
    std::vector<std::string> keys;
    for (int r = 1; r < setup.worldSize; ++r)
        keys.push_back(key("recipe", r));
    try {
        store->wait(keys, timeout());
    } catch (const std::exception &) {
        std::vector<int> missing;
        for (int r = 1; r < setup.worldSize; ++r) {
            if (!store->check({key("recipe", r)}))
                missing.push_back(r);
        }
        return QStringLiteral("%1 of %2 did not arrive within %3 s: start %4 (the same command "
                              "with its own --node-rank or RANK), or raise --timeout-s.")
            .arg(capitalised(rankList(missing)), QString::number(setup.worldSize),
                 QString::number(setup.timeout_s),
                 missing.size() == 1 ? QStringLiteral("it") : QStringLiteral("them"));
    }
    std::vector<int> different;
    for (int r = 1; r < setup.worldSize; ++r) {
        const std::vector<uint8_t> v = store->get(key("recipe", r));
        if (QByteArray(reinterpret_cast<const char *>(v.data()), qsizetype(v.size()))
            != recipeHash.toLatin1())
            different.push_back(r);
    }
    if (!different.empty())
        return QStringLiteral("%1 started with a different recipe than rank 0 (the flags, "
                              "--config or --resume differ): start every rank with the same "
                              "command but its rank.").arg(capitalised(rankList(different)));
    return QStringLiteral("ok");
}

void Group::Impl::connectGroup()
{
    auto options = c10d::ProcessGroupGloo::Options::create(timeout());   // never the 30 min
    // As PyTorch chooses: GLOO_SOCKET_IFNAME names the interface; a job on loopback stays
    // there; otherwise the address this host's name resolves to.
    const QByteArray ifname = qgetenv("GLOO_SOCKET_IFNAME");
    if (!ifname.isEmpty())
        options->devices.push_back(
            c10d::ProcessGroupGloo::createDeviceForInterface(ifname.toStdString()));
    else if (isLoopback(setup.masterAddr))
        options->devices.push_back(
            c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    else
        options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>("gloo", store);
    group = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, setup.rank, setup.worldSize,
                                                        options);
}

Group::Group(const DistributedSetup &setup, const QString &recipeHash,
             const std::function<void(int port)> &listening)
    : d(std::make_unique<Impl>())
{
    DistributedSetup checked = setup;
    if (listening && setup.rank == 0 && setup.masterPort == 0)
        checked.masterPort = 1;   // "any free port": the store binds one
    checked.validate();
    d->setup = setup;
    d->openStore();
    if (listening) {
        d->setup.masterPort = d->store->getPort();
        listening(d->setup.masterPort);
    }
    d->checkIn(recipeHash);
    try {
        d->connectGroup();
    } catch (const Error &) {
        throw;
    } catch (const std::exception &e) {
        failed(e, "connecting");
    }
}

Group::~Group() = default;

int Group::rank() const
{
    return d->setup.rank;
}

int Group::size() const
{
    return d->setup.worldSize;
}

void Group::failed(const std::exception &e, const char *during)
{
    const DistributedSetup &s = d->setup;
    // Survivors say so in the store; whoever does not within a few seconds is gone. Rank 0
    // hosts the store: when it cannot be reached, rank 0 is the one gone.
    std::vector<int> missing;
    try {
        d->store->set(key("alive", s.rank), {1});
        std::vector<std::string> others;
        for (int r = 0; r < s.worldSize; ++r) {
            if (r != s.rank)
                others.push_back(key("alive", r));
        }
        try {
            d->store->wait(others, std::chrono::seconds(std::min(s.timeout_s, 5)));
        } catch (const std::exception &) {
            for (int r = 0; r < s.worldSize; ++r) {
                if (r != s.rank && !d->store->check({key("alive", r)}))
                    missing.push_back(r);
            }
        }
    } catch (const std::exception &) {
        missing = {0};
    }
    const QString who =
        missing.empty() ? QStringLiteral("A rank") : capitalised(rankList(missing));
    throw Error(QStringLiteral("%1 of %2 stopped answering while %3 (it died, was stopped, or "
                               "its host is unreachable; %4), so %5 stops too and the run is "
                               "marked failed.")
                    .arg(who, QString::number(s.worldSize),
                         QLatin1String(during), reason(e), s.describe()));
}

void Group::broadcast(const std::vector<at::Tensor> &tensors, const char *during)
{
    torch::NoGradGuard noGrad;
    try {
        std::vector<c10::intrusive_ptr<c10d::Work>> works;
        for (const at::Tensor &t : tensors) {
            std::vector<at::Tensor> one{t};
            works.push_back(d->group->broadcast(one));
        }
        for (auto &w : works)
            w->wait();
    } catch (const std::exception &e) {
        failed(e, during);
    }
}

double Group::takeGradientSeconds()
{
    return std::exchange(d->gradientSeconds, 0.0);
}

void Group::addGradientSeconds(double seconds)
{
    d->gradientSeconds += seconds;
}

std::function<void()> Group::startSum(at::Tensor flat)
{
    std::vector<at::Tensor> one{flat};
    c10::intrusive_ptr<c10d::Work> work;
    try {
        work = d->group->allreduce(one);
    } catch (const std::exception &e) {
        failed(e, "training");
    }
    return [this, work] {
        try {
            work->wait();
        } catch (const std::exception &e) {
            failed(e, "training");
        }
    };
}

std::vector<double> Group::sum(std::vector<double> values, const char *during)
{
    at::Tensor t = torch::tensor(values, torch::kFloat64);
    try {
        std::vector<at::Tensor> one{t};
        d->group->allreduce(one)->wait();
    } catch (const std::exception &e) {
        failed(e, during);
    }
    const double *p = t.data_ptr<double>();
    return std::vector<double>(p, p + t.numel());
}

} // namespace dist

} // namespace ms
