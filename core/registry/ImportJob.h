#pragma once

#include "jobs/Job.h"
#include "registry/ModelImport.h"

namespace ms {

// Importing a .pt as a Job (docs/architecture.md, "Decisions"): loading and test-running a large
// TorchScript file takes seconds, so the window runs it on a worker like any other long work. The
// worker opens its own Registry of `workspaceRoot` (Qt SQL connections are per thread). The
// result's output holds {"ref": "name:N", "version_id": id, "warnings": [...]}.
class ImportJob final : public Job
{
public:
    ImportJob(ImportOptions options, QString workspaceRoot);

    QString kind() const override { return QStringLiteral("import"); }
    QString title() const override;
    QJsonObject spec() const override;
    JobResult run(JobContext &context) override;

private:
    ImportOptions m_options;
    QString m_workspace;
};

} // namespace ms
