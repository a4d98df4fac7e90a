#include "train/LocalWorkers_p.h"

#include "common/Error.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QProcess>
#include <QSaveFile>

#include <csignal>

#include <sys/prctl.h>

namespace ms {

LocalWorkers::LocalWorkers() = default;

LocalWorkers::~LocalWorkers()
{
    for (auto &w : m_workers) {
        if (w->state() != QProcess::NotRunning) {
            w->kill();
            w->waitForFinished(5000);
        }
    }
}

void LocalWorkers::start(const QString &cli, int worldSize, int port, int timeout_s,
                         const QJsonObject &recipe, const QString &workspace,
                         const QString &runDir, bool resume)
{
    if (!QFileInfo(cli).isExecutable())
        throw Error(QStringLiteral("Cannot start the other processes: they run %1, which is "
                                   "missing. Set Processes to 1, or reinstall ModelStudio.")
                        .arg(cli));
    const QString dir = runDir + QStringLiteral("/workers");
    QDir().mkpath(dir);
    QStringList args{QStringLiteral("train"), QStringLiteral("--json"),
                     QStringLiteral("--timeout-s"), QString::number(timeout_s)};
    if (resume) {
        args << QStringLiteral("--resume") << runDir;
    } else {
        const QString specPath = dir + QStringLiteral("/spec.json");
        QSaveFile spec(specPath);
        if (!spec.open(QIODevice::WriteOnly)
            || spec.write(QJsonDocument(recipe).toJson()) < 0 || !spec.commit())
            throw Error(QStringLiteral("Cannot write %1 for the other processes: check that the "
                                       "workspace is writable.").arg(specPath));
        args << QStringLiteral("--config") << specPath << QStringLiteral("--workspace")
             << workspace;
    }
    for (int rank = 1; rank < worldSize; ++rank) {
        auto p = std::make_unique<QProcess>();
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("MASTER_ADDR"), QStringLiteral("127.0.0.1"));
        env.insert(QStringLiteral("MASTER_PORT"), QString::number(port));
        env.insert(QStringLiteral("WORLD_SIZE"), QString::number(worldSize));
        env.insert(QStringLiteral("RANK"), QString::number(rank));
        env.insert(QStringLiteral("LOCAL_RANK"), QString::number(rank));
        p->setProcessEnvironment(env);
        p->setStandardOutputFile(QProcess::nullDevice());
        p->setStandardErrorFile(dir + QStringLiteral("/rank-%1.log").arg(rank));
        // A window that dies takes its workers with it.
        p->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
        p->start(cli, args);
        if (!p->waitForStarted())
            throw Error(QStringLiteral("Cannot start process %1 of %2 (%3): %4")
                            .arg(QString::number(rank), QString::number(worldSize), cli,
                                 p->errorString()));
        m_workers.push_back(std::move(p));
    }
}

void LocalWorkers::finish(int timeout_ms)
{
    for (auto &w : m_workers) {
        if (!w->waitForFinished(timeout_ms))
            w->kill();
    }
}

} // namespace ms
