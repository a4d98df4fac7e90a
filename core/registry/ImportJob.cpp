#include "registry/ImportJob.h"

#include "common/Limits.h"
#include "jobs/JobContext.h"

#include <QFileInfo>
#include <QJsonArray>

namespace ms {

ImportJob::ImportJob(ImportOptions options, QString workspaceRoot)
    : m_options(std::move(options))
    , m_workspace(std::move(workspaceRoot))
{}

QString ImportJob::title() const
{
    return QStringLiteral("Import %1").arg(QFileInfo(m_options.path).fileName());
}

QJsonObject ImportJob::spec() const
{
    QJsonArray shape;
    for (const qint64 dim : m_options.exampleShape)
        shape.append(dim);
    QJsonObject spec{{QStringLiteral("path"), m_options.path},
                     {QStringLiteral("name"), m_options.modelName},
                     {QStringLiteral("input_shape"), shape},
                     {QStringLiteral("input_dtype"), m_options.inputDtype},
                     {QStringLiteral("workspace"), m_workspace}};
    if (!m_options.mean.empty()) {
        QJsonArray mean, stdev;
        for (const float v : m_options.mean)
            mean.append(double(v));
        for (const float v : m_options.stdev)
            stdev.append(double(v));
        spec.insert(QStringLiteral("mean"), mean);
        spec.insert(QStringLiteral("std"), stdev);
    }
    if (!m_options.classNames.isEmpty())
        spec.insert(QStringLiteral("classes"), QJsonArray::fromStringList(m_options.classNames));
    return spec;
}

JobResult ImportJob::run(JobContext &context)
{
    context.setProgress(0.0, QStringLiteral("Loading %1").arg(m_options.path));
    QStringList warnings;
    ImportOptions options = m_options;
    if (options.maxModelBytes <= 0)
        options.maxModelBytes = Limits::maxModelBytes(m_workspace);
    // Holds the wrapped artifact (when a normalisation is folded in) until it is stored.
    const PreparedImport prepared = prepareImport(options, &warnings);
    const NewVersion &version = prepared.version;
    for (const QString &warning : std::as_const(warnings))
        context.log(QStringLiteral("warning: ") + warning);
    if (!context.checkPoint())
        return {JobStatus::Cancelled, QStringLiteral("Import cancelled; nothing was added."), {}};
    context.setProgress(0.5, QStringLiteral("Storing %1").arg(m_options.path));
    Registry registry(m_workspace);
    const VersionRecord added = registry.addVersion(version);
    context.setProgress(1.0);
    JobResult result;
    result.status = JobStatus::Finished;
    result.output = {{QStringLiteral("ref"), added.ref()},
                     {QStringLiteral("version_id"), added.id},
                     {QStringLiteral("warnings"), QJsonArray::fromStringList(warnings)}};
    return result;
}

} // namespace ms
