#include "models/ArchitectureRegistry.h"

#include "common/Error.h"
#include "models/ArchSpec.h"
#include "models/BuiltinArchitectures.h"

#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonParseError>

namespace ms {

ArchitectureRegistry::ArchitectureRegistry()
{
    registerBuiltinArchitectures(*this);
}

ArchitectureRegistry &ArchitectureRegistry::instance()
{
    // Function-local static: built on first use, thread safe, no static-order surprises.
    static ArchitectureRegistry registry;
    return registry;
}

QJsonObject ArchitectureProvider::makeSpec(const std::vector<qint64> &inputShape, int numClasses,
                                           const QJsonObject &params) const
{
    if (!params.isEmpty())
        throw Error(QStringLiteral("The \"%1\" architecture takes no parameters (got \"%2\").")
                        .arg(name(), params.keys().join(QStringLiteral("\", \""))));
    return makeSpec(inputShape, numClasses);
}

QJsonObject ArchitectureRegistry::resolve(const QString &nameOrPath,
                                          const std::vector<qint64> &inputShape,
                                          int numClasses, const QJsonObject &params) const
{
    if (const auto provider = m_providers.find(nameOrPath)) {
        const QJsonObject spec = provider->makeSpec(inputShape, numClasses, params);
        return ArchSpec::fromJson(spec).boundTo(inputShape, numClasses).toJson();
    }
    if (!params.isEmpty())
        throw Error(QStringLiteral("Architecture parameters (%1) need a registered architecture "
                                   "that takes them, not the spec file %2: edit the file "
                                   "instead.")
                        .arg(params.keys().join(QStringLiteral(", ")), nameOrPath));

    const QFileInfo info(nameOrPath);
    if (!info.isFile()) {
        throw Error(QStringLiteral("Unknown architecture \"%1\": it is neither a registered "
                                   "name (known: %2) nor an existing spec file (.json).")
                        .arg(nameOrPath, m_providers.names().join(QLatin1String(", "))));
    }
    QFile file(info.filePath());
    if (!file.open(QIODevice::ReadOnly))
        throw Error(QStringLiteral("Cannot read the spec file %1: %2")
                        .arg(info.filePath(), file.errorString()));
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parseError);
    if (parseError.error != QJsonParseError::NoError)
        throw Error(QStringLiteral("The spec file %1 is not valid JSON: %2 at offset %3.")
                        .arg(info.filePath(), parseError.errorString(),
                             QString::number(parseError.offset)));
    if (!doc.isObject())
        throw Error(QStringLiteral("The spec file %1 must hold a JSON object with "
                                   "\"layers\" (see ArchSpec).").arg(info.filePath()));
    try {
        QJsonObject spec = doc.object();
        if (!spec.contains(QLatin1String("name")))
            spec.insert(QStringLiteral("name"), info.completeBaseName());
        return ArchSpec::fromJson(spec).boundTo(inputShape, numClasses).toJson();
    } catch (const Error &e) {
        throw Error(QStringLiteral("In the spec file %1: %2").arg(info.filePath(), e.message()));
    }
}

QStringList ArchitectureRegistry::parametersOf(const QString &name) const
{
    const auto provider = m_providers.find(name);
    return provider ? provider->parameters() : QStringList();
}

} // namespace ms
