#include "panels/data/DatasetPreviewJob.h"

#include "data/CsvReader.h"
#include "data/DatasetRegistry.h"
#include "data/TextDataset.h"
#include "data/Tokenizer.h"
#include "jobs/JobContext.h"

#include <QFileInfo>

namespace ms::ui {

DatasetPreviewJob::DatasetPreviewJob(ms::DatasetOptions options, int samplesPerSplit,
                                     int csvRows, std::shared_ptr<DatasetPreview> out)
    : m_options(std::move(options))
    , m_samplesPerSplit(samplesPerSplit)
    , m_csvRows(csvRows)
    , m_out(std::move(out))
{}

QString DatasetPreviewJob::title() const
{
    const QFileInfo info(m_options.source);
    return QStringLiteral("Read %1").arg(info.exists() ? info.fileName() : m_options.source);
}

QJsonObject DatasetPreviewJob::spec() const
{
    return {{QStringLiteral("dataset"), m_options.source},
            {QStringLiteral("label_column"), m_options.labelColumn},
            {QStringLiteral("text_column"), m_options.textColumn},
            {QStringLiteral("validation_fraction"), m_options.validationFraction},
            {QStringLiteral("seed"), qint64(m_options.seed)}};
}

ms::JobResult DatasetPreviewJob::run(ms::JobContext &context)
{
    context.setProgress(0.0, QStringLiteral("Reading %1").arg(m_options.source));
    // Throws ms::Error naming the file and what is wrong: the runner makes it the message.
    // A cancel (the window closing, which cancels every job) ends the read between chunks.
    ms::DatasetOptions options = m_options;
    options.isCancelled = [&context] { return context.isCancelled(); };
    options.warn = [&context](const QString &message) {
        context.log(QStringLiteral("warning: ") + message);
    };
    if (ms::TextDatasetRegistry::instance().accepts(options)) {
        const ms::TextDataset text = ms::TextDatasetRegistry::instance().load(options);
        context.setProgress(0.6, QStringLiteral("Counting tokens"));
        // The byte tokenizer: what training uses unless told otherwise.
        *m_out = previewOfText(text, *ms::Tokenizer::named(QStringLiteral("byte")),
                               m_samplesPerSplit);
        context.setProgress(1.0);
        return ms::JobResult{ms::JobStatus::Finished, QString(), text.describe()};
    }
    const ms::Dataset dataset = ms::DatasetRegistry::instance().load(options);
    context.setProgress(0.8, QStringLiteral("Counting classes"));
    *m_out = previewOf(dataset, m_samplesPerSplit);
    if (dataset.readerName == QLatin1String("csv"))
        m_out->csvRows = ms::CsvReader::headRows(dataset.source, m_csvRows);
    context.setProgress(1.0);
    ms::JobResult result;
    result.status = ms::JobStatus::Finished;
    result.output = dataset.describe();
    return result;
}

} // namespace ms::ui
