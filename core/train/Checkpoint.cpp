#include "train/Checkpoint_p.h"

#include "common/Error.h"
#include "models/Model.h"

#include <torch/optim/optimizer.h>
#include <torch/serialize.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSaveFile>

namespace ms::Checkpoint {

namespace {

QString checkpointDir(const QString &runDir)
{
    return runDir + QStringLiteral("/checkpoint");
}

void writeJson(const QString &path, const QJsonObject &json)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)
        || file.write(QJsonDocument(json).toJson()) < 0 || !file.commit())
        throw Error(QStringLiteral("Cannot write %1: %2. Check free disk space and "
                                   "permissions.").arg(path, file.errorString()));
}

QJsonObject readJson(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("Cannot read %1: %2.").arg(path, file.errorString()));
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &error);
    if (!doc.isObject())
        throw Error(QStringLiteral("%1 is damaged (%2 at offset %3).")
                        .arg(path, error.errorString(), QString::number(error.offset)));
    return doc.object();
}

QString epochFile(const QString &runDir, int epoch, const char *suffix)
{
    return checkpointDir(runDir)
           + QStringLiteral("/epoch-%1.%2").arg(epoch, 3, 10, QLatin1Char('0'))
                 .arg(QLatin1String(suffix));
}

} // namespace

void writeConfig(const QString &runDir, const TrainConfig &config)
{
    writeJson(runDir + QStringLiteral("/config.json"), config.toJson());
}

TrainConfig readConfig(const QString &runDir)
{
    const QString path = runDir + QStringLiteral("/config.json");
    if (!QFile::exists(path))
        throw Error(QStringLiteral("%1 is not a training run folder (it has no config.json). "
                                   "--resume takes the run folder a training printed.")
                        .arg(runDir));
    return TrainConfig::fromJson(readJson(path));
}

void write(const QString &runDir, int epochsDone, qint64 step, const QJsonObject &metrics,
           const Model &model, torch::optim::Optimizer &optimizer)
{
    const QString dir = checkpointDir(runDir);
    if (!QDir().mkpath(dir))
        throw Error(QStringLiteral("Cannot create %1: check free disk space and permissions.")
                        .arg(dir));
    const QString modelPath = epochFile(runDir, epochsDone, "model.pt");
    const QString optimPath = epochFile(runDir, epochsDone, "optim.pt");
    model.save(modelPath);
    const QString tmp = optimPath + QStringLiteral(".tmp");
    try {
        torch::save(optimizer, tmp.toStdString());
    } catch (const c10::Error &e) {
        QFile::remove(tmp);
        throw Error(QStringLiteral("Cannot write the checkpoint %1: %2")
                        .arg(optimPath, QString::fromStdString(e.what_without_backtrace())));
    }
    if (QFile::exists(optimPath))
        QFile::remove(optimPath);
    if (!QFile::rename(tmp, optimPath))
        throw Error(QStringLiteral("Cannot write the checkpoint %1.").arg(optimPath));

    const QJsonObject previous = QFile::exists(dir + QStringLiteral("/state.json"))
                                     ? readJson(dir + QStringLiteral("/state.json"))
                                     : QJsonObject();
    writeJson(dir + QStringLiteral("/state.json"),
              QJsonObject{{QStringLiteral("epochs_done"), epochsDone},
                          {QStringLiteral("step"), QString::number(step)},
                          {QStringLiteral("metrics"), metrics},
                          {QStringLiteral("model"), QFileInfo(modelPath).fileName()},
                          {QStringLiteral("optimizer"), QFileInfo(optimPath).fileName()}});
    // Only once the new state is committed may the previous epoch's files go.
    const int before = previous.value(QStringLiteral("epochs_done")).toInt(0);
    if (before > 0 && before != epochsDone) {
        QFile::remove(epochFile(runDir, before, "model.pt"));
        QFile::remove(epochFile(runDir, before, "optim.pt"));
    }
}

bool readState(const QString &runDir, State *state)
{
    const QString path = checkpointDir(runDir) + QStringLiteral("/state.json");
    if (!QFile::exists(path))
        return false;
    const QJsonObject json = readJson(path);
    state->epochsDone = json.value(QStringLiteral("epochs_done")).toInt();
    state->step = json.value(QStringLiteral("step")).toString().toLongLong();
    state->metrics = json.value(QStringLiteral("metrics")).toObject();
    state->modelPath = checkpointDir(runDir) + QLatin1Char('/')
                       + json.value(QStringLiteral("model")).toString();
    state->optimizerPath = checkpointDir(runDir) + QLatin1Char('/')
                           + json.value(QStringLiteral("optimizer")).toString();
    if (state->epochsDone < 1 || !QFile::exists(state->modelPath)
        || !QFile::exists(state->optimizerPath))
        throw Error(QStringLiteral("The checkpoint in %1 is incomplete: its model or optimizer "
                                   "file is missing. Start the run again.").arg(runDir));
    return true;
}

void loadOptimizer(const QString &path, torch::optim::Optimizer &optimizer)
{
    try {
        torch::load(optimizer, path.toStdString());
    } catch (const c10::Error &e) {
        throw Error(QStringLiteral("Cannot read the optimizer state %1: %2")
                        .arg(path, QString::fromStdString(e.what_without_backtrace())));
    }
}

} // namespace ms::Checkpoint
