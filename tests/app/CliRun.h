#pragma once

// Runs the built modelstudio-cli as a user or a script would, for the front-end tests.

#include <QJsonDocument>
#include <QJsonObject>
#include <QList>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace ms::test {

inline QString cliPath()
{
    return QStringLiteral(MS_TEST_BIN_DIR "/modelstudio-cli");
}

struct CliRun
{
    int exitCode = -1;   // -1 when the process crashed or timed out
    QString out;
    QString err;

    // stdout as one JSON object (the registry verbs' --json).
    QJsonObject json() const
    {
        const QJsonDocument doc = QJsonDocument::fromJson(out.toUtf8());
        if (!doc.isObject())
            qWarning("not one JSON object: %s", qPrintable(out));
        return doc.object();
    }
    // stdout as JSON lines (train --json).
    QList<QJsonObject> jsonLines() const
    {
        QList<QJsonObject> lines;
        for (const QString &line : out.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
            const QJsonDocument doc = QJsonDocument::fromJson(line.toUtf8());
            if (!doc.isObject())
                qWarning("not a JSON object line: %s", qPrintable(line));
            lines << doc.object();
        }
        return lines;
    }
    // The one "error: ..." line a failure must end with, or an empty string when it is not so.
    QString errorLine() const
    {
        const QStringList lines = err.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        if (lines.size() != 1 || !lines.first().startsWith(QStringLiteral("error: ")))
            return QString();
        return lines.first();
    }
};

inline CliRun runCli(const QStringList &args, int timeout_ms = 240000)
{
    QProcess p;
    p.start(cliPath(), args);
    if (!p.waitForFinished(timeout_ms)) {
        p.kill();
        p.waitForFinished();
    }
    return CliRun{p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1,
                  QString::fromUtf8(p.readAllStandardOutput()),
                  QString::fromUtf8(p.readAllStandardError())};
}

} // namespace ms::test
