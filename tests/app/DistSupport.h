#pragma once

// What the data-parallel tests (tst_cli_dist, tst_cli_dist_failures) share: the lean recipe,
// the flags of one "host" on 127.0.0.1, and waiting on worker processes.

#include "app/CliRun.h"
#include "TestSupport.h"

#include "data/DatasetRegistry.h"
#include "models/Model.h"

#include <QElapsedTimer>
#include <QHostAddress>
#include <QProcess>
#include <QTcpServer>
#include <QTest>

namespace ms::test::dist {

using Run = ms::test::CliRun;
using ms::test::cliPath;



inline int freePort()
{
    QTcpServer probe;
    if (!probe.listen(QHostAddress::LocalHost, 0))
        return 0;
    return probe.serverPort();
}

inline QStringList recipe(const QString &workspace, int epochs = 1)
{
    return {"train", "--workspace", workspace, "--dataset", "fashion-mnist", "--arch", "mlp",
            "--limit", "2000", "--epochs", QString::number(epochs), "--threads", "1",
            "--seed", "3",
            // 1800 training rows in batches of 63: shards of 32 and 31, a last batch of 36.
            "--batch-size", "63", "--lr", "0.002"};
}

inline QStringList host(int nodeRank, int port, const QStringList &more = {})
{
    return QStringList{"--nnodes", "2", "--node-rank", QString::number(nodeRank),
                       "--master-addr", "127.0.0.1", "--master-port", QString::number(port)}
           + more;
}

inline void start(QProcess &p, const QStringList &args)
{
    p.start(cliPath(), args);
    QVERIFY2(p.waitForStarted(), qPrintable(p.errorString()));
}

inline Run finish(QProcess &p, int timeout_ms = 240000)
{
    if (!p.waitForFinished(timeout_ms)) {
        p.kill();
        p.waitForFinished();
    }
    return Run{p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
               QString::fromUtf8(p.readAllStandardOutput()),
               QString::fromUtf8(p.readAllStandardError())};
}

// Waits until `p` has printed a line containing `text` on stdout (or ended); keeps what it read.
inline bool waitForOutput(QProcess &p, const QString &text, QByteArray &seen,
                          int timeout_ms = 120000)
{
    QElapsedTimer clock;
    clock.start();
    while (!seen.contains(text.toUtf8())) {
        if (p.state() == QProcess::NotRunning || clock.elapsed() > timeout_ms)
            return false;
        p.waitForReadyRead(1000);
        seen += p.readAllStandardOutput();
    }
    return true;
}

inline std::vector<float> testLogits(const QString &modelPath, const Dataset &data)
{
    const Model model = Model::load(modelPath);
    std::vector<qint64> shape{data.test.count()};
    shape.insert(shape.end(), data.sampleShape.begin(), data.sampleShape.end());
    return model.predict(data.test.features, shape);
}


} // namespace ms::test::dist
