#pragma once

#include "panels/data/DatasetPreview.h"

#include "data/Dataset.h"
#include "jobs/Job.h"

#include <memory>

namespace ms::ui {

// Reads a dataset for the Data panel on a JobRunner worker (reading Fashion-MNIST takes
// seconds), splits it as a training run with the same options would, and condenses it into a
// DatasetPreview. The preview lands in the shared slot the panel keeps; the runner's queued
// `finished` signal, sent after the worker ends, is when the panel may read it.
class DatasetPreviewJob final : public ms::Job
{
public:
    DatasetPreviewJob(ms::DatasetOptions options, int samplesPerSplit, int csvRows,
                      std::shared_ptr<DatasetPreview> out);

    QString kind() const override { return QStringLiteral("dataset-preview"); }
    QString title() const override;
    QJsonObject spec() const override;
    ms::JobResult run(ms::JobContext &context) override;

private:
    ms::DatasetOptions m_options;
    int m_samplesPerSplit = 0;
    int m_csvRows = 0;
    std::shared_ptr<DatasetPreview> m_out;
};

} // namespace ms::ui
