#include "DatasetProbe.h"

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
    if (const auto builtin = ms::DatasetRegistry::instance().builtins().find(trimmed)) {
        // Built-ins are the MNIST family: 28x28 grey images, 10 classes.
        Info info;
        info.sampleShape = {1, 28, 28};
        info.numClasses = 10;
        info.assumed = true;
        const ms::BuiltinDataset &dataset = builtin->info();
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
    if (!QFileInfo::exists(trimmed)) {
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
        } catch (const ms::Error &e) {
            result->error = e.message();
        } catch (const std::exception &e) {
            result->error = QString::fromUtf8(e.what());
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
