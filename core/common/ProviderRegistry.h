#pragma once

#include "common/Error.h"

#include <QList>
#include <QMap>
#include <QMutex>
#include <QMutexLocker>
#include <QString>

#include <memory>

namespace ms {

// A typed registry of named providers (architectures, dataset readers, ...): docs/architecture.md,
// "Decisions". Built-in providers register through add() exactly as a plugin's do. Thread
// safe: jobs look providers up from worker threads.
template <typename Provider>
class ProviderRegistry
{
public:
    // Throws ms::Error when the name is taken: two plugins must not silently shadow each other.
    void add(std::shared_ptr<Provider> provider)
    {
        QMutexLocker lock(&m_mutex);
        const QString name = provider->name();
        if (m_providers.contains(name))
            throw Error(QStringLiteral("A provider named \"%1\" is already registered; "
                                       "rename one of them.").arg(name));
        m_providers.insert(name, std::move(provider));
    }

    bool remove(const QString &name)
    {
        QMutexLocker lock(&m_mutex);
        return m_providers.remove(name) > 0;
    }

    std::shared_ptr<Provider> find(const QString &name) const
    {
        QMutexLocker lock(&m_mutex);
        return m_providers.value(name);
    }

    // Sorted by name.
    QList<std::shared_ptr<Provider>> all() const
    {
        QMutexLocker lock(&m_mutex);
        return m_providers.values();
    }

    QStringList names() const
    {
        QMutexLocker lock(&m_mutex);
        return m_providers.keys();
    }

private:
    mutable QMutex m_mutex;
    QMap<QString, std::shared_ptr<Provider>> m_providers;
};

} // namespace ms
