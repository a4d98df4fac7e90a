#include "panels/train/DatasetProbe.h"

#include "common/Error.h"
#include "data/DatasetRegistry.h"

#include <QFileInfo>
#include <QThread>

#include <exception>
#include <memory>

namespace ms::ui {

DatasetProbe::DatasetProbe(QObject *parent)
    : QObject(parent)
{}

DatasetProbe::~DatasetProbe()
{
    if (m_thread) {
        m_thread->wait();
        delete m_thread;
    }
}

void DatasetProbe::probe(const QString &source)
{
    const QString trimmed = source.trimmed();
    if (trimmed.isEmpty()) {
        Info info;
        info.error = tr("Choose a dataset: a built-in name, a folder or a CSV file.");
        Q_EMIT ready(source, info);
        return;
    }
    const auto builtin = ms::DatasetRegistry::instance().builtins().find(trimmed);
    if (builtin && builtin->info().describesSamples()) {
        // The registry says what its samples are: no need to read them.
        const ms::BuiltinDataset &dataset = builtin->info();
        Info info;
        info.sampleShape = dataset.sampleShape;
        info.numClasses = dataset.numClasses;
        info.assumed = true;
        if (!dataset.path.isEmpty() && !QFileInfo::exists(dataset.path)) {
            info.error = tr("%1 is not installed (expected at %2). Install the Debian package "
                            "%3.").arg(dataset.name, dataset.path, dataset.debianPackage);
        }
        Q_EMIT ready(source, info);
        return;
    }
    if (const auto it = m_cache.constFind(trimmed); it != m_cache.cend()) {
        Q_EMIT ready(source, *it);
        return;
    }
    // A built-in that does not describe its samples is read like a path (the registry resolves
    // its name), and says itself when it is not installed.
    if (!builtin && !QFileInfo::exists(trimmed)) {
        Info info;
        info.error = tr("No dataset named \"%1\" is built in, and no such file or folder "
                        "exists.").arg(trimmed);
        Q_EMIT ready(source, info);
        return;
    }
    if (m_thread) {
        m_pending = trimmed;
        return;
    }
    startRead(trimmed);
}

void DatasetProbe::startRead(const QString &source)
{
    auto result = std::make_shared<Info>();
    m_thread = QThread::create([source, result] {
        try {
            ms::DatasetOptions options;
            options.source = source;
            const ms::Dataset dataset = ms::DatasetRegistry::instance().load(options);
            result->sampleShape = dataset.sampleShape;
            result->numClasses = dataset.numClasses();
        } catch (const std::exception &e) {
            result->error = errorMessage(e);
        }
    });
    m_thread->setObjectName(QStringLiteral("dataset-probe"));
    connect(m_thread, &QThread::finished, this, [this, source, result] {
        m_thread->wait();
        delete m_thread;
        m_thread = nullptr;
        m_cache.insert(source, *result);
        Q_EMIT ready(source, *result);
        if (!m_pending.isEmpty()) {
            const QString next = m_pending;
            m_pending.clear();
            probe(next);
        }
    });
    m_thread->start();
}

} // namespace ms::ui
